from celery import shared_task
from django.core.management import call_command


@shared_task(name="core.tasks.clear_expired_sessions")
def clear_expired_sessions() -> None:
    """Housekeeping on a schedule (Celery beat): drop expired sessions."""
    call_command("clearsessions")


@shared_task(name="core.tasks.flush_outbox")
def flush_outbox() -> int:
    """Celery beat: queue jobs whose publish failed while the broker was down."""
    from core.outbox import outbox_discard_sent, outbox_flush

    sent = outbox_flush()
    outbox_discard_sent()
    return sent
