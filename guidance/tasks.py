"""Background jobs for the model guidance. Tasks take primary keys only."""

from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task

from guidance.services import acknowledgement_send, acknowledgement_send_reminder


@shared_task(
    name="guidance.tasks.send_acknowledgement_request",
    autoretry_for=(ConnectionError, TimeoutError, SMTPException),
    retry_backoff=True,
    max_retries=8,
)
def send_acknowledgement_request(acknowledgement_id: int) -> bool:
    return acknowledgement_send(acknowledgement_id=acknowledgement_id)


@shared_task(
    name="guidance.tasks.send_acknowledgement_reminder",
    autoretry_for=(ConnectionError, TimeoutError, SMTPException),
    retry_backoff=True,
    max_retries=8,
)
def send_acknowledgement_reminder(acknowledgement_id: int) -> bool:
    return acknowledgement_send_reminder(acknowledgement_id=acknowledgement_id)
