"""Reads of export jobs, with the registry's permission checks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ObjectDoesNotExist

from core.documents.registry import DocumentKind, UnknownKind, object_for
from core.models import ExportJob


@dataclass(frozen=True)
class ExportTarget:
    entry: DocumentKind
    obj: Any
    may_exempt: bool


def export_target_for(*, user, kind: str, object_id: int) -> ExportTarget | None:
    """The document if the user may export it at all, else None (the view answers 404)."""
    try:
        entry, obj = object_for(kind, object_id)
    except (UnknownKind, ObjectDoesNotExist):
        return None
    if not entry.may_view(user, obj):
        return None
    return ExportTarget(entry=entry, obj=obj, may_exempt=entry.may_download_exempt(user, obj))


def export_job_for(*, user, job_id: int) -> tuple[ExportJob, ExportTarget] | None:
    """A job the user may follow and download: the public pack for anyone who may export the
    document, the exempt pack only for those the registry lets download it."""
    job = ExportJob.objects.filter(pk=job_id).first()
    if job is None:
        return None
    target = export_target_for(user=user, kind=job.kind, object_id=job.object_id)
    if target is None or (job.is_exempt and not target.may_exempt):
        return None
    return job, target


def latest_export_jobs(*, kind: str, object_id: int, variants) -> dict[str, ExportJob]:
    """The newest job of each variant for a document."""
    latest: dict[str, ExportJob] = {}
    for job in ExportJob.objects.filter(kind=kind, object_id=object_id, variant__in=list(variants)).order_by(
        "-requested_at", "-id"
    )[:50]:
        latest.setdefault(job.variant, job)
    return latest
