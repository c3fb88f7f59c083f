"""Importing historic referrals in tests: the sample file, and checking and importing a file
as a manager does (the preview, then the import)."""

from __future__ import annotations

import csv
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile

from referrals.imports import services as imports
from referrals.models import ImportBatch

SAMPLE = Path(__file__).resolve().parents[2] / "referrals" / "fixtures" / "sample_import.csv"
SAMPLE_URNS = ["990001", "990035", "990036", "990037", "990040", "990051"]


def sample_rows() -> list[dict]:
    with SAMPLE.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def upload(data: bytes, name: str = "referrals.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="text/csv")


def check(user, data: bytes, name: str = "referrals.csv") -> ImportBatch:
    return imports.referral_import_preview(user=user, upload=upload(data, name))


def import_file(user, data: bytes, name: str = "referrals.csv") -> ImportBatch:
    batch = check(user, data, name)
    assert batch.status == ImportBatch.Status.READY, batch.errors
    return imports.referral_import_apply(user=user, batch_id=batch.pk)
