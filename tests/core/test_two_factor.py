import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.roles import Role
from tests.factories import ReferralFactory

pytestmark = pytest.mark.django_db


def current_code(device: TOTPDevice) -> str:
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift)
    return f"{code:0{device.digits}d}"


def test_sign_in_asks_for_a_code_and_identities_need_it(client, role_user):
    user = role_user(Role.MASH_PRACTITIONER, username="pat", password="a-long-test-password")
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    referral = ReferralFactory()
    detail = reverse("referrals:detail", args=[referral.pk])
    response = client.post(
        reverse("login"), {"username": "pat", "password": "a-long-test-password", "next": detail}
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("core:verify"))
    # Password alone: no case page opens; each sends the user to enter the code.
    refused = client.get(detail)
    assert refused.status_code == 302
    assert refused["Location"].startswith(reverse("core:verify"))
    wrong = client.post(reverse("core:verify"), {"code": "000000", "next": detail})
    assert wrong.status_code == 400
    assert "The code is not right" in wrong.content.decode()
    device.refresh_from_db()
    device.throttling_failure_count = 0  # the wrong code above started the throttle
    device.throttling_failure_timestamp = None
    device.save()
    right = client.post(reverse("core:verify"), {"code": current_code(device), "next": detail})
    assert right.status_code == 302
    assert right["Location"] == detail
    assert "Test narrative" in client.get(detail).content.decode()


def test_verify_refuses_an_open_redirect(client, role_user):
    user = role_user(Role.MASH_PRACTITIONER, username="pat")
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    client.force_login(user)
    response = client.post(
        reverse("core:verify"), {"code": current_code(device), "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("core:home")


def test_enrolment_shows_a_qr_code_then_gives_single_use_recovery_codes(client, role_user):
    user = role_user(Role.REVIEWER, username="rev")
    client.force_login(user)
    page = client.get(reverse("core:two_factor_setup")).content.decode()
    assert "<svg" in page
    assert "<?xml" not in page
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(reverse("core:two_factor_setup"), {"code": current_code(device)})
    assert response.status_code == 200
    codes = response.context["codes"]
    assert len(codes) == 10
    device.refresh_from_db()
    assert device.confirmed
    # A recovery code signs in once, and only once.
    client.logout()
    client.force_login(user)
    assert client.post(reverse("core:verify"), {"code": codes[0]}).status_code == 302
    client.logout()
    client.force_login(user)
    assert client.post(reverse("core:verify"), {"code": codes[0]}).status_code == 400
    assert StaticToken.objects.filter(device__user=user).count() == 9


def test_a_wrong_enrolment_code_is_refused(client, role_user):
    client.force_login(role_user(Role.REVIEWER, username="rev"))
    client.get(reverse("core:two_factor_setup"))
    response = client.post(reverse("core:two_factor_setup"), {"code": "123"})
    assert response.status_code == 400
    assert "The code is not right" in response.content.decode()
    assert not TOTPDevice.objects.filter(confirmed=True).exists()
