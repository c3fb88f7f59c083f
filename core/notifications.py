"""Notifications in the service: one small feature every app can use.

An app registers the kinds it sends in its ``AppConfig.ready`` and calls ``notify``::

    from core import notifications

    notifications.register("referral_overdue", label="Referral overdue")
    notifications.notify(users=[...], kind="referral_overdue", text="MASH-2026-0001 is overdue",
                         url=referral.get_absolute_url(), key=f"overdue:{referral.pk}:{due}")

The text is shown in lists and e-mailed: it names a record by reference only, never a child,
a referrer or anything else exempt (core/exempt.py). Each user chooses immediate e-mails or a
daily digest (``NotificationPreference``); e-mails are queued through the outbox, and sending
is safe to run twice (``emailed_at`` is set in the transaction that sends).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import timezone

from core.models import Notification, NotificationPreference
from core.outbox import enqueue_on_commit

logger = logging.getLogger(__name__)

Delivery = NotificationPreference.Delivery


class UnknownNotificationKind(LookupError):
    pass


@dataclass(frozen=True)
class NotificationKind:
    kind: str
    label: str


_KINDS: dict[str, NotificationKind] = {}


def register(kind: str, *, label: str) -> NotificationKind:
    """Declare a kind of notification (from an app's ``ready``). Registering twice is harmless."""
    if len(kind) > Notification._meta.get_field("kind").max_length:
        raise ValueError(f"notification kind {kind!r} is too long")
    _KINDS[kind] = NotificationKind(kind=kind, label=label)
    return _KINDS[kind]


def kinds() -> list[NotificationKind]:
    return sorted(_KINDS.values(), key=lambda k: k.label)


def kind_label(kind: str) -> str:
    found = _KINDS.get(kind)
    return found.label if found else kind


# Services (writes) --------------------------------------------------------------------------


def notify(*, users: Iterable, kind: str, text: str, url: str = "", key: str = "") -> list[Notification]:
    """Give each user a notification; queue the e-mail of those who want them at once.

    With a ``key``, a user already holding a notification with that key gets nothing new (safe
    to call twice: a beat task that runs again never repeats itself). Returns those created.
    """
    if kind not in _KINDS:
        raise UnknownNotificationKind(kind)
    if url and not url.startswith("/"):
        raise ValueError("a notification links to a page of this service (a path)")
    created: list[Notification] = []
    seen: set[int] = set()
    if key:  # those who already have it: one query rather than a refused insert each
        seen = set(Notification.objects.filter(key=key).values_list("user_id", flat=True))
    for user in users:
        if user.pk in seen or not user.is_active:
            continue
        seen.add(user.pk)
        try:
            with transaction.atomic():
                notification = Notification.objects.create(user=user, kind=kind, text=text, url=url, key=key)
        except IntegrityError:
            continue  # this user already has it (the key)
        created.append(notification)
    if not created:
        return created
    digest_users = set(
        NotificationPreference.objects.filter(
            user_id__in=[n.user_id for n in created], delivery=Delivery.DIGEST
        ).values_list("user_id", flat=True)
    )
    for notification in created:
        if notification.user_id not in digest_users:
            enqueue_on_commit("core.tasks.send_notification_email", notification.pk)
    return created


def notifications_mark_read(*, user, notification_id: int | None = None) -> int:
    """Mark one of the user's notifications as read (or all of them, with no id)."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_id is not None:
        unread = unread.filter(pk=notification_id)
    return unread.update(read_at=timezone.now())


def notification_preference_set(*, user, delivery: str) -> NotificationPreference:
    if delivery not in Delivery.values:
        raise ValueError(delivery)
    preference, _ = NotificationPreference.objects.update_or_create(
        user=user, defaults={"delivery": delivery}
    )
    return preference


def notification_email_send(*, notification_id: int) -> bool:
    """E-mail one notification (immediate delivery). Safe to run twice; returns whether it went."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(pk=notification_id, emailed_at__isnull=True)
            .first()
        )
        if notification is None or not notification.user.email or not notification.user.is_active:
            return False
        _send(notification.user, [notification], subject=f"{settings.SERVICE_NAME}: {notification.text}")
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["emailed_at"])
        return True


def notification_digest_send(*, user_id: int) -> int:
    """E-mail one user the notifications not yet e-mailed to them, in one message.

    Safe to run twice: the rows are locked and marked in the transaction that sends. Returns
    how many the e-mail listed."""
    with transaction.atomic():
        pending = list(
            Notification.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(user_id=user_id, emailed_at__isnull=True)
            .order_by("created_at", "id")
        )
        if not pending or not pending[0].user.email or not pending[0].user.is_active:
            return 0
        count = len(pending)
        _send(
            pending[0].user,
            pending,
            subject=f"{settings.SERVICE_NAME}: {count} notification{'s' if count != 1 else ''} today",
        )
        Notification.objects.filter(pk__in=[n.pk for n in pending]).update(emailed_at=timezone.now())
        return count


def notification_digests_queue() -> int:
    """Beat (daily): queue one digest for each user who chose the digest and has something new."""
    user_ids = list(
        Notification.objects.filter(
            emailed_at__isnull=True,
            user__notification_preference__delivery=Delivery.DIGEST,
            user__is_active=True,
        )
        .values_list("user_id", flat=True)
        .distinct()
        .order_by("user_id")
    )
    with transaction.atomic():
        for user_id in user_ids:
            enqueue_on_commit("core.tasks.send_notification_digest", user_id)
    return len(user_ids)


def _send(user, notifications: list[Notification], *, subject: str) -> None:
    body = render_to_string(
        "core/email/notifications.txt",
        {
            "notifications": notifications,
            "site_url": settings.SITE_URL.rstrip("/"),
            "service_name": settings.SERVICE_NAME,
            "council_name": settings.COUNCIL_NAME,
        },
    )
    send_mail(
        subject=subject, message=body, from_email=settings.DEFAULT_FROM_EMAIL, recipient_list=[user.email]
    )


# Selectors (reads) --------------------------------------------------------------------------


def notifications_for(*, user) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user).order_by("-created_at", "-id")


def unread_count(*, user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def delivery_for(*, user) -> str:
    preference = NotificationPreference.objects.filter(user=user).values_list("delivery", flat=True).first()
    return preference or Delivery.IMMEDIATE
