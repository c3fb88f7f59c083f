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
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from zeal import zeal_ignore

from core import passwords, services, two_factor
from core.models import RoleRequest, SecurityEvent
from core.roles import GROUP_NAMES, Role
from core.security_events import information_governance_emails
from tests.conftest import require_service, sign_in_verified

pytestmark = pytest.mark.django_db


def _send_link(client, user):
    """The admin's action: a link to set a new password, e-mailed to the holder's own address."""
    return client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "send_password_link", "_selected_action": [user.pk]},
        follow=True,
    )


def _reset(client, user):
    return client.post(
        reverse("core:two_factor_reset"), {"username": user.username, "how_confirmed": "in person"}
    )


def test_no_administrator_can_set_or_see_a_password(role_user):
    """Found by attack: the admin's "set password" page let an administrator choose anyone's
    password. It is gone: they send the holder a link to set their own."""
    admin = role_user(Role.ADMINISTRATOR, username="admin1", is_staff=True)
    holder = role_user(Role.MASH_PRACTITIONER, username="holder")
    client = sign_in_verified(Client(), admin)
    before = holder.password
    url = reverse("admin:auth_user_password_change", args=[holder.pk])
    for response in (
        client.get(url),
        client.post(url, {"password1": "Attacker-pass-2026!x", "password2": "Attacker-pass-2026!x"}),
    ):
        assert response.status_code == 403
    holder.refresh_from_db()
    assert holder.password == before
    change = client.get(reverse("admin:auth_user_change", args=[holder.pk])).content.decode()
    assert "password/" not in change  # no link to a password page, and no hash shown
    assert before.split("$")[-1] not in change


def test_one_administrator_cannot_send_a_password_link_and_reset_the_second_factor(role_user):
    admin = role_user(Role.ADMINISTRATOR, username="admin1", is_staff=True)
    other_admin = role_user(Role.ADMINISTRATOR, username="admin2", is_staff=True)
    holder = role_user(Role.MASH_PRACTITIONER, username="holder")
    sign_in_verified(Client(), holder)  # the holder's own authenticator
    client = sign_in_verified(Client(), admin)

    assert "on its way to their own e-mail address" in _send_link(client, holder).content.decode()
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


def test_one_administrator_cannot_reset_the_second_factor_and_then_send_a_password_link(role_user):
    admin = role_user(Role.ADMINISTRATOR, username="admin1", is_staff=True)
    holder = role_user(Role.MASH_PRACTITIONER, username="holder")
    two_factor.reset_second_factor(actor=admin, user=holder, how_confirmed="in person")
    client = sign_in_verified(Client(), admin)
    body = _send_link(client, holder).content.decode()
    assert "another administrator must send it a password link" in body
    assert not SecurityEvent.objects.filter(user=holder, kind=SecurityEvent.Kind.PASSWORD_LINK_SENT).exists()


def test_the_maker_of_an_account_never_resets_its_second_factor_before_its_holder_sets_a_password(
    role_user, time_machine
):
    """Found by re-attack: a 30-day window ran out while the creator's knowledge lasted. Now
    the bar lasts until the holder sets their own password, however long that takes."""
    admin = role_user(Role.ADMINISTRATOR, username="admin1")
    holder = role_user(Role.MASH_PRACTITIONER, username="holder")
    services.user_account_created(actor=admin, user=holder)
    time_machine.move_to(dt.datetime.now(dt.UTC) + dt.timedelta(days=400))
    assert two_factor.recovery_refusal(actor=admin, user=holder, action="reset")
    other = role_user(Role.ADMINISTRATOR, username="admin2")
    assert two_factor.recovery_refusal(actor=other, user=holder, action="reset") is None


def test_the_holder_setting_their_own_password_frees_the_administrator_who_sent_the_link(role_user):
    admin = role_user(Role.ADMINISTRATOR, username="admin1")
    holder = role_user(Role.MASH_PRACTITIONER, username="holder", email="holder@council.example")
    passwords.password_link_send(actor=admin, user=holder)
    assert two_factor.recovery_refusal(actor=admin, user=holder, action="reset")
    passwords.password_set_by_holder(user=holder, how="Set through the e-mailed link")
    assert two_factor.recovery_refusal(actor=admin, user=holder, action="reset") is None
    # Changing the address the links go to counts as the same half of the sign-in.
    services.user_email_changed(actor=admin, user=holder, previous_email="old@council.example")
    assert two_factor.recovery_refusal(actor=admin, user=holder, action="reset")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_password_link_and_a_reset_by_one_administrator_at_once_cannot_both_pass(role_user):
    """Both checks take the account's lock before they read each other's events: the second of
    two simultaneous requests waits for the first, then sees its event and is refused."""
    import threading

    from django.db import connection, transaction

    require_service(
        connection.vendor == "postgresql",
        "needs PostgreSQL's row locks: set DATABASE_URL=postgres://... (SQLite serialises writes)",
    )
    admin = role_user(Role.ADMINISTRATOR, username="admin1")
    holder = role_user(Role.MASH_PRACTITIONER, username="holder", email="holder@council.example")
    results: dict[str, object] = {}
    inside = threading.Event()

    def link():
        try:
            with transaction.atomic():
                passwords.password_link_send(actor=admin, user=holder)
                inside.set()
                threading.Event().wait(1.0)  # hold the lock while the reset arrives
            results["link"] = "sent"
        finally:
            inside.set()
            connection.close()

    def reset():
        inside.wait(5)
        try:
            two_factor.reset_second_factor(actor=admin, user=holder, how_confirmed="in person")
            results["reset"] = "done"
        except two_factor.TwoFactorRefused as refused:
            results["reset"] = str(refused)
        finally:
            connection.close()

    threads = [threading.Thread(target=link), threading.Thread(target=reset)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(15)
    assert results["link"] == "sent"
    assert "another administrator must reset" in results["reset"]


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
        **({"is_staff": "on"} if user.is_staff else {}),
        "groups": list(user.groups.values_list("pk", flat=True)),
    } | extra


@pytest.mark.parametrize("role", [Role.INFORMATION_GOVERNANCE, Role.ADMINISTRATOR])
def test_an_oversight_holders_address_and_deactivation_wait_for_a_second_administrator(
    role_user, role, django_capture_on_commit_callbacks
):
    """Found by attack: one administrator could deactivate information governance's officers, or
    send their security e-mails elsewhere, at once. Both now wait for a second administrator;
    an ordinary account's address still changes at once (its old address is told)."""
    from django.core import mail

    admin = role_user(Role.ADMINISTRATOR, username="admin1", is_staff=True)
    other = role_user(Role.ADMINISTRATOR, username="admin2", is_staff=True)
    holder = role_user(role, username="holder", email="holder@council.example", is_staff=True)
    client = sign_in_verified(Client(), admin)
    url = reverse("admin:auth_user_change", args=[holder.pk])
    form = _user_form(holder, email="elsewhere@attacker.example")
    del form["is_active"]  # unticked: deactivate
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(url, form, follow=True)
    assert "Another administrator must approve" in page.content.decode()
    holder.refresh_from_db()
    assert (holder.email, holder.is_active) == ("holder@council.example", True)
    pending = RoleRequest.objects.get(user=holder, status=RoleRequest.Status.PENDING)
    assert (pending.email, pending.deactivate, pending.requested_by) == (
        "elsewhere@attacker.example",
        True,
        admin,
    )
    assert "elsewhere@attacker.example" not in [a for m in mail.outbox for a in m.to]
    # The requester cannot approve it; a second administrator can, and is named.
    with pytest.raises(PermissionDenied):
        services.role_request_decide(approver=admin, request_id=pending.pk, approve=True)
    services.role_request_decide(approver=other, request_id=pending.pk, approve=True)
    holder.refresh_from_db()
    assert (holder.email, holder.is_active) == ("elsewhere@attacker.example", False)
    changed = SecurityEvent.objects.get(user=holder, kind=SecurityEvent.Kind.EMAIL_CHANGED)
    assert (changed.actor, changed.previous_email) == (other, "holder@council.example")
    deactivated = SecurityEvent.objects.get(user=holder, kind=SecurityEvent.Kind.ACCOUNT_CHANGED)
    assert deactivated.actor == other
    assert "admin1" in deactivated.detail
    assert "admin2" in deactivated.detail


@pytest.mark.parametrize("holder_has_factor", [True, False])
def test_one_administrator_cannot_redirect_an_accounts_address_to_take_it(role_user, holder_has_factor):
    """Found by attack: one administrator changed a practitioner's address to their own, sent it
    a password link, set the password, reset the second factor (or, for an account with none
    yet, simply set one up) and signed in as them. The address now waits for a second
    administrator, so the link still goes to the holder."""
    admin = role_user(Role.ADMINISTRATOR, username="evil", is_staff=True)
    holder = role_user(Role.MASH_PRACTITIONER, username="victim", email="victim@council.example")
    if holder_has_factor:
        sign_in_verified(Client(), holder)
    client = sign_in_verified(Client(), admin)
    client.post(
        reverse("admin:auth_user_change", args=[holder.pk]),
        _user_form(holder, email="evil@attacker.example"),
    )
    holder.refresh_from_db()
    assert holder.email == "victim@council.example"
    assert RoleRequest.objects.get(user=holder, status=RoleRequest.Status.PENDING).email == (
        "evil@attacker.example"
    )
    from django.core import mail

    mail.outbox.clear()
    passwords.password_link_send(actor=admin, user=holder)
    assert passwords.password_link_url(holder)  # the link exists, but only for the holder's inbox
    assert "evil@attacker.example" not in [a for m in mail.outbox for a in m.to]


def test_access_to_the_admin_follows_the_administrator_role_and_is_never_unticked_by_hand(role_user):
    """Found by attack: unticking another administrator's staff status took their admin away at
    once, which removing their role waits for a second administrator to do."""
    admin = role_user(Role.ADMINISTRATOR, username="admin1", is_staff=True)
    other = role_user(Role.ADMINISTRATOR, username="admin2", is_staff=True)
    client = sign_in_verified(Client(), admin)
    form = _user_form(other)
    form.pop("is_staff")
    client.post(reverse("admin:auth_user_change", args=[other.pk]), form)
    other.refresh_from_db()
    assert other.is_staff
    # Giving or removing the role sets it.
    reviewer = role_user(Role.REVIEWER, username="rev")
    with zeal_ignore():
        services.user_roles_change(
            actor=admin, user=reviewer, groups=Group.objects.filter(name=GROUP_NAMES[Role.ADMINISTRATOR])
        )
    request = RoleRequest.objects.get(user=reviewer, status=RoleRequest.Status.PENDING)
    services.role_request_decide(approver=other, request_id=request.pk, approve=True)
    reviewer.refresh_from_db()
    assert reviewer.is_staff


def test_a_new_account_needs_a_second_administrator_to_confirm_its_address_before_any_link(
    role_user, django_capture_on_commit_callbacks
):
    from django.contrib.auth import get_user_model
    from django.core import mail

    admin = role_user(Role.ADMINISTRATOR, username="admin1", is_staff=True)
    other = role_user(Role.ADMINISTRATOR, username="admin2", is_staff=True)
    client = sign_in_verified(Client(), admin)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:auth_user_add"),
            {"username": "newstarter", "first_name": "N", "last_name": "S", "email": "ns@council.example"},
        )
    made = get_user_model().objects.get(username="newstarter")
    assert not any("/account/set-password/" in m.body for m in mail.outbox)
    # Another account of the same name in another case is refused.
    again = client.post(
        reverse("admin:auth_user_add"),
        {"username": "NewStarter", "first_name": "N", "last_name": "S", "email": "x@council.example"},
    )
    assert again.status_code == 200
    assert "already exists" in again.content.decode()
    pending = RoleRequest.objects.get(user=made, status=RoleRequest.Status.PENDING)
    with pytest.raises(PermissionDenied):
        services.role_request_decide(approver=admin, request_id=pending.pk, approve=True)
    with django_capture_on_commit_callbacks(execute=True):
        services.role_request_decide(approver=other, request_id=pending.pk, approve=True)
    assert [m.to for m in mail.outbox if "/account/set-password/" in m.body] == [["ns@council.example"]]


def test_a_link_stops_working_when_the_account_is_deactivated(role_user):
    holder = role_user(Role.MASH_PRACTITIONER, username="holder", email="holder@council.example")
    link = passwords.password_link_url(holder).split("://", 1)[1].split("/", 1)[1]
    holder.is_active = False
    holder.save()
    page = Client().get(f"/{link}", follow=True)
    assert "This link does not work" in page.content.decode()


def test_the_admins_own_change_password_page_is_the_services(role_user):
    admin = role_user(Role.ADMINISTRATOR, username="admin1", is_staff=True)
    client = sign_in_verified(Client(), admin)
    response = client.get(reverse("admin:password_change"))
    assert response.status_code == 302
    assert response["Location"] == reverse("core:password_change")
    missing = client.get(reverse("admin:auth_user_password_change", args=[999999]))
    assert missing.status_code == 404
