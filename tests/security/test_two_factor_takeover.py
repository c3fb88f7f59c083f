"""Issue 11: with the password alone, nobody can replace an account's second factor.

The finding: after the password step, before any code, ``GET /account/two-factor/`` answered
200 for an account that already had a confirmed authenticator, showed a new key, and a code of
that new key replaced the owner's authenticator and recovery codes (and verified the session).
"""

from __future__ import annotations

import base64

import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from zeal import zeal_ignore

from core.roles import Role

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password"


def code_of(device: TOTPDevice) -> str:
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift)
    return f"{code:0{device.digits}d}"


def devices_of(user) -> tuple:
    """Everything that lets someone pass the second step, as it stands."""
    return (
        sorted(TOTPDevice.objects.filter(user=user).values_list("pk", "key", "confirmed")),
        sorted(StaticDevice.objects.filter(user=user).values_list("pk", "confirmed")),
        sorted(StaticToken.objects.filter(device__user=user).values_list("token", flat=True)),
    )


def enrolled(role_user, username="owner"):
    user = role_user(Role.MASH_PRACTITIONER, username=username, password=PASSWORD)
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    static = StaticDevice.objects.create(user=user, name="Recovery codes")
    static.token_set.create(token="recover1")
    return user, device


def test_password_alone_cannot_see_a_new_key_or_replace_the_authenticator(client, role_user):
    owner, _device = enrolled(role_user)
    before = devices_of(owner)
    signed_in = client.post(reverse("login"), {"username": "owner", "password": PASSWORD})
    assert signed_in["Location"].startswith(reverse("core:verify"))

    page = client.get(reverse("core:two_factor_setup"))
    assert page.status_code == 302
    assert page["Location"].startswith(reverse("core:verify"))
    assert TOTPDevice.objects.filter(user=owner, confirmed=False).count() == 0, "no new key was made"

    # Even a code of a key the attacker made some other way changes nothing.
    rogue = TOTPDevice.objects.create(user=owner, name="rogue", confirmed=False)
    answer = client.post(reverse("core:two_factor_setup"), {"code": code_of(rogue)})
    assert answer.status_code == 302
    assert answer["Location"].startswith(reverse("core:verify"))
    rogue.delete()
    assert devices_of(owner) == before
    # And the session is still not verified: a case page sends them back to the code.
    tray = client.get(reverse("referrals:tray"))
    assert tray["Location"].startswith(reverse("core:verify"))


def test_the_setup_page_shows_no_key_to_a_verified_owner_either(client, role_user):
    _owner, device = enrolled(role_user)
    client.post(reverse("login"), {"username": "owner", "password": PASSWORD})
    client.post(reverse("core:verify"), {"code": code_of(device)})
    page = client.get(reverse("core:two_factor_setup"))
    assert page.status_code == 302
    assert page["Location"] == reverse("core:two_factor_replace")
    device.refresh_from_db()
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    assert secret[:8] not in client.get(reverse("core:two_factor_replace")).content.decode()


# --- Replacing: verified session, the password again, a current or recovery code -------------------


def verified_owner(client, role_user, username="owner"):
    owner, device = enrolled(role_user, username=username)
    client.post(reverse("login"), {"username": username, "password": PASSWORD})
    assert client.post(reverse("core:verify"), {"code": code_of(device)}).status_code == 302
    return owner, device


REPLACE = "core:two_factor_replace"


def test_a_verified_session_alone_cannot_replace_the_authenticator(client, role_user):
    owner, device = verified_owner(client, role_user)
    before = devices_of(owner)
    page = client.get(reverse(REPLACE)).content.decode()
    assert "Your password" in page
    assert "<svg" not in page, "no new key before the password and a code"
    # A code for the new key, posted without the step before, is refused and changes nothing.
    answer = client.post(reverse(REPLACE), {"code": "123456"})
    assert answer.status_code == 400
    assert "Enter your password" in answer.content.decode()
    # The wrong password, with the right code; the right password, with a wrong code.
    device.refresh_from_db()
    wrong_password = client.post(reverse(REPLACE), {"password": "not-it", "current_code": code_of(device)})
    assert wrong_password.status_code == 400
    assert "The password is not right" in wrong_password.content.decode()
    wrong_code = client.post(reverse(REPLACE), {"password": PASSWORD, "current_code": "000000"})
    assert wrong_code.status_code == 400
    assert "The code is not right" in wrong_code.content.decode()
    assert "<svg" not in client.get(reverse(REPLACE)).content.decode()
    assert devices_of(owner) == before


def test_replacing_needs_the_password_and_a_code_then_the_new_keys_code(
    client, role_user, django_capture_on_commit_callbacks
):
    from django.core import mail

    from core.models import SecurityEvent

    owner, device = verified_owner(client, role_user)
    device.refresh_from_db()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        step_up = client.post(reverse(REPLACE), {"password": PASSWORD, "current_code": "recover1"})
    assert step_up.status_code == 302
    assert SecurityEvent.objects.filter(user=owner, kind=SecurityEvent.Kind.RECOVERY_CODE_USED).count() == 1
    assert [m.to for m in mail.outbox] == [[owner.email]]
    page = client.get(reverse(REPLACE))
    assert "<svg" in page.content.decode()
    new = TOTPDevice.objects.get(user=owner, confirmed=False)
    # Until the new key's code is entered the old authenticator still works, and nothing changed.
    assert TOTPDevice.objects.get(pk=device.pk).confirmed
    wrong = client.post(reverse(REPLACE), {"code": "000000"})
    assert wrong.status_code == 400
    assert "The code is not right" in wrong.content.decode()
    TOTPDevice.objects.filter(pk=new.pk).update(throttling_failure_count=0, throttling_failure_timestamp=None)
    new.refresh_from_db()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(reverse(REPLACE), {"code": code_of(new)})
    assert done.status_code == 200
    codes = done.context["codes"]
    assert len(codes) == 10
    assert "no-store" in done["Cache-Control"]
    assert not TOTPDevice.objects.filter(pk=device.pk).exists(), "the old authenticator is gone"
    assert sorted(StaticToken.objects.filter(device__user=owner).values_list("token", flat=True)) == sorted(
        codes
    )
    event = SecurityEvent.objects.get(user=owner, kind=SecurityEvent.Kind.TWO_FACTOR_REPLACED)
    assert event.actor == owner
    assert [m.to for m in mail.outbox] == [[owner.email]]
    assert "replaced" in mail.outbox[0].body
    # The recovery codes are never shown again; the replace page starts over at the password.
    again = client.get(reverse(REPLACE)).content.decode()
    assert "Your password" in again
    assert not any(code in again for code in codes)


def test_the_new_key_page_lasts_ten_minutes(client, role_user):
    from core.two_factor import STEP_UP_SECONDS, STEP_UP_SESSION_KEY

    owner, device = verified_owner(client, role_user)
    device.refresh_from_db()
    StaticToken.objects.filter(device__user=owner).update(token="recover2")
    assert (
        client.post(reverse(REPLACE), {"password": PASSWORD, "current_code": "recover2"}).status_code == 302
    )
    session = client.session
    session[STEP_UP_SESSION_KEY] = {
        **session[STEP_UP_SESSION_KEY],
        "at": session[STEP_UP_SESSION_KEY]["at"] - STEP_UP_SECONDS - 1,
    }
    session.save()
    new = TOTPDevice.objects.filter(user=owner, confirmed=False).first()
    before = devices_of(owner)
    answer = client.post(reverse(REPLACE), {"code": code_of(new) if new else "123456"})
    assert answer.status_code == 400
    assert devices_of(owner) == before


def test_a_verified_session_is_given_a_new_session_key(client, role_user):
    _owner, device = enrolled(role_user)
    client.post(reverse("login"), {"username": "owner", "password": PASSWORD})
    after_password = client.session.session_key
    assert client.post(reverse("core:verify"), {"code": code_of(device)}).status_code == 302
    after_code = client.session.session_key
    assert after_code != after_password
    # The old key no longer names a session at all.
    store = type(client.session)
    assert not store().exists(after_password)
    assert store().exists(after_code)


def test_enrolling_a_first_authenticator_tells_the_holder_and_renews_the_session(
    client, role_user, django_capture_on_commit_callbacks
):
    from django.core import mail

    from core.models import SecurityEvent

    user = role_user(Role.REVIEWER, username="newbie", password=PASSWORD)
    client.post(reverse("login"), {"username": "newbie", "password": PASSWORD})
    assert client.get(reverse("core:two_factor_setup")).status_code == 200
    before = client.session.session_key
    pending = TOTPDevice.objects.get(user=user, confirmed=False)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(reverse("core:two_factor_setup"), {"code": code_of(pending)})
    assert done.status_code == 200
    assert len(done.context["codes"]) == 10
    assert client.session.session_key != before
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.TWO_FACTOR_ENROLLED).count() == 1
    assert [m.to for m in mail.outbox] == [[user.email]]
    # Once enrolled, the set-up page is closed to this account (the recovery codes with it).
    assert client.get(reverse("core:two_factor_setup"))["Location"] == reverse(REPLACE)


def test_the_rules_other_second_factors_call(rf, role_user):
    from django.contrib.sessions.backends.db import SessionStore

    from core import two_factor

    owner, device = enrolled(role_user)
    newcomer = role_user(Role.REVIEWER, username="newcomer")
    admin = role_user(Role.ADMINISTRATOR, username="admin")
    assert two_factor.can_enrol_first_factor(newcomer)
    assert not two_factor.can_enrol_first_factor(owner)
    request = rf.get("/")
    request.user = owner
    request.session = SessionStore()
    assert not two_factor.replacement_allowed(request)  # not verified
    owner.otp_device = device
    assert not two_factor.replacement_allowed(request)  # verified, but no password and code
    with zeal_ignore():  # each user's roles are read once, as one request would
        assert two_factor.reset_allowed(actor=admin, user=owner)
        assert not two_factor.reset_allowed(actor=admin, user=admin)
        assert not two_factor.reset_allowed(actor=newcomer, user=owner)
