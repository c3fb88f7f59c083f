"""The access log's "fields" column names the exempt fields a page or export showed, not the
whole boundary (core.exempt)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from core.exempt import exempt_field_names
from core.models import AccessLogEntry
from referrals.models import CaseNote
from tests.conftest import sign_in_verified
from tests.factories import ReferralFactory

pytestmark = pytest.mark.django_db


def test_the_referral_page_logs_the_fields_it_shows(client, practitioner):
    # The factory's referral: two children (names, dates of birth, schools), a referrer's name
    # and a narrative; no contact, no decision, no note, no address shown on the page.
    referral = ReferralFactory(created_by=practitioner)
    sign_in_verified(client, practitioner)
    assert client.get(reverse("referrals:detail", args=[referral.pk])).status_code == 200
    entry = AccessLogEntry.objects.get()
    assert entry.fields == [
        "Child.date_of_birth",
        "Child.first_name",
        "Child.last_name",
        "Child.school",
        "ReferralDetail.narrative",
        "ReferralDetail.referrer_name",
    ]
    assert len(entry.fields) < len(exempt_field_names())

    # A note written since: the next read names it too.
    CaseNote.objects.create(
        referral=referral,
        text="Spoke to the school",
        occurred_on=timezone.localdate(),
        recorded_by=practitioner,
    )
    client.get(reverse("referrals:detail", args=[referral.pk]))
    assert "CaseNote.text" in AccessLogEntry.objects.latest("id").fields


def test_the_export_logs_its_exempt_columns(client, practitioner):
    referral = ReferralFactory(created_by=practitioner)
    sign_in_verified(client, practitioner)
    response = client.get(reverse("referrals:export"))
    assert response.status_code == 200
    entry = AccessLogEntry.objects.get(record_id=referral.pk)
    assert entry.channel == AccessLogEntry.Channel.EXPORT
    assert entry.fields == [
        "Child.date_of_birth",
        "Child.first_name",
        "Child.last_name",
        "Child.school",
        "ReferralDetail.narrative",
        "ReferralDetail.referrer_name",
        "ReferralDetail.referrer_organisation",
        "ReferralDetail.referrer_role",
    ]
