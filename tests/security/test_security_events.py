"""Security events: append-only, e-mailed to the account holder and (some kinds) to IG."""

from __future__ import annotations

import pytest
from django.core import mail

from core.models import AppendOnlyError, SecurityEvent
from core.roles import Role
from core.security_events import security_event_record

pytestmark = pytest.mark.django_db


def test_an_event_is_written_and_the_account_holder_is_told_without_case_data(
    role_user, django_capture_on_commit_callbacks
):
    user = role_user(Role.MASH_PRACTITIONER, username="holder", email="holder@council.example")
    with django_capture_on_commit_callbacks(execute=True):
        event = security_event_record(kind=SecurityEvent.Kind.TWO_FACTOR_ENROLLED, user=user, actor=user)
    assert SecurityEvent.objects.get().pk == event.pk
    assert [m.to for m in mail.outbox] == [["holder@council.example"]]
    assert "Second factor set up" in mail.outbox[0].body


def test_ig_is_told_of_a_role_change(role_user, django_capture_on_commit_callbacks):
    ig = role_user(Role.INFORMATION_GOVERNANCE, username="ig", email="ig@council.example")
    admin = role_user(Role.ADMINISTRATOR, username="boss")
    user = role_user(Role.REVIEWER, username="holder", email="holder@council.example")
    with django_capture_on_commit_callbacks(execute=True):
        security_event_record(
            kind=SecurityEvent.Kind.ROLE_CHANGED, user=user, actor=admin, detail="+Reviewer"
        )
    recipients = sorted(tuple(m.to) for m in mail.outbox)
    assert recipients == sorted([(ig.email,), ("holder@council.example",)])


def test_security_events_cannot_be_changed_or_removed(role_user):
    user = role_user(Role.REVIEWER, username="holder")
    event = security_event_record(kind=SecurityEvent.Kind.RECOVERY_CODE_USED, user=user, tell_user=False)
    event.detail = "changed"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        SecurityEvent.objects.all().delete()
