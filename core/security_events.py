"""Security events: the one way to record (and tell people about) a change to an account's security.

``security_event_record`` writes a ``SecurityEvent`` in the caller's transaction and queues the
e-mails through the outbox (so a broker outage loses none). The account holder is told of every
event about their account; information governance is told of the kinds in ``TELL_IG``. No e-mail
names a case, a child or a record's exempt data: only the kind, the time and who acted.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string

from core.client_address import client_ip
from core.models import SecurityEvent
from core.outbox import enqueue_on_commit
from core.roles import GROUP_NAMES, Role

logger = logging.getLogger(__name__)

#: The one client-address rule (TRUSTED_PROXY_COUNT), shared with axes and the access log.
_client_ip = client_ip

Kind = SecurityEvent.Kind

#: Events information governance is e-mailed about as well as the account holder.
TELL_IG = frozenset(
    {
        Kind.TWO_FACTOR_RESET,
        Kind.ROLE_CHANGED,
        Kind.ACCOUNT_CHANGED,
        Kind.ACCOUNT_CREATED,
        Kind.PASSWORD_LINK_SENT,
        Kind.ROLE_REQUESTED,
        Kind.ROLE_REFUSED,
        Kind.EMAIL_CHANGED,
        Kind.TWO_FACTOR_FAILURES,
        Kind.RESTRICTED,
        Kind.LEGAL_HOLD_LIFT,
    }
)


@transaction.atomic
def security_event_record(
    *,
    kind: str,
    user,
    actor=None,
    detail: str = "",
    request=None,
    tell_user: bool = True,
    previous_email: str = "",
) -> SecurityEvent:
    """Record one security event about ``user`` and queue its e-mails after commit.

    ``previous_email`` (an address change): the old address is e-mailed as well as the new, so
    an address changed by someone else cannot silently take the holder's security e-mails."""
    event = SecurityEvent.objects.create(
        kind=kind,
        user=user,
        actor=actor,
        detail=detail[:300],
        ip_address=_client_ip(request),
        previous_email=previous_email,
    )
    if tell_user or kind in TELL_IG:
        enqueue_on_commit("core.tasks.send_security_event_mail", event.pk, int(tell_user))
    return event


def information_governance_emails() -> list[str]:
    """Everyone who holds the information governance role, and the team's fixed mailbox
    (``SECURITY_ALERTS_EMAIL``): so an administrator who removes or disables the role's holders
    cannot silence what they are told."""
    holders = list(
        get_user_model()
        .objects.filter(groups__name=GROUP_NAMES[Role.INFORMATION_GOVERNANCE], is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    mailbox = settings.SECURITY_ALERTS_EMAIL
    return holders + ([mailbox] if mailbox and mailbox not in holders else [])


def security_event_notify(*, event_id: int, tell_user: bool = True) -> int:
    """E-mail the account holder and, for some kinds, information governance. Returns how many."""
    event = SecurityEvent.objects.select_related("user", "actor").get(pk=event_id)
    context = {"event": event, "council_name": settings.COUNCIL_NAME}
    sent = 0
    holder_addresses = [event.user.email] if event.user.email else []
    if event.previous_email and event.previous_email.lower() != event.user.email.lower():
        holder_addresses.insert(0, event.previous_email)
    if tell_user:
        for address in holder_addresses:  # one e-mail each: neither address learns the other's
            send_mail(
                subject=f"Security: {event.get_kind_display().lower()} on your account",
                message=render_to_string("core/email/security_event_user.txt", context),
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=[address],
            )
            sent += 1
    if event.kind in TELL_IG:
        recipients = information_governance_emails()
        if recipients:
            send_mail(
                subject=f"Security event: {event.get_kind_display().lower()} ({event.user.get_username()})",
                message=render_to_string("core/email/security_event_ig.txt", context),
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=recipients,
            )
            sent += len(recipients)
        else:
            logger.error("security event %s: no information governance officer to tell", event.pk)
    return sent


def security_events_search(
    *, username: str = "", kind: str = "", start: dt.date | None = None, end: dt.date | None = None
):
    """Security events, newest first, for information governance (core:security_events)."""
    events = SecurityEvent.objects.select_related("user", "actor").order_by("-at", "-id")
    if username:
        events = events.filter(user__username__istartswith=username.strip())
    if kind:
        events = events.filter(kind=kind)
    if start:
        events = events.filter(at__date__gte=start)
    if end:
        events = events.filter(at__date__lte=end)
    return events
