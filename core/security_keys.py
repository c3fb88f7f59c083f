"""Security keys (WebAuthn, django-otp-webauthn) as a second factor beside the authenticator app.

The rules (docs/adr/0015-security-keys.md):

- A key is only ever a second factor: the password comes first (passwordless sign-in is off).
- An account with no confirmed factor may add a key as its first factor (as it may set up an
  authenticator app). An account that has one adds a key under the same step-up as replacing
  its authenticator app (``core.two_factor.replacement_allowed``): a verified session, the
  password again and a current code or a recovery code, used up by the one key it adds.
- Removing a key needs the same step-up; the last factor cannot go.
- Every addition and removal writes a security event, which e-mails the account holder.
- Signing in with a key verifies the session (django-otp) and gives it a new session key.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django_otp import devices_for_user
from django_otp_webauthn.helpers import WebAuthnHelper
from django_otp_webauthn.models import WebAuthnCredential

from core import two_factor
from core.models import SecurityEvent
from core.permissions import is_verified
from core.security_events import security_event_record


class SecurityKeyError(Exception):
    """A change to the account's keys that the rules refuse; the message says why."""


class SecurityKeyHelper(WebAuthnHelper):
    """The package's helper, naming each key as it is added ("Security key 2")."""

    def create_credential(self, user, response, parsed_credential, original_data):
        credential = super().create_credential(user, response, parsed_credential, original_data)
        credential.name = f"Security key {WebAuthnCredential.objects.filter(user=user).count() + 1}"
        return credential


# --- Rules and selectors ----------------------------------------------------------------------


def is_first_factor(user) -> bool:
    """The account has no confirmed factor: a key added now is its first."""
    return not two_factor.has_second_factor(user)


def may_add_key(request) -> bool:
    """First factor: anyone signed in; otherwise the step-up that replacing an authenticator
    needs (a verified session, the password again and a current or recovery code)."""
    user = request.user
    if not user.is_authenticated or not user.is_active:
        return False
    if is_first_factor(user):
        return True
    return two_factor.replacement_allowed(request)


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
        raise SecurityKeyError(
            "Enter your password and a code from your authenticator app before you add a security key"
        )
    credential = helper.register_complete(user=user, state=state, data=data)
    security_event_record(
        kind=SecurityEvent.Kind.SECURITY_KEY_ADDED,
        user=user,
        actor=user,
        detail=f"{credential.name}{' (first second factor)' if first else ''}",
        request=request,
    )
    two_factor.step_up_consume(request)
    if not is_verified(user):
        from django_otp import login as otp_login

        otp_login(request, credential)
        request.session.cycle_key()
    return credential


@transaction.atomic
def security_key_remove(*, request, key_id: int) -> str:
    """Remove one of the signed-in user's keys after the step-up; returns its name. Refuses the
    last factor. The step-up is used up by the key that goes."""
    user = request.user
    _lock_user(user)
    if not two_factor.replacement_allowed(request):
        raise SecurityKeyError("Enter your password and a code from your authenticator app first")
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
    two_factor.step_up_consume(request)
    security_event_record(
        kind=SecurityEvent.Kind.SECURITY_KEY_REMOVED, user=user, actor=user, detail=name, request=request
    )
    return name
