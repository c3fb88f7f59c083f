"""Export jobs: ask for a pack, render it (in the Celery worker), download it, clean up.

Status changes happen only here, each with an event in the job's append-only trail. The
worker's entry point ``export_job_run`` is idempotent: a finished job is not rendered again,
and a job whose worker died is rendered again from the start and finished exactly once. Each
start is a numbered attempt; the file's name carries the job, its digest and the attempt, and
"done" is written in one transaction under a row lock only by the latest attempt, so two
deliveries of the same job running at once cannot both finish it or remove each other's file.

A job whose message the queue lost (Redis restarted without its data, say) is published again
by ``export_jobs_requeue`` (Celery beat): a queued job no worker has taken for
``EXPORT_REQUEUE_AFTER`` seconds, or a running one past the hard time limit that nothing
redelivered. A job still unfinished long after that is failed with a message by the clean-up.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Q
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from core.access_log import record_access, record_access_many
from core.documents.registry import DocumentKind, UnknownKind, get_kind, kinds, object_for
from core.documents.rendering import PackError, render_pack_document
from core.models import AccessLogEntry, ExportJob, ExportJobEvent
from core.outbox import broker_available, enqueue_on_commit

logger = logging.getLogger(__name__)

Status = ExportJob.Status
Event = ExportJobEvent.Event

UNAVAILABLE = (
    "Exports are unavailable at the moment because the service that makes them is not answering. "
    "Nothing has been started. Try again in a few minutes."
)
TOO_LONG = (
    "The pack took too long to make and was stopped. Try again; if it happens again, "
    "contact the service desk."
)
GAVE_UP = (
    "The pack could not be made because a service it needs (the database or file storage) was not "
    "answering. Try again later."
)
UNEXPECTED = (
    "Something went wrong while making the pack. Try again; if it fails again, contact the service desk."
)
STALLED = "The pack was not finished: the worker making it stopped. Export it again."


class ExportsUnavailable(Exception):
    """The task queue cannot be reached; nothing was created."""

    message = UNAVAILABLE


def _event(job: ExportJob, event: str, *, user=None, detail: str = "") -> None:
    ExportJobEvent.objects.create(job=job, event=event, user=user, detail=detail)


def _may_export(entry: DocumentKind, obj, *, user, variant: str) -> bool:
    if variant == ExportJob.Variant.EXEMPT:
        return entry.may_download_exempt(user, obj)
    return entry.may_view(user, obj)


def _broker_ready() -> None:
    """Fail fast, before anything is written, when the broker cannot be reached: the officer is
    told exports are unavailable rather than left watching a job no worker can start."""
    if not broker_available():
        logger.warning("Export refused: the broker is not answering")
        raise ExportsUnavailable


def _enqueue(job_id: int, *, republished: bool = False) -> None:
    """Queue the job's rendering through the outbox (ADR 0013), in the caller's transaction:
    published when it commits, and kept and published later if the broker has gone away."""
    enqueue_on_commit("core.tasks.render_export_job", job_id, *((1,) if republished else ()))


def export_job_request(*, user, kind: str, object_id: int, variant: str, obj=None) -> tuple[ExportJob, bool]:
    """A pack for the document as it is now: a finished one if the inputs are unchanged, the
    job already waiting if there is one, otherwise a new job queued when this commits.

    Returns ``(job, created)``. Raises ``PermissionDenied``, ``UnknownKind``, the model's
    ``DoesNotExist``, or ``ExportsUnavailable`` (then nothing was created). ``obj`` is the
    document when the caller has just read it (the export page has), so it is not read twice.
    """
    if variant not in ExportJob.Variant.values:
        raise ValueError(f"unknown variant {variant!r}")
    if obj is None or obj.pk != object_id:
        entry, obj = object_for(kind, object_id)
    else:
        entry = get_kind(kind)
    if not _may_export(entry, obj, user=user, variant=variant):
        raise PermissionDenied
    digest = entry.digest(obj)
    same = ExportJob.objects.filter(kind=kind, object_id=object_id, variant=variant, source_digest=digest)
    finished = same.filter(status=Status.DONE).order_by("-finished_at").first()
    if finished is not None:
        return finished, False
    active = same.filter(status__in=ExportJob.ACTIVE).first()
    if active is not None:
        return active, False
    _broker_ready()
    try:
        with transaction.atomic():
            job = ExportJob.objects.create(
                kind=kind,
                object_id=object_id,
                variant=variant,
                source_digest=digest,
                title=entry.title(obj)[:300],
                requested_by=user,
            )
            _event(job, Event.REQUESTED, user=user)
            _enqueue(job.pk)
    except IntegrityError:
        # Someone asked for the same pack at the same moment: theirs is the one.
        active = same.filter(status__in=ExportJob.ACTIVE).first()
        if active is None:
            raise
        return active, False
    return job, True


# --- The worker's side ------------------------------------------------------------------------


def pack_file_name(job: ExportJob, digest: str, attempt: int) -> str:
    """Derived from the job, its inputs and the attempt: each attempt writes a file of its own."""
    return f"packs/{job.kind}/{job.object_id}/export-{job.pk}-{job.variant}-{digest[:16]}-a{attempt}.pdf"


class _ProgressWriter:
    """Writes the job's progress at most every half second, only forwards."""

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.last = 0
        self.at = 0.0

    def __call__(self, percent: int) -> None:
        percent = max(0, min(99, int(percent)))
        now = time.monotonic()
        if percent <= self.last or (percent - self.last < 5 and now - self.at < 0.5):
            return
        self.last, self.at = percent, now
        ExportJob.objects.filter(pk=self.job_id, status=Status.RUNNING).update(progress=percent)


def _delete_attempt_files(job: ExportJob, attempts) -> None:
    for attempt in attempts:
        name = pack_file_name(job, job.source_digest, attempt)
        if default_storage.exists(name):
            default_storage.delete(name)


def export_job_fail(*, job_id: int, message: str, attempt: int | None = None) -> ExportJob:
    """Mark a job failed with a message a person understands (unless it already finished).

    ``attempt``: the attempt that failed; if the job has been started again since, the newer
    attempt owns it and this changes nothing. Files any attempt left are deleted."""
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().get(pk=job_id)
        if job.status in (Status.DONE, Status.REMOVED, Status.FAILED):
            return job
        if attempt is not None and job.attempts != attempt:
            return job
        job.status, job.message, job.finished_at = Status.FAILED, message, timezone.now()
        job.save(update_fields=["status", "message", "finished_at"])
        _event(job, Event.FAILED, detail=message)
        _delete_attempt_files(job, range(1, job.attempts + 1))
    return job


def export_job_note_retry(*, job_id: int, reason: str) -> None:
    ExportJobEvent.objects.create(job_id=job_id, event=Event.RETRYING, detail=reason[:200])


def export_job_run(*, job_id: int, republished: bool = False) -> ExportJob:
    """Render the job's pack and store it. Safe to run twice; see the module's docstring.

    ``republished``: this delivery is the sweep's (``export_jobs_requeue``), not the original
    message or its redelivery; it leaves alone a job a worker started within the hard time
    limit, which that worker may still be rendering. An exception raised after the job is
    claimed carries the attempt (``export_attempt``), so the task fails only that attempt."""
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().get(pk=job_id)
        if job.status not in ExportJob.ACTIVE:
            return job  # finished, failed or removed: nothing to do
        if republished and job.status == Status.RUNNING and job.started_at is not None:
            limit = dt.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
            if job.started_at > timezone.now() - limit:
                return job  # possibly still being made: the sweep looks again later
        event = Event.RESTARTED if job.status == Status.RUNNING else Event.STARTED
        job.status, job.started_at, job.progress = Status.RUNNING, timezone.now(), 1
        job.attempts += 1
        job.save(update_fields=["status", "started_at", "progress", "attempts"])
        _event(job, event, detail=f"attempt {job.attempts}")
        attempt = job.attempts
    try:
        return _render_and_store(job, attempt)
    except BaseException as error:
        error.export_attempt = attempt
        raise


def _render_and_store(job: ExportJob, attempt: int) -> ExportJob:
    job_id = job.pk
    try:
        entry, obj = object_for(job.kind, job.object_id)
    except (UnknownKind, ObjectDoesNotExist):
        return export_job_fail(
            job_id=job_id, message="The document this pack was for no longer exists.", attempt=attempt
        )
    if entry.digest(obj) != job.source_digest:
        return export_job_fail(job_id=job_id, message=_changed_message(job), attempt=attempt)
    # What the exempt pack holds, read with the sources it is rendered from (the digest below
    # proves they did not change meanwhile): its downloads are logged against these.
    records = (
        [[record._meta.label_lower, record.pk, label] for record, label in entry.exempt_records(obj)]
        if job.is_exempt
        else []
    )
    try:
        rendered = render_pack_document(
            parts=entry.parts(obj),
            classification=entry.classification(obj),
            exempt_pack=job.is_exempt,
            title=job.title,
            progress=_ProgressWriter(job_id),
        )
    except PackError as error:
        return export_job_fail(job_id=job_id, message=error.message, attempt=attempt)
    if entry.digest(obj) != job.source_digest:  # changed while it was being rendered
        return export_job_fail(job_id=job_id, message=_changed_message(job), attempt=attempt)
    saved = default_storage.save(pack_file_name(job, job.source_digest, attempt), ContentFile(rendered.pdf))
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().get(pk=job_id)
        if job.status != Status.RUNNING or job.attempts != attempt:
            # Finished, failed, or started again by another delivery since: that one counts.
            if job.file.name != saved:
                default_storage.delete(saved)
            return job
        _delete_attempt_files(job, range(1, attempt))  # left by workers that died before finishing
        job.file.name = saved
        job.exempt_records = records
        job.checksum = hashlib.sha256(rendered.pdf).hexdigest()
        job.size, job.pages = len(rendered.pdf), rendered.pages
        job.status, job.progress, job.finished_at, job.message = Status.DONE, 100, timezone.now(), ""
        job.save(
            update_fields=[
                "file",
                "checksum",
                "size",
                "pages",
                "status",
                "progress",
                "finished_at",
                "message",
                "exempt_records",
            ]
        )
        _event(job, Event.DONE, detail=f"{job.pages} pages, {job.size} bytes, sha256 {job.checksum}")
    return job


def _changed_message(job: ExportJob) -> str:
    return f"“{job.title}” changed after this export was asked for. Export it again to include the changes."


# --- Downloads and housekeeping -----------------------------------------------------------------


def export_job_download(*, request, user, job: ExportJob, obj) -> None:
    """Record a download: in the job's trail, and for an exempt pack in the access log."""
    if job.is_exempt:
        record_access(
            request=request,
            user=user,
            record=obj,
            label=job.title[:60],
            fields=["Exempt pack (PDF)"],
            channel=AccessLogEntry.Channel.PDF,
            reason=f"Downloaded export {job.pk}, sha256 {job.checksum}",
        )
        # And against each record whose exempt data is inside (the cases of a case list), as
        # the pack was rendered: not as its sources are now.
        record_access_many(
            request=request,
            user=user,
            records=[
                (apps.get_model(record_type)(pk=record_id), label)
                for record_type, record_id, label in job.exempt_records
            ],
            fields=[f"Exempt pack (PDF): {job.title[:60]}"],
            channel=AccessLogEntry.Channel.PDF,
            reason=f"Downloaded export {job.pk}, sha256 {job.checksum}",
        )
    _event(job, Event.DOWNLOADED, user=user)


#: A job that has used this many attempts and is still not finished is not tried again.
MAX_ATTEMPTS = 3


def export_jobs_requeue(*, now: dt.datetime | None = None) -> list[int]:
    """Publish again the jobs whose message the queue seems to have lost; returns their ids.

    A queued job no worker has taken within ``EXPORT_REQUEUE_AFTER`` seconds of its last
    publication, and a running job started longer ago than the hard time limit plus that wait
    (no worker can still be on it: the limit would have stopped it, and nothing redelivered
    it). The new message is marked, so a worker that gets it while another has just started
    the job leaves it alone. A running job that has already used ``MAX_ATTEMPTS`` is failed
    instead (a pack that outlives the limit every time). With the broker down nothing is
    published and nothing changes: the next sweep tries again.
    """
    now = now or timezone.now()
    wait = dt.timedelta(seconds=settings.EXPORT_REQUEUE_AFTER)
    queued_before = now - wait
    started_before = now - wait - dt.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    last_published = Greatest(
        "requested_at",
        Coalesce(Max("events__at", filter=Q(events__event=Event.REPUBLISHED)), "requested_at"),
    )
    candidates = list(
        ExportJob.objects.filter(status__in=ExportJob.ACTIVE)
        .annotate(last_published=last_published)
        .filter(
            Q(status=Status.QUEUED, last_published__lt=queued_before)
            | Q(status=Status.RUNNING, started_at__lt=started_before, last_published__lt=queued_before)
        )
        .values_list("pk", flat=True)
    )
    if not candidates:
        return []
    try:
        _broker_ready()
    except ExportsUnavailable:
        return []
    requeued, exhausted = [], []
    with transaction.atomic():
        jobs = list(ExportJob.objects.select_for_update().filter(pk__in=candidates).order_by("pk"))
        # Under the lock, the conditions again: a worker may have taken a job meanwhile.
        republished_at = dict(
            ExportJobEvent.objects.filter(job__in=jobs, event=Event.REPUBLISHED)
            .values("job_id")
            .annotate(at=Max("at"))
            .values_list("job_id", "at")
        )
        for job in jobs:
            published = max(job.requested_at, republished_at.get(job.pk, job.requested_at))
            if job.status == Status.QUEUED and published < queued_before:
                pass
            elif job.status == Status.RUNNING and job.started_at and job.started_at < started_before:
                if job.attempts >= MAX_ATTEMPTS:
                    exhausted.append(job.pk)
                    continue
                if published >= queued_before:
                    continue
            else:
                continue
            _event(job, Event.REPUBLISHED, detail=f"not finished after {settings.EXPORT_REQUEUE_AFTER} s")
            _enqueue(job.pk, republished=True)
            requeued.append(job.pk)
    for job_id in exhausted:
        export_job_fail(job_id=job_id, message=TOO_LONG)
    if requeued:
        logger.warning("Published %s export job(s) again: %s", len(requeued), requeued)
    return requeued


def export_packs_clean_up(*, now: dt.datetime | None = None) -> int:
    """Remove the files of packs older than EXPORT_PACKS_KEEP_DAYS (the jobs and their trail stay),
    and fail jobs that have waited or run far longer than any worker would take."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=settings.EXPORT_PACKS_KEEP_DAYS)
    removed = 0
    for job_id in ExportJob.objects.filter(status=Status.DONE, finished_at__lt=cutoff).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            job = ExportJob.objects.select_for_update().get(pk=job_id)
            if job.status != Status.DONE:
                continue
            if job.file.name:
                default_storage.delete(job.file.name)
            job.status, job.file = Status.REMOVED, ""
            job.save(update_fields=["status", "file"])
            _event(job, Event.REMOVED, detail=f"kept {settings.EXPORT_PACKS_KEEP_DAYS} days")
            removed += 1
    stalled_before = now - dt.timedelta(seconds=2 * settings.CELERY_VISIBILITY_TIMEOUT)
    for job_id in ExportJob.objects.filter(
        status__in=ExportJob.ACTIVE, requested_at__lt=stalled_before
    ).values_list("pk", flat=True):
        export_job_fail(job_id=job_id, message=STALLED)
    return removed


def _packs_holding(record_type: str, record_id: int, about: list[str]) -> Q:
    """The jobs of a pack of the record itself, or whose exempt part holds it
    (``exempt_records``: [type, id, label] triples). PostgreSQL looks inside the JSON list
    (``contains``); SQLite, the embedded default, cannot, so the lists are read here."""
    itself = Q(kind__in=about, object_id=record_id)
    if connection.features.supports_json_field_contains:
        return itself | Q(exempt_records__contains=[[record_type, record_id]])
    holding = [
        pk
        for pk, records in ExportJob.objects.exclude(exempt_records=[]).values_list("pk", "exempt_records")
        if any(entry[:2] == [record_type, record_id] for entry in records or [])
    ]
    return itself | Q(pk__in=holding)


def export_packs_remove_for_record(*, record_type: str, record_id: int) -> int:
    """Remove every stored pack holding this record (its disposal, core.retention): a pack of
    the record itself, or one whose exempt part holds its data. The file goes, the job is
    marked removed (an unfinished one failed) and says why; the trail stays."""
    about = [kind for kind, entry in kinds().items() if entry.model._meta.label_lower == record_type]
    removed = 0
    with transaction.atomic():
        holding = _packs_holding(record_type, record_id, about)
        for job in ExportJob.objects.select_for_update().filter(holding):
            if job.file.name:
                default_storage.delete(job.file.name)
            if job.status in ExportJob.ACTIVE:
                job.message = "A record in the pack was disposed of under the retention schedule."
                job.status = Status.FAILED
            elif job.status == Status.DONE:
                job.status = Status.REMOVED
            job.file = ""
            job.save(update_fields=["status", "file", "message"])
            _event(job, Event.REMOVED, detail="a record in it was disposed of")
            removed += 1
    return removed
