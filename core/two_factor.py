"""Two-factor sign-in with django-otp: TOTP enrolment, verification, recovery codes, and the rules
for changing an account's second factor (issue 11).

The rules, in one place (security keys call them too):

- ``can_enrol_first_factor(user)``: a first authenticator may be set up with the password alone
  only by an account that has no second factor at all (a new account, or one an administrator
  reset). Everything else is a replacement.
- ``replacement_allowed(request)``: replacing or removing a second factor (or adding another)
  needs a verified session *and*, within the last few minutes, the password again and a current
  code or a recovery code (``step_up``).
- ``reset_allowed(actor=..., user=...)``: an administrator resets someone else's, never their own.

Every enrolment, replacement, reset and recovery-code use, and each run of repeated wrong codes,
writes a security event (``core.security_events``), which e-mails the account holder.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.db import transaction
from django.db.models import Max
from django.middleware.csrf import rotate_token
from django_otp import device_classes, devices_for_user, match_token, user_has_device
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.models import SecurityEvent
from core.permissions import is_verified
from core.roles import Role, has_role, user_roles
from core.security_events import security_event_record

RECOVERY_CODES = 10

#: Wrong codes in a row after which the account holder (and IG) are told, once per run.
FAILURE_ALERT_AT = 5

#: How long the password-and-code check of ``step_up`` lets the holder change their second factor.
STEP_UP_SECONDS = 10 * 60
STEP_UP_SESSION_KEY = "mash_two_factor_step_up"

#: Every role that can hold a per-record grant: MASH roles (default and explicit grants),
#: reviewers and lead reviewers (review grants), report officers and information governance
#: (review and explicit grants); administrators hold none but manage accounts. A session of
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


class TwoFactorRefused(Exception):
    """A change to a second factor the rules do not allow (the caller shows why)."""


def must_verify(user) -> bool:
    """Grant-capable roles, and staff (the admin site), need a verified session for every page."""
    return bool(user_roles(user) & GRANT_CAPABLE_ROLES) or user.is_staff or user.is_superuser


def has_second_factor(user) -> bool:
    return user_has_device(user, confirmed=True)


# --- The rules --------------------------------------------------------------------------------


def can_enrol_first_factor(user) -> bool:
    """Only an account with no second factor at all sets one up with the password alone."""
    return user.is_authenticated and not has_second_factor(user)


def replacement_allowed(request) -> bool:
    """A verified session whose holder gave the password and a current code a moment ago."""
    user = request.user
    if not user.is_authenticated or not is_verified(user) or not has_second_factor(user):
        return False
    step_up_at = request.session.get(STEP_UP_SESSION_KEY, {})
    if step_up_at.get("user") != user.pk:
        return False
    return 0 <= time.time() - step_up_at.get("at", 0) <= STEP_UP_SECONDS


def step_up_consume(request) -> None:
    """The step-up has been used for one change (a security key added or removed)."""
    request.session.pop(STEP_UP_SESSION_KEY, None)


#: How long one administrator's password-set and second-factor reset of the same account count
#: as one act: both by one person inside it would hand them the account (docs/security.md).
RECOVERY_PAIR_DAYS = 30


def recovery_refusal(*, actor, user, action: str) -> str | None:
    """Why ``actor`` may not do ``action`` ("password" or "reset") to ``user``'s account, or None.

    Sending someone a link to set their password (or making their account, or changing the
    address the link goes to) and resetting their second factor each leave the holder in charge
    of the other half of their sign-in. One administrator doing both could sign in as them, so
    the second half needs a second administrator:
    - no reset by an administrator who made the account, changed its e-mail address or sent it a
      password link since its holder last set their own password (core.passwords);
    - no link sent by the administrator who reset the second factor within
      ``RECOVERY_PAIR_DAYS``, or since when the holder has set up no new one.

    The callers hold the account's lock (``core.passwords.lock_account``) while they check and
    act, so two requests at once cannot both pass."""
    from datetime import timedelta

    from django.db.models import Q
    from django.utils import timezone

    Kind = SecurityEvent.Kind
    events = SecurityEvent.objects.filter(user=user).order_by("-at", "-pk")
    if action == "reset":
        holder_set = events.filter(kind=Kind.PASSWORD_SET, actor=user).first()
        recovery_halves = events.filter(
            Q(kind__in=[Kind.ACCOUNT_CREATED, Kind.PASSWORD_LINK_SENT, Kind.EMAIL_CHANGED])
            | Q(kind=Kind.ACCOUNT_CHANGED, detail__icontains="password"),
            actor=actor,
        )
        if holder_set is not None:
            recovery_halves = recovery_halves.filter(
                Q(at__gt=holder_set.at) | Q(at=holder_set.at, pk__gt=holder_set.pk)
            )
        if recovery_halves.exists():
            return (
                "You made this account, changed its e-mail address or sent it a password link, and "
                "its holder has not set their own password since: another administrator must reset "
                "its second factor, so that no one person can sign in as its holder"
            )
    if action == "password":
        reset = events.filter(kind=Kind.TWO_FACTOR_RESET).first()
        if reset is not None and reset.actor_id == actor.pk:
            recent = reset.at >= timezone.now() - timedelta(days=RECOVERY_PAIR_DAYS)
            if recent or not user_has_device(user, confirmed=True):
                return (
                    "You reset this account's second factor: another administrator must send it a "
                    "password link, so that no one person can sign in as its holder"
                )
    return None


def reset_allowed(*, actor, user) -> bool:
    """An administrator resets someone else's second factor; nobody resets their own."""
    return has_role(actor, Role.ADMINISTRATOR) and actor.pk != user.pk


# --- Codes --------------------------------------------------------------------------------------


def throttle_cap() -> None:
    """Cap django-otp's exponential delay between wrong codes (1, 2, 4, 8 ... seconds).

    django-otp 1.7.5 caps it at ``django_otp.models.MAX_THROTTLE_DELAY_SECONDS`` (100 years), so
    enough wrong codes lock an account out for good. The cap here (``OTP_THROTTLE_MAX_SECONDS``,
    15 minutes) is read by ``ThrottlingMixin.verify_is_allowed`` for every device kind; called
    from ``CoreConfig.ready`` (docs/adr/0014-changing-a-second-factor.md).
    """
    from django_otp import models as otp_models

    otp_models.MAX_THROTTLE_DELAY_SECONDS = settings.OTP_THROTTLE_MAX_SECONDS


def _failures_in_a_row(user) -> int:
    counts = [
        model.objects.filter(user=user, confirmed=True).aggregate(n=Max("throttling_failure_count"))["n"]
        for model in (TOTPDevice, StaticDevice)
    ]
    return max((count or 0) for count in counts)


def locked_until(user):
    """When the next code may be tried, if every device of the user is waiting out wrong codes."""
    waits = []
    for device in devices_for_user(user, confirmed=True):
        allowed, data = device.verify_is_allowed()
        if allowed:
            return None
        if data and data.get("locked_until"):
            waits.append(data["locked_until"])
    return min(waits) if waits else None


@dataclass(frozen=True)
class CodeCheck:
    device: object | None
    recovery_code: bool = False
    #: Set when the code was not even tried: every device is waiting out wrong codes until then.
    throttled_until: object | None = None

    def __bool__(self) -> bool:
        return self.device is not None


def check_code(request, user, code: str, *, purpose: str) -> CodeCheck:
    """Try ``code`` on the user's confirmed devices (django-otp throttles each).

    A recovery code is used up and writes RECOVERY_CODE_USED; the run of wrong codes that
    reaches ``FAILURE_ALERT_AT`` writes TWO_FACTOR_FAILURES (once: the next is only written after
    a right code has ended the run).
    """
    until = locked_until(user)
    if until is not None:
        return CodeCheck(None, throttled_until=until)
    before = _failures_in_a_row(user)
    device = match_token(user, code)
    if device is None:
        after = _failures_in_a_row(user)
        if before < FAILURE_ALERT_AT <= after:
            security_event_record(
                kind=SecurityEvent.Kind.TWO_FACTOR_FAILURES,
                user=user,
                actor=user,
                detail=f"{after} wrong codes in a row ({purpose})",
                request=request,
            )
        return CodeCheck(None)
    # A right code ends the run of wrong ones on every device (each throttles on its own).
    for model in (TOTPDevice, StaticDevice):
        model.objects.filter(user=user).update(throttling_failure_count=0, throttling_failure_timestamp=None)
    recovery = isinstance(device, StaticDevice)
    if recovery:
        left = StaticToken.objects.filter(device__user=user).count()
        security_event_record(
            kind=SecurityEvent.Kind.RECOVERY_CODE_USED,
            user=user,
            actor=user,
            detail=f"Recovery code used ({purpose}); {left} left",
            request=request,
        )
    return CodeCheck(device, recovery_code=recovery)


def _verified(request, device) -> None:
    """Mark the session verified, under a new session key and CSRF token (no fixation)."""
    request.session.cycle_key()
    rotate_token(request)
    otp_login(request, device)


def verify(request, code: str) -> CodeCheck:
    """The second step of signing in."""
    check = check_code(request, request.user, code, purpose="signing in")
    if check:
        _verified(request, check.device)
    return check


def step_up(request, *, password: str, code: str) -> tuple[bool, CodeCheck]:
    """Check the password again and a current or recovery code: (password right, code check).

    Both right: ``replacement_allowed`` holds for ``STEP_UP_SECONDS``. The password goes through
    ``authenticate`` so wrong ones count towards the sign-in lockout (django-axes).
    """
    user = request.user
    if not is_verified(user):
        raise TwoFactorRefused("The session is not verified")
    checked = authenticate(request, username=user.get_username(), password=password)
    password_right = checked is not None and checked.pk == user.pk
    if not password_right:
        return False, CodeCheck(None)
    check = check_code(request, user, code, purpose="confirming it is you")
    if check:
        request.session[STEP_UP_SESSION_KEY] = {"user": user.pk, "at": time.time()}
    return True, check


# --- The step-up with a security key (an account with no code to give) ------------------------

#: A key-only account confirms it is them with the password, then its key (not a code): the
#: password must have been given this recently when the key answers.
PASSWORD_AGAIN_SECONDS = 2 * 60
PASSWORD_AGAIN_SESSION_KEY = "mash_password_again"  # noqa: S105 - a session key


def has_codes(user) -> bool:
    """The account has an authenticator app or recovery codes left, so its step-up takes a code.
    One with neither has only security keys: its step-up takes the password, then a key."""
    return (
        TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        or StaticToken.objects.filter(device__user=user, device__confirmed=True).exists()
    )


def password_again(request, *, password: str) -> bool:
    """The first half of a key-only account's step-up: the password again (counted by
    django-axes like any other). Right: the key may finish it within ``PASSWORD_AGAIN_SECONDS``."""
    user = request.user
    if not is_verified(user):
        raise TwoFactorRefused("The session is not verified")
    checked = authenticate(request, username=user.get_username(), password=password)
    right = checked is not None and checked.pk == user.pk
    if right:
        request.session[PASSWORD_AGAIN_SESSION_KEY] = {"user": user.pk, "at": time.time()}
    return right


def awaiting_key(request) -> bool:
    """The password has just been given again: the page asks for the key now."""
    state = request.session.get(PASSWORD_AGAIN_SESSION_KEY, {})
    return (
        state.get("user") == request.user.pk
        and 0 <= time.time() - state.get("at", 0) <= PASSWORD_AGAIN_SECONDS
    )


def step_up_by_key(request) -> bool:
    """The second half: a security key of the account's has just answered in this verified
    session (core.security_key_views). With the password given again a moment ago, the step-up
    holds, as ``step_up`` makes it with a code; the password's mark is used up either way."""
    fresh = awaiting_key(request)
    request.session.pop(PASSWORD_AGAIN_SESSION_KEY, None)
    if fresh and is_verified(request.user):
        request.session[STEP_UP_SESSION_KEY] = {"user": request.user.pk, "at": time.time()}
    return fresh


# --- Authenticators -----------------------------------------------------------------------------


def pending_device(user) -> TOTPDevice:
    """The authenticator being set up (made once, reused until confirmed or replaced)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


def qr_svg(device: TOTPDevice) -> str:
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    svg = image.to_string(encoding="unicode")
    return svg[svg.index("<svg") :]  # inline in the page: no XML declaration


def secret_for_manual_entry(device: TOTPDevice) -> str:
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _lock_account(user) -> None:
    """Serialise changes to one account's second factor (two tabs, two requests)."""
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()


def _new_recovery_codes(user) -> list[str]:
    static, _ = StaticDevice.objects.get_or_create(user=user, name="Recovery codes")
    static.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=static, token=token) for token in codes])
    return codes


def _confirm(device: TOTPDevice, code: str) -> bool:
    return device.confirmed is False and device.verify_token(code)


@transaction.atomic
def enrol_first_factor(request, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm the first authenticator of an account that has none; returns its recovery codes,
    or None if the code is wrong. Refused (TwoFactorRefused) once the account has one."""
    user = request.user
    _lock_account(user)
    if device.user_id != user.pk or not can_enrol_first_factor(user):
        raise TwoFactorRefused("The account already has a second factor")
    if not _confirm(device, code):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    codes = _new_recovery_codes(user)
    security_event_record(
        kind=SecurityEvent.Kind.TWO_FACTOR_ENROLLED,
        user=user,
        actor=user,
        detail="Authenticator app set up; new recovery codes",
        request=request,
    )
    _verified(request, device)
    return codes


def replacement_device(request) -> TOTPDevice:
    """The new authenticator of a replacement: a key of its own, shown only after ``step_up``."""
    if not replacement_allowed(request):
        raise TwoFactorRefused("Confirm it is you first")
    state = request.session[STEP_UP_SESSION_KEY]
    device = TOTPDevice.objects.filter(pk=state.get("device"), user=request.user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=request.user, name="Authenticator app", confirmed=False)
        request.session[STEP_UP_SESSION_KEY] = {**state, "device": device.pk}
    return device


@transaction.atomic
def replace_second_factor(request, device: TOTPDevice, code: str) -> list[str] | None:
    """Swap the holder's authenticator for ``device`` and issue new recovery codes (the old ones
    stop working). Returns the codes, or None if ``code`` is not the new key's."""
    user = request.user
    _lock_account(user)
    if not replacement_allowed(request) or request.session[STEP_UP_SESSION_KEY].get("device") != device.pk:
        raise TwoFactorRefused("Confirm it is you first")
    if device.user_id != user.pk or not _confirm(device, code):
        return None
    had_app = TOTPDevice.objects.filter(user=user, confirmed=True).exists()  # else: keys only
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    codes = _new_recovery_codes(user)
    security_event_record(
        kind=SecurityEvent.Kind.TWO_FACTOR_REPLACED if had_app else SecurityEvent.Kind.TWO_FACTOR_ENROLLED,
        user=user,
        actor=user,
        detail=f"Authenticator app {'replaced' if had_app else 'added'}; new recovery codes",
        request=request,
    )
    request.session.pop(STEP_UP_SESSION_KEY, None)
    _verified(request, device)
    return codes


@transaction.atomic
def reset_second_factor(*, actor, user, how_confirmed: str, request=None) -> SecurityEvent:
    """An administrator removes every second factor of someone else's account, so that they set
    one up afresh when they next sign in. Their sessions stop being verified (django-otp finds no
    device behind them). Writes TWO_FACTOR_RESET naming the administrator; IG is told."""
    if not reset_allowed(actor=actor, user=user):
        raise TwoFactorRefused("An administrator resets someone else's second factor, never their own")
    _lock_account(user)  # before the check: a password link sent at the same moment waits
    refusal = recovery_refusal(actor=actor, user=user, action="reset")
    if refusal:
        raise TwoFactorRefused(refusal)
    removed = sum(model.objects.filter(user=user, confirmed=True).count() for model in device_classes())
    for model in device_classes():  # every kind: authenticator apps, recovery codes, security keys
        model.objects.filter(user=user).delete()
    return security_event_record(
        kind=SecurityEvent.Kind.TWO_FACTOR_RESET,
        user=user,
        actor=actor,
        detail=f"Every second factor removed ({removed}); identity checked: {how_confirmed}"[:300],
        request=request,
    )
