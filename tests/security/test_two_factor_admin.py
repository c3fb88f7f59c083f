"""No page shows a second-factor secret after enrolment (the admin included), and an
administrator's reset of someone else's second factor (never their own) is recorded and told."""

from __future__ import annotations

import base64

import pytest
from django.contrib import admin
from django.core import mail
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.models import SecurityEvent
from core.roles import Role
from core.two_factor import TwoFactorRefused, reset_second_factor
from tests.conftest import sign_in_verified

pytestmark = pytest.mark.django_db

RESET = "core:two_factor_reset"


def test_the_admin_shows_no_key_and_no_recovery_code(client, admin_user, role_user):
    holder = role_user(Role.MASH_PRACTITIONER, username="holder")
    device = TOTPDevice.objects.create(user=holder, name="phone", confirmed=True)
    static = StaticDevice.objects.create(user=holder, name="Recovery codes")
    token = static.token_set.create(token="zq7recov")
    sign_in_verified(client, admin_user)
    secrets = [
        device.key,
        base64.b32encode(device.bin_key).decode().rstrip("="),
        device.config_url,
        token.token,
    ]
    assert StaticToken not in admin.site._registry
    pages = [
        reverse("admin:otp_totp_totpdevice_changelist"),
        reverse("admin:otp_totp_totpdevice_change", args=[device.pk]),
        reverse("admin:otp_static_staticdevice_changelist"),
        reverse("admin:otp_static_staticdevice_change", args=[static.pk]),
        f"/admin/otp_totp/totpdevice/{device.pk}/config/",
        f"/admin/otp_totp/totpdevice/{device.pk}/qrcode/",
        "/admin/otp_totp/totpdevice/add/",
        "/admin/otp_static/statictoken/",
    ]
    for url in pages:
        response = client.get(url, follow=True)
        body = response.content.decode()
        assert not any(secret in body for secret in secrets), url
    assert client.get(reverse("admin:otp_totp_totpdevice_change", args=[device.pk])).status_code == 200
    # Looking only: nobody deletes or changes a second factor here (that skips the security event).
    assert (
        client.post(
            reverse("admin:otp_totp_totpdevice_delete", args=[device.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert TOTPDevice.objects.filter(pk=device.pk).exists()


def test_an_administrator_resets_someone_elses_second_factor(
    client, role_user, django_capture_on_commit_callbacks
):
    ig = role_user(Role.INFORMATION_GOVERNANCE, username="ig")
    admin_user = role_user(Role.ADMINISTRATOR, username="boss")
    holder = role_user(Role.MASH_PRACTITIONER, username="holder")
    StaticDevice.objects.create(user=holder, name="Recovery codes").token_set.create(token="zq7recov")
    holders_session = sign_in_verified(Client(), holder)
    assert holders_session.get(reverse("referrals:tray")).status_code == 200
    sign_in_verified(client, admin_user)
    page = client.get(reverse(RESET))
    assert page.status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(reverse(RESET), {"username": "holder", "how_confirmed": "in person"})
    assert answer.status_code == 302
    assert not TOTPDevice.objects.filter(user=holder).exists()
    assert not StaticDevice.objects.filter(user=holder).exists()
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.TWO_FACTOR_RESET)
    assert (event.user, event.actor) == (holder, admin_user)
    assert "in person" in event.detail
    assert sorted(m.to[0] for m in mail.outbox) == sorted([holder.email, ig.email])
    assert all(admin_user.get_full_name() in m.body for m in mail.outbox), "the e-mails name who reset it"
    # The holder's verified session is verified no longer; at the next sign-in they set up a new
    # authenticator with the password.
    assert holders_session.get(reverse("referrals:tray"))["Location"].startswith(
        reverse("core:two_factor_setup")
    )
    client.force_login(holder)
    assert client.get(reverse("referrals:tray"))["Location"].startswith(reverse("core:two_factor_setup"))
    assert client.get(reverse("core:two_factor_setup")).status_code == 200


def test_an_administrator_cannot_reset_their_own(client, role_user):
    admin_user = role_user(Role.ADMINISTRATOR, username="boss")
    sign_in_verified(client, admin_user)
    answer = client.post(reverse(RESET), {"username": "boss", "how_confirmed": "in person"})
    assert answer.status_code == 400
    assert "You cannot reset your own two-factor sign-in" in answer.content.decode()
    assert TOTPDevice.objects.filter(user=admin_user).exists()
    with pytest.raises(TwoFactorRefused):
        reset_second_factor(actor=admin_user, user=admin_user, how_confirmed="in person")
    assert not SecurityEvent.objects.exists()


@pytest.mark.parametrize("role", [r for r in Role if r != Role.ADMINISTRATOR])
def test_only_administrators_reset(client, role_user, role):
    actor = role_user(role, username="actor")
    holder = role_user(Role.MASH_PRACTITIONER, username="holder")
    TOTPDevice.objects.create(user=holder, name="phone", confirmed=True)
    sign_in_verified(client, actor)
    assert client.get(reverse(RESET)).status_code == 404
    assert (
        client.post(reverse(RESET), {"username": "holder", "how_confirmed": "in person"}).status_code == 404
    )
    with pytest.raises(TwoFactorRefused):
        reset_second_factor(actor=actor, user=holder, how_confirmed="in person")
    assert TOTPDevice.objects.filter(user=holder).exists()


def test_the_reset_form_says_what_is_wrong(client, role_user):
    sign_in_verified(client, role_user(Role.ADMINISTRATOR, username="boss"))
    answer = client.post(reverse(RESET), {"username": "nobody"})
    body = answer.content.decode()
    assert answer.status_code == 400
    assert "There is a problem" in body
    assert "Enter the username of an active account" in body
    assert "Select how you checked that the request came from them" in body
