"""Security keys (WebAuthn, django-otp-webauthn) as a second factor beside the authenticator app.

The rules (docs/adr/0015-security-keys.md):

- A key is only ever a second factor: the password comes first (passwordless sign-in is off).
- An account with no confirmed factor may add a key as its first factor (as it may set up an
  authenticator app). An account that has one adds a key only from a verified session and
  after entering its password again (``reauth_record``), once per password entry.
- Removing a key needs a verified session and the password; the last factor cannot go.
- Every addition and removal writes a security event, which e-mails the account holder.
- Signing in with a key verifies the session (django-otp) and gives it a new session key.
"""

from __future__ import annotations

import time

from django.contrib.auth import get_user_model
from django.db import transaction
from django_otp import devices_for_user
from django_otp_webauthn.helpers import WebAuthnHelper
from django_otp_webauthn.models import WebAuthnCredential

from core import two_factor
from core.models import SecurityEvent
from core.permissions import is_verified
from core.security_events import security_event_record

#: When the password was last entered again in this session (time.time()).
REAUTH_AT = "mash_reauth_at"
#: Wrong passwords entered again in this session; at REAUTH_MAX_FAILURES the session ends.
REAUTH_FAILURES = "mash_reauth_failures"
#: How long a password entered again lets the account add a key (a key's ceremony may take
#: up to OTP_WEBAUTHN_TIMEOUT_SECONDS, five minutes).
REAUTH_SECONDS = 10 * 60
REAUTH_MAX_FAILURES = 5


class SecurityKeyError(Exception):
    """A change to the account's keys that the rules refuse; the message says why."""


class SecurityKeyHelper(WebAuthnHelper):
    """The package's helper, naming each key as it is added ("Security key 2")."""

    def create_credential(self, user, response, parsed_credential, original_data):
        credential = super().create_credential(user, response, parsed_credential, original_data)
        credential.name = f"Security key {WebAuthnCredential.objects.filter(user=user).count() + 1}"
        return credential


# --- Entering the password again --------------------------------------------------------------


def reauth_check(request, password: str) -> bool | None:
    """Check the password entered again. True: right (recorded in the session); False: wrong;
    None: wrong too often, so the caller must end the session."""
    if request.user.check_password(password):
        request.session[REAUTH_AT] = time.time()
        request.session.pop(REAUTH_FAILURES, None)
        return True
    failures = request.session.get(REAUTH_FAILURES, 0) + 1
    request.session[REAUTH_FAILURES] = failures
    return None if failures >= REAUTH_MAX_FAILURES else False


def reauth_is_fresh(request) -> bool:
    entered = request.session.get(REAUTH_AT)
    return entered is not None and 0 <= time.time() - entered <= REAUTH_SECONDS


def reauth_consume(request) -> None:
    request.session.pop(REAUTH_AT, None)


# --- Rules and selectors ----------------------------------------------------------------------


def is_first_factor(user) -> bool:
    """The account has no confirmed factor: a key added now is its first."""
    return not two_factor.has_second_factor(user)


def may_add_key(request) -> bool:
    """First factor: anyone signed in; otherwise a verified session with the password just
    entered again."""
    user = request.user
    if not user.is_authenticated or not user.is_active:
        return False
    if is_first_factor(user):
        return True
    return is_verified(user) and reauth_is_fresh(request)


def security_keys_for(*, user):
    return WebAuthnCredential.objects.filter(user=user, confirmed=True).order_by("created_at", "pk")


def has_security_key(user) -> bool:
    return security_keys_for(user=user).exists()


def sign_in_methods(*, user) -> dict:
    """What the "Your sign-in methods" page lists: the authenticator app, the recovery codes
    left, and the security keys."""
    from django_otp.plugins.otp_static.models import StaticToken
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return {
        "authenticators": list(TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk")),
        "recovery_codes_left": StaticToken.objects.filter(device__user=user, device__confirmed=True).count(),
        "keys": list(security_keys_for(user=user)),
    }


# --- Services -----------------------------------------------------------------------------------


def _lock_user(user) -> None:
    """One change to an account's factors at a time (two tabs adding a first factor at once)."""
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()


@transaction.atomic
def security_key_register(*, request, helper, state: dict, data: dict) -> WebAuthnCredential:
    """Check the key's answer, save it, record the event; a first factor verifies the session.

    The rules are checked again under a lock on the account: the session that began the
    ceremony may no longer be allowed to finish it.
    """
    user = request.user
    _lock_user(user)
    first = is_first_factor(user)
    if not may_add_key(request):
        raise SecurityKeyError("Enter your password again before you add a security key")
    credential = helper.register_complete(user=user, state=state, data=data)
    security_event_record(
        kind=SecurityEvent.Kind.SECURITY_KEY_ADDED,
        user=user,
        actor=user,
        detail=f"{credential.name}{' (first second factor)' if first else ''}",
        request=request,
    )
    reauth_consume(request)
    if not is_verified(user):
        from django_otp import login as otp_login

        otp_login(request, credential)
        request.session.cycle_key()
    return credential


@transaction.atomic
def security_key_remove(*, request, key_id: int) -> str:
    """Remove one of the signed-in user's keys; returns its name. Refuses the last factor."""
    user = request.user
    _lock_user(user)
    key = security_keys_for(user=user).select_for_update().get(pk=key_id)
    others = [
        device
        for device in devices_for_user(user, confirmed=True)
        if device.persistent_id != key.persistent_id and device._meta.model_name != "staticdevice"
    ]
    if not others:
        raise SecurityKeyError(
            "You cannot remove your only way to sign in. Add an authenticator app or another "
            "security key first"
        )
    name = key.name
    key.delete()
    security_event_record(
        kind=SecurityEvent.Kind.SECURITY_KEY_REMOVED, user=user, actor=user, detail=name, request=request
    )
    return name
