"""The manager's day: allocation, overdue notifications (beat) and the dashboard."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from core.models import Notification
from core.roles import Role
from referrals import services
from referrals.dashboard import manager_dashboard
from referrals.models import RagLevel, Referral
from tests.conftest import sign_in_verified
from tests.factories import ReferralFactory

pytestmark = pytest.mark.django_db


def test_a_manager_allocates_and_the_practitioner_is_notified_with_history(
    manager, practitioner, django_capture_on_commit_callbacks
):
    referral = ReferralFactory()
    with django_capture_on_commit_callbacks(execute=True):
        services.referral_allocate(
            user=manager,
            referral_id=referral.pk,
            expected_version=referral.version,
            practitioner_id=practitioner.pk,
        )
    referral.refresh_from_db()
    assert referral.allocated_to == practitioner
    assert referral.allocated_by == manager
    assert referral.history.first().history_change_reason.startswith("Allocated to")
    (notification,) = Notification.objects.filter(user=practitioner)
    assert notification.kind == "referral_allocated"
    assert notification.text == f"Referral {referral.reference} is allocated to you"
    assert notification.url == reverse("referrals:detail", args=[referral.pk])
    assert len(mail.outbox) == 1
    assert referral.reference in mail.outbox[0].subject


def test_only_a_manager_allocates_and_only_to_the_mash_team(manager, practitioner, role_user):
    referral = ReferralFactory()
    with pytest.raises(ValidationError, match="Only a MASH manager"):
        services.referral_allocate(
            user=practitioner, referral_id=referral.pk, expected_version=None, practitioner_id=practitioner.pk
        )
    reviewer = role_user(Role.REVIEWER, username="rev")
    with pytest.raises(ValidationError):
        services.referral_allocate(
            user=manager, referral_id=referral.pk, expected_version=None, practitioner_id=reviewer.pk
        )


def test_the_allocate_page_needs_a_choice(client, manager, practitioner):
    referral = ReferralFactory()
    sign_in_verified(client, manager)
    url = reverse("referrals:allocate", args=[referral.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"version": referral.version})
    assert response.status_code == 400
    assert "Select a practitioner" in response.content.decode()
    response = client.post(url, {"version": referral.version, "practitioner": practitioner.pk})
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.allocated_to == practitioner


def test_the_allocate_page_is_for_managers_only(client, practitioner):
    referral = ReferralFactory()
    sign_in_verified(client, practitioner)
    assert client.get(reverse("referrals:allocate", args=[referral.pk])).status_code == 404
    assert client.get(reverse("referrals:dashboard")).status_code == 404


def test_overdue_referrals_notify_practitioner_and_managers_once_per_breach(
    manager, practitioner, django_capture_on_commit_callbacks
):
    from referrals.tasks import notify_overdue

    late = ReferralFactory(
        decision_due_at=timezone.now() - dt.timedelta(minutes=5), allocated_to=practitioner
    )
    ReferralFactory(decision_due_at=timezone.now() + dt.timedelta(hours=2))  # not yet due
    ReferralFactory(
        decision_due_at=timezone.now() - dt.timedelta(hours=1),
        status=Referral.Status.DECIDED,
        decided_at=timezone.now() - dt.timedelta(hours=2),
    )  # decided: nothing
    with django_capture_on_commit_callbacks(execute=True):
        assert notify_overdue() == 2
        assert notify_overdue() == 0  # the beat task runs again (or twice at once): nothing new
    assert set(Notification.objects.values_list("user__username", flat=True)) == {"manager", "practitioner"}
    assert all(late.reference in n.text for n in Notification.objects.all())
    assert len(mail.outbox) == 2
    assert all("Test narrative" not in m.body and "Referrer" not in m.body for m in mail.outbox)
    # A new due time that passes again is a new breach.
    Referral.objects.filter(pk=late.pk).update(decision_due_at=timezone.now() - dt.timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert notify_overdue() == 2


def test_the_beat_schedule_runs_the_overdue_and_digest_tasks():
    from django.conf import settings

    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"referrals.tasks.notify_overdue", "core.tasks.queue_notification_digests"} <= tasks


def test_the_dashboard_figures(manager, practitioner):
    now = timezone.now()
    red = RagLevel.objects.order_by("order").first()
    ReferralFactory(decision_due_at=now - dt.timedelta(hours=1), rag=red, allocated_to=practitioner)
    ReferralFactory(decision_due_at=now + dt.timedelta(minutes=1), rag=red)
    ReferralFactory(decision_due_at=now + dt.timedelta(days=3))  # not due today
    ReferralFactory(
        status=Referral.Status.DECIDED,
        decision_due_at=now - dt.timedelta(minutes=10),
        decided_at=now - dt.timedelta(minutes=20),
        decided_by=practitioner,
    )
    ReferralFactory(
        status=Referral.Status.DECIDED,
        decision_due_at=now - dt.timedelta(minutes=30),
        decided_at=now - dt.timedelta(minutes=5),
        decided_by=practitioner,
    )
    figures = manager_dashboard(queryset=Referral.objects.all(), practitioners=[practitioner], now=now)
    assert figures.due_total <= 2
    assert len(figures.due) == figures.due_total
    assert figures.due[0].is_overdue
    assert figures.due[0].time_left_text.startswith("Overdue by 1 hour")
    assert {(g.rag, g.overdue) for g in figures.by_rag} >= {(red, 1)}
    week = figures.timeliness[0]
    assert (week.decided, week.on_time, week.percent) == (2, 1, 50)
    (work,) = figures.work
    assert (work.open, work.overdue, work.decided_this_month) == (1, 1, 2)
    assert figures.unallocated == 2


def test_the_dashboard_page_draws_chart_and_table_in_few_queries(
    client, manager, practitioner, django_assert_max_num_queries
):
    for hours in range(-6, 6):
        ReferralFactory(
            decision_due_at=timezone.now() + dt.timedelta(minutes=30 * hours), allocated_to=practitioner
        )
    sign_in_verified(client, manager)
    with django_assert_max_num_queries(20):
        response = client.get(reverse("referrals:dashboard"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Decided within one working day" in page
    assert "<svg" in page
    assert "Overdue by" in page
    assert "Allocate" not in page.split("Work by practitioner")[1]
