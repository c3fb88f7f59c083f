"""History change reasons fit simple-history's varchar(100) column (PostgreSQL enforces it)."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from core import permissions
from core.history import MAX_LENGTH, change_reason
from core.roles import Role
from referrals import services
from referrals.models import ReferralUserGrant
from tests.factories import ReferralFactory

pytestmark = pytest.mark.django_db

LONG_REASON = "The child's social worker is off sick and the strategy meeting is this afternoon. " * 4


def test_a_long_reason_is_cut_to_the_column():
    assert len(change_reason(LONG_REASON)) == MAX_LENGTH
    assert change_reason("Short") == "Short"


def test_grants_and_break_glass_take_a_sentence_long_reason(role_user):
    manager = role_user(Role.MASH_MANAGER, username="long-reason-manager")
    reader = role_user(Role.MASH_PRACTITIONER, username="long-reason-reader")
    referral = ReferralFactory(status="closed")
    services.referral_grant(
        granted_by=manager,
        referral_id=referral.pk,
        user=reader,
        actions=[permissions.VIEW_EXEMPT],
        reason=LONG_REASON,
    )
    grant = ReferralUserGrant.objects.get(user=reader, content_object=referral)
    assert grant.reason == LONG_REASON.strip()  # the grant keeps the whole reason
    assert len(grant.history.latest().history_change_reason) <= MAX_LENGTH
    services.referral_revoke_grant(
        revoked_by=manager, referral_id=referral.pk, grant_id=grant.pk, holder_kind="user", reason=LONG_REASON
    )
    entry = services.referral_break_glass(
        request=RequestFactory().get("/"), user=manager, referral_id=referral.pk, reason=LONG_REASON
    )
    assert entry.reason == LONG_REASON.strip()
