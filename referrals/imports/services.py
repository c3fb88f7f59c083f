"""Importing historic referrals from the case system's CSV export: check, then import.

``referral_import_preview`` reads and checks an uploaded file and records what importing it
would do (an ``ImportBatch``); nothing about a referral is written. A file with any error is
refused whole. ``referral_import_apply`` checks the stored file again against the service
as it is now and, if it would still do what the preview said, writes every row in one
transaction: all or nothing. Importing the same file twice changes nothing the second time.

Only MASH managers import. The stored file holds exempt information: it lives only while a
checked file waits to be imported.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import unicodedata
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.roles import Role, has_role
from referrals.imports.format import ImportRefused, ParsedFile, parse_file
from referrals.imports.plan import CHANGED, KEPT, NEW, UNCHANGED, Plan, plan_import
from referrals.imports.write import Writer
from referrals.models import ImportBatch

logger = logging.getLogger(__name__)

#: Problems kept with a batch and shown on its page; the count says how many there were in all.
MAX_PROBLEMS_SHOWN = 1000
#: New, changed and kept rows listed on the preview page, each; the counts cover the rest.
MAX_ROWS_LISTED = 1000
READ_CHUNK = 64 * 1024


class ImportOutdated(ValidationError):
    """The service changed between the check and the import: the batch has the new preview."""


def max_bytes() -> int:
    return settings.REFERRAL_IMPORT_MAX_BYTES


def max_rows() -> int:
    return settings.REFERRAL_IMPORT_MAX_ROWS


def size_message() -> str:
    return f"The selected file must be smaller than {max_bytes() // (1024 * 1024)} MB"


def can_import(user) -> bool:
    return has_role(user, Role.MASH_MANAGER)


def _require_importer(user) -> None:
    if not can_import(user):
        raise PermissionDenied("Only a MASH manager can import referrals")


def clean_filename(name: str) -> str:
    """The uploaded file's own name, for people to recognise: no folders, no control characters."""
    base = PurePath((name or "").replace("\\", "/")).name
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    return base[:200] or "upload.csv"


def read_upload(upload) -> bytes:
    """The whole upload, refused by its size before a byte is read, and again while reading.

    ``upload`` is a Django ``UploadedFile`` or any binary file with a ``size`` or not.
    """
    limit = max_bytes()
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise ImportRefused(size_message())
    parts, total = [], 0
    while True:
        part = upload.read(READ_CHUNK)
        if not part:
            break
        total += len(part)
        if total > limit:
            raise ImportRefused(size_message())
        parts.append(part)
    return b"".join(parts)


def _check(data: bytes) -> tuple[ParsedFile, Plan | None]:
    parsed = parse_file(data, max_rows=max_rows())
    if parsed.problem_count:
        return parsed, None
    return parsed, plan_import(parsed.rows)


def _record(batch: ImportBatch, parsed: ParsedFile, plan: Plan | None) -> None:
    """Put what the check found on the batch: counts, problems, and the rows that change."""
    batch.row_count = parsed.row_count
    batch.error_count = parsed.problem_count
    batch.errors = [p.as_dict() for p in parsed.problems[:MAX_PROBLEMS_SHOWN]]
    if plan is None:
        batch.status = ImportBatch.Status.INVALID
        batch.new_count = batch.changed_count = batch.unchanged_count = batch.kept_count = 0
        batch.rows = []
        return
    counts = plan.counts()
    batch.status = ImportBatch.Status.READY if counts[NEW] or counts[CHANGED] else ImportBatch.Status.NOTHING
    batch.new_count = counts[NEW]
    batch.changed_count = counts[CHANGED]
    batch.unchanged_count = counts[UNCHANGED]
    batch.kept_count = counts[KEPT]
    # The rows the page lists before the import is confirmed: new, changed and kept, each
    # up to the limit (the counts cover the rest).
    batch.rows = [
        row.as_dict()
        for action in (NEW, CHANGED, KEPT)
        for row in [row for row in plan.rows if row.action == action][:MAX_ROWS_LISTED]
    ]


def _outcome(batch: ImportBatch) -> tuple:
    """What the preview promised: the counts and every changed (or kept) row with its fields."""
    return (
        batch.status,
        batch.new_count,
        batch.changed_count,
        batch.unchanged_count,
        batch.kept_count,
        batch.rows,
    )


def referral_import_preview(*, user, upload) -> ImportBatch:
    """Check an uploaded file and record what importing it would do. Writes no referral.

    A file that cannot be read at all (too big, not UTF-8, wrong columns, empty) raises
    ``ImportRefused`` and leaves nothing behind. Otherwise the batch records every row's
    problems (the file is then not kept: it has to be corrected and uploaded again), or
    that there is nothing to import (not kept either), or keeps the file for
    ``referral_import_apply``.
    """
    _require_importer(user)
    data = read_upload(upload)
    parsed, plan = _check(data)
    batch = ImportBatch(
        uploaded_by=user,
        filename=clean_filename(getattr(upload, "name", "")),
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
    )
    _record(batch, parsed, plan)
    if batch.status == ImportBatch.Status.READY:
        batch.file.save("upload.csv", ContentFile(data), save=False)
    try:
        batch.save()
    except Exception:
        if batch.file:
            batch.file.delete(save=False)
        raise
    logger.info(
        "import %s checked: %s rows, %s problems, %s new, %s changed",
        batch.pk,
        batch.row_count,
        batch.error_count,
        batch.new_count,
        batch.changed_count,
    )
    return batch


def referral_import_apply(*, user, batch_id: int) -> ImportBatch:
    """Import a checked file: every row or none, in one transaction.

    The file is checked again against the service as it is now. If that would do something
    other than the preview said (another import, a referral reopened meanwhile), nothing is
    written, the batch gets the new preview and ``ImportOutdated`` is raised.
    """
    _require_importer(user)
    outdated = None
    try:
        with transaction.atomic():
            batch = ImportBatch.objects.select_for_update().get(pk=batch_id, uploaded_by=user)
            if batch.status == ImportBatch.Status.APPLIED:
                raise ValidationError("This file has already been imported")
            if batch.status == ImportBatch.Status.NOTHING:
                raise ValidationError(
                    "There is nothing to import: the service already has the file's referrals"
                )
            if batch.status != ImportBatch.Status.READY:
                raise ValidationError("This file cannot be imported. Upload it again")
            if not batch.file:
                raise ValidationError("The file is no longer stored. Upload it again")
            with batch.file.open("rb") as stored:
                data = stored.read()
            if hashlib.sha256(data).hexdigest() != batch.sha256:
                raise ValidationError("The stored file is not the file that was checked. Upload it again")
            parsed, plan = _check(data)
            before = _outcome(batch)
            _record(batch, parsed, plan)
            if plan is None or _outcome(batch) != before:
                outdated = batch
            else:
                writer = Writer(plan=plan, user=user, filename=batch.filename)
                created, updated = writer.run()
                # The new rows listed now name the referrals they became.
                for row in batch.rows:
                    if row["action"] == NEW and row["row"] in writer.created:
                        row["reference"] = writer.created[row["row"]]
                stored_name = batch.file.name
                batch.status = ImportBatch.Status.APPLIED
                batch.applied_at = timezone.now()
                batch.file = ""
                batch.save()
                transaction.on_commit(lambda: _delete_stored(stored_name))
                logger.info("import %s applied: %s created, %s updated", batch.pk, created, updated)
    except IntegrityError as error:
        # Two imports of overlapping files at the same moment: the second finds the case
        # system ids taken. Nothing of it was written.
        logger.warning("import %s failed on a constraint: %s", batch_id, type(error).__name__)
        raise ValidationError(
            "Another import changed some of these referrals at the same time. Nothing was imported. "
            "Upload the file again to check it"
        ) from error
    if outdated is not None:
        if outdated.status != ImportBatch.Status.READY and outdated.file:
            stored_name = outdated.file.name
            outdated.file = ""
            _delete_stored(stored_name)
        outdated.save()
        raise ImportOutdated(
            "The referrals in the service have changed since the file was checked. "
            "Nothing was imported. Check the new preview before you import"
        )
    return batch


def referral_import_discard(*, user, batch_id: int) -> ImportBatch:
    """The manager decided not to import a checked file: its stored copy is deleted."""
    _require_importer(user)
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch_id, uploaded_by=user)
        if batch.status != ImportBatch.Status.READY:
            raise ValidationError("Only a file waiting to be imported can be discarded")
        _discard(batch)
    return batch


def referral_imports_discard_stale(*, older_than: dt.timedelta | None = None) -> int:
    """Housekeeping (Celery beat): a checked file nobody imported is deleted after a day."""
    cutoff = timezone.now() - (older_than or dt.timedelta(hours=settings.REFERRAL_IMPORT_KEEP_HOURS))
    count = 0
    for batch_id in ImportBatch.objects.filter(
        status=ImportBatch.Status.READY, created_at__lt=cutoff
    ).values_list("pk", flat=True):
        with transaction.atomic():
            batch = ImportBatch.objects.select_for_update().get(pk=batch_id)
            if batch.status == ImportBatch.Status.READY:
                _discard(batch)
                count += 1
    return count


def _discard(batch: ImportBatch) -> None:
    stored_name = batch.file.name if batch.file else ""
    batch.status = ImportBatch.Status.DISCARDED
    batch.discarded_at = timezone.now()
    batch.file = ""
    batch.save()
    if stored_name:
        transaction.on_commit(lambda: _delete_stored(stored_name))


def _delete_stored(name: str) -> None:
    from django.core.files.storage import default_storage

    default_storage.delete(name)
