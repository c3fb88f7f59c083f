"""Passwords belong to their holders: nobody else ever sets or knows one.

- A new account has no usable password. Its holder is e-mailed a one-time link to set one
  (``password_link_send``, queued through the outbox); the link's token is made when the e-mail
  is sent (Django's ``default_token_generator``), never stored, and stops working once used, once
  the password changes, or after ``PASSWORD_RESET_TIMEOUT``.
- An administrator helps a holder who has forgotten theirs the same way: they send a link to the
  holder's own address. They never type a password (the admin has no "set password" page).
- A holder changes their own password from a verified session, with the current one.
- Every link sent, and every password a holder sets, is a security event (the holder is told;
  information governance hears of each link sent).

Sending a link and resetting a second factor are the two halves of someone's sign-in, so one
administrator may not do both (``core.two_factor.recovery_refusal``), and both take a lock on the
account (``lock_account``): two requests at once cannot both pass the check.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from core.models import SecurityEvent
from core.outbox import enqueue_on_commit
from core.roles import Role, has_role
from core.security_events import security_event_record

Kind = SecurityEvent.Kind


def lock_account(user) -> None:
    """Serialise the checks and changes that recover an account (password link, second-factor
    reset): each reads the other's events, so they run one at a time per account."""
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()


@transaction.atomic
def password_link_send(*, actor, user, request=None, first: bool = False) -> SecurityEvent:
    """Queue an e-mail to ``user``'s own address with a link to set their password.

    ``first``: the account has just been made (its maker is ``actor``). Refused to the account's
    holder (they change it themselves), to anyone but an administrator, for an account with no
    e-mail address, and to the administrator who reset its second factor (``recovery_refusal``)."""
    from core.two_factor import recovery_refusal

    if actor.pk == user.pk:
        raise PermissionDenied("Change your own password from your account page")
    if not has_role(actor, Role.ADMINISTRATOR) and not actor.is_superuser:
        raise PermissionDenied("Only an administrator sends a link to set a password")
    lock_account(user)
    if not user.email:
        raise ValidationError("The account has no e-mail address to send the link to")
    if not user.is_active:
        raise ValidationError("The account is not active")
    refusal = recovery_refusal(actor=actor, user=user, action="password")
    if refusal:
        raise PermissionDenied(refusal)
    event = security_event_record(
        kind=Kind.PASSWORD_LINK_SENT,
        user=user,
        actor=actor,
        detail="Link to set a first password sent" if first else "Link to set a new password sent",
        request=request,
        tell_user=False,  # the link's own e-mail tells them
    )
    enqueue_on_commit("core.tasks.send_password_link", event.pk)
    return event


def password_link_url(user) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("core:password_set", kwargs={"uidb64": uid, "token": token})
    return f"{settings.SITE_URL.rstrip('/')}{path}"


def password_link_email(*, event_id: int) -> int:
    """Send the link (the worker): made now, from the account as it is now, so a link for an
    account whose password has changed since, or that was deactivated, is never sent."""
    event = SecurityEvent.objects.select_related("user", "actor").get(
        pk=event_id, kind=Kind.PASSWORD_LINK_SENT
    )
    user = event.user
    if not user.is_active or not user.email:
        return 0
    days = max(1, settings.PASSWORD_RESET_TIMEOUT // 86400)
    context = {
        "user": user,
        "link": password_link_url(user),
        "days": days,
        "first": not user.has_usable_password(),
        "council_name": settings.COUNCIL_NAME,
    }
    send_mail(
        subject="Set your password for the MASH referrals service",
        message=render_to_string("core/email/password_link.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[user.email],
    )
    return 1


def password_set_by_holder(*, user, request=None, how: str) -> SecurityEvent:
    """The holder set their password (through a link, or by changing it): they are told."""
    return security_event_record(kind=Kind.PASSWORD_SET, user=user, actor=user, detail=how, request=request)
