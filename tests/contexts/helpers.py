"""Building referrals for the pattern rules: dates, roles, schools and places, no services.

A referral built here is in the school index (``contexts.school_index``) as a save through the
services would have put it, so a later referral's check finds it."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from contexts import school_index
from core.timescales import local_zone
from referrals.models import AbuseForm, ReferralChild
from tests.factories import ChildFactory, ReferralFactory, SchoolFactory
from tests.nplusone import unit_of_work

VICTIM = ReferralChild.Role.VICTIM
ALLEGED = ReferralChild.Role.ALLEGED_PERPETRATOR
OTHER = ReferralChild.Role.OTHER


def at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(10), tzinfo=local_zone())


@unit_of_work
def referral(
    day: dt.date,
    children: list[tuple] = (),
    *,
    place: str = "",
    form: str = "sexual-assault",
    peer: bool = True,
    status: str = "closed",
):
    """A referral received on ``day`` naming ``children``: (child, role) pairs."""
    made = ReferralFactory(received_at=at(day), with_children=False, is_peer_on_peer=peer, status=status)
    made.forms_of_abuse.set([AbuseForm.objects.get(code=form)])
    for index, (child, role) in enumerate(children):
        ReferralChild.objects.create(referral=made, child=child, role=role, label="ABCDEFGH"[index])
    if place:
        detail = made.detail
        detail.incident_place = place
        detail.save()
    school_index.refresh(referral_ids=[made.pk])
    return made


@unit_of_work
def pupils(school=None, count: int = 2):
    school = school or SchoolFactory()
    return [ChildFactory(school=school) for _ in range(count)]


@unit_of_work
def school_referral(school, day: dt.date, **kwargs):
    """A victim and an alleged perpetrator, both at ``school``."""
    victim, alleged = pupils(school)
    return referral(day, [(victim, VICTIM), (alleged, ALLEGED)], **kwargs)


def today() -> dt.date:
    return timezone.localdate()


@unit_of_work
def review_of(lead, reviewers, cases, *, title="Thematic review of peer-on-peer abuse", assign=None):
    """A review of ``cases`` (all included), each assigned as ``assign`` says (referral -> reviewer)."""
    from reviews import services as review_services
    from reviews.models import ScreeningDecision

    review = review_services.review_create(
        user=lead,
        title=title,
        terms_of_reference="ToR",
        lead_reviewer=lead,
        reviewers=reviewers,
        periods=[review_services.PeriodInput("All", dt.date(2018, 1, 1), dt.date(2018, 12, 31))],
        grants_end_on=timezone.localdate() + dt.timedelta(days=30),
        require_same_school=False,
    )
    review_services.review_start_screening(user=lead, review_id=review.pk)
    for decision in review.screening.filter(referral__in=cases):
        review_services.screening_decide(user=lead, decision_id=decision.pk, include=True)
    for decision in review.screening.filter(decision=ScreeningDecision.Decision.PENDING, candidate=True):
        review_services.screening_decide(user=lead, decision_id=decision.pk, include=False, reason="other")
    review_services.review_start_reviewing(user=lead, review_id=review.pk)
    for case, reviewer in (assign or {}).items():
        review_services.assessment_assign(
            user=lead, review_id=review.pk, referral_id=case.pk, reviewer=reviewer
        )
    return review
