"""Background jobs for the model guidance. Tasks take primary keys only."""

from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task

from modelguidance.services import (
    acknowledgement_send,
    acknowledgement_send_reminder,
    guidance_version_render_pdf,
    training_reminder_send,
)


@shared_task(
    name="modelguidance.tasks.send_acknowledgement_request",
    autoretry_for=(ConnectionError, TimeoutError, SMTPException),
    retry_backoff=True,
    max_retries=8,
)
def send_acknowledgement_request(acknowledgement_id: int) -> bool:
    return acknowledgement_send(acknowledgement_id=acknowledgement_id)


@shared_task(
    name="modelguidance.tasks.send_acknowledgement_reminder",
    autoretry_for=(ConnectionError, TimeoutError, SMTPException),
    retry_backoff=True,
    max_retries=8,
)
def send_acknowledgement_reminder(acknowledgement_id: int) -> bool:
    return acknowledgement_send_reminder(acknowledgement_id=acknowledgement_id)


@shared_task(
    name="modelguidance.tasks.render_published_pdf",
    autoretry_for=(ConnectionError, TimeoutError),
    retry_backoff=True,
    max_retries=5,
)
def render_published_pdf(version_id: int) -> str | None:
    """Render the newly published version's PDF once, so the public download is a file read."""
    return guidance_version_render_pdf(version_id=version_id)


@shared_task(
    name="modelguidance.tasks.send_training_reminder",
    autoretry_for=(ConnectionError, TimeoutError, SMTPException),
    retry_backoff=True,
    max_retries=8,
)
def send_training_reminder(reminder_id: int) -> bool:
    return training_reminder_send(reminder_id=reminder_id)
