"""Background jobs for referrals. Tasks take primary keys only, never case data."""

from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task

from referrals.services import break_glass_notify, decision_send_feedback, referral_drafts_delete_expired


@shared_task(
    name="referrals.tasks.send_decision_feedback",
    autoretry_for=(ConnectionError, TimeoutError, SMTPException),
    retry_backoff=True,
    max_retries=8,
)
def send_decision_feedback(decision_id: int) -> None:
    decision_send_feedback(decision_id=decision_id)


@shared_task(
    name="referrals.tasks.notify_break_glass",
    autoretry_for=(ConnectionError, TimeoutError, SMTPException),
    retry_backoff=True,
    max_retries=8,
)
def notify_break_glass(entry_id: int) -> None:
    break_glass_notify(entry_id=entry_id)


@shared_task(name="referrals.tasks.delete_expired_grants")
def delete_expired_grants() -> int:
    """Housekeeping (Celery beat): expired grants already stop working; this removes them."""
    from core.permissions import delete_expired
    from referrals.models import Referral

    return delete_expired(Referral)


@shared_task(name="referrals.tasks.discard_stale_imports")
def discard_stale_imports() -> int:
    """Housekeeping (Celery beat): delete checked import files nobody imported within a day."""
    from referrals.imports.services import referral_imports_discard_stale

    return referral_imports_discard_stale()


@shared_task(name="referrals.tasks.delete_expired_drafts")
def delete_expired_drafts() -> int:
    """Housekeeping (beat, hourly): drafts past their expiry are deleted. Safe to run twice."""
    return referral_drafts_delete_expired()


@shared_task(name="referrals.tasks.notify_overdue")
def notify_overdue() -> int:
    """Beat (every five minutes): referrals past their due time undecided notify their
    practitioner and the MASH managers, once per breach. Safe to run twice."""
    from referrals.services import referrals_notify_overdue

    return referrals_notify_overdue()
