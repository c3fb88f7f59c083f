"""The records pages use the same number of queries with 3 records and with 30."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.roles import Role
from records.models import DisposalCandidate, LegalHold, SubjectAccessRequest
from tests.conftest import sign_in_verified
from tests.factories import ReferralFactory
from tests.nplusone import set_up

pytestmark = pytest.mark.django_db

SMALL, LARGE = 3, 30


@set_up
def grow(to: int, officer) -> None:
    now = timezone.now()
    while DisposalCandidate.objects.count() < to:
        referral = ReferralFactory(status="closed", restricted_at=now)
        DisposalCandidate.objects.create(
            record_type="referral",
            record_id=referral.pk,
            reference=referral.reference,
            rule="referral:*",
            rule_description="Test",
            rule_source="Test",
            trigger_date=now.date(),
            due_on=now.date(),
            listed_at=now,
        )
        hold = LegalHold.objects.create(name="Hold", reason="Test", placed_by=officer, placed_at=now)
        hold.referrals.add(referral)
        SubjectAccessRequest.objects.create(
            subject_label=f"{referral.reference}, Child A",
            requester_name="Requester",
            relation=SubjectAccessRequest.Relation.CHILD,
            identity_verified="Seen",
            received_on=now.date(),
            due_on=now.date(),
            logged_by=officer,
            logged_at=now,
        )


def count(client, url: str) -> int:
    client.get(url)  # warm-up
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("name", ["records:home", "records:disposal_review", "records:sars"])
def test_records_lists_use_the_same_queries_at_3_and_30(role_user, name):
    officer = role_user(Role.INFORMATION_GOVERNANCE, username="counting-officer")
    client = sign_in_verified(Client(), officer)
    url = reverse(name)
    grow(SMALL, officer)
    small = count(client, url)
    grow(LARGE, officer)
    assert count(client, url) == small
