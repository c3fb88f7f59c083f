"""A case review brought to the reviewing stage."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from core.roles import Role
from referrals.models import Referral
from reviews import services
from tests.browser.pages import add_authenticator
from tests.factories import ReferralFactory


def _review_in_reviewing(role_user):
    lead = role_user(Role.LEAD_REVIEWER, username="lead")
    reviewer = role_user(Role.REVIEWER, username="reviewer")
    for user in (lead, reviewer):
        add_authenticator(user)
    received = dt.datetime(2018, 10, 1, 10, tzinfo=timezone.get_current_timezone())
    referral = ReferralFactory(status=Referral.Status.CLOSED, received_at=received)
    review = services.review_create(
        user=lead,
        title="Peer on peer review",
        terms_of_reference="Assess MASH advice against the guidance in force at the time.",
        lead_reviewer=lead,
        reviewers=[reviewer],
        periods=[services.PeriodInput("2018", dt.date(2018, 1, 1), dt.date(2018, 12, 31))],
        grants_end_on=timezone.localdate() + dt.timedelta(days=30),
    )
    services.review_start_screening(user=lead, review_id=review.pk)
    services.screening_decide(user=lead, decision_id=review.screening.get().pk, include=True)
    services.review_start_reviewing(user=lead, review_id=review.pk)
    return lead, reviewer, referral, review
