"""Information governance searches security events beside the access log."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.models import SecurityEvent
from core.roles import Role
from core.security_events import security_event_record
from tests.conftest import sign_in_verified
from tests.nplusone import set_up

pytestmark = pytest.mark.django_db

PAGE = "core:security_events"
Kind = SecurityEvent.Kind


@set_up
def events(users, count: int, kind=Kind.TWO_FACTOR_ENROLLED, at=None) -> None:
    for index in range(count):
        user = users[index % len(users)]
        if at is None:
            security_event_record(kind=kind, user=user, actor=user, tell_user=False)
        else:  # written as it was then (events are append-only: never moved afterwards)
            SecurityEvent.objects.create(kind=kind, user=user, actor=user, at=at)


def cell(text: str) -> str:
    return f'<td class="govuk-table__cell">{text}</td>'


def test_ig_searches_by_username_kind_and_date(client, role_user):
    ig = role_user(Role.INFORMATION_GOVERNANCE, username="ig")
    alice = role_user(Role.MASH_PRACTITIONER, username="alice")
    bob = role_user(Role.REVIEWER, username="bob")
    events([alice], 1, kind=Kind.TWO_FACTOR_REPLACED)
    events([bob], 1, kind=Kind.RECOVERY_CODE_USED, at=timezone.now() - dt.timedelta(days=10))
    sign_in_verified(client, ig)
    everything = client.get(reverse(PAGE)).content.decode()
    assert cell("Second factor replaced") in everything
    assert cell("Recovery code used") in everything
    by_name = client.get(reverse(PAGE), {"username": "ali"}).content.decode()
    assert cell("Second factor replaced") in by_name
    assert cell("Recovery code used") not in by_name
    by_kind = client.get(reverse(PAGE), {"kind": Kind.RECOVERY_CODE_USED}).content.decode()
    assert cell("Recovery code used") in by_kind
    assert cell("Second factor replaced") not in by_kind
    since = (timezone.localdate() - dt.timedelta(days=2)).isoformat()
    recent = client.get(reverse(PAGE), {"start": since}).content.decode()
    assert cell("Second factor replaced") in recent
    assert cell("Recovery code used") not in recent
    bad = client.get(reverse(PAGE), {"start": "2024-13-40", "kind": "nonsense"})
    assert bad.status_code == 400
    assert "Enter a real date for &#x27;from&#x27;" in bad.content.decode()
    assert "Select an event from the list" in bad.content.decode()
    # It sits beside the access log.
    assert reverse(PAGE) in client.get(reverse("core:access_log")).content.decode()


def test_the_list_is_paginated_and_its_queries_do_not_grow(client, role_user):
    ig = role_user(Role.INFORMATION_GOVERNANCE, username="ig")
    users = [role_user(Role.MASH_PRACTITIONER, username=f"p{n}") for n in range(3)]
    sign_in_verified(client, ig)

    def queries() -> int:
        client.get(reverse(PAGE))
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse(PAGE)).status_code == 200
        return len(captured)

    events(users, 3)
    small = queries()
    events(users, 57)
    assert queries() == small
    first = client.get(reverse(PAGE)).content.decode()
    assert first.count('<td class="govuk-table__cell">Second factor set up</td>') == 50
    assert "Next" in first
    second = client.get(reverse(PAGE), {"page": 2}).content.decode()
    assert second.count('<td class="govuk-table__cell">Second factor set up</td>') == 10


@pytest.mark.parametrize("role", [r for r in Role if r != Role.INFORMATION_GOVERNANCE])
def test_only_information_governance_opens_it(client, role_user, role):
    sign_in_verified(client, role_user(role))
    assert client.get(reverse(PAGE)).status_code == 404


@pytest.mark.parametrize("page", ["core:security_events", "core:access_log"])
def test_both_audit_searches_refuse_a_to_date_before_the_from_date(client, role_user, page):
    """One who-and-when form (core.forms._LogSearchForm) for both searches: the date check
    lives there, so the access log has it as well as the security events."""
    from core.forms import AccessLogSearchForm, SecurityEventSearchForm

    sign_in_verified(client, role_user(Role.INFORMATION_GOVERNANCE, username="ig"))
    response = client.get(reverse(page), {"start": "2026-03-10", "end": "2026-03-01"})
    assert response.status_code == 400
    assert "&#x27;To&#x27; must be the same as or after &#x27;from&#x27;" in response.content.decode()
    for form_class in (AccessLogSearchForm, SecurityEventSearchForm):
        same_day = form_class({"start": "2026-03-01", "end": "2026-03-01"})
        assert same_day.is_valid(), same_day.errors


def test_the_step_up_form_takes_the_one_password_field():
    from core import forms

    assert forms.StepUpForm.base_fields["password"].max_length == forms.PASSWORD_MAX_LENGTH
    # A key-only account's step-up asks for the password alone, through the same one field.
    assert forms.PasswordAgainForm.base_fields["password"].max_length == forms.PASSWORD_MAX_LENGTH
