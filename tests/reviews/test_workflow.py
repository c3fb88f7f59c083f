import datetime as dt
from collections import Counter

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from core import permissions
from core.roles import Role
from referrals.models import AbuseForm, Referral
from reviews import selectors, services
from reviews.models import CaseAssessment, CriterionRating, Review, ScreeningDecision
from tests.factories import ReferralFactory
from tests.nplusone import set_up

pytestmark = pytest.mark.django_db

LONDON = timezone.get_current_timezone()


def at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(10), tzinfo=LONDON)


@pytest.fixture
def people(role_user):
    return {
        "lead": role_user(Role.LEAD_REVIEWER, username="lead"),
        "r1": role_user(Role.REVIEWER, username="r1"),
        "r2": role_user(Role.REVIEWER, username="r2"),
    }


@pytest.fixture
@set_up
def historic():
    """Referrals across the two periods: in scope, not peer-on-peer, not in scope, outside."""
    sexual = AbuseForm.objects.get(code="sexual-assault")
    bullying = AbuseForm.objects.get(code="bullying")
    made = {}
    made["in_2017"] = ReferralFactory(received_at=at(dt.date(2017, 3, 1)), status=Referral.Status.CLOSED)
    made["in_2018_before"] = ReferralFactory(
        received_at=at(dt.date(2018, 9, 2)), status=Referral.Status.CLOSED
    )
    made["in_2018_after"] = ReferralFactory(
        received_at=at(dt.date(2018, 9, 3)), status=Referral.Status.CLOSED
    )
    made["in_2019"] = ReferralFactory(received_at=at(dt.date(2019, 6, 3)), status=Referral.Status.CLOSED)
    not_peer = ReferralFactory(
        received_at=at(dt.date(2017, 5, 1)), status=Referral.Status.CLOSED, is_peer_on_peer=False
    )
    made["not_peer"] = not_peer
    bully = ReferralFactory(received_at=at(dt.date(2018, 1, 10)), status=Referral.Status.CLOSED)
    bully.forms_of_abuse.set([bullying])
    made["bullying"] = bully
    made["outside"] = ReferralFactory(received_at=at(dt.date(2020, 1, 6)), status=Referral.Status.CLOSED)
    for key in ("in_2017", "in_2018_before", "in_2018_after", "in_2019", "not_peer"):
        made[key].forms_of_abuse.set([sexual])
    return made


@pytest.fixture
def review(people, historic):
    return services.review_create(
        user=people["lead"],
        title="Peer on peer review",
        terms_of_reference="Assess MASH advice against DfE guidance at the time.",
        lead_reviewer=people["lead"],
        reviewers=[people["r1"], people["r2"]],
        periods=[
            services.PeriodInput("Jan 2017 - Oct 2018", dt.date(2017, 1, 1), dt.date(2018, 10, 31)),
            services.PeriodInput("Nov 2018 - Nov 2019", dt.date(2018, 11, 1), dt.date(2019, 11, 30)),
        ],
        grants_end_on=timezone.localdate() + dt.timedelta(days=90),
        include_forms=AbuseForm.objects.filter(is_sexual=True),
    )


def test_screening_funnel_counts_rules_and_decisions(review, people, historic):
    assert services.review_start_screening(user=people["lead"], review_id=review.pk) == 6
    funnel = selectors.review_funnel(review=review)
    assert (funnel.received, funnel.candidates, funnel.pending) == (6, 4, 4)
    assert funnel.excluded_by_rules == {"Not peer-on-peer abuse": 1, "Form of abuse not in scope": 1}
    decisions = {d.referral_id: d for d in review.screening.all()}
    services.screening_decide(
        user=people["r1"],
        decision_id=decisions[historic["in_2019"].pk].pk,
        include=False,
        reason=ScreeningDecision.Reason.INSUFFICIENT_RECORD,
    )
    for key in ("in_2017", "in_2018_before", "in_2018_after"):
        services.screening_decide(user=people["r2"], decision_id=decisions[historic[key].pk].pk, include=True)
    funnel = selectors.review_funnel(review=review)
    assert (funnel.received, funnel.candidates, funnel.included, funnel.pending) == (6, 4, 3, 0)
    assert funnel.excluded_at_screening == {"Too little recorded to review": 1}
    with pytest.raises(ValidationError, match="leave this referral out"):
        services.screening_decide(
            user=people["r1"], decision_id=decisions[historic["not_peer"].pk].pk, include=True
        )


def screened(review, people, historic):
    services.review_start_screening(user=people["lead"], review_id=review.pk)
    for decision in review.screening.filter(candidate=True):
        services.screening_decide(user=people["lead"], decision_id=decision.pk, include=True)
    services.review_start_reviewing(user=people["lead"], review_id=review.pk)


def test_assignment_attaches_the_criteria_in_force_and_grants_exactly_those_cases(review, people, historic):
    screened(review, people, historic)
    before = services.assessment_assign(
        user=people["lead"],
        review_id=review.pk,
        referral_id=historic["in_2018_before"].pk,
        reviewer=people["r1"],
    )
    after = services.assessment_assign(
        user=people["lead"],
        review_id=review.pk,
        referral_id=historic["in_2018_after"].pk,
        reviewer=people["r1"],
    )
    codes_before = {r.criterion.code for r in before.ratings.select_related("criterion")}
    codes_after = {r.criterion.code for r in after.ratings.select_related("criterion")}
    assert "K16.1" in codes_before
    assert "K18.1" not in codes_before
    assert "K18.1" in codes_after
    assert "K16.1" not in codes_after
    assert "SV18.6" in codes_after  # sexual assault: the police starting point applies
    assert permissions.has_grant(people["r1"], historic["in_2018_before"])
    assert not permissions.has_grant(people["r1"], historic["in_2017"])
    assert not permissions.has_grant(people["r2"], historic["in_2018_before"])
    with time_machine.travel(timezone.now() + dt.timedelta(days=100)):
        assert not permissions.has_grant(people["r1"], historic["in_2018_before"])
    with pytest.raises(ValidationError, match="included at screening"):
        services.assessment_assign(
            user=people["lead"],
            review_id=review.pk,
            referral_id=historic["not_peer"].pk,
            reviewer=people["r1"],
        )


@set_up
def rate_all(assessment, user, rating="met"):
    ratings = {
        r.criterion_id: services.RatingInput(rating, "Evidence in the MASH record")
        for r in assessment.ratings.all()
    }
    assessment = services.assessment_save(
        user=user,
        assessment_id=assessment.pk,
        expected_version=assessment.version,
        ratings=ratings,
        advice_matched="partly",
        overall_judgement="requires_improvement",
        good_practice="Quick decision",
        areas_for_improvement="Record the victim's wishes",
    )
    return services.assessment_submit(
        user=user, assessment_id=assessment.pk, expected_version=assessment.version
    )


def test_submit_needs_every_criterion_rated_then_lead_returns_and_accepts(review, people, historic):
    screened(review, people, historic)
    a = services.assessment_assign(
        user=people["lead"], review_id=review.pk, referral_id=historic["in_2017"].pk, reviewer=people["r1"]
    )
    with pytest.raises(ValidationError) as caught:
        services.assessment_submit(user=people["r1"], assessment_id=a.pk, expected_version=a.version)
    assert "Rate every criterion" in str(caught.value)
    with pytest.raises(ValidationError):
        services.assessment_save(
            user=people["r2"], assessment_id=a.pk, expected_version=a.version, ratings={}
        )
    a = rate_all(a, people["r1"])
    with pytest.raises(ValidationError, match="what the reviewer needs to change"):
        services.assessment_decide(user=people["lead"], assessment_id=a.pk, accept=False)
    a = services.assessment_decide(
        user=people["lead"], assessment_id=a.pk, accept=False, comments="Add evidence"
    )
    assert a.status == CaseAssessment.Status.RETURNED
    a = rate_all(a, people["r1"])
    a = services.assessment_decide(user=people["lead"], assessment_id=a.pk, accept=True)
    assert a.status == CaseAssessment.Status.ACCEPTED
    reasons = list(a.history.order_by("history_date").values_list("history_change_reason", flat=True))
    assert reasons[0].startswith("Assigned")
    assert reasons[-1] == "Accepted"
    assert "Returned with comments" in reasons


def test_stale_assessment_save_is_refused(review, people, historic):
    screened(review, people, historic)
    a = services.assessment_assign(
        user=people["lead"], review_id=review.pk, referral_id=historic["in_2017"].pk, reviewer=people["r1"]
    )
    services.assessment_save(user=people["r1"], assessment_id=a.pk, expected_version=1, ratings={})
    with pytest.raises(ValidationError, match="Someone else saved"):
        services.assessment_save(user=people["r1"], assessment_id=a.pk, expected_version=1, ratings={})


def test_moderation_agreement_findings_and_close(review, people, historic, client, verified_client):
    screened(review, people, historic)
    cases = [historic[k] for k in ("in_2017", "in_2018_before", "in_2018_after")]
    for referral in cases:
        a = services.assessment_assign(
            user=people["lead"], review_id=review.pk, referral_id=referral.pk, reviewer=people["r1"]
        )
        a = rate_all(a, people["r1"], rating="met")
        services.assessment_decide(user=people["lead"], assessment_id=a.pk, accept=True)
    review.refresh_from_db()
    review.moderation_share = 34
    review.save()
    second = services.review_start_moderation(user=people["lead"], review_id=review.pk)
    assert len(second) == 2  # ceil(3 * 34%)
    assert all(s.reviewer != people["r1"] for s in second)
    for s in second:
        rows = list(CriterionRating.objects.filter(assessment=s))
        ratings = {r.criterion_id: services.RatingInput("met") for r in rows}
        ratings[rows[0].criterion_id] = services.RatingInput("not_met")
        services.assessment_save(
            user=s.reviewer, assessment_id=s.pk, expected_version=s.version, ratings=ratings
        )
    review.refresh_from_db()
    agreement = selectors.moderation_agreement(review=review)
    compared = sum(n for _, n in agreement.by_criterion.values())
    agreed = sum(k for k, _ in agreement.by_criterion.values())
    assert compared - agreed == 2 == len(agreement.disagreements)
    # The moderation page lists each disagreement by its case without a query per case.
    verified_client(people["lead"])
    page = client.get(reverse("reviews:moderation", args=[review.pk]))
    assert page.status_code == 200
    for a, _, _ in agreement.disagreements:
        assert a.assessment.referral.reference in page.content.decode()
    first, second_rating, _ = agreement.disagreements[0]
    services.moderation_resolve(
        user=people["lead"],
        primary_rating_id=first.pk,
        second_rating_id=second_rating.pk,
        resolved_rating="not_met",
    )
    findings = selectors.review_findings(review=review)
    # The findings equal a direct count over the accepted assessments, with the resolution applied.
    direct: Counter = Counter()
    for rating in CriterionRating.objects.filter(
        assessment__kind="primary", assessment__review=review
    ).select_related("criterion"):
        value = "not_met" if rating.pk == first.pk else rating.rating
        direct[(rating.criterion.code, value)] += 1
    found: Counter = Counter()
    for (code, _period), counter in findings.counts.items():
        for value, n in counter.items():
            found[(code, value)] += n
    assert found == direct
    services.review_advance(user=people["lead"], review_id=review.pk, to=Review.Status.REPORTING)
    services.review_advance(user=people["lead"], review_id=review.pk, to=Review.Status.CLOSED)
    assert not permissions.has_grant(people["r1"], cases[0])
    with pytest.raises(ValidationError):
        services.review_advance(user=people["lead"], review_id=review.pk, to=Review.Status.REPORTING)
