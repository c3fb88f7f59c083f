"""Reads of import batches. A batch is its uploader's alone: anyone else gets DoesNotExist."""

from __future__ import annotations

from django.db.models import QuerySet

from referrals.imports.services import can_import
from referrals.models import ImportBatch


def import_batches_of(*, user) -> QuerySet[ImportBatch]:
    if not can_import(user):
        return ImportBatch.objects.none()
    return ImportBatch.objects.filter(uploaded_by=user)


def import_batch_get(*, user, pk: int) -> ImportBatch:
    return import_batches_of(user=user).get(pk=pk)


def recent_import_batches(*, user, limit: int = 10) -> list[ImportBatch]:
    return list(import_batches_of(user=user).order_by("-created_at", "-id")[:limit])
