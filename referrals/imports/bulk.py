"""Bulk writes that keep django-simple-history's records: one per row, as a save makes.

The import's only way of writing. Every function here writes the rows *and* their history
records (the same columns ``bulk_history_create`` fills: the tracked fields, when, who,
why, and "+" or "~"), and for a model with many-to-many history the many-to-many rows of
each record, as ``core.records.save_with_history`` does for one save. A history record without
them reads on the history page as if every form of abuse or outcome had been removed.

Why not simple-history's own bulk helpers (docs/adr/0007-importing-in-bulk.md):

- ``bulk_create_with_history`` goes through Django's ``bulk_create``, whose per-value work
  (model instances, ``get_db_prep_save``, building the statement) made a 10,000-referral
  import (about 230,000 rows with their history) take 30 to 40 s on a two-core machine.
  On PostgreSQL these functions send the same rows with ``COPY``, taking primary keys from
  the tables' own sequences first: about a quarter of the time. Elsewhere (SQLite, in
  development and tests) they use ``bulk_create`` and ``bulk_history_create``.
- ``bulk_update_with_history`` goes through ``bulk_update``, one CASE WHEN per row per field:
  2,000 changed referrals took 36 s. ``update_rows`` sends one plain UPDATE per row through
  ``executemany`` (pipelined by psycopg).
- Neither writes many-to-many history.

Values go to COPY as the model holds them. Only field types whose Python value is already
what the database stores are allowed (checked once per model); anything else is refused
rather than written wrongly.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from functools import cache

from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models
from django.utils import timezone

BATCH = 1000
#: Field types COPY may take as the model holds them (no conversion on the way in).
PLAIN_FIELDS = (
    models.AutoField,
    models.BigAutoField,
    models.BigIntegerField,
    models.BooleanField,
    models.CharField,
    models.DateField,  # DateTimeField is a subclass
    models.ForeignKey,  # the _id value; OneToOneField is a subclass
    models.IntegerField,  # and the positive and small variants
    models.TextField,
)
HISTORY_FIELDS = ("history_date", "history_change_reason", "history_type", "history_user_id")


def chunks(items: Sequence, size: int = BATCH) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _copy_available() -> bool:
    return connection.vendor == "postgresql"


@cache
def _columns(model: type[models.Model]) -> tuple[models.Field, ...]:
    fields = tuple(model._meta.concrete_fields)
    odd = [f.name for f in fields if not isinstance(f, PLAIN_FIELDS)]
    if odd:
        raise ImproperlyConfigured(f"{model.__name__}: cannot COPY {', '.join(odd)} without conversion")
    return fields


def _plain(value):
    """A choices member (``Referral.Status.CLOSED``) as the string it stands for."""
    return value.value if isinstance(value, enum.Enum) else value


def _next_ids(model: type[models.Model], count: int) -> list[int]:
    """Primary keys from the table's own sequence: never used by anyone else."""
    pk = model._meta.pk
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [model._meta.db_table, pk.column, count],
        )
        return [row[0] for row in cursor.fetchall()]


def _copy(model: type[models.Model], fields: Sequence[models.Field], rows: Iterable[tuple]) -> None:
    quote = connection.ops.quote_name
    names = ", ".join(quote(field.column) for field in fields)
    # The driver's own cursor (Django's has no COPY), inside Django's error wrapping, so a
    # clash on a unique column is the IntegrityError a bulk_create would raise.
    statement = f"COPY {quote(model._meta.db_table)} ({names}) FROM STDIN"
    with (
        connection.cursor() as cursor,
        connection.wrap_database_errors,
        cursor.cursor.copy(statement) as copy,
    ):
        for row in rows:
            copy.write_row(row)


def insert(model: type[models.Model], objs: list[models.Model]) -> None:
    """INSERT new rows; each object gets its primary key, as ``bulk_create`` gives it."""
    if not objs:
        return
    if not _copy_available():
        model.objects.bulk_create(objs, batch_size=BATCH)
        return
    fields = _columns(model)
    pk = model._meta.pk
    if pk.auto_created or isinstance(pk, models.AutoField):
        missing = [obj for obj in objs if obj.pk is None]
        for obj, pk_value in zip(missing, _next_ids(model, len(missing)), strict=True):
            obj.pk = pk_value
    # pre_save: what the field would save (auto_now_add stamps the object, as a save does).
    _copy(model, fields, (tuple(_plain(field.pre_save(obj, True)) for field in fields) for obj in objs))
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias


def insert_history(model: type[models.Model], objs: list[models.Model], *, history_type: str) -> list[int]:
    """One history record per object (its ``_history_user`` and ``_change_reason``); their ids."""
    if not objs:
        return []
    history = model.history.model
    if not _copy_available():
        records = model.history.bulk_history_create(objs, batch_size=BATCH, update=history_type == "~")
        return [record.history_id for record in records]
    tracked = {field.attname for field in history.tracked_fields}
    fields = _columns(history)
    unknown = [
        f.attname
        for f in fields
        if f.attname not in tracked and f.attname not in (*HISTORY_FIELDS, "history_id")
    ]
    if unknown:
        raise ImproperlyConfigured(f"{history.__name__}: no value for {', '.join(unknown)}")
    ids = _next_ids(history, len(objs))
    now = timezone.now()
    rows = []
    for history_id, obj in zip(ids, objs, strict=True):
        user = getattr(obj, "_history_user", None)
        extra = {
            "history_id": history_id,
            "history_date": getattr(obj, "_history_date", now),
            "history_change_reason": getattr(obj, "_change_reason", None),
            "history_type": history_type,
            "history_user_id": user.pk if user is not None else None,
        }
        rows.append(
            tuple(
                _plain(getattr(obj, field.attname)) if field.attname in tracked else extra[field.attname]
                for field in fields
            )
        )
    _copy(history, fields, rows)
    return ids


def create_with_history(model: type[models.Model], objs: list[models.Model]) -> None:
    insert(model, objs)
    insert_history(model, objs, history_type="+")


def update_rows(model: type[models.Model], objs: list[models.Model], fields: list[str]) -> None:
    """One ``UPDATE ... WHERE pk = %s`` per object, sent together with ``executemany``."""
    meta = model._meta
    quote = connection.ops.quote_name
    columns = [meta.get_field(name) for name in fields]
    assignments = ", ".join(f"{quote(column.column)} = %s" for column in columns)
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"  # noqa: S608 - names from the model
    params = [
        [column.get_db_prep_save(getattr(obj, column.attname), connection) for column in columns]
        + [meta.pk.get_db_prep_save(obj.pk, connection)]
        for obj in objs
    ]
    with connection.cursor() as cursor:
        for chunk in chunks(params):
            cursor.executemany(sql, chunk)


def update_with_history(model: type[models.Model], objs: list[models.Model], *, fields: list[str]) -> None:
    if not objs:
        return
    update_rows(model, objs, fields)
    insert_history(model, objs, history_type="~")


# --- Many-to-many -------------------------------------------------------------------------------


def _m2m(model: type[models.Model], name: str):
    field = model._meta.get_field(name)
    return field.remote_field.through, field.m2m_field_name(), field.m2m_reverse_field_name()


def create_with_m2m_history(
    model: type[models.Model], objs: list[models.Model], *, m2m: str, targets: Sequence[Iterable[int]]
) -> None:
    """New rows, their many-to-many rows (``targets``, in step with ``objs``) and their history."""
    if not objs:
        return
    insert(model, objs)
    through, owner, target = _m2m(model, m2m)
    rows = [
        through(**{f"{owner}_id": obj.pk, f"{target}_id": pk})
        for obj, pks in zip(objs, targets, strict=True)
        for pk in sorted(pks)
    ]
    insert(through, rows)
    history_ids = insert_history(model, objs, history_type="+")
    _m2m_history(model, m2m, objs, history_ids, rows)


def update_with_m2m_history(
    model: type[models.Model],
    objs: list[models.Model],
    *,
    fields: list[str],
    m2m: str,
    targets: dict[int, Iterable[int]],
) -> None:
    """Update rows; ``targets`` (by primary key) replaces the set of those whose set changed."""
    if not objs:
        return
    update_rows(model, objs, fields)
    through, owner, target = _m2m(model, m2m)
    changed = sorted(targets)
    for chunk in chunks(changed):
        through.objects.filter(**{f"{owner}_id__in": chunk}).delete()
    insert(
        through,
        [through(**{f"{owner}_id": pk, f"{target}_id": t}) for pk in changed for t in sorted(targets[pk])],
    )
    current = []
    for chunk in chunks([obj.pk for obj in objs]):
        current.extend(through.objects.filter(**{f"{owner}_id__in": chunk}))
    history_ids = insert_history(model, objs, history_type="~")
    _m2m_history(model, m2m, objs, history_ids, current)


def _m2m_history(model, name: str, objs: list, history_ids: list[int], rows: list) -> None:
    """Each history record's copy of its object's many-to-many rows at that moment."""
    history_m2m = getattr(model.history.model, name).model
    _, owner, target = _m2m(model, name)
    by_owner: dict[int, list] = defaultdict(list)
    for row in rows:
        by_owner[getattr(row, f"{owner}_id")].append(row)
    insert(
        history_m2m,
        [
            history_m2m(
                history_id=history_id,
                id=row.id,
                **{f"{owner}_id": obj.pk, f"{target}_id": getattr(row, f"{target}_id")},
            )
            for obj, history_id in zip(objs, history_ids, strict=True)
            for row in by_owner[obj.pk]
        ],
    )
