from celery import shared_task
from django.core.management import call_command


@shared_task(name="core.tasks.clear_expired_sessions")
def clear_expired_sessions() -> None:
    """Housekeeping on a schedule (Celery beat): drop expired sessions."""
    call_command("clearsessions")
