"""Wrong second-factor codes: a delay that doubles but never passes 15 minutes, and the holder
(and IG) told once per run of five or more wrong codes in a row."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.models import SecurityEvent
from core.roles import Role
from core.two_factor import FAILURE_ALERT_AT

pytestmark = pytest.mark.django_db


def code_of(device: TOTPDevice) -> str:
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift)
    return f"{code:0{device.digits}d}"


def waited(*devices, seconds: float) -> None:
    """As if the last wrong code was ``seconds`` ago."""
    for device in devices:
        type(device).objects.filter(pk=device.pk).update(
            throttling_failure_timestamp=timezone.now() - dt.timedelta(seconds=seconds)
        )


@pytest.mark.parametrize("model", [TOTPDevice, StaticDevice])
def test_the_delay_after_many_wrong_codes_is_at_most_fifteen_minutes(role_user, model):
    user = role_user(Role.MASH_PRACTITIONER, username="pat")
    device = model.objects.create(user=user, name="d", confirmed=True)
    model.objects.filter(pk=device.pk).update(throttling_failure_count=60)  # 2**59 s uncapped
    waited(device, seconds=14 * 60)
    device.refresh_from_db()
    assert not device.verify_is_allowed()[0]
    waited(device, seconds=15 * 60 + 1)
    device.refresh_from_db()
    assert device.verify_is_allowed()[0]
    # And still doubling below the cap: one wrong code asks for a second's wait.
    model.objects.filter(pk=device.pk).update(throttling_failure_count=1)
    waited(device, seconds=0.5)
    device.refresh_from_db()
    assert not device.verify_is_allowed()[0]


def test_a_throttled_code_page_says_how_long_to_wait(client, role_user):
    user = role_user(Role.MASH_PRACTITIONER, username="pat")
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=20)
    waited(device, seconds=60)
    device.refresh_from_db()
    client.force_login(user)
    answer = client.post(reverse("core:verify"), {"code": code_of(device)})
    assert answer.status_code == 400
    assert (
        "You have entered too many wrong codes. Wait 14 minutes, then try again." in answer.content.decode()
    )


def test_five_wrong_codes_in_a_row_tell_the_holder_and_ig_once(
    client, role_user, django_capture_on_commit_callbacks
):
    ig = role_user(Role.INFORMATION_GOVERNANCE, username="ig")
    user = role_user(Role.MASH_PRACTITIONER, username="pat")
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    static = StaticDevice.objects.create(user=user, name="Recovery codes")
    client.force_login(user)

    def wrong(times: int) -> None:
        for _ in range(times):
            waited(device, static, seconds=16 * 60)
            with django_capture_on_commit_callbacks(execute=True):
                assert client.post(reverse("core:verify"), {"code": "000000"}).status_code == 400

    def alerts() -> int:
        return SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.TWO_FACTOR_FAILURES).count()

    wrong(FAILURE_ALERT_AT - 1)
    assert alerts() == 0
    assert mail.outbox == []
    wrong(1)
    assert alerts() == 1
    assert sorted(m.to[0] for m in mail.outbox) == sorted([user.email, ig.email])
    assert all("MASH-" not in m.body for m in mail.outbox)
    wrong(FAILURE_ALERT_AT)
    assert alerts() == 1, "one event per run of wrong codes, not one per code"
    # A right code ends the run; the next run of five is told again.
    waited(device, static, seconds=16 * 60)
    device.refresh_from_db()
    assert client.post(reverse("core:verify"), {"code": code_of(device)}).status_code == 302
    assert TOTPDevice.objects.get(pk=device.pk).throttling_failure_count == 0
    assert StaticDevice.objects.get(pk=static.pk).throttling_failure_count == 0
    client.force_login(user)
    wrong(FAILURE_ALERT_AT)
    assert alerts() == 2


def test_a_short_wait_is_said_in_seconds_not_as_too_many_codes(client, role_user):
    """Found by attack: one wrong code gave "too many wrong codes. Wait 1 minute" for a wait of
    one second."""
    user = role_user(Role.MASH_PRACTITIONER, username="pat")
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=1)
    waited(device, seconds=0)
    device.refresh_from_db()
    client.force_login(user)
    answer = client.post(reverse("core:verify"), {"code": code_of(device)}).content.decode()
    assert "That code was not right. Wait" in answer
    assert "second" in answer
    assert "too many wrong codes" not in answer
