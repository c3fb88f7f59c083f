"""Inputs for the referral services, valid unless a test changes them."""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.utils import timezone

from referrals import services
from referrals.models import AbuseForm, ReferralSource
from tests.nplusone import unit_of_work


@unit_of_work
def referral_input(**changes) -> services.ReferralInput:
    received = timezone.now() - dt.timedelta(hours=2)
    base = services.ReferralInput(
        received_at=received,
        source=ReferralSource.objects.get(code="school"),
        forms_of_abuse=[AbuseForm.objects.get(code="sexual-assault")],
        is_peer_on_peer=True,
        incident_date=timezone.localtime(received).date() - dt.timedelta(days=1),
        location="school",
        consent_sought=True,
        referrer_name="Rita Referrer",
        referrer_contact="dsl@school.example",
        narrative="What the child said, in their words.",
    )
    return dataclasses.replace(base, **changes)


def child_input(role: str, **changes) -> services.ChildInput:
    base = services.ChildInput(
        role=role,
        first_name="Alex",
        last_name=f"Testperson-{role}",
        date_of_birth=dt.date(timezone.localdate().year - 14, 3, 1),
        gender="female",
    )
    return dataclasses.replace(base, **changes)


def two_children() -> list[services.ChildInput]:
    return [child_input("victim"), child_input("alleged_perpetrator")]
