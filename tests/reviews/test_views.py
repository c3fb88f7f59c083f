import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import AccessLogEntry
from core.roles import Role
from referrals.models import AbuseForm, Referral
from reviews.models import CaseAssessment, Review
from tests.conftest import sign_in_verified
from tests.factories import ReferralFactory

pytestmark = pytest.mark.django_db


def date_parts(prefix, day):
    return {f"{prefix}_0": day.day, f"{prefix}_1": day.month, f"{prefix}_2": day.year}


@pytest.fixture
def setup(role_user):
    lead = role_user(Role.LEAD_REVIEWER, username="lead")
    reviewer = role_user(Role.REVIEWER, username="rev")
    other = role_user(Role.REVIEWER, username="other")
    received = dt.datetime(2018, 3, 5, 10, tzinfo=timezone.get_current_timezone())
    referral = ReferralFactory(status=Referral.Status.CLOSED, received_at=received)
    detail = referral.detail
    detail.narrative = "The narrative only a grant holder sees"
    detail.save()
    return lead, reviewer, other, referral


def test_lead_sets_up_screens_assigns_and_reviewer_assesses_through_the_pages(client, setup):
    lead, reviewer, other, referral = setup
    sign_in_verified(client, lead)
    bad = client.post(reverse("reviews:create"), {"title": ""})
    assert bad.status_code == 400
    assert "Enter the title of the review" in bad.content.decode()
    form = {
        "title": "Peer on peer review",
        "terms_of_reference": "Assess MASH advice against the guidance of the day.",
        "reviewers": [reviewer.pk, other.pk],
        "include_forms": [AbuseForm.objects.get(code="sexual-assault").pk],
        "require_peer_on_peer": "on",
        "require_same_school": "on",
        "moderation_share": "20",
        **date_parts("grants_end_on", timezone.localdate() + dt.timedelta(days=60)),
        "period_0_name": "Jan 2017 - Oct 2018",
        **date_parts("period_0_start", dt.date(2017, 1, 1)),
        **date_parts("period_0_end", dt.date(2018, 10, 31)),
    }
    response = client.post(reverse("reviews:create"), form)
    assert response.status_code == 302, response.content.decode()[:2000]
    review = Review.objects.get()
    client.post(reverse("reviews:advance", args=[review.pk]), {"to": "screening"})
    screening = client.get(reverse("reviews:screening", args=[review.pk])).content.decode()
    assert referral.reference in screening
    decision = review.screening.get()
    assert (
        client.post(
            reverse("reviews:screening", args=[review.pk]), {"decision_id": decision.pk, "include": "exclude"}
        ).status_code
        == 400
    )
    client.post(
        reverse("reviews:screening", args=[review.pk]), {"decision_id": decision.pk, "include": "include"}
    )
    client.post(reverse("reviews:advance", args=[review.pk]), {"to": "reviewing"})
    review.refresh_from_db()
    assert review.status == Review.Status.REVIEWING
    response = client.post(
        reverse("reviews:assignment", args=[review.pk]), {"referral_id": referral.pk, "reviewer": reviewer.pk}
    )
    assert response.status_code == 302
    assessment = CaseAssessment.objects.get()

    # The reviewer sees the case's identities (logged once) and rates it.
    sign_in_verified(client, reviewer)
    url = reverse("reviews:assessment", args=[assessment.pk])
    before = AccessLogEntry.objects.count()
    page = client.get(url).content.decode()
    assert "The narrative only a grant holder sees" in page
    assert AccessLogEntry.objects.count() == before + 1
    assert "K16.1" in page  # received March 2018: KCSIE 2016 applied
    submit = {"version": assessment.version, "submit": "1"}
    response = client.post(url, submit)
    assert response.status_code == 400
    assert "Rate every criterion" in response.content.decode()
    assessment.refresh_from_db()
    data = {
        "version": assessment.version,
        "submit": "1",
        "advice_matched": "partly",
        "overall_judgement": "good",
    }
    for rating in assessment.ratings.all():
        data[f"rating_{rating.criterion_id}"] = "met"
        data[f"evidence_{rating.criterion_id}"] = "Recorded in the MASH notes"
    response = client.post(url, data)
    assert response.status_code == 302
    assessment.refresh_from_db()
    assert assessment.status == CaseAssessment.Status.SUBMITTED

    # Another reviewer may not open it at all.
    sign_in_verified(client, other)
    assert client.get(url).status_code == 404

    sign_in_verified(client, lead)
    response = client.post(url, {"decide": "1", "decision": "accept"})
    assert response.status_code == 302
    assessment.refresh_from_db()
    assert assessment.status == CaseAssessment.Status.ACCEPTED


def test_without_a_grant_the_lead_sees_the_assessment_pseudonymised(client, setup):
    lead, reviewer, _other, referral = setup
    from reviews import services

    review = services.review_create(
        user=lead,
        title="R",
        terms_of_reference="T",
        lead_reviewer=lead,
        reviewers=[reviewer],
        periods=[services.PeriodInput("P", dt.date(2018, 1, 1), dt.date(2018, 12, 31))],
        grants_end_on=timezone.localdate() + dt.timedelta(days=10),
    )
    services.review_start_screening(user=lead, review_id=review.pk)
    services.screening_decide(user=lead, decision_id=review.screening.get().pk, include=True)
    services.review_start_reviewing(user=lead, review_id=review.pk)
    assessment = services.assessment_assign(
        user=lead, review_id=review.pk, referral_id=referral.pk, reviewer=reviewer
    )
    sign_in_verified(client, lead)
    page = client.get(reverse("reviews:assessment", args=[assessment.pk])).content.decode()
    assert "The narrative only a grant holder sees" not in page
    assert AccessLogEntry.objects.count() == 0


def test_the_funnel_is_shown_in_full_to_someone_without_grants_on_its_cases(client, setup, role_user):
    """An internal page: no [c] for someone who may see the review (the report suppresses)."""
    lead, reviewer, _other, _referral = setup
    from reviews import services

    review = services.review_create(
        user=lead,
        title="R",
        terms_of_reference="T",
        lead_reviewer=lead,
        reviewers=[reviewer],
        periods=[services.PeriodInput("P", dt.date(2018, 1, 1), dt.date(2018, 12, 31))],
        grants_end_on=timezone.localdate() + dt.timedelta(days=10),
    )
    services.review_start_screening(user=lead, review_id=review.pk)
    sign_in_verified(client, role_user(Role.INFORMATION_GOVERNANCE, username="ig"))
    page = client.get(reverse("reviews:detail", args=[review.pk])).content.decode()
    assert "[c]" not in page
    assert "Small numbers are hidden" not in page
