"""Notifications (core.notifications): the registry, notify, the list, the header count, e-mail."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from core import notifications
from core.models import Notification, NotificationPreference
from core.roles import Role

pytestmark = pytest.mark.django_db

KIND = "referral_overdue"  # registered by the referrals app


def test_apps_register_their_kinds_and_notify_refuses_an_unknown_one(practitioner):
    assert {k.kind for k in notifications.kinds()} >= {"referral_overdue", "referral_allocated"}
    with pytest.raises(notifications.UnknownNotificationKind):
        notifications.notify(users=[practitioner], kind="nobody_registered_this", text="x")


def test_a_notification_links_only_to_a_page_of_the_service(practitioner):
    with pytest.raises(ValueError, match="path"):
        notifications.notify(users=[practitioner], kind=KIND, text="x", url="https://evil.example/")


def test_a_key_makes_it_once_only(practitioner, manager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = notifications.notify(
            users=[practitioner, manager], kind=KIND, text="MASH-1 overdue", key="k1"
        )
        again = notifications.notify(
            users=[practitioner, manager], kind=KIND, text="MASH-1 overdue", key="k1"
        )
    assert len(first) == 2
    assert again == []
    assert Notification.objects.filter(key="k1").count() == 2
    assert len(mail.outbox) == 2  # immediate by default, one each, never repeated


def test_immediate_e_mail_names_the_reference_and_is_sent_once(
    practitioner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        (notification,) = notifications.notify(
            users=[practitioner], kind=KIND, text="Referral MASH-2026-0001 is overdue", url="/referrals/1/"
        )
    assert len(mail.outbox) == 1
    assert "MASH-2026-0001" in mail.outbox[0].subject
    assert "/referrals/1/" in mail.outbox[0].body
    assert notifications.notification_email_send(notification_id=notification.pk) is False  # run twice
    assert len(mail.outbox) == 1


def test_digest_users_get_one_e_mail_a_day_from_the_beat_task(
    practitioner, manager, django_capture_on_commit_callbacks
):
    notifications.notification_preference_set(
        user=practitioner, delivery=NotificationPreference.Delivery.DIGEST
    )
    with django_capture_on_commit_callbacks(execute=True):
        notifications.notify(users=[practitioner], kind=KIND, text="Referral MASH-A is overdue")
        notifications.notify(users=[practitioner], kind=KIND, text="Referral MASH-B is overdue")
    assert mail.outbox == []  # nothing at once
    from core.tasks import queue_notification_digests

    with django_capture_on_commit_callbacks(execute=True):
        assert queue_notification_digests() == 1
    assert len(mail.outbox) == 1
    assert "MASH-A" in mail.outbox[0].body
    assert "MASH-B" in mail.outbox[0].body
    with django_capture_on_commit_callbacks(execute=True):
        assert queue_notification_digests() == 0  # safe to run twice: nothing left
    assert notifications.notification_digest_send(user_id=practitioner.pk) == 0
    assert len(mail.outbox) == 1


def test_e_mails_are_queued_through_the_outbox(practitioner, django_capture_on_commit_callbacks):
    from core.models import OutboxMessage

    with django_capture_on_commit_callbacks(execute=False):
        (notification,) = notifications.notify(users=[practitioner], kind=KIND, text="x")
    assert OutboxMessage.objects.filter(
        task="core.tasks.send_notification_email", args=[notification.pk]
    ).exists()


def test_the_list_shows_only_ones_own_and_marks_read(client, role_user, practitioner):
    from tests.conftest import sign_in_verified

    other = role_user(Role.MASH_MANAGER, username="other")
    notifications.notify(
        users=[practitioner], kind=KIND, text="Referral MASH-MINE is overdue", url="/referrals/"
    )
    notifications.notify(users=[other], kind=KIND, text="Referral MASH-THEIRS is overdue")
    sign_in_verified(client, practitioner)
    page = client.get(reverse("core:notifications")).content.decode()
    assert "MASH-MINE" in page
    assert "MASH-THEIRS" not in page
    assert "1 unread" in page  # the header count
    mine = Notification.objects.get(user=practitioner)
    theirs = Notification.objects.get(user=other)
    # Someone else's notification cannot be marked or opened.
    client.post(reverse("core:notifications"), {"read": theirs.pk})
    assert client.post(reverse("core:notification_open", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None
    response = client.post(reverse("core:notification_open", args=[mine.pk]))
    assert response.status_code == 302
    assert response["Location"] == "/referrals/"
    mine.refresh_from_db()
    assert mine.read_at is not None
    assert "unread" not in client.get(reverse("core:notifications")).content.decode().split("<main")[0]


def test_mark_all_as_read(client, practitioner):
    from tests.conftest import sign_in_verified

    for n in range(3):
        notifications.notify(users=[practitioner], kind=KIND, text=f"Referral MASH-{n} is overdue")
    sign_in_verified(client, practitioner)
    client.post(reverse("core:notifications"), {"read": "all"})
    assert notifications.unread_count(user=practitioner) == 0


def test_the_preference_page_saves_the_choice_and_says_what_is_wrong(client, practitioner):
    from tests.conftest import sign_in_verified

    sign_in_verified(client, practitioner)
    url = reverse("core:notification_preferences")
    response = client.post(url, {})
    assert response.status_code == 400
    assert "Select how you want to hear about notifications" in response.content.decode()
    client.post(url, {"delivery": "digest"})
    assert notifications.delivery_for(user=practitioner) == "digest"


def test_the_header_count_costs_one_query(client, practitioner, django_assert_num_queries):
    from django.template import Context, Template
    from django.test import RequestFactory

    from core.context_processors import notifications as processor

    for n in range(5):
        notifications.notify(users=[practitioner], kind=KIND, text=f"Referral MASH-{n} is overdue")
    request = RequestFactory().get("/")
    request.user = practitioner
    context = processor(request)
    with django_assert_num_queries(1):
        assert Template("{{ notifications_unread }}").render(Context(context)) == "5"
