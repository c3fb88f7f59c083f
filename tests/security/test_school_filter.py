"""Regression: the work tray's school filter was an oracle for a child's school (issue 12).

A verified user without a grant on a referral got it back when filtering by its children's
school, and not when filtering by another school. The school is exempt, so the filter now
only ever matches referrals whose identities the user may see.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from core import permissions
from core.roles import Role
from referrals.models import Referral
from tests.conftest import sign_in_verified
from tests.factories import ReferralFactory, SchoolFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("endpoint", ["referrals:tray", "referrals:export"])
def test_the_school_filter_does_not_match_a_referral_the_user_cannot_identify(client, role_user, endpoint):
    ig = role_user(Role.INFORMATION_GOVERNANCE, username="ig")
    hidden = ReferralFactory(status=Referral.Status.CLOSED)
    school = hidden.children.get(label="A").child.school
    other = SchoolFactory()
    assert not permissions.has_grant(ig, hidden)
    sign_in_verified(client, ig)
    url = reverse(endpoint)
    by_school = client.get(url, {"view": "all", "school": school.pk}).content.decode()
    by_other = client.get(url, {"view": "all", "school": other.pk}).content.decode()
    assert hidden.reference not in by_school
    assert by_school.replace(str(school.pk), "").count(hidden.reference) == by_other.count(hidden.reference)


def test_the_school_filter_still_finds_referrals_the_user_may_identify(client, role_user):
    ig = role_user(Role.INFORMATION_GOVERNANCE, username="ig")
    manager = role_user(Role.MASH_MANAGER, username="boss")
    granted = ReferralFactory(status=Referral.Status.CLOSED)
    permissions.grant(granted, action=permissions.VIEW_EXEMPT, user=ig, reason="Audit", granted_by=manager)
    hidden = ReferralFactory(status=Referral.Status.CLOSED)
    school = granted.children.get(label="A").child.school
    sign_in_verified(client, ig)
    body = client.get(reverse("referrals:tray"), {"view": "all", "school": school.pk}).content.decode()
    assert granted.reference in body
    assert hidden.reference not in body
    other = client.get(
        reverse("referrals:tray"), {"view": "all", "school": hidden.children.first().child.school.pk}
    ).content.decode()
    assert granted.reference not in other
