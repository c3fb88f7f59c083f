"""Reads of import batches. A batch is its uploader's alone: anyone else gets DoesNotExist."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import QuerySet

from referrals import selectors
from referrals.imports.plan import CHANGED, KEPT, NEW
from referrals.imports.services import can_import
from referrals.models import ImportBatch, Referral


def import_batches_of(*, user) -> QuerySet[ImportBatch]:
    if not can_import(user):
        return ImportBatch.objects.none()
    return ImportBatch.objects.filter(uploaded_by=user)


def import_batch_get(*, user, pk: int) -> ImportBatch:
    return import_batches_of(user=user).get(pk=pk)


def recent_import_batches(*, user, limit: int = 10) -> list[ImportBatch]:
    return list(import_batches_of(user=user).order_by("-created_at", "-id")[:limit])


@dataclass(frozen=True)
class ImportRow:
    """A row of a checked file as its page lists it."""

    row: int
    source_id: str
    received: dt.date | None
    #: The referral the row is (changed or kept) or became (new, once imported); "" before.
    reference: str
    fields: list[str]
    #: The referral, with ``tray_children``, if it exists and the user may open it.
    referral: Referral | None = None


@dataclass
class ImportRows:
    new: list[ImportRow] = field(default_factory=list)
    changed: list[ImportRow] = field(default_factory=list)
    kept: list[ImportRow] = field(default_factory=list)
    #: Referrals whose children the page names: each read goes in the access log.
    identified: list[Referral] = field(default_factory=list)


def import_batch_rows(*, user, batch: ImportBatch) -> ImportRows:
    """The referrals a checked file will create, change or leave (and, once imported, those
    it created and changed): each by its row, the case system's id, the day it was received
    and its reference. Referrals already in the service show their children as the tray does,
    named only where the user may identify the referral now. A row still to be created shows
    no more than the batch keeps: nothing identifies a child until it is a referral."""
    references = {row["reference"] for row in batch.rows if row.get("reference")}
    referrals = (
        selectors.referrals_visible_to(user=user)
        .filter(reference__in=references)
        .in_bulk(field_name="reference")
        if references
        else {}
    )
    listed = ImportRows()
    listed.identified = selectors.referrals_with_children(user=user, rows=list(referrals.values()))
    by_action = {NEW: listed.new, CHANGED: listed.changed, KEPT: listed.kept}
    for row in batch.rows:
        if row["action"] not in by_action:
            continue
        received = row.get("received")
        by_action[row["action"]].append(
            ImportRow(
                row=row["row"],
                source_id=row["source_id"],
                received=dt.date.fromisoformat(received) if received else None,
                reference=row.get("reference", ""),
                fields=row.get("fields", []),
                referral=referrals.get(row.get("reference")),
            )
        )
    return listed
