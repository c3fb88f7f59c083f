"""Nobody authorises themselves, not even through an account they made (the sock puppet).

The finding: an administrator made a new account, gave it the Administrator role, signed in as
it and changed their own roles with it, defeating "nobody changes their own roles". Now giving
a role that grants access or opens identities (``core.roles.ROLES_NEEDING_APPROVAL``) is a
request a second administrator approves; the approver is neither the requester nor the account
changed nor any account either of them made or asked a role for; an account cannot change the
roles of the account that made it; and making an account is a security event IG hears of.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from core import services
from core.models import RoleRequest, SecurityEvent
from core.roles import GROUP_NAMES, ROLES_NEEDING_APPROVAL, Role, user_roles
from tests.conftest import sign_in_verified

pytestmark = pytest.mark.django_db

Kind = SecurityEvent.Kind


def _groups(*roles) -> list[int]:
    return list(Group.objects.filter(name__in=[GROUP_NAMES[r] for r in roles]).values_list("pk", flat=True))


def _user_form(user, **extra) -> dict:
    return {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        "last_login_0": "",
        "last_login_1": "",
        "is_active": "on",
    } | extra


def roles_of(user) -> set[str]:
    return set(Group.objects.filter(user=user.pk).values_list("name", flat=True))


def as_client(user) -> Client:
    return sign_in_verified(Client(), user)


def decide(client, role_request, action="approve"):
    return client.post(
        reverse("admin:core_rolerequest_changelist"),
        {"action": action, "_selected_action": [role_request.pk]},
        follow=True,
    )


@pytest.fixture
def ig(role_user):
    return role_user(Role.INFORMATION_GOVERNANCE, username="ig", email="ig@council.example")


@pytest.fixture
def ada(role_user):
    return role_user(Role.ADMINISTRATOR, username="ada", is_staff=True, email="ada@council.example")


@pytest.fixture
def colleague_admin(role_user):
    """Another administrator, made outside ada's chain (by hand, as the demo accounts are)."""
    return role_user(Role.ADMINISTRATOR, username="cleo", is_staff=True, email="cleo@council.example")


def make_account_in_the_admin(client, username: str):
    response = client.post(
        reverse("admin:auth_user_add"),
        {
            "username": username,
            "first_name": "Made",
            "last_name": "Here",
            "email": f"{username}@council.example",
        },
    )
    assert response.status_code == 302, response.content
    return get_user_model().objects.get(username=username)


def test_the_sock_puppet_sequence_fails_end_to_end(
    ada, colleague_admin, ig, django_capture_on_commit_callbacks
):
    ada_client = as_client(ada)

    # 1. Ada makes an account: a security event IG is e-mailed about.
    with django_capture_on_commit_callbacks(execute=True):
        puppet = make_account_in_the_admin(ada_client, "puppet")
    created = SecurityEvent.objects.get(kind=Kind.ACCOUNT_CREATED)
    assert (created.user, created.actor) == (puppet, ada)
    # It has no password, and no link is sent until a second administrator confirms its
    # address: ada alone never chooses where its first password link goes. IG hears of both.
    assert not puppet.has_usable_password()
    assert not SecurityEvent.objects.filter(kind=Kind.PASSWORD_LINK_SENT).exists()
    confirm = RoleRequest.objects.get(user=puppet, status=RoleRequest.Status.PENDING)
    assert confirm.email == puppet.email
    assert sorted(a for m in mail.outbox for a in m.to) == sorted([ig.email, ig.email, puppet.email])
    assert not any("/account/set-password/" in m.body for m in mail.outbox)

    # 2. Ada makes it an Administrator: a request only, the roles do not change.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = ada_client.post(
            reverse("admin:auth_user_change", args=[puppet.pk]),
            _user_form(puppet, is_staff="on", groups=_groups(Role.ADMINISTRATOR)),
            follow=True,
        )
    assert response.status_code == 200
    assert "Another administrator must approve" in response.content.decode()
    assert roles_of(puppet) == set()
    pending = RoleRequest.objects.get(user=puppet, status=RoleRequest.Status.PENDING)
    assert pending.requested_by == ada
    assert pending.roles == [Role.ADMINISTRATOR.value]
    assert pending.email == puppet.email  # the address to confirm is carried into the new request
    assert SecurityEvent.objects.filter(kind=Kind.ROLE_REQUESTED, user=puppet, actor=ada).exists()
    assert ig.email in [address for m in mail.outbox for address in m.to]

    # 3. Neither ada nor the puppet can approve it (the service refuses, the admin says so).
    puppet.groups.add(Group.objects.get(name=GROUP_NAMES[Role.ADMINISTRATOR]))  # even if it were one
    puppet.is_staff = True
    puppet.save(update_fields=["is_staff"])
    for approver in (ada, puppet):
        page = decide(as_client(approver), pending)
        assert "another administrator must decide it" in page.content.decode()
    puppet.groups.clear()
    puppet.is_staff = False
    puppet.save(update_fields=["is_staff"])
    pending.refresh_from_db()
    assert pending.status == RoleRequest.Status.PENDING

    # 4. A second administrator outside the chain approves: that is the second person, named.
    # The confirmed address is sent the link to set a password (by the approver).
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        page = decide(as_client(colleague_admin), pending)
    assert "role change approved" in page.content.decode()
    linked = SecurityEvent.objects.get(kind=Kind.PASSWORD_LINK_SENT)
    assert (linked.user, linked.actor) == (puppet, colleague_admin)
    assert any("/account/set-password/" in m.body for m in mail.outbox if m.to == [puppet.email])
    assert roles_of(puppet) == {"Administrator"}
    approved = SecurityEvent.objects.get(kind=Kind.ROLE_CHANGED, user=puppet)
    assert approved.actor == colleague_admin
    assert "ada" in approved.detail
    assert "cleo" in approved.detail

    # 5. The puppet, now an administrator, cannot change its maker's roles: not at once...
    puppet_client = as_client(puppet)
    with pytest.raises(ValidationError, match="made yours"):
        services.user_roles_change(
            actor=puppet, user=ada, groups=Group.objects.filter(name=GROUP_NAMES[Role.MASH_PRACTITIONER])
        )
    forged = puppet_client.post(
        reverse("admin:auth_user_change", args=[ada.pk]),
        _user_form(ada, is_staff="on", groups=_groups(Role.ADMINISTRATOR, Role.MASH_MANAGER)),
    )
    assert forged.status_code == 403
    assert roles_of(ada) == {"Administrator"}
    assert not RoleRequest.objects.filter(user=ada).exists()


def test_a_second_puppet_cannot_approve_for_the_first(ada, colleague_admin, role_user):
    """Ada makes two accounts and gets both made administrators (cleo approving, unaware); the
    first asks for a role for ada, the second approves: refused, both are ada's."""
    first = role_user(Role.ADMINISTRATOR, username="first", is_staff=True)
    second = role_user(Role.ADMINISTRATOR, username="second", is_staff=True)
    for made in (first, second):
        services.user_account_created(actor=ada, user=made)
    # A third party asks for a role for ada; a puppet of ada's may not approve it either.
    third = role_user(Role.ADMINISTRATOR, username="third", is_staff=True)
    asked = services.user_roles_change(
        actor=third, user=ada, groups=Group.objects.filter(name__in=["Administrator", "MASH manager"])
    )
    assert asked.request is not None
    for puppet in (first, second):
        with pytest.raises(PermissionDenied, match="outside that chain"):
            services.role_request_decide(approver=puppet, request_id=asked.request.pk, approve=True)
    services.role_request_decide(approver=colleague_admin, request_id=asked.request.pk, approve=True)
    assert roles_of(ada) == {"Administrator", "MASH manager"}


def test_the_chain_runs_down_through_accounts_given_roles(ada, colleague_admin, role_user):
    """An account ada asked a role for, and an account that account made, are both hers."""
    helper = role_user(Role.REVIEWER, username="helper")
    grandchild = role_user(Role.ADMINISTRATOR, username="grandchild", is_staff=True)
    services.user_roles_change(
        actor=ada, user=helper, groups=Group.objects.filter(name=GROUP_NAMES[Role.ADMINISTRATOR])
    )
    services.user_account_created(actor=helper, user=grandchild)
    assert services.accounts_sponsored_by([ada.pk]) == {helper.pk, grandchild.pk}
    request = services.user_roles_change(
        actor=colleague_admin,
        user=ada,
        groups=Group.objects.filter(name__in=["Administrator", "MASH manager"]),
    ).request
    with pytest.raises(PermissionDenied):
        services.role_request_decide(approver=grandchild, request_id=request.pk, approve=True)


@pytest.mark.parametrize("role", sorted(ROLES_NEEDING_APPROVAL))
def test_every_role_that_grants_access_or_opens_identities_waits_for_a_second_administrator(
    ada, colleague_admin, role_user, role
):
    target = role_user(Role.REVIEWER, username="target")
    outcome = services.user_roles_change(
        actor=ada, user=target, groups=Group.objects.filter(name=GROUP_NAMES[role])
    )
    assert not outcome.changed
    assert user_roles(get_user_model().objects.get(pk=target.pk)) == {Role.REVIEWER}
    services.role_request_decide(approver=colleague_admin, request_id=outcome.request.pk, approve=True)
    assert user_roles(get_user_model().objects.get(pk=target.pk)) == {role}


def test_roles_that_need_a_grant_from_someone_else_change_at_once(ada, role_user):
    target = role_user(Role.REVIEWER, username="target")
    outcome = services.user_roles_change(
        actor=ada, user=target, groups=Group.objects.filter(name=GROUP_NAMES[Role.REPORT_OFFICER])
    )
    assert outcome.changed
    assert outcome.request is None
    assert roles_of(target) == {"Report officer"}


def test_a_refused_request_changes_nothing_and_is_recorded(ada, colleague_admin, role_user):
    target = role_user(Role.REVIEWER, username="target")
    pending = services.user_roles_change(
        actor=ada, user=target, groups=Group.objects.filter(name=GROUP_NAMES[Role.MASH_MANAGER])
    ).request
    services.role_request_decide(approver=colleague_admin, request_id=pending.pk, approve=False)
    assert roles_of(target) == {"Reviewer"}
    assert SecurityEvent.objects.get(kind=Kind.ROLE_REFUSED).actor == colleague_admin
    with pytest.raises(ValidationError, match="already been decided"):
        services.role_request_decide(approver=colleague_admin, request_id=pending.pk, approve=True)


def test_only_an_administrator_approves(ada, role_user, ig):
    target = role_user(Role.REVIEWER, username="target")
    pending = services.user_roles_change(
        actor=ada, user=target, groups=Group.objects.filter(name=GROUP_NAMES[Role.MASH_MANAGER])
    ).request
    with pytest.raises(PermissionDenied, match="Only another administrator"):
        services.role_request_decide(approver=ig, request_id=pending.pk, approve=True)


def test_the_database_refuses_a_request_for_oneself_or_a_decision_by_the_requester_or_the_account(
    ada, colleague_admin
):
    with transaction.atomic(), pytest.raises(IntegrityError):
        RoleRequest.objects.create(user=ada, roles=["mash_manager"], requested_by=ada)
    for decider in (ada, colleague_admin):
        with transaction.atomic(), pytest.raises(IntegrityError):
            RoleRequest.objects.create(
                user=colleague_admin, roles=["mash_manager"], requested_by=ada, decided_by=decider
            )


# --- An administrator changes someone's e-mail address -------------------------------------------


def test_an_e_mail_change_waits_for_a_second_administrator_then_tells_the_old_address_and_the_new_and_ig(
    ada, colleague_admin, ig, role_user, django_capture_on_commit_callbacks
):
    """The findings: changing the address silently redirected the holder's security e-mails;
    then, by attack, one administrator changed a practitioner's address to their own, sent it a
    password link and so took the account. Now the change waits for a second administrator, and
    once approved both addresses and information governance are told."""
    holder = role_user(Role.REVIEWER, username="holder", email="holder@council.example")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = as_client(ada).post(
            reverse("admin:auth_user_change", args=[holder.pk]),
            _user_form(holder, email="attacker@elsewhere.example", groups=_groups(Role.REVIEWER)),
        )
    assert response.status_code == 302
    holder.refresh_from_db()
    assert holder.email == "holder@council.example"
    pending = RoleRequest.objects.get(user=holder, status=RoleRequest.Status.PENDING)
    assert pending.email == "attacker@elsewhere.example"
    assert not SecurityEvent.objects.filter(kind=Kind.EMAIL_CHANGED).exists()
    with pytest.raises(PermissionDenied):
        services.role_request_decide(approver=ada, request_id=pending.pk, approve=True)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.role_request_decide(approver=colleague_admin, request_id=pending.pk, approve=True)
    event = SecurityEvent.objects.get(kind=Kind.EMAIL_CHANGED)
    assert (event.user, event.actor, event.previous_email) == (
        holder,
        colleague_admin,
        "holder@council.example",
    )
    recipients = sorted(address for m in mail.outbox for address in m.to)
    assert recipients == sorted(["holder@council.example", "attacker@elsewhere.example", ig.email])
    to_old = next(m for m in mail.outbox if m.to == ["holder@council.example"])
    assert "e-mail address changed" in to_old.subject
    assert "If this was not you" in to_old.body
    assert "attacker@elsewhere.example" not in to_old.body  # no address is handed to the other
    assert not SecurityEvent.objects.filter(kind=Kind.ACCOUNT_CHANGED).exists()  # one event, not two


def test_an_unchanged_address_writes_no_event(ada, role_user):
    holder = role_user(Role.REVIEWER, username="holder", email="holder@council.example")
    assert (
        services.user_email_changed(actor=ada, user=holder, previous_email="Holder@Council.example") is None
    )
    assert not SecurityEvent.objects.filter(kind=Kind.EMAIL_CHANGED).exists()
