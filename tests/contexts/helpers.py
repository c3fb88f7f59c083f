"""Building referrals for the pattern rules: dates, roles, schools and places, no services."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

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
