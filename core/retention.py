"""Retention: how long each kind of record is kept, and how it is disposed of.

Core knows no app's models. Each app registers in its ``AppConfig.ready``, the way documents
and exempt fields do:

- ``register_record_type("referral", ...)``: a kind of record the retention schedule covers,
  with the functions that give each record's trigger dates and outcome, its pseudonymous
  tombstone facts, and how to dispose of it;
- ``register_eraser("referral", ...)``: another app that holds something about that kind of
  record (a case review's assessment of a referral) removes it when the record is disposed of;
- ``register_disposals(function)``: the app that disposes of records (records) answers which
  records were disposed of, when, under which certificate and rule, so the pages that show a
  record (a referral's page, the tray) say so without importing that app;
- ``register_not_per_record(Model, why=...)``: an exempt model that is not about one record
  (a cabinet report's exempt appendix), so disposal of a record does not reach it. Every model
  in the exempt registry is either reached by an eraser or named here (tested).

The schedule itself is configuration (``settings.RETENTION_SCHEDULE``, documented in
docs/operations.md): rules per record type and outcome, each with its trigger, its period and
its source. The records app reads it through ``schedule()`` and ``rule_for``.

``erase`` is the one way a disposal removes exempt data from a row that stays: every exempt
field is blanked, and every earlier history row of it is deleted, so no history page, export
or restore of the history tables holds what was removed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

from core import exempt
from core.records import save_with_history


class Trigger(models.TextChoices):
    """What a retention period is counted from."""

    YOUNGEST_CHILD_DOB = "youngest_child_dob", "Date of birth of the youngest child"
    LAST_ACTIVITY = "last_activity", "Last activity on the record"
    CLOSURE = "closure", "Closure of the record"


#: A rule that applies whatever the record's outcome.
ANY_OUTCOME = "*"


@dataclass(frozen=True)
class Rule:
    record_type: str
    outcome: str
    trigger: str
    years: int
    source: str
    months: int = 0

    @property
    def key(self) -> str:
        return f"{self.record_type}:{self.outcome}"

    @property
    def period(self) -> relativedelta:
        return relativedelta(years=self.years, months=self.months)

    def describe(self) -> str:
        period = f"{self.years} year{'s' if self.years != 1 else ''}"
        if self.months:
            period += f" {self.months} month{'s' if self.months != 1 else ''}"
        return f"{Trigger(self.trigger).label} + {period}"

    def end_of_period(self, dates: Mapping[str, dt.date | None]) -> dt.date | None:
        """The day the period ends, or None when the trigger has not happened (not closed)."""
        start = dates.get(self.trigger)
        return None if start is None else start + self.period


@dataclass(frozen=True)
class RecordType:
    key: str
    label: str
    model: type[models.Model]
    #: ids -> {id: {trigger: date or None}}
    dates: Callable[[Iterable[int]], dict[int, dict[str, dt.date | None]]]
    #: ids -> {id: outcome code ("" when none)}
    outcomes: Callable[[Iterable[int]], dict[int, str]]
    #: id -> the pseudonymous facts kept after disposal (reference, dates, forms, outcome)
    tombstone: Callable[[int], dict]
    #: (record_id, user, reason) -> None: remove the record's identity and narrative
    dispose: Callable[..., None]
    #: ids -> {id: the record's reference (never exempt)}
    references: Callable[[Iterable[int]], dict[int, str]]
    triggers: frozenset[str] = field(default_factory=lambda: frozenset(Trigger.values))


@dataclass(frozen=True)
class Disposal:
    """That a record was disposed of: when, the certificate, the rule, and its tombstone's
    pseudonymous facts (reference, dates, forms of abuse, outcome, children's labels and roles)."""

    disposed_at: dt.datetime
    certificate: str
    rule: str
    facts: Mapping


_TYPES: dict[str, RecordType] = {}
_DISPOSALS: list[Callable[[str, list[int]], dict[int, Disposal]]] = []
_ERASERS: dict[str, list[Callable[..., None]]] = {}
_NOT_PER_RECORD: dict[type[models.Model], str] = {}
_ERASED_MODELS: dict[str, set[type[models.Model]]] = {}


def register_record_type(
    key: str,
    *,
    label: str,
    model: type[models.Model],
    dates,
    outcomes,
    tombstone,
    dispose,
    references,
    erases: Iterable[type[models.Model]] = (),
) -> RecordType:
    """Register a kind of record the schedule covers. ``erases``: the exempt models its
    ``dispose`` reaches (checked against the exempt registry by the tests)."""
    entry = RecordType(key, label, model, dates, outcomes, tombstone, dispose, references)
    _TYPES[key] = entry
    _ERASED_MODELS.setdefault(key, set()).update(erases)
    return entry


def register_eraser(
    record_type: str, function: Callable[..., None], *, erases: Iterable[type[models.Model]] = ()
) -> None:
    """``function(record_id=..., user=..., reason=...)`` removes what this app holds about a
    record of ``record_type`` when it is disposed of; it runs before the record's own disposal."""
    functions = _ERASERS.setdefault(record_type, [])
    if function not in functions:
        functions.append(function)
    _ERASED_MODELS.setdefault(record_type, set()).update(erases)


def register_disposals(function: Callable[[str, list[int]], dict[int, Disposal]]) -> None:
    """``function(record_type, ids)`` -> {id: Disposal} for those of the records disposed of."""
    if function not in _DISPOSALS:
        _DISPOSALS.append(function)


def disposals(record_type_key: str, ids: Iterable[int]) -> dict[int, Disposal]:
    """Of these records, the ones disposed of (one query; none when nothing is registered)."""
    ids = [pk for pk in ids if pk is not None]
    found: dict[int, Disposal] = {}
    if ids:
        for function in _DISPOSALS:
            found.update(function(record_type_key, ids))
    return found


def register_not_per_record(model: type[models.Model], *, why: str) -> None:
    _NOT_PER_RECORD[model] = why


def record_types() -> dict[str, RecordType]:
    return dict(_TYPES)


def record_type(key: str) -> RecordType:
    try:
        return _TYPES[key]
    except KeyError as missing:
        raise LookupError(f"No record type {key!r} is registered for retention") from missing


def erasers(key: str) -> list[Callable[..., None]]:
    return list(_ERASERS.get(key, ()))


def erase_and_dispose(key: str, *, record_id: int, user, reason: str) -> None:
    """One record's disposal: every app's eraser first (they may read what the record's own
    disposal removes), then the record type's own."""
    for eraser in erasers(key):
        eraser(record_id=record_id, user=user, reason=reason)
    record_type(key).dispose(record_id=record_id, user=user, reason=reason)


def erased_models() -> set[type[models.Model]]:
    return set().union(*_ERASED_MODELS.values()) if _ERASED_MODELS else set()


def not_per_record() -> dict[type[models.Model], str]:
    return dict(_NOT_PER_RECORD)


# --- The schedule (configuration) ----------------------------------------------------------------


def schedule() -> list[Rule]:
    """The retention schedule from settings, checked against the registered record types."""
    rules = []
    for raw in settings.RETENTION_SCHEDULE:
        try:
            rule = Rule(
                record_type=raw["record_type"],
                outcome=raw.get("outcome", ANY_OUTCOME),
                trigger=raw["trigger"],
                years=int(raw["years"]),
                months=int(raw.get("months", 0)),
                source=raw["source"],
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ImproperlyConfigured(f"RETENTION_SCHEDULE: a rule is incomplete ({raw!r})") from error
        if rule.trigger not in Trigger.values:
            raise ImproperlyConfigured(f"RETENTION_SCHEDULE: unknown trigger {rule.trigger!r}")
        if rule.years < 0 or rule.months < 0 or (rule.years == 0 and rule.months == 0):
            raise ImproperlyConfigured(f"RETENTION_SCHEDULE: {rule.key} needs a period")
        if not rule.source.strip():
            raise ImproperlyConfigured(f"RETENTION_SCHEDULE: {rule.key} must say its source")
        rules.append(rule)
    keys = [rule.key for rule in rules]
    if len(keys) != len(set(keys)):
        raise ImproperlyConfigured("RETENTION_SCHEDULE: two rules for the same record type and outcome")
    return rules


def rule_for(record_type_key: str, outcome: str) -> Rule | None:
    """The rule for this outcome if the schedule names it, else the type's rule for any outcome."""
    rules = {rule.key: rule for rule in schedule()}
    return rules.get(f"{record_type_key}:{outcome}") or rules.get(f"{record_type_key}:{ANY_OUTCOME}")


# --- Erasing ---------------------------------------------------------------------------------------


def _blank(instance: models.Model, name: str) -> None:
    field_ = instance._meta.get_field(name)
    if field_.is_relation or field_.null:
        setattr(instance, field_.attname, None)
    elif isinstance(field_, models.FileField):
        if getattr(instance, name):
            getattr(instance, name).delete(save=False)
        setattr(instance, field_.attname, "")
    elif isinstance(field_, (models.CharField, models.TextField)):
        setattr(instance, field_.attname, "")
    else:
        raise ValueError(f"{type(instance).__name__}.{name} cannot be blanked: delete the row instead")


def erase(instance: models.Model, *, user, reason: str) -> None:
    """Blank every exempt field of ``instance`` and keep only the history row of this change."""
    for name in exempt.exempt_fields(type(instance)):
        _blank(instance, name)
    save_with_history(instance, user=user, reason=reason)
    purge_history(type(instance), [instance.pk], keep_latest=True)


def purge_history(model: type[models.Model], ids: Iterable[int], *, keep_latest: bool = False) -> None:
    """Delete the history rows of these rows (all of them, or all but each one's latest)."""
    history = getattr(model, "history", None)
    if history is None:
        return
    ids = list(ids)
    rows = history.model.objects.filter(**{f"{model._meta.pk.attname}__in": ids})
    if keep_latest:
        latest = {}
        for pk, history_id in rows.order_by("history_id").values_list(model._meta.pk.attname, "history_id"):
            latest[pk] = history_id
        rows = rows.exclude(history_id__in=latest.values())
    rows.delete()


def delete_without_trace(instances: Iterable[models.Model]) -> None:
    """Delete rows and every history row they had (simple-history writes a "deleted" row that
    would otherwise keep their last values)."""
    by_model: dict[type[models.Model], list[int]] = {}
    for instance in instances:
        by_model.setdefault(type(instance), []).append(instance.pk)
        instance.delete()
    for model, ids in by_model.items():
        purge_history(model, ids)
