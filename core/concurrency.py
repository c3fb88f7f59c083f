"""Version-checked changes: a change made to an old copy of a record is refused, not applied.

Every editable record carries a ``version`` the form sends back. A service takes the row lock
with :func:`lock_for_change` before it changes anything; if someone saved in between, the
versions differ and :class:`Conflict` is raised, so the view can show the "someone else saved
this" page and nothing is overwritten.
"""

from __future__ import annotations

from django.db import models


class Conflict(Exception):
    """The record changed after the user loaded it; their change was not applied."""

    def __init__(self, record: models.Model, expected_version: int, message: str = ""):
        self.record = record
        self.expected_version = expected_version
        super().__init__(message or f"{record} is at version {record.version}, not {expected_version}")


def lock_for_change(
    source: type[models.Model] | models.QuerySet,
    pk: int,
    expected_version: int | None,
    *,
    conflict: type[Conflict] = Conflict,
):
    """The row, locked until the transaction ends; ``conflict`` raised if it is no longer at
    ``expected_version`` (``None``: the caller checks nothing, as for a status change)."""
    queryset = source._default_manager.all() if isinstance(source, type) else source
    record = queryset.select_for_update().get(pk=pk)
    if expected_version is not None and record.version != expected_version:
        raise conflict(record, expected_version)
    return record
