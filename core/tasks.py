"""Background jobs of the core app. Tasks take primary keys only, never case data."""

from __future__ import annotations

import contextlib
import logging
import traceback
from smtplib import SMTPException

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.core.management import call_command
from django.db import InterfaceError
from django.db import OperationalError as DatabaseOperationalError

logger = logging.getLogger(__name__)


def _transient_errors() -> tuple[type[BaseException], ...]:
    """Failures worth trying again: the database or file storage not answering for a moment."""
    errors: list[type[BaseException]] = [
        DatabaseOperationalError,
        InterfaceError,
        ConnectionError,
        TimeoutError,
    ]
    try:
        from botocore.exceptions import BotoCoreError, ClientError

        errors += [BotoCoreError, ClientError]
    except ImportError:  # pragma: no cover - django-storages[s3] is pinned
        pass
    return tuple(errors)


TRANSIENT_ERRORS = _transient_errors()


@shared_task(name="core.tasks.clear_expired_sessions")
def clear_expired_sessions() -> None:
    """Housekeeping on a schedule (Celery beat): drop expired sessions."""
    call_command("clearsessions")


@shared_task(name="core.tasks.worker_heartbeat", ignore_result=True)
def worker_heartbeat() -> None:
    """Beat sends this every minute; the worker that runs it records that it is alive."""
    from core.health import heartbeat_record

    heartbeat_record()


class ExportTask(Task):
    """When retries run out, the job is marked failed with a message a person understands."""

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        from core.documents.services import GAVE_UP, export_job_fail

        if args:
            try:
                export_job_fail(
                    job_id=int(args[0]), message=GAVE_UP, attempt=getattr(exc, "export_attempt", None)
                )
            except Exception:  # the database may be the thing that is down; the sweeper catches it
                logger.warning("Could not mark export %s failed", args[0])


@shared_task(
    bind=True,
    base=ExportTask,
    name="core.tasks.render_export_job",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=6,
)
def render_export_job(self, job_id: int, republished: bool = False) -> None:
    """Render one export job's pack (see core.documents.services.export_job_run). Only ids
    and a flag travel in the message."""
    from core.documents import services

    try:
        services.export_job_run(job_id=job_id, republished=republished)
    except TRANSIENT_ERRORS as error:
        services_note_retry(job_id, error)
        raise
    except SoftTimeLimitExceeded as error:
        services.export_job_fail(
            job_id=job_id, message=services.TOO_LONG, attempt=getattr(error, "export_attempt", None)
        )
    except Exception as error:
        # A bug, not the inputs: log where (never the message, which could quote case data).
        logger.error(
            "Export %s failed with %s at\n%s",
            job_id,
            type(error).__name__,
            "".join(traceback.format_tb(error.__traceback__)),
        )
        services.export_job_fail(
            job_id=job_id, message=services.UNEXPECTED, attempt=getattr(error, "export_attempt", None)
        )


def services_note_retry(job_id: int, error: BaseException) -> None:
    from core.documents.services import export_job_note_retry

    logger.warning("Export %s will be tried again after %s", job_id, type(error).__name__)
    with contextlib.suppress(Exception):  # the database itself may be what failed
        export_job_note_retry(job_id=job_id, reason=type(error).__name__)


@shared_task(name="core.tasks.clean_up_export_packs")
def clean_up_export_packs() -> int:
    """Housekeeping (Celery beat): remove old packs' files, fail jobs that never finished."""
    from core.documents.services import export_packs_clean_up

    return export_packs_clean_up()


@shared_task(name="core.tasks.requeue_export_jobs")
def requeue_export_jobs() -> int:
    """Celery beat: publish again the export jobs whose message the queue lost."""
    from core.documents.services import export_jobs_requeue

    return len(export_jobs_requeue())


@shared_task(name="core.tasks.flush_outbox")
def flush_outbox() -> int:
    """Celery beat: queue jobs whose publish failed while the broker was down."""
    from core.outbox import outbox_discard_sent, outbox_flush

    sent = outbox_flush()
    outbox_discard_sent()
    return sent


@shared_task(
    name="core.tasks.send_security_event_mail",
    autoretry_for=(ConnectionError, TimeoutError, SMTPException),
    retry_backoff=True,
    max_retries=8,
)
def send_security_event_mail(event_id: int, tell_user: int = 1) -> int:
    """E-mail the account holder (and IG, for some kinds) about a security event."""
    from core.security_events import security_event_notify

    return security_event_notify(event_id=event_id, tell_user=bool(tell_user))


@shared_task(
    name="core.tasks.send_password_link",
    autoretry_for=(ConnectionError, TimeoutError, SMTPException),
    retry_backoff=True,
    max_retries=8,
)
def send_password_link(event_id: int) -> int:
    """E-mail a holder the link to set their password (core.passwords)."""
    from core.passwords import password_link_email

    return password_link_email(event_id=event_id)


@shared_task(
    name="core.tasks.send_notification_email",
    autoretry_for=(ConnectionError, TimeoutError, SMTPException),
    retry_backoff=True,
    max_retries=8,
)
def send_notification_email(notification_id: int) -> bool:
    from core.notifications import notification_email_send

    return notification_email_send(notification_id=notification_id)


@shared_task(
    name="core.tasks.send_notification_digest",
    autoretry_for=(ConnectionError, TimeoutError, SMTPException),
    retry_backoff=True,
    max_retries=8,
)
def send_notification_digest(user_id: int) -> int:
    from core.notifications import notification_digest_send

    return notification_digest_send(user_id=user_id)


@shared_task(name="core.tasks.queue_notification_digests")
def queue_notification_digests() -> int:
    """Beat (daily): one digest per user who chose it. Safe to run twice (nothing left to send)."""
    from core.notifications import notification_digests_queue

    return notification_digests_queue()
