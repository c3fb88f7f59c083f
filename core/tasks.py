from celery import shared_task
from django.core.management import call_command


@shared_task(name="core.tasks.clear_expired_sessions")
def clear_expired_sessions() -> None:
    """Housekeeping on a schedule (Celery beat): drop expired sessions."""
    call_command("clearsessions")


@shared_task(name="core.tasks.worker_heartbeat", ignore_result=True)
def worker_heartbeat() -> None:
    """Beat sends this every minute; the worker that runs it records that it is alive."""
    from core.health import heartbeat_record

    heartbeat_record()
