"""Security keys (WebAuthn) as a second factor: who may add one, when, and what signing in with
one does. A software key (tests/security/soft_authenticator.py) answers the ceremonies with
real signatures, so py_webauthn's checks run for real."""

from __future__ import annotations

import time

import pytest
from django.core import mail
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from core import security_keys
from core.models import SecurityEvent
from core.roles import Role
from tests.conftest import sign_in_verified
from tests.security.soft_authenticator import SoftKey

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password"  # UserFactory's
REG_BEGIN = reverse("otp_webauthn:credential-registration-begin")
REG_COMPLETE = reverse("otp_webauthn:credential-registration-complete")
AUTH_BEGIN = reverse("otp_webauthn:credential-authentication-begin")
AUTH_COMPLETE = reverse("otp_webauthn:credential-authentication-complete")
#: A page that needs a verified session (every grant-capable role: core.two_factor).
VERIFIED_PAGE = reverse("referrals:tray")


def post_json(client, url, data=None):
    return client.post(url, data or {}, content_type="application/json")


def password_again(client, password=PASSWORD):
    return client.post(reverse("core:security_key_add"), {"password": password})


def add_key(client, key: SoftKey):
    """Run the registration ceremony with ``key``; returns the completing response."""
    begin = post_json(client, REG_BEGIN)
    assert begin.status_code == 200, begin.content
    return post_json(client, REG_COMPLETE, key.register(begin.json()))


def sign_in_with_password(client, user):
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return response


def is_verified(client) -> bool:
    return client.get(VERIFIED_PAGE).status_code == 200


@pytest.fixture
def holder(role_user):
    return role_user(Role.MASH_PRACTITIONER, username="holder", email="holder@council.example")


@pytest.fixture
def keyed(holder, client):
    """The holder with an authenticator app and one security key (added the proper way)."""
    key = SoftKey()
    sign_in_verified(client, holder)
    password_again(client)
    assert add_key(client, key).status_code == 200
    client.logout()
    mail.outbox.clear()
    return key


# --- Adding a key -------------------------------------------------------------------------------


@pytest.mark.parametrize("factor", ["authenticator", "security key"])
def test_a_password_only_session_of_an_account_with_a_factor_cannot_reach_registration(
    client, holder, factor
):
    """The bypass this guards against: someone with the password alone adds their own key."""
    if factor == "authenticator":
        TOTPDevice.objects.create(user=holder, name="App", confirmed=True)
    else:
        WebAuthnCredential.objects.create(
            user=holder, name="Key", credential_id=b"x" * 32, public_key=b"k", sign_count=0, confirmed=True
        )
    sign_in_with_password(client, holder)
    # Even with the password entered again on the page: the page itself is closed.
    page = client.post(reverse("core:security_key_add"), {"password": PASSWORD})
    assert page.status_code == 302
    assert page["Location"].startswith(reverse("core:verify"))
    begin = post_json(client, REG_BEGIN)
    assert begin.status_code == 302
    assert begin["Location"].startswith(reverse("core:verify"))
    assert "otp_webauthn_register_state" not in client.session
    forged = SoftKey().register(
        {"rp": {"id": "localhost"}, "challenge": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}
    )
    complete = post_json(client, REG_COMPLETE, forged)
    assert complete.status_code == 302
    assert WebAuthnCredential.objects.filter(user=holder).count() == (factor == "security key")
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SECURITY_KEY_ADDED).exists()


def test_the_ceremony_refuses_an_unverified_session_even_past_the_middleware(client, holder, settings):
    """Defence in depth: with the two-factor middleware gone, the view's own rule still holds."""
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "TwoFactorRequired" not in m]
    TOTPDevice.objects.create(user=holder, name="App", confirmed=True)
    sign_in_with_password(client, holder)
    session = client.session
    session[security_keys.REAUTH_AT] = time.time()
    session.save()
    response = post_json(client, REG_BEGIN)
    assert response.status_code == 403
    assert not WebAuthnCredential.objects.exists()


def test_a_verified_session_must_enter_the_password_again(client, holder):
    sign_in_verified(client, holder)
    response = post_json(client, REG_BEGIN)
    assert response.status_code == 403
    assert response.json()["code"] == "password_again_required"
    page = client.get(reverse("core:security_key_add"))
    assert b"Enter your password again" in page.content
    assert b"passkey-register-button" not in page.content


def test_a_wrong_password_is_refused_and_opens_nothing(client, holder):
    sign_in_verified(client, holder)
    response = password_again(client, "not-the-password")
    assert response.status_code == 400
    assert "The password is not right. Enter your password." in response.content.decode()
    assert post_json(client, REG_BEGIN).status_code == 403


def test_five_wrong_passwords_end_the_session(client, holder):
    sign_in_verified(client, holder)
    for _ in range(security_keys.REAUTH_MAX_FAILURES - 1):
        assert password_again(client, "wrong-wrong-wrong").status_code == 400
    ended = password_again(client, "wrong-wrong-wrong")
    assert ended.status_code == 302
    assert ended["Location"] == reverse("login")
    assert client.get(VERIFIED_PAGE)["Location"].startswith(reverse("login"))


def test_after_the_password_a_key_is_added_once_recorded_and_e_mailed(
    client, holder, django_capture_on_commit_callbacks
):
    sign_in_verified(client, holder)
    assert password_again(client).status_code == 302
    page = client.get(reverse("core:security_key_add"))
    assert b"passkey-register-button" in page.content
    with django_capture_on_commit_callbacks(execute=True):
        response = add_key(client, SoftKey())
    assert response.status_code == 200, response.content
    key = WebAuthnCredential.objects.get(user=holder)
    assert key.name == "Security key 1"
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.SECURITY_KEY_ADDED)
    assert (event.user, event.actor) == (holder, holder)
    assert [m.to for m in mail.outbox] == [["holder@council.example"]]
    assert "Security key added" in mail.outbox[0].body
    # The password entered again was for one key: a second needs it again.
    assert post_json(client, REG_BEGIN).status_code == 403


def test_the_password_entered_again_lasts_ten_minutes(client, holder):
    sign_in_verified(client, holder)
    password_again(client)
    session = client.session
    session[security_keys.REAUTH_AT] = time.time() - security_keys.REAUTH_SECONDS - 1
    session.save()
    assert post_json(client, REG_BEGIN).status_code == 403


def test_an_account_with_no_factor_may_add_a_key_as_its_first(
    client, holder, django_capture_on_commit_callbacks
):
    sign_in_with_password(client, holder)
    assert client.get(VERIFIED_PAGE)["Location"].startswith(reverse("core:two_factor_setup"))
    page = client.get(reverse("core:security_key_add"))
    assert page.status_code == 200
    assert b"passkey-register-button" in page.content  # no password again: nothing to protect yet
    old_session = client.session.session_key
    with django_capture_on_commit_callbacks(execute=True):
        assert add_key(client, SoftKey()).status_code == 200
    assert client.session.session_key != old_session
    assert is_verified(client)
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.SECURITY_KEY_ADDED)
    assert "first" in event.detail
    assert len(mail.outbox) == 1
    # Now it has a factor: the next key needs the password again.
    assert post_json(client, REG_BEGIN).status_code == 403


def test_a_first_key_cannot_be_completed_once_another_factor_was_set_up(client, holder):
    """A ceremony begun before the account had a factor does not finish after it has one."""
    sign_in_with_password(client, holder)
    begin = post_json(client, REG_BEGIN)
    assert begin.status_code == 200
    TOTPDevice.objects.create(user=holder, name="App", confirmed=True)
    complete = post_json(client, REG_COMPLETE, SoftKey().register(begin.json()))
    assert complete.status_code == 302  # the middleware: this session must verify now
    assert not WebAuthnCredential.objects.exists()


def test_a_registration_is_refused_for_another_origin(client, holder):
    sign_in_verified(client, holder)
    password_again(client)
    response = add_key(client, SoftKey(origin="https://evil.example"))
    assert response.status_code == 422
    assert not WebAuthnCredential.objects.exists()


def test_the_same_key_cannot_be_added_twice(client, holder, role_user):
    key = SoftKey()
    sign_in_verified(client, holder)
    password_again(client)
    assert add_key(client, key).status_code == 200
    other = role_user(Role.MASH_PRACTITIONER, username="other")
    sign_in_verified(client, other)
    password_again(client)
    again = add_key(client, key)  # the same credential id, for another account
    assert again.status_code == 409
    assert list(WebAuthnCredential.objects.values_list("user__username", flat=True)) == ["holder"]
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SECURITY_KEY_ADDED).count() == 1


# --- Signing in with a key ----------------------------------------------------------------------


def test_a_key_verifies_the_session_after_the_password_and_renews_its_key(client, holder, keyed):
    sign_in_with_password(client, holder)
    assert not is_verified(client)
    page = client.get(reverse("core:verify"), {"next": VERIFIED_PAGE})
    assert "Use your security key" in page.content.decode()
    assert 'name="code"' in page.content.decode()  # the code still works without JavaScript
    before = client.session.session_key
    begin = post_json(client, AUTH_BEGIN)
    assert begin.status_code == 200
    assert len(begin.json()["allowCredentials"]) == 1
    response = post_json(client, f"{AUTH_COMPLETE}?next={VERIFIED_PAGE}", keyed.sign(begin.json()))
    assert response.status_code == 200, response.content
    assert response.json()["redirect_url"] == VERIFIED_PAGE
    assert client.session.session_key != before
    assert is_verified(client)
    assert WebAuthnCredential.objects.get().last_used_at is not None


def test_a_key_is_no_way_in_without_the_password(client, holder, keyed):
    assert post_json(client, AUTH_BEGIN).status_code == 302
    assert post_json(client, AUTH_COMPLETE, {}).status_code == 302
    assert "_auth_user_id" not in client.session


def test_an_answer_is_used_once(client, holder, keyed):
    sign_in_with_password(client, holder)
    begin = post_json(client, AUTH_BEGIN)
    answer = keyed.sign(begin.json())
    assert post_json(client, AUTH_COMPLETE, answer).status_code == 200
    client.logout()
    sign_in_with_password(client, holder)
    replay = post_json(client, AUTH_COMPLETE, answer)
    assert replay.status_code == 400  # no ceremony begun in this session
    assert not is_verified(client)


def test_another_accounts_key_does_not_verify_this_session(client, role_user, holder, keyed):
    other = role_user(Role.MASH_PRACTITIONER, username="other")
    TOTPDevice.objects.create(user=other, name="App", confirmed=True)
    WebAuthnCredential.objects.create(
        user=other, name="Key", credential_id=b"y" * 32, public_key=b"k", sign_count=0, confirmed=True
    )
    sign_in_with_password(client, other)
    begin = post_json(client, AUTH_BEGIN)
    response = post_json(client, AUTH_COMPLETE, keyed.sign(begin.json()))
    assert response.status_code == 403
    assert not is_verified(client)


def test_the_verify_page_offers_a_key_only_to_accounts_with_one(client, holder):
    TOTPDevice.objects.create(user=holder, name="App", confirmed=True)
    sign_in_with_password(client, holder)
    page = client.get(reverse("core:verify")).content.decode()
    assert "Use your security key" not in page
    assert post_json(client, AUTH_BEGIN).status_code == 403


# --- Listing and removing ---------------------------------------------------------------------


def test_the_sign_in_methods_page_lists_the_app_and_the_keys(client, holder, keyed):
    sign_in_verified(client, holder)
    page = client.get(reverse("core:sign_in_methods")).content.decode()
    assert "Test authenticator" in page
    assert "Security key 1" in page
    assert "Never" in page  # the key has not been used to sign in yet
    assert reverse("core:security_key_remove", args=[WebAuthnCredential.objects.get().pk]) in page


def test_removing_a_key_needs_a_verified_session_and_the_password(
    client, holder, keyed, django_capture_on_commit_callbacks
):
    key = WebAuthnCredential.objects.get()
    url = reverse("core:security_key_remove", args=[key.pk])
    sign_in_with_password(client, holder)
    assert client.post(url, {"password": PASSWORD})["Location"].startswith(reverse("core:verify"))
    sign_in_verified(client, holder)
    assert client.post(url, {"password": "wrong-wrong-wrong"}).status_code == 400
    assert WebAuthnCredential.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"password": PASSWORD})
    assert response.status_code == 302
    assert not WebAuthnCredential.objects.exists()
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.SECURITY_KEY_REMOVED)
    assert event.detail == "Security key 1"
    assert [m.to for m in mail.outbox] == [["holder@council.example"]]


def test_another_accounts_key_cannot_be_removed(client, role_user, holder, keyed):
    other = role_user(Role.MASH_PRACTITIONER, username="other")
    sign_in_verified(client, other)
    url = reverse("core:security_key_remove", args=[WebAuthnCredential.objects.get().pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"password": PASSWORD}).status_code == 404
    assert WebAuthnCredential.objects.exists()


def test_the_only_factor_cannot_be_removed(client, holder):
    sign_in_with_password(client, holder)
    add_key(client, SoftKey())  # the first factor: the session is verified by it
    key = WebAuthnCredential.objects.get()
    response = client.post(reverse("core:security_key_remove", args=[key.pk]), {"password": PASSWORD})
    assert response.status_code == 400
    assert "You cannot remove your only way to sign in" in response.content.decode()
    assert WebAuthnCredential.objects.exists()
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SECURITY_KEY_REMOVED).exists()
