"""Putting the migrated rows back after a committing test's flush in a fraction of a second.

A test with ``serialized_rollback`` (every browser test, and the live-server and real-worker
tests) starts with Django reloading the rows the migrations wrote - roles, permissions,
content types, the DfE guidance library and the reference lists, about 900 objects - from the
JSON it serialised when it made the test database: object by object through the ORM, each an
UPDATE tried and then an INSERT. That took 1.2 s a test on PostgreSQL and 0.7 s on SQLite.

Into an emptied database (the flush before it ran with ``inhibit_post_migrate``, so not even a
content type is left), the reload writes the same rows every time. So the first such reload in
a process goes through Django and the rows it wrote are read back, table by table; each later
one writes those rows back as they were read (PostgreSQL's ``COPY``, SQLite's
``executemany``), in one transaction, with the same constraint check at the end as Django's.
A reload into a database that is not empty (the first in a process, into the migrated copy)
always goes through Django.

The one difference: Django's reload adds the many-to-many rows, and history rows for the
guidance criteria (saving their forms of abuse is a change simple-history records), each with
the next id of its sequence, the history dated the moment it runs; written back, they keep the
ids and date of the process's first reload (below the sequences, which never go back).
``tests/test_suite.py`` checks that every other column of every table is the same.

Only the tables the migrated rows belong to are read back - their models' tables, their
many-to-many tables and their history tables. If the first reload left any other table holding
a row (something else wrote at that moment), nothing is read back and every reload goes
through Django. Columns are written back by name.
"""

from __future__ import annotations

import json

from django.apps import apps
from django.db.backends.base.creation import BaseDatabaseCreation
from django.db.transaction import atomic

_original = BaseDatabaseCreation.deserialize_db_from_string

#: {(database name, the serialised JSON): {table: (its column names, what it held after the first
#: reload)}, or None where that reload met rows of something else}
_snapshots: dict[tuple[str, str], dict[str, tuple] | None] = {}


def _tables(connection) -> list[str]:
    return sorted(connection.introspection.django_table_names(only_existing=True, include_views=False))


def _emptied(connection) -> bool:
    """Flushed without the post-migrate signal: no table holds a row."""
    return not _holding(connection, _tables(connection))


def _holding(connection, tables: list[str]) -> list[str]:
    quote = connection.ops.quote_name
    probes = " UNION ALL ".join(
        f"SELECT {index} FROM (SELECT 1 FROM {quote(table)} LIMIT 1) AS t{index}"  # noqa: S608 - our own names
        for index, table in enumerate(tables)
    )
    with connection.cursor() as cursor:
        cursor.execute(probes)
        return [tables[row[0]] for row in cursor.fetchall()]


def _reloaded_tables(data: str) -> set[str]:
    """The tables the serialised rows belong to: their models', their many-to-many tables and
    their history tables (simple-history records a change to a many-to-many field)."""
    labels = {item["model"] for item in json.loads(data)}

    def owner(model):
        model = getattr(model, "instance_type", None) or model  # a history table: its model's
        return model._meta.auto_created or model  # a many-to-many table: its model's

    return {
        model._meta.db_table
        for model in apps.get_models(include_auto_created=True)
        if owner(owner(model))._meta.label_lower in labels
    }


def _read(connection, data: str) -> dict[str, tuple] | None:
    """{table: (its columns, its rows)} of every table holding a row; None if a table that the
    serialised rows do not belong to holds one."""
    held = _holding(connection, _tables(connection))
    if set(held) - _reloaded_tables(data):
        return None
    quote = connection.ops.quote_name
    snapshot: dict[str, tuple] = {}
    with connection.cursor() as cursor:
        for table in held:
            columns = [
                column.name for column in connection.introspection.get_table_description(cursor, table)
            ]
            names = ", ".join(quote(column) for column in columns)
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {quote(table)} ({names}) TO STDOUT") as copy:
                    snapshot[table] = (names, b"".join(bytes(block) for block in copy))
            else:
                cursor.execute(f"SELECT {names} FROM {quote(table)}")  # noqa: S608 - our own names
                snapshot[table] = (names, cursor.fetchall())
    return snapshot


def _write(connection, snapshot: dict[str, tuple]) -> None:
    quote = connection.ops.quote_name
    with atomic(using=connection.alias), connection.constraint_checks_disabled():
        with connection.cursor() as cursor:
            for table, (names, held) in snapshot.items():
                if connection.vendor == "postgresql":
                    with cursor.cursor.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy:
                        copy.write(held)
                elif held:
                    marks = ", ".join(["%s"] * len(held[0]))
                    cursor.executemany(f"INSERT INTO {quote(table)} ({names}) VALUES ({marks})", held)  # noqa: S608
        connection.check_constraints(table_names=list(snapshot))


def deserialize_db_from_string(self, data):
    connection = self.connection
    if connection.vendor not in ("postgresql", "sqlite") or not _emptied(connection):
        return _original(self, data)
    key = (connection.settings_dict["NAME"], data)
    if key not in _snapshots:
        _original(self, data)
        _snapshots[key] = _read(connection, data)
    elif _snapshots[key] is None:  # the first reload met rows of something else: never read back
        _original(self, data)
    else:
        _write(connection, _snapshots[key])
    return None


def install() -> None:
    BaseDatabaseCreation.deserialize_db_from_string = deserialize_db_from_string
