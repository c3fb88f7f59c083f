"""Demo data for contextual safeguarding: the referrals that make every kind of pattern rule
raise an alert, then the nightly run. Called by ``manage.py seed_demo``; idempotent.

The 2017-2019 historic referrals already hold the school patterns (pupils of one school in
three or more sexual-abuse referrals within a year, and victims and alleged perpetrators at the
same school), and ``devtools.demo.children`` a child named as alleged perpetrator twice. This
adds three current referrals naming one place, written three ways, and two naming the same
group of children. The run then raises the alerts as the nightly run would (the worker raises
them one referral at a time once the demo is used).
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from contexts.services import patterns_check_all
from referrals import services
from referrals.models import AbuseForm, ReferralChild, ReferralDetail, ReferralSource, School

MARK = "DEMO NARRATIVE (synthetic, contextual safeguarding)"
#: The one place, as three referrers wrote it: matched after normalising.
PLACE_NAMES = ("Millbrook Bus Station", "millbrook bus stn", "The Millbrook bus station.")


def _data(*, received: dt.datetime, place: str, form: str, text: str) -> services.ReferralInput:
    return services.ReferralInput(
        received_at=received,
        source=ReferralSource.objects.get(code="school"),
        forms_of_abuse=list(AbuseForm.objects.filter(code=form)),
        is_peer_on_peer=True,
        incident_date=timezone.localdate(received) - dt.timedelta(days=1),
        location="transport" if place else "school",
        consent_sought=True,
        referrer_name="Dee Demoford (demo referrer)",
        referrer_role="Designated safeguarding lead",
        referrer_organisation="Demo organisation",
        referrer_contact="dsl@school.example",
        narrative=f"{MARK}. {text}",
        incident_place=place,
    )


def _child(role: str, n: int, school: School) -> services.ChildInput:
    return services.ChildInput(
        role=role,
        first_name=("Ash", "Billie", "Charlie", "Dani", "Eden", "Frankie", "Gray", "Harper")[n % 8],
        last_name=("Contextby-Demo", "Placeholm", "Groupley-Demo", "Patternson-Demo")[n % 4],
        date_of_birth=timezone.localdate() - dt.timedelta(days=365 * 14 + 40 * n),
        gender=("female", "male")[n % 2],
        school=school,
        year_group="9",
        address=f"{n + 1} Demo Street, Demoton",
        postcode="ZZ9 9DM",
    )


@transaction.atomic
def seed_context_patterns(*, users) -> bool:
    """Load the place and group referrals unless they are there, then run every rule.
    Returns whether the referrals loaded."""
    if ReferralDetail.objects.filter(narrative__startswith=MARK).exists():
        patterns_check_all()  # nothing new: the run raises nothing twice
        return False
    schools = list(School.objects.filter(phase=School.Phase.SECONDARY).order_by("urn")[:2])
    if len(schools) < 2:
        return False
    user = users["practitioner"]
    now = timezone.now()
    for n, place in enumerate(PLACE_NAMES):
        services.referral_create(
            user=user,
            data=_data(
                received=now - dt.timedelta(days=40 - 10 * n, hours=3),
                place=place,
                form="sexual-harassment",
                text="A pupil disclosed unwanted touching by an older pupil while waiting for a bus.",
            ),
            children=[
                _child("victim", 2 * n, schools[0]),
                _child("alleged_perpetrator", 2 * n + 1, schools[1]),
            ],
        )
    first = services.referral_create(
        user=user,
        data=_data(
            received=now - dt.timedelta(days=60, hours=2),
            place="",
            form="initiation-hazing",
            text="Three pupils were named in an initiation at a sports club.",
        ),
        children=[
            _child("victim", 10, schools[0]),
            _child("alleged_perpetrator", 11, schools[0]),
            _child("alleged_perpetrator", 12, schools[0]),
        ],
    )
    group = list(
        ReferralChild.objects.filter(referral=first, role=ReferralChild.Role.ALLEGED_PERPETRATOR).order_by(
            "label"
        )
    )
    services.referral_create(
        user=user,
        data=_data(
            received=now - dt.timedelta(days=20, hours=2),
            place="",
            form="bullying",
            text="The same two pupils were named again, by a different child.",
        ),
        children=[
            _child("victim", 13, schools[1]),
            *(
                services.ChildInput(role="alleged_perpetrator", existing_child_id=link.child_id)
                for link in group
            ),
        ],
    )
    patterns_check_all()
    return True
