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
    second = role_user(Role.REVIEWER, username="reviewer2")  # moderation's blind second reviewer
    for user in (lead, reviewer, second):
        add_authenticator(user)
    received = dt.datetime(2018, 10, 1, 10, tzinfo=timezone.get_current_timezone())
    referral = ReferralFactory(status=Referral.Status.CLOSED, received_at=received)
    review = services.review_create(
        user=lead,
        title="Peer on peer review",
        terms_of_reference="Assess MASH advice against the guidance in force at the time.",
        lead_reviewer=lead,
        reviewers=[reviewer, second],
        periods=[services.PeriodInput("2018", dt.date(2018, 1, 1), dt.date(2018, 12, 31))],
        grants_end_on=timezone.localdate() + dt.timedelta(days=30),
    )
    services.review_start_screening(user=lead, review_id=review.pk)
    services.screening_decide(user=lead, decision_id=review.screening.get().pk, include=True)
    services.review_start_reviewing(user=lead, review_id=review.pk)
    return lead, reviewer, referral, review


def _review_in_moderation(role_user, *, disagree: int = 3):
    """The review above with its one case rated "met" throughout by the reviewer and accepted,
    moderation started on every case (``reviewer2`` is the blind second reviewer) and the second
    assessment saved: "not met" on the first ``disagree`` criteria, "met" on the rest."""
    from reviews.models import CriterionRating
    from reviews.selectors import natural_key

    lead, reviewer, referral, review = _review_in_reviewing(role_user)
    first = services.assessment_assign(
        user=lead, review_id=review.pk, referral_id=referral.pk, reviewer=reviewer
    )
    ratings = {
        r.criterion_id: services.RatingInput("met", "Evidence in the MASH record")
        for r in first.ratings.all()
    }
    first = services.assessment_save(
        user=reviewer,
        assessment_id=first.pk,
        expected_version=first.version,
        ratings=ratings,
        advice_matched="partly",
        overall_judgement="requires_improvement",
        good_practice="Quick decision",
        areas_for_improvement="Record the victim's wishes",
    )
    first = services.assessment_submit(user=reviewer, assessment_id=first.pk, expected_version=first.version)
    services.assessment_decide(user=lead, assessment_id=first.pk, accept=True)
    review.refresh_from_db()
    review.moderation_share = 100
    review.save()
    (second,) = services.review_start_moderation(user=lead, review_id=review.pk)
    rows = sorted(
        CriterionRating.objects.filter(assessment=second).select_related("criterion"),
        key=lambda r: natural_key(r.criterion.code),
    )
    ratings = {
        r.criterion_id: services.RatingInput("not_met" if index < disagree else "met", "Second look")
        for index, r in enumerate(rows)
    }
    services.assessment_save(
        user=second.reviewer, assessment_id=second.pk, expected_version=second.version, ratings=ratings
    )
    review.refresh_from_db()
    return lead, reviewer, referral, review
