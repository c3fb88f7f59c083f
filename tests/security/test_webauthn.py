"""Security keys (WebAuthn) as a second factor: who may add one, when, and what signing in with
one does. A software key (tests/security/soft_authenticator.py) answers the ceremonies with
real signatures, so py_webauthn's checks run for real."""

from __future__ import annotations

import time

import pytest
from django.core import mail
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential
from zeal import zeal_ignore

from core import security_keys, two_factor
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


def current_code(user) -> str:
    """The code the holder's authenticator app shows now."""
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift)
    return f"{code:0{device.digits}d}"


def recovery_code(user) -> str:
    """A fresh recovery code of the holder's (a TOTP code is good once per 30 seconds)."""
    with zeal_ignore():  # test set-up, once per step-up
        static, _ = StaticDevice.objects.get_or_create(
            user=user, name="Recovery codes", defaults={"confirmed": True}
        )
        token = f"rc{static.token_set.count() + 1:06d}"
        static.token_set.create(token=token)
    return token


def step_up(client, user, *, password=PASSWORD, code=None, url=None):
    """The step-up that every change to an existing factor needs: the password again and a
    current code (or a recovery code)."""
    data = {"password": password, "current_code": recovery_code(user) if code is None else code}
    return client.post(url or reverse("core:security_key_add"), data)


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
    assert step_up(client, holder).status_code == 302
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
    page = client.post(reverse("core:security_key_add"), {"password": PASSWORD, "current_code": "123456"})
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
    session[two_factor.STEP_UP_SESSION_KEY] = {"user": holder.pk, "at": time.time()}
    session.save()
    response = post_json(client, REG_BEGIN)
    assert response.status_code == 403
    assert not WebAuthnCredential.objects.exists()


def test_a_verified_session_must_step_up_first(client, holder):
    sign_in_verified(client, holder)
    response = post_json(client, REG_BEGIN)
    assert response.status_code == 403
    assert response.json()["code"] == "password_again_required"
    page = client.get(reverse("core:security_key_add")).content.decode()
    assert "Your password" in page
    assert "Code from your current authenticator app, or a recovery code" in page
    assert "passkey-register-button" not in page


def test_the_password_alone_no_longer_opens_registration(client, holder):
    """The finding: adding a key to an account that has a factor needed only the password,
    while replacing the authenticator app needed the password and a current code."""
    sign_in_verified(client, holder)
    response = client.post(reverse("core:security_key_add"), {"password": PASSWORD})
    assert response.status_code == 400
    assert "Enter the code from your authenticator app, or a recovery code" in response.content.decode()
    assert post_json(client, REG_BEGIN).status_code == 403
    assert "passkey-register-button" not in client.get(reverse("core:security_key_add")).content.decode()


def test_a_wrong_password_or_a_wrong_code_is_refused_and_opens_nothing(client, holder):
    sign_in_verified(client, holder)
    wrong_password = step_up(client, holder, password="not-the-password")
    assert wrong_password.status_code == 400
    assert "The password is not right. Enter your password." in wrong_password.content.decode()
    wrong_code = step_up(client, holder, code="000000")
    assert wrong_code.status_code == 400
    assert "The code is not right" in wrong_code.content.decode()
    assert post_json(client, REG_BEGIN).status_code == 403
    assert not WebAuthnCredential.objects.exists()


def test_a_current_code_from_the_app_steps_up_as_well_as_a_recovery_code(client, holder):
    sign_in_verified(client, holder)
    assert step_up(client, holder, code=current_code(holder)).status_code == 302
    assert post_json(client, REG_BEGIN).status_code == 200


def test_wrong_passwords_count_towards_the_sign_in_lockout(client, holder):
    """The password entered again goes through ``authenticate``: django-axes counts it."""
    from axes.models import AccessAttempt

    sign_in_verified(client, holder)
    for _ in range(3):
        assert step_up(client, holder, password="wrong-wrong-wrong", code="000000").status_code == 400
    assert AccessAttempt.objects.get(username=holder.username).failures_since_start == 3
    assert post_json(client, REG_BEGIN).status_code == 403


def test_after_the_step_up_a_key_is_added_once_recorded_and_e_mailed(
    client, holder, django_capture_on_commit_callbacks
):
    sign_in_verified(client, holder)
    assert step_up(client, holder).status_code == 302
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
    # The step-up was for one key: a second needs it again.
    assert post_json(client, REG_BEGIN).status_code == 403


def test_the_step_up_lasts_ten_minutes(client, holder):
    sign_in_verified(client, holder)
    assert step_up(client, holder).status_code == 302
    session = client.session
    session[two_factor.STEP_UP_SESSION_KEY]["at"] = time.time() - two_factor.STEP_UP_SECONDS - 1
    session.save()
    assert post_json(client, REG_BEGIN).status_code == 403


def test_an_account_with_no_factor_may_add_a_key_as_its_first(
    client, holder, django_capture_on_commit_callbacks
):
    sign_in_with_password(client, holder)
    assert client.get(VERIFIED_PAGE)["Location"].startswith(reverse("core:two_factor_setup"))
    page = client.get(reverse("core:security_key_add"))
    assert page.status_code == 200
    assert b"passkey-register-button" in page.content  # no step-up: nothing to protect yet
    old_session = client.session.session_key
    with django_capture_on_commit_callbacks(execute=True):
        assert add_key(client, SoftKey()).status_code == 200
    assert client.session.session_key != old_session
    assert is_verified(client)
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.SECURITY_KEY_ADDED)
    assert "first" in event.detail
    assert len(mail.outbox) == 1
    # Now it has a factor: the next key needs the step-up.
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
    step_up(client, holder)
    response = add_key(client, SoftKey(origin="https://evil.example"))
    assert response.status_code == 422
    assert not WebAuthnCredential.objects.exists()


def test_the_same_key_cannot_be_added_twice(client, holder, role_user):
    key = SoftKey()
    sign_in_verified(client, holder)
    step_up(client, holder)
    assert add_key(client, key).status_code == 200
    other = role_user(Role.MASH_PRACTITIONER, username="other")
    sign_in_verified(client, other)
    step_up(client, other)
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


def test_removing_a_key_needs_a_verified_session_the_password_and_a_code(
    client, holder, keyed, django_capture_on_commit_callbacks
):
    key = WebAuthnCredential.objects.get()
    url = reverse("core:security_key_remove", args=[key.pk])
    sign_in_with_password(client, holder)
    assert step_up(client, holder, url=url)["Location"].startswith(reverse("core:verify"))
    sign_in_verified(client, holder)
    # The finding: the password alone removed a key.
    assert client.post(url, {"password": PASSWORD}).status_code == 400
    assert step_up(client, holder, url=url, password="wrong-wrong-wrong").status_code == 400
    assert step_up(client, holder, url=url, code="000000").status_code == 400
    assert WebAuthnCredential.objects.exists()
    assert "Code from your current authenticator app, or a recovery code" in client.get(url).content.decode()
    for model in (TOTPDevice, StaticDevice):  # the wrong code's throttle, waited out
        model.objects.filter(user=holder).update(
            throttling_failure_count=0, throttling_failure_timestamp=None
        )
    with django_capture_on_commit_callbacks(execute=True):
        response = step_up(client, holder, url=url, code=current_code(holder))
    assert response.status_code == 302
    assert not WebAuthnCredential.objects.exists()
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.SECURITY_KEY_REMOVED)
    assert event.detail == "Security key 1"
    assert [m.to for m in mail.outbox] == [["holder@council.example"]]
    # The step-up was used up by that removal.
    assert two_factor.STEP_UP_SESSION_KEY not in client.session


def test_the_key_services_refuse_without_the_step_up(rf, holder, keyed):
    """Defence in depth: the services check the rule themselves, whatever the view did."""
    from django.contrib.sessions.backends.db import SessionStore
    from django_otp import DEVICE_ID_SESSION_KEY

    request = rf.post("/")
    request.user = holder
    request.session = SessionStore()
    holder.otp_device = TOTPDevice.objects.get(user=holder)
    request.session[DEVICE_ID_SESSION_KEY] = holder.otp_device.persistent_id
    with pytest.raises(security_keys.SecurityKeyError):
        security_keys.security_key_remove(request=request, key_id=WebAuthnCredential.objects.get().pk)
    assert not security_keys.may_add_key(request)
    assert WebAuthnCredential.objects.exists()


def test_another_accounts_key_cannot_be_removed(client, role_user, holder, keyed):
    other = role_user(Role.MASH_PRACTITIONER, username="other")
    sign_in_verified(client, other)
    url = reverse("core:security_key_remove", args=[WebAuthnCredential.objects.get().pk])
    assert client.get(url).status_code == 404
    assert step_up(client, other, url=url).status_code == 404
    assert WebAuthnCredential.objects.exists()


def test_the_only_factor_cannot_be_removed(client, holder):
    sign_in_with_password(client, holder)
    add_key(client, SoftKey())  # the first factor: the session is verified by it
    key = WebAuthnCredential.objects.get()
    # A recovery code (a key as the first factor gives none; one is made here) steps up.
    StaticDevice.objects.create(user=holder, name="Recovery codes", confirmed=True).token_set.create(
        token="rc1"
    )
    response = step_up(client, holder, url=reverse("core:security_key_remove", args=[key.pk]), code="rc1")
    assert response.status_code == 400
    assert "You cannot remove your only way to sign in" in response.content.decode()
    assert WebAuthnCredential.objects.exists()
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SECURITY_KEY_REMOVED).exists()


# --- A key-only account's step-up: the password again, then a key -------------------------------


@pytest.fixture
def key_only(client, holder):
    """The holder whose only factor is a security key (added as the first factor)."""
    key = SoftKey()
    sign_in_with_password(client, holder)
    assert add_key(client, key).status_code == 200
    assert not two_factor.has_codes(holder)
    return key


def _key_answer(client, key):
    begin = post_json(client, AUTH_BEGIN)
    assert begin.status_code == 200, begin.content
    return post_json(client, AUTH_COMPLETE, key.sign(begin.json()))


def test_a_key_only_account_steps_up_with_its_password_then_its_key(client, holder, key_only):
    """Found by attack: an account whose only factor was a key had no code for the step-up, so
    could not add a second key or an authenticator app itself."""
    page = client.get(reverse("core:security_key_add")).content.decode()
    assert 'name="password"' in page
    assert 'name="current_code"' not in page
    # A key alone does not step up: the password must come first.
    assert _key_answer(client, key_only).status_code == 200
    assert post_json(client, REG_BEGIN).status_code == 403
    # A wrong password is refused, and opens nothing.
    wrong = client.post(reverse("core:security_key_add"), {"password": "not it"})
    assert wrong.status_code == 400
    assert "The password is not right" in wrong.content.decode()
    assert not two_factor.awaiting_key(wrong.wsgi_request)
    # The password, then the key: the step-up holds, and the second key is added.
    assert client.post(reverse("core:security_key_add"), {"password": PASSWORD}).status_code == 302
    asks = client.get(reverse("core:security_key_add")).content.decode()
    assert "Now use your security key" in asks
    assert "passkey-verification-button" in asks
    assert post_json(client, REG_BEGIN).status_code == 403  # not until the key has answered
    assert _key_answer(client, key_only).status_code == 200
    ready = client.get(reverse("core:security_key_add")).content.decode()
    assert "passkey-register-button" in ready
    assert add_key(client, SoftKey()).status_code == 200
    assert WebAuthnCredential.objects.filter(user=holder).count() == 2


def test_a_key_only_accounts_password_mark_runs_out_after_two_minutes(client, holder, key_only, time_machine):
    client.post(reverse("core:security_key_add"), {"password": PASSWORD})
    time_machine.move_to(time.time() + two_factor.PASSWORD_AGAIN_SECONDS + 5)
    assert _key_answer(client, key_only).status_code == 200
    assert post_json(client, REG_BEGIN).status_code == 403


def test_a_key_only_account_can_add_an_authenticator_app_and_remove_a_key(client, holder, key_only):
    # Add an app: the replace page takes the password, then the key, then the new app's code.
    assert client.post(reverse("core:two_factor_replace"), {"password": PASSWORD}).status_code == 200
    assert _key_answer(client, key_only).status_code == 200
    new_page = client.get(reverse("core:two_factor_replace")).content.decode()
    assert 'name="code"' in new_page
    # Remove: with a second key added, one key may go after the same two steps.
    client.post(reverse("core:security_key_add"), {"password": PASSWORD})
    _key_answer(client, key_only)
    add_key(client, SoftKey())
    first = WebAuthnCredential.objects.filter(user=holder).order_by("pk").first()
    url = reverse("core:security_key_remove", args=[first.pk])
    assert client.post(url, {"password": PASSWORD}).status_code == 302
    _key_answer(client, key_only)
    assert client.post(url, {}).status_code == 302
    assert not WebAuthnCredential.objects.filter(pk=first.pk).exists()
