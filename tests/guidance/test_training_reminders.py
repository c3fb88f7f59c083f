"""DSL training coverage can remind schools whose DSL's training is out of date: a confirmation
page first, one reminder per school (who asked, when), through the outbox like every other
e-mail, none again within the interval, and nothing in the e-mail about any case."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from core.models import OutboxMessage
from core.roles import Role
from modelguidance import services
from modelguidance.models import TrainingReminder
from tests.conftest import sign_in_verified
from tests.factories import SchoolFactory
from tests.guidance.helpers import school_with_dsl

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(role_user):
    return role_user(Role.REPORT_OFFICER, username="officer", first_name="Olu", last_name="Officer")


@pytest.fixture
def schools():
    today = timezone.localdate()
    lapsed, _ = school_with_dsl(trained_on=today - dt.timedelta(days=3 * 365), name="Lapsed Primary")
    never, _ = school_with_dsl(trained_on=None, name="Never Trained High")
    current, _ = school_with_dsl(trained_on=today - dt.timedelta(days=30), name="Current Academy")
    nobody = SchoolFactory(name="No Lead School")
    return {"lapsed": lapsed, "never": never, "current": current, "nobody": nobody}


def test_the_confirmation_page_lists_who_will_be_reminded_and_sends_nothing(client, officer, schools):
    sign_in_verified(client, officer)
    body = client.get(reverse("modelguidance:training_reminders")).content.decode()
    listed = body.split('id="reminder-schools"')[1].split("</ul>")[0]
    assert "Lapsed Primary" in listed
    assert "Never Trained High" in listed
    assert "Current Academy" not in listed
    assert "No Lead School" not in listed
    assert "No Lead School" in body  # named as having nobody to e-mail
    assert "Send 2 reminders" in body
    assert not TrainingReminder.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_sending_records_who_and_when_queues_through_the_outbox_and_e_mails_no_case(
    client, officer, schools, django_capture_on_commit_callbacks
):
    from tests.factories import ReferralFactory

    referral = ReferralFactory()  # a case in the system: nothing of it may reach an e-mail
    sign_in_verified(client, officer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("modelguidance:training_reminders"))
    assert response.status_code == 302
    reminders = list(TrainingReminder.objects.select_related("school", "lead").order_by("school__name"))
    assert [r.school for r in reminders] == [schools["lapsed"], schools["never"]]
    assert all(r.requested_by_id == officer.pk and r.sent_at is not None for r in reminders)
    assert set(OutboxMessage.objects.values_list("task", flat=True)) == {
        "modelguidance.tasks.send_training_reminder"
    }
    assert sorted(m.to[0] for m in mail.outbox) == sorted(r.lead.email for r in reminders)
    for message in mail.outbox:
        assert referral.reference not in message.body
        assert "referral" not in message.body.lower()
        assert "training" in message.subject.lower()
    # The coverage page says who sent it and when.
    body = client.get(reverse("modelguidance:coverage")).content.decode()
    assert "by Olu Officer" in body


def test_no_school_is_reminded_again_within_the_interval(
    officer, schools, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = services.training_reminders_request(user=officer, on=timezone.localdate())
    assert len(first) == 2
    assert services.training_reminders_request(user=officer, on=timezone.localdate()) == []
    later = timezone.now() + dt.timedelta(days=services.REMINDER_INTERVAL_DAYS + 1)
    with time_machine.travel(later, tick=False):
        assert len(services.training_reminders_request(user=officer, on=timezone.localdate())) == 2


def test_sending_twice_sends_one_e_mail(officer, schools):
    reminder = services.training_reminders_request(user=officer, on=timezone.localdate())[0]
    assert services.training_reminder_send(reminder_id=reminder.pk) is True
    assert services.training_reminder_send(reminder_id=reminder.pk) is False
    assert len(mail.outbox) == 1


@pytest.mark.parametrize("role", [Role.MASH_MANAGER, Role.MASH_PRACTITIONER, Role.LEAD_REVIEWER])
def test_only_those_who_write_to_schools_may_send_reminders(client, role_user, role, schools):
    sign_in_verified(client, role_user(role))
    assert client.get(reverse("modelguidance:training_reminders")).status_code in (403, 404)
    assert client.post(reverse("modelguidance:training_reminders")).status_code in (403, 404)
    assert not TrainingReminder.objects.exists()


def test_the_acknowledgement_list_names_each_schools_dsl(client, officer, django_capture_on_commit_callbacks):
    from tests.guidance.helpers import published

    _school, lead = school_with_dsl(trained_on=None, name="Brookside Academy")
    with django_capture_on_commit_callbacks(execute=True):
        version = published(officer, title="Published guidance")
    sign_in_verified(client, officer)
    body = client.get(reverse("modelguidance:version_acknowledgements", args=[version.pk])).content.decode()
    assert lead.name in body
    assert lead.email in body


def test_one_reminder_is_announced_in_the_singular(client, officer):
    school_with_dsl(trained_on=None, name="Never Trained High")
    sign_in_verified(client, officer)
    response = client.post(reverse("modelguidance:training_reminders"), follow=True)
    assert "Reminder e-mailed to 1 school&#x27;s designated safeguarding lead" in response.content.decode()
