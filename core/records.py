"""Writing a record with its history: the one way every service saves (or deletes) a row.

django-simple-history writes a history row on each save, with the acting user and a change
reason the service gives. The reason column is ``varchar(100)``: PostgreSQL refuses a longer
value (a server error: a school's acknowledgement with a long name did exactly that), so every
reason goes through :func:`core.history.change_reason`, which shortens it. Services call
:func:`save_with_history` (and :func:`delete_with_history`), never set ``_change_reason``
themselves.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models
from django.db.models.signals import post_save

from core.history import change_reason


def save_with_history(
    instance: models.Model,
    *,
    user,
    reason: str,
    m2m: dict[str, Iterable] | None = None,
    new_version: bool = False,
    update_fields: list[str] | None = None,
) -> None:
    """Save ``instance`` as ``user`` (``None``: no person, e.g. a public link or a task), with
    ``reason`` as its history's change reason (shortened to fit the column).

    ``m2m``: many-to-many fields to set in the same change; the row and its many-to-many
    values become one history record, not one per step (simple-history writes a record on
    save and another on each many-to-many change, so the record is held back until both are
    done, then written once through post_save).

    ``new_version``: an existing record with a ``version`` (core.concurrency) goes up by one,
    so a form loaded before this change is refused rather than overwriting it.

    ``update_fields``: as ``Model.save`` (a write of those columns only, e.g. from a task).
    """
    created = instance._state.adding
    if new_version and not created and hasattr(instance, "version"):
        instance.version += 1
    _attribute(instance, user=user, reason=reason)
    if not m2m:
        instance.save(update_fields=update_fields)
        return
    if update_fields is not None:
        raise ValueError("save_with_history: update_fields with m2m would skip the history record")
    instance.skip_history_when_saving = True
    try:
        instance.save()
        for name, values in m2m.items():
            getattr(instance, name).set(values)
    finally:
        del instance.skip_history_when_saving
    post_save.send(
        sender=type(instance),
        instance=instance,
        created=created,
        update_fields=None,
        raw=False,
        using=instance._state.db,
    )


def delete_with_history(instance: models.Model, *, user, reason: str) -> None:
    """Delete ``instance``; its history keeps a "deleted" record by ``user`` with ``reason``."""
    _attribute(instance, user=user, reason=reason)
    instance.delete()


def _attribute(instance: models.Model, *, user, reason: str) -> None:
    instance._history_user = user
    instance._change_reason = change_reason(reason)
