"""Background jobs for contextual safeguarding. Tasks take primary keys only and are safe to
run twice (an alert for the same rule and evidence is never raised twice)."""

from __future__ import annotations

from celery import shared_task

from contexts.services import patterns_check_all, patterns_check_referral


@shared_task(name="contexts.tasks.check_referral")
def check_referral(referral_id: int) -> int:
    """After a referral is saved (queued through the outbox): the rules it can affect."""
    return patterns_check_referral(referral_id=referral_id).raised


@shared_task(name="contexts.tasks.check_all")
def check_all() -> int:
    """Beat (nightly), and after a rule changes: every rule over the whole record."""
    return patterns_check_all().raised
