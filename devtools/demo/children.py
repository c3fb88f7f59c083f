"""Demo data for the child record: a child named as alleged perpetrator in a second, current
referral, so the child record (``referrals:child``) has a history to show. Called by
``manage.py seed_demo``; idempotent (does nothing once the second referral exists).
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from referrals import services
from referrals.models import AbuseForm, Referral, ReferralChild, ReferralDetail, ReferralSource

MARK = "DEMO NARRATIVE (synthetic, second referral)"


@transaction.atomic
def seed_second_referral(*, users) -> bool:
    """Load the second referral unless it is there. Returns whether it loaded."""
    if ReferralDetail.objects.filter(narrative__startswith=MARK).exists():
        return False
    earlier = (
        ReferralChild.objects.filter(
            role=ReferralChild.Role.ALLEGED_PERPETRATOR, referral__status=Referral.Status.DECIDED
        )
        .select_related("child__school", "referral")
        .order_by("-referral__received_at")
        .first()
    )
    if earlier is None:
        return False
    child = earlier.child
    received = timezone.now() - dt.timedelta(hours=5)
    data = services.ReferralInput(
        received_at=received,
        source=ReferralSource.objects.get(code="school"),
        forms_of_abuse=list(AbuseForm.objects.filter(code="sexual-harassment")),
        is_peer_on_peer=True,
        incident_date=timezone.localdate(received) - dt.timedelta(days=1),
        location="school",
        consent_sought=True,
        consent_not_sought_reason="",
        referrer_name="Dee Demoford (demo referrer)",
        referrer_role="Designated safeguarding lead",
        referrer_organisation="Demo organisation",
        referrer_contact="dsl@school.example",
        narrative=(
            f"{MARK}. A second pupil disclosed sexual comments and messages from Child B, who was "
            f"named in {earlier.referral.reference} earlier this term."
        ),
    )
    services.referral_create(
        user=users["practitioner"],
        data=data,
        children=[
            services.ChildInput(
                role="victim",
                first_name="Robin",
                last_name="Demoshire",
                date_of_birth=child.date_of_birth - dt.timedelta(days=200),
                gender="female",
                school=child.school,
                year_group=child.year_group,
                address="7 Demo Street, Demoton",
                postcode="ZZ7 1DM",
            ),
            services.ChildInput(role="alleged_perpetrator", existing_child_id=child.pk),
        ],
    )
    return True
