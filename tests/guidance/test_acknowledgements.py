"""Publishing e-mails each school's DSL a link to acknowledge; links are single-use, expire,
and work only for the school they were sent to. The DSL needs no account."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from core.roles import Role
from modelguidance import services
from modelguidance.models import Acknowledgement
from tests.conftest import sign_in_verified
from tests.guidance.helpers import approved, published, school_with_dsl

pytestmark = pytest.mark.django_db
LINK = re.compile(r"https?://[^\s]+/guidance/acknowledge/(?P<urn>[^/]+)/(?P<token>[^/\s]+)/")


@pytest.fixture
def officer(role_user):
    return role_user(Role.REPORT_OFFICER, username="officer")


@pytest.fixture
def schools():
    return [school_with_dsl(name=f"School {n}", urn=f"70000{n}")[0] for n in range(3)]


def _publish(officer, django_capture_on_commit_callbacks, **kwargs):
    with django_capture_on_commit_callbacks(execute=True):
        return published(officer, **kwargs)


def _links():
    return {m.to[0]: LINK.search(m.body) for m in mail.outbox}


def test_publishing_emails_each_schools_dsl_once_the_transaction_commits(
    officer, schools, django_capture_on_commit_callbacks
):
    version = approved(officer)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.guidance_version_publish(user=version.approved_by, version_id=version.pk)
    assert mail.outbox == []  # nothing goes before the commit
    assert len(callbacks) == 4  # the public PDF's rendering and one e-mail per school
    for callback in callbacks:
        callback()
    assert sorted(m.to[0] for m in mail.outbox) == sorted(f"dsl{s.urn}@school.example" for s in schools)
    for message in mail.outbox:
        match = LINK.search(message.body)
        assert match, message.body
        school = next(s for s in schools if s.urn == match["urn"])
        assert school.name in message.body
        assert not any(other.name in message.body for other in schools if other != school)
    acks = Acknowledgement.objects.filter(guidance_version=version)
    assert acks.count() == 3
    assert all(a.sent_at and a.expires_at and len(a.token_hash) == 64 for a in acks)
    # Only a hash is stored: the token from the e-mail is nowhere in the database row.
    for match in _links().values():
        assert not Acknowledgement.objects.filter(token_hash=match["token"]).exists()


def test_sending_twice_sends_once(officer, schools, django_capture_on_commit_callbacks):
    version = _publish(officer, django_capture_on_commit_callbacks)
    ack = Acknowledgement.objects.filter(guidance_version=version).first()
    assert services.acknowledgement_send(acknowledgement_id=ack.pk) is False
    assert len(mail.outbox) == 3


def test_the_jobs_go_through_the_outbox_with_ids_only(officer, schools):
    """ADR 0013: publishing and reminders queue their jobs as outbox rows in the same
    transaction (kept if the broker is down), carrying primary keys only."""
    from collections import Counter

    from core.models import OutboxMessage

    version = published(officer)  # the test's transaction never commits: the rows stay unsent
    messages = list(OutboxMessage.objects.order_by("pk"))
    assert Counter(m.task for m in messages) == {
        "modelguidance.tasks.render_published_pdf": 1,
        "modelguidance.tasks.send_acknowledgement_request": len(schools),
    }
    acks = Acknowledgement.objects.filter(guidance_version=version)
    assert sorted(m.args for m in messages) == sorted([[version.pk]] + [[a.pk] for a in acks])
    assert all(m.sent_at is None for m in messages)
    services.acknowledgements_remind_all(user=officer, version_id=version.pk)
    first = acks.order_by("pk").first()
    services.acknowledgement_remind(user=officer, acknowledgement_id=first.pk)
    reminders = OutboxMessage.objects.filter(task="modelguidance.tasks.send_acknowledgement_reminder")
    assert sorted(m.args for m in reminders) == sorted([[a.pk] for a in acks] + [[first.pk]])


def test_a_dsl_acknowledges_without_an_account_and_the_link_then_stops_working(
    client, officer, schools, django_capture_on_commit_callbacks
):
    version = _publish(officer, django_capture_on_commit_callbacks)
    school = schools[0]
    match = _links()[f"dsl{school.urn}@school.example"]
    url = reverse("modelguidance:acknowledge", kwargs={"urn": match["urn"], "token": match["token"]})
    page = client.get(url)
    body = page.content.decode()
    assert page.status_code == 200
    assert school.name in body
    assert not any(other.name in body for other in schools[1:])  # no other school's data
    assert "Sign out" not in body
    # Opening the link changes nothing (mail scanners open links).
    assert not Acknowledgement.objects.get(guidance_version=version, school=school).acknowledged_at
    refused = client.post(url, {"name": ""})
    assert refused.status_code == 400
    assert "Enter your full name" in refused.content.decode()
    assert "Confirm the school has received this version" in refused.content.decode()
    done = client.post(url, {"name": "Dee Ess-Ell", "confirm": "on"})
    assert done.status_code == 200
    assert "Acknowledgement recorded" in done.content.decode()
    ack = Acknowledgement.objects.get(guidance_version=version, school=school)
    assert ack.acknowledged_at
    assert ack.acknowledged_name == "Dee Ess-Ell"
    assert ack.history.first().history_change_reason.startswith("Acknowledged through the e-mailed link")
    # Single use: the same link again is refused, by GET and by POST, and changes nothing.
    again = client.get(url)
    assert again.status_code == 410
    assert "already been used" in again.content.decode()
    assert client.post(url, {"name": "Someone else", "confirm": "on"}).status_code == 410
    ack.refresh_from_db()
    assert ack.acknowledged_name == "Dee Ess-Ell"


@pytest.mark.postgres
def test_a_200_character_name_is_recorded_not_a_server_error(
    client, officer, schools, django_capture_on_commit_callbacks
):
    """The name field takes 200 characters; the history's change reason column holds 100, which
    PostgreSQL enforces. The public page records the acknowledgement and the full name; the
    history's reason is shortened (core.records.save_with_history), not refused."""
    version = _publish(officer, django_capture_on_commit_callbacks)
    school = schools[0]
    match = _links()[f"dsl{school.urn}@school.example"]
    url = reverse("modelguidance:acknowledge", kwargs={"urn": match["urn"], "token": match["token"]})
    name = ("Dee Ess-Ell " * 20)[:199] + "Z"
    assert len(name) == 200
    done = client.post(url, {"name": name, "confirm": "on"})
    assert done.status_code == 200
    assert "Acknowledgement recorded" in done.content.decode()
    ack = Acknowledgement.objects.get(guidance_version=version, school=school)
    assert ack.acknowledged_at
    assert ack.acknowledged_name == name
    reason = ack.history.first().history_change_reason
    assert reason.startswith("Acknowledged through the e-mailed link by Dee Ess-Ell")
    assert len(reason) <= 100


def test_a_link_for_one_school_is_refused_for_another(
    client, officer, schools, django_capture_on_commit_callbacks
):
    version = _publish(officer, django_capture_on_commit_callbacks)
    match = _links()[f"dsl{schools[0].urn}@school.example"]
    wrong = reverse("modelguidance:acknowledge", kwargs={"urn": schools[1].urn, "token": match["token"]})
    response = client.get(wrong)
    assert response.status_code == 404
    assert schools[0].name not in response.content.decode()
    assert schools[1].name not in response.content.decode()
    assert client.post(wrong, {"name": "Wrong", "confirm": "on"}).status_code == 404
    assert not Acknowledgement.objects.filter(
        guidance_version=version, acknowledged_at__isnull=False
    ).exists()


def test_a_made_up_token_is_refused(client, officer, schools, django_capture_on_commit_callbacks):
    _publish(officer, django_capture_on_commit_callbacks)
    url = reverse("modelguidance:acknowledge", kwargs={"urn": schools[0].urn, "token": "guessed-token"})
    assert client.get(url).status_code == 404


def test_a_link_expires(client, officer, schools, django_capture_on_commit_callbacks, settings):
    _publish(officer, django_capture_on_commit_callbacks)
    match = _links()[f"dsl{schools[0].urn}@school.example"]
    url = reverse("modelguidance:acknowledge", kwargs={"urn": match["urn"], "token": match["token"]})
    ack = Acknowledgement.objects.get(school=schools[0])
    with time_machine.travel(ack.expires_at - dt.timedelta(seconds=5)):
        assert client.get(url).status_code == 200
    with time_machine.travel(ack.expires_at + dt.timedelta(seconds=1)):
        response = client.post(url, {"name": "Late", "confirm": "on"})
        assert response.status_code == 410
        assert "expired" in response.content.decode()
    ack.refresh_from_db()
    assert ack.acknowledged_at is None
    assert ack.expires_at - ack.sent_at == dt.timedelta(days=settings.GUIDANCE_ACKNOWLEDGEMENT_DAYS)


def test_a_link_for_a_superseded_version_is_refused(
    client, officer, schools, django_capture_on_commit_callbacks
):
    _publish(officer, django_capture_on_commit_callbacks, title="First")
    match = _links()[f"dsl{schools[0].urn}@school.example"]
    _publish(officer, django_capture_on_commit_callbacks, title="Second")
    url = reverse("modelguidance:acknowledge", kwargs={"urn": match["urn"], "token": match["token"]})
    response = client.get(url)
    assert response.status_code == 410
    assert "newer version" in response.content.decode()


def test_the_council_sees_who_has_acknowledged_and_reminds_the_rest(
    client, officer, schools, django_capture_on_commit_callbacks
):
    version = _publish(officer, django_capture_on_commit_callbacks)
    first_links = _links()
    match = first_links[f"dsl{schools[0].urn}@school.example"]
    services.acknowledgement_confirm(urn=match["urn"], token=match["token"], name="Dee")
    school_with_dsl(name="Joined later")  # asked by no e-mail: not listed as waiting
    sign_in_verified(client, officer)
    page = client.get(reverse("modelguidance:version_acknowledgements", args=[version.pk]))
    body = page.content.decode()
    assert "1 of 3 schools asked have acknowledged" in body
    assert "Not acknowledged (2)" in body
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("modelguidance:version_acknowledgements", args=[version.pk]), {"all": "1"}
        )
    assert response.status_code == 302
    assert sorted(m.to[0] for m in mail.outbox) == sorted(f"dsl{s.urn}@school.example" for s in schools[1:])
    assert all(m.subject.startswith("Reminder:") for m in mail.outbox)
    # The reminder's link replaces the first one.
    old = first_links[f"dsl{schools[1].urn}@school.example"]
    assert client.get(reverse("modelguidance:acknowledge", kwargs=dict(old.groupdict()))).status_code == 404
    new = _links()[f"dsl{schools[1].urn}@school.example"]
    assert client.get(reverse("modelguidance:acknowledge", kwargs=dict(new.groupdict()))).status_code == 200
    ack = Acknowledgement.objects.get(school=schools[1])
    assert ack.reminders == 1
    # A reminder task run twice sends one e-mail.
    assert services.acknowledgement_send_reminder(acknowledgement_id=ack.pk) is False
    # An acknowledged school is not reminded.
    with pytest.raises(services.ValidationError):
        services.acknowledgement_remind(
            user=officer, acknowledgement_id=Acknowledgement.objects.get(school=schools[0]).pk
        )


def test_acknowledged_at_is_set_once(officer, schools, django_capture_on_commit_callbacks):
    _publish(officer, django_capture_on_commit_callbacks)
    match = _links()[f"dsl{schools[0].urn}@school.example"]
    services.acknowledgement_confirm(urn=match["urn"], token=match["token"], name="Dee")
    with pytest.raises(services.LinkRefused):
        services.acknowledgement_confirm(urn=match["urn"], token=match["token"], name="Dee again")
    assert Acknowledgement.objects.get(school=schools[0]).acknowledged_at <= timezone.now()
