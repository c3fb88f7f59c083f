"""History: change reasons that fit simple-history's column, and the one builder of the
history pages (exempt changes masked through ``core.exempt``).

``history_change_reason`` is ``varchar(100)``: PostgreSQL refuses a longer value (a server
error when a manager gives a grant with a sentence-long reason; SQLite never checked). The
full reason stays where the record keeps it (a grant's ``reason``, the access log); the
history row gets its first 100 characters.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from operator import attrgetter

from django.core.exceptions import FieldDoesNotExist
from simple_history import manager as history_manager
from simple_history import models as history_models

from core import exempt

MAX_LENGTH = 100


class HistoryManager(history_manager.HistoryManager):
    """simple-history's manager of a model's history (``Model.history``), its class made once.

    simple-history makes a new manager class (``Manager.from_queryset``, which inspects every
    method of the queryset) each time ``instance.history`` or ``Model.history`` is read, and it
    reads it for each history row it writes: a tenth of the demo seed's time under a profiler.
    (The history of many-to-many values keeps simple-history's own manager; it is written in
    bulk, not read per row.)
    """

    @classmethod
    @functools.cache
    def from_queryset(cls, queryset_class, class_name=None):
        return super().from_queryset(queryset_class, class_name)


class HistoricalRecords(history_models.HistoricalRecords):
    """``simple_history.models.HistoricalRecords`` with :class:`HistoryManager`: every model
    with history declares it with this."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("history_manager", HistoryManager)
        super().__init__(*args, **kwargs)


def change_reason(text: str) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= MAX_LENGTH else text[: MAX_LENGTH - 1] + "…"


# --- The history pages ---------------------------------------------------------------------------

#: Never shown as a change: bookkeeping, and the search keys derived from names.
HIDDEN_FIELDS = frozenset(
    {"version", "first_name_key", "last_name_key", "incident_place_key", "file_sha256", "updated_at"}
)


@dataclass
class Change:
    field: str
    old: str
    new: str
    #: ``Model.field`` when the change shows an exempt field's values (unmasked): what the page
    #: showed, for the access log; "" otherwise.
    exempt_field: str = ""


@dataclass
class HistoryEntry:
    when: dt.datetime
    who: str
    what: str
    reason: str
    changes: list[Change]


def display(record, field_name: str) -> str:
    """A value from a historical record as the history pages show it."""
    value = getattr(record, field_name, None)
    if value is None or value == "":
        return "(blank)"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):  # many-to-many, as simple-history reports it
        return ", ".join(sorted(str(v) for v in value)) or "(none)"
    getter = getattr(record, f"get_{field_name}_display", None)
    if getter:
        return str(getter())
    if hasattr(value, "get_full_name"):
        return value.get_full_name() or value.get_username()
    if isinstance(value, dt.datetime):
        from core.templatetags.mash import when

        return when(value)
    if isinstance(value, dt.date):
        return value.strftime("%-d %B %Y")
    if hasattr(value, "name") and not value.name:  # an empty file field
        return "(blank)"
    return str(value)


def _m2m_display(items, names: Mapping[str, Mapping[int, str]]) -> str:
    """Name the targets of a many-to-many change ({'referral': 1, 'abuseform': 3} -> 'Sexting')."""
    shown = []
    for item in items:
        for key, value in item.items():
            if key in names:
                shown.append(names[key].get(value, f"#{value}"))
    return ", ".join(sorted(shown)) or "(none)"


def _verbose(record, field_name: str) -> str:
    try:
        return str(record.instance_type._meta.get_field(field_name).verbose_name).capitalize()
    except FieldDoesNotExist:
        return field_name.replace("_", " ").capitalize()


def _who(user) -> str:
    if user is None:
        return "System"
    return user.get_full_name() or user.get_username()


def history_entries(
    records: Iterable,
    *,
    label: Callable[[object], str],
    may_see_exempt: bool,
    m2m_names: Mapping[str, Mapping[int, str]] | None = None,
) -> list[HistoryEntry]:
    """The changes between consecutive simple-history records of each row, oldest first.

    A change to a field registered exempt (``core.exempt``; for the old or the new state of a
    row whose exemption depends on its state) shows as MASK unless ``may_see_exempt``. A
    change with nothing shown is left out.
    """
    m2m_names = m2m_names or {}
    entries = []
    previous: dict[object, object] = {}
    for record in sorted(records, key=attrgetter("history_date", "history_id")):
        key = getattr(record, record.instance_type._meta.pk.attname)
        old = previous.get(key)
        changes: list[Change] = []
        if old is not None:
            for change in record.diff_against(old).changes:
                if change.field in HIDDEN_FIELDS:
                    continue
                name = _verbose(record, change.field)
                exempt_change = exempt.is_exempt(record, change.field) or exempt.is_exempt(old, change.field)
                if exempt_change and not may_see_exempt:
                    changes.append(Change(field=name, old=exempt.MASK, new=exempt.MASK))
                    continue
                if isinstance(change.new, list) or isinstance(change.old, list):
                    old_value = _m2m_display(change.old or [], m2m_names)
                    new_value = _m2m_display(change.new or [], m2m_names)
                else:
                    old_value = display(old, change.field)
                    new_value = display(record, change.field)
                changes.append(
                    Change(
                        field=name,
                        old=old_value,
                        new=new_value,
                        exempt_field=exempt.label(record, change.field) if exempt_change else "",
                    )
                )
        previous[key] = record
        if old is not None and not changes and record.history_type == "~":
            continue
        action = {"+": "created", "~": "changed", "-": "deleted"}[record.history_type]
        entries.append(
            HistoryEntry(
                when=record.history_date,
                who=_who(record.history_user),
                what=f"{label(record)} {action}",
                reason=record.history_change_reason or "",
                changes=changes,
            )
        )
    return entries


def exempt_fields_shown(entries: Iterable[HistoryEntry]) -> list[str]:
    """The exempt fields whose values these entries show: the access log's ``fields``."""
    return sorted({c.exempt_field for e in entries for c in e.changes if c.exempt_field})
