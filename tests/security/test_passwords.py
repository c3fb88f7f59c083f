"""Passwords belong to their holders (core.passwords): a new account's holder sets theirs from an
e-mailed link, nobody else ever types one, and a holder changes their own.

Found by attack: an administrator set a new account's password, so could sign in as it and set
up its first factor; and holders could not change their own password, so the administrator's
knowledge of it never ended."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse

from core import services
from core.models import RoleRequest, SecurityEvent
from core.roles import Role
from tests.conftest import sign_in_verified

pytestmark = pytest.mark.django_db

Kind = SecurityEvent.Kind
NEW = "correct horse battery staple 2026"


def _link_in(message) -> str:
    return re.search(r"https?://[^/\s]+(/account/set-password/\S+/)", message.body).group(1)


def test_a_new_account_has_no_password_until_its_holder_sets_one_from_the_link(
    role_user, django_capture_on_commit_callbacks
):
    admin = role_user(Role.ADMINISTRATOR, username="ada", is_staff=True, email="ada@council.example")
    client = sign_in_verified(Client(), admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:auth_user_add"),
            {
                "username": "newstarter",
                "first_name": "New",
                "last_name": "Starter",
                "email": "ns@council.example",
            },
        )
    assert response.status_code == 302
    holder = get_user_model().objects.get(username="newstarter")
    assert not holder.has_usable_password()
    # A second administrator confirms the address; then the link goes to it.
    other = role_user(Role.ADMINISTRATOR, username="cleo", is_staff=True)
    pending = RoleRequest.objects.get(user=holder, status=RoleRequest.Status.PENDING)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.role_request_decide(approver=other, request_id=pending.pk, approve=True)
    [link_mail] = [m for m in mail.outbox if m.to == ["ns@council.example"]]
    assert "An account has been made for you" in link_mail.body
    assert all("/account/set-password/" not in m.body for m in mail.outbox if m.to != ["ns@council.example"])

    # The holder opens the link (signed out), and sets a password.
    anonymous = Client()
    page = anonymous.get(_link_in(link_mail), follow=True)
    assert "Set your password" in page.content.decode()
    form_url = page.redirect_chain[-1][0]
    refused = anonymous.post(form_url, {"new_password1": NEW, "new_password2": "something else entirely"})
    assert refused.status_code == 400
    assert "The two passwords do not match" in refused.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        done = anonymous.post(form_url, {"new_password1": NEW, "new_password2": NEW}, follow=True)
    assert "Your password is set" in done.content.decode()
    holder.refresh_from_db()
    assert holder.check_password(NEW)
    event = SecurityEvent.objects.get(user=holder, kind=Kind.PASSWORD_SET)
    assert event.actor == holder
    # Not signed in by the link: the second factor still follows the password.
    assert "_auth_user_id" not in anonymous.session
    # The link works once.
    again = Client().get(_link_in(link_mail), follow=True)
    assert "This link does not work" in again.content.decode()


def test_a_holder_changes_their_own_password_with_the_current_one(
    role_user, django_capture_on_commit_callbacks
):
    holder = role_user(Role.MASH_PRACTITIONER, username="holder", email="holder@council.example")
    holder.set_password("the-old-password-2026")
    holder.save()
    client = sign_in_verified(Client(), holder)
    url = reverse("core:password_change")
    assert "Change your password" in client.get(reverse("core:sign_in_methods")).content.decode()
    wrong = client.post(url, {"old_password": "not it", "new_password1": NEW, "new_password2": NEW})
    assert wrong.status_code == 400
    assert "Your current password is not right" in wrong.content.decode()
    holder.refresh_from_db()
    assert holder.check_password("the-old-password-2026")
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(
            url,
            {"old_password": "the-old-password-2026", "new_password1": NEW, "new_password2": NEW},
            follow=True,
        )
    assert "Your password is changed" in done.content.decode()
    holder.refresh_from_db()
    assert holder.check_password(NEW)
    assert SecurityEvent.objects.filter(user=holder, kind=Kind.PASSWORD_SET, actor=holder).exists()
    assert ["holder@council.example"] in [m.to for m in mail.outbox]


def test_a_password_change_needs_a_verified_session(role_user):
    holder = role_user(Role.MASH_PRACTITIONER, username="holder")
    client = Client()
    client.force_login(holder)  # the password only: no second factor yet
    response = client.get(reverse("core:password_change"))
    assert response.status_code == 302
    assert "/account/two-factor/" in response["Location"] or "/sign-in/code/" in response["Location"]
