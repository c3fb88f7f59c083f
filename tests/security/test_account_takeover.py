"""No one administrator can sign in as someone else, nor silence information governance.

Found by attack: an administrator set another person's password in the admin, reset their
second factor at /two-factor-reset/, then signed in as them and set up a new authenticator:
identities opened with no second person involved (and the same route took over a second
administrator, whose approval then defeated the role-request rule). And removing the
information governance role from its holders silenced every security e-mail.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from zeal import zeal_ignore

from core import services, two_factor
from core.models import RoleRequest
from core.roles import GROUP_NAMES, Role
from core.security_events import information_governance_emails
from tests.conftest import sign_in_verified

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Attacker-pass-2026!x"


def _set_password(client, user):
    return client.post(
        reverse("admin:auth_user_password_change", args=[user.pk]),
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )


def _reset(client, user):
    return client.post(
        reverse("core:two_factor_reset"), {"username": user.username, "how_confirmed": "in person"}
    )


def test_one_administrator_cannot_set_a_password_and_reset_the_second_factor(role_user):
    admin = role_user(Role.ADMINISTRATOR, username="admin1", is_staff=True)
    other_admin = role_user(Role.ADMINISTRATOR, username="admin2", is_staff=True)
    holder = role_user(Role.MASH_PRACTITIONER, username="holder")
    sign_in_verified(Client(), holder)  # the holder's own authenticator
    client = sign_in_verified(Client(), admin)

    assert _set_password(client, holder).status_code == 302
    holder.refresh_from_db()
    assert holder.check_password(NEW_PASSWORD)
    with pytest.raises(two_factor.TwoFactorRefused, match="another administrator must reset"):
        two_factor.reset_second_factor(actor=admin, user=holder, how_confirmed="in person")
    # The page says so too, and nothing is removed.
    page = _reset(client, holder)
    assert page.status_code == 400
    assert "another administrator must reset" in page.content.decode()
    assert TOTPDevice.objects.filter(user=holder, confirmed=True).exists()
    # A second administrator may: two people have acted.
    with zeal_ignore():  # two actors' roles read in one test, not a page's N+1
        two_factor.reset_second_factor(actor=other_admin, user=holder, how_confirmed="in person")
    assert not TOTPDevice.objects.filter(user=holder).exists()


def test_one_administrator_cannot_reset_the_second_factor_and_then_set_the_password(role_user):
    admin = role_user(Role.ADMINISTRATOR, username="admin1", is_staff=True)
    holder = role_user(Role.MASH_PRACTITIONER, username="holder")
    two_factor.reset_second_factor(actor=admin, user=holder, how_confirmed="in person")
    client = sign_in_verified(Client(), admin)
    assert _set_password(client, holder).status_code == 403
    holder.refresh_from_db()
    assert not holder.check_password(NEW_PASSWORD)


def test_the_administrator_who_made_the_account_never_resets_its_second_factor(role_user, time_machine):
    """Found by re-attack: the creator knows the first password, which the holder cannot change
    here, and a 30-day window on password sets ran out while the password stayed the same."""
    admin = role_user(Role.ADMINISTRATOR, username="admin1")
    holder = role_user(Role.MASH_PRACTITIONER, username="holder")
    services.user_account_created(actor=admin, user=holder)
    time_machine.move_to(dt.datetime.now(dt.UTC) + dt.timedelta(days=400))
    assert two_factor.recovery_refusal(actor=admin, user=holder, action="reset")
    other = role_user(Role.ADMINISTRATOR, username="admin2")
    assert two_factor.recovery_refusal(actor=other, user=holder, action="reset") is None


def test_a_later_password_set_by_someone_else_frees_the_creator(role_user):
    admin = role_user(Role.ADMINISTRATOR, username="admin1")
    other = role_user(Role.ADMINISTRATOR, username="admin2")
    holder = role_user(Role.MASH_PRACTITIONER, username="holder")
    services.user_account_changed(actor=admin, user=holder, fields=["password"])
    assert two_factor.recovery_refusal(actor=admin, user=holder, action="reset")
    services.user_account_changed(actor=other, user=holder, fields=["password"])
    assert two_factor.recovery_refusal(actor=admin, user=holder, action="reset") is None
    assert two_factor.recovery_refusal(actor=other, user=holder, action="reset")


def test_removing_information_governance_waits_for_a_second_administrator(role_user):
    admin = role_user(Role.ADMINISTRATOR, username="admin1", is_staff=True)
    ig = role_user(Role.INFORMATION_GOVERNANCE, username="ig")
    outcome = services.user_roles_change(actor=admin, user=ig, groups=[])
    assert not outcome.changed
    assert Group.objects.filter(user=ig, name=GROUP_NAMES[Role.INFORMATION_GOVERNANCE]).exists()
    assert RoleRequest.objects.get(user=ig, status=RoleRequest.Status.PENDING).roles == []


def test_information_governance_is_told_through_its_mailbox_even_with_no_holders(settings):
    settings.SECURITY_ALERTS_EMAIL = "ig-team@council.example"
    assert information_governance_emails() == ["ig-team@council.example"]


def test_a_review_cannot_open_identities_for_more_than_a_year(role_user):
    from reviews import services as reviews

    lead = role_user(Role.LEAD_REVIEWER, username="lead")
    with pytest.raises(ValidationError) as refused:
        reviews.review_create(
            user=lead,
            title="A review",
            terms_of_reference="Terms",
            lead_reviewer=lead,
            reviewers=[],
            periods=[],
            moderation_share=10,
            grants_end_on=timezone.localdate() + dt.timedelta(days=reviews.REVIEW_GRANT_MAX_DAYS + 1),
        )
    assert "at most 365 days" in str(refused.value)


def test_a_change_made_at_once_withdraws_a_request_still_waiting(role_user):
    """Found by attack: a pending request stayed open after a later change, and approving it
    would have replaced the roles given since."""
    admin = role_user(Role.ADMINISTRATOR, username="admin1")
    user = role_user(Role.REVIEWER, username="someone")
    pending = services.user_roles_change(
        actor=admin, user=user, groups=Group.objects.filter(name=GROUP_NAMES[Role.MASH_MANAGER])
    ).request
    assert pending is not None
    with zeal_ignore():
        services.user_roles_change(
            actor=admin, user=user, groups=Group.objects.filter(name=GROUP_NAMES[Role.REPORT_OFFICER])
        )
    pending.refresh_from_db()
    assert pending.status == RoleRequest.Status.WITHDRAWN
