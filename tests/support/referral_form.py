"""The referral form: a valid POST and its form ids."""

import datetime as dt

import pytest
from django.utils import timezone


def date_parts(prefix: str, day: dt.date) -> dict[str, str]:
    return {f"{prefix}_0": str(day.day), f"{prefix}_1": str(day.month), f"{prefix}_2": str(day.year)}


def create_payload(school=None, children=2, **overrides) -> dict[str, str]:
    today = timezone.localdate()
    received = today - dt.timedelta(days=1)
    data = {
        **date_parts("received_date", received),
        "received_time": "14:30",
        "source": "1",
        "forms_of_abuse": ["6"],
        "is_peer_on_peer": "True",
        **date_parts("incident_date", received - dt.timedelta(days=1)),
        "location": "school",
        "consent_sought": "True",
        "referrer_name": "Rita Referrer",
        "referrer_role": "DSL",
        "referrer_organisation": "Test School",
        "referrer_contact": "rita@school.example",
        "narrative": "The child said what happened.",
        "child-TOTAL_FORMS": str(children),
        "child-INITIAL_FORMS": "0",
        "child-MIN_NUM_FORMS": "1",
        "child-MAX_NUM_FORMS": "12",
        "save": "1",
    }
    roles = ["victim", "alleged_perpetrator", "other"]
    for index in range(children):
        data.update(
            {
                f"child-{index}-role": roles[min(index, 2)],
                f"child-{index}-first_name": f"Firstname{index}",
                f"child-{index}-last_name": f"Lastname{index}",
                **date_parts(f"child-{index}-date_of_birth", dt.date(today.year - 13, 5, 4)),
                f"child-{index}-gender": "male",
                f"child-{index}-school": str(school.pk) if school else "",
                f"child-{index}-year_group": "8",
            }
        )
    data.update(overrides)
    return data


@pytest.fixture
def source_and_form_ids():
    from referrals.models import AbuseForm, ReferralSource

    return ReferralSource.objects.get(code="school").pk, AbuseForm.objects.get(code="sexual-assault").pk


def payload(ids, **kwargs):
    source, form = ids
    data = create_payload(**kwargs)
    data["source"] = str(source)
    data["forms_of_abuse"] = [str(form)]
    return data
