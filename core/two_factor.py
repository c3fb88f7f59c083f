"""Two-factor sign-in with django-otp: TOTP enrolment, verification and recovery codes."""

from __future__ import annotations

import qrcode
import qrcode.image.svg
from django.db import transaction
from django_otp import login as otp_login
from django_otp import match_token, user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.roles import Role, user_roles

RECOVERY_CODES = 10

#: Every role that can hold a per-record grant: MASH roles (default and explicit grants),
#: reviewers and lead reviewers (review grants), report officers and information governance
#: (review and explicit grants), administrators (any grant a manager gives). A session of
#: anyone holding one of them opens no page but sign-in until it is verified
#: (core.middleware.TwoFactorRequiredMiddleware).
GRANT_CAPABLE_ROLES = frozenset(
    {
        Role.MASH_PRACTITIONER,
        Role.MASH_MANAGER,
        Role.REVIEWER,
        Role.LEAD_REVIEWER,
        Role.REPORT_OFFICER,
        Role.INFORMATION_GOVERNANCE,
        Role.ADMINISTRATOR,
    }
)


def must_verify(user) -> bool:
    """Grant-capable roles, and staff (the admin site), need a verified session for every page."""
    return bool(user_roles(user) & GRANT_CAPABLE_ROLES) or user.is_staff or user.is_superuser


def has_second_factor(user) -> bool:
    return user_has_device(user, confirmed=True)


def pending_device(user) -> TOTPDevice:
    """The authenticator being set up (made once, reused until confirmed)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


def qr_svg(device: TOTPDevice) -> str:
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    svg = image.to_string(encoding="unicode")
    return svg[svg.index("<svg") :]  # inline in the page: no XML declaration


def secret_for_manual_entry(device: TOTPDevice) -> str:
    import base64

    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@transaction.atomic
def confirm_device(request, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm the authenticator with a code; returns new recovery codes, or None if wrong."""
    if not device.verify_token(code):
        return None
    device.confirmed = True
    device.save()
    TOTPDevice.objects.filter(user=device.user, confirmed=True).exclude(pk=device.pk).delete()
    static, _ = StaticDevice.objects.get_or_create(user=device.user, name="Recovery codes")
    static.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    for token in codes:
        static.token_set.create(token=token)
    otp_login(request, device)
    return codes


def verify(request, code: str) -> bool:
    device = match_token(request.user, code)
    if device is None:
        return False
    otp_login(request, device)
    return True
