"""What a manager records about an alert: who, when, what; never a silent close."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from contexts.models import Alert, AlertAction, PatternRule
from contexts.services import ActionInput, AlertConflict, patterns_check_all
from contexts.services import alert_record_action as _record
from core.roles import Role
from tests.contexts.helpers import ALLEGED, VICTIM, referral
from tests.factories import ChildFactory
from tests.nplusone import unit_of_work

pytestmark = pytest.mark.django_db

alert_record_action = unit_of_work(_record)

D = dt.date


@pytest.fixture
def alert():
    PatternRule.objects.exclude(kind=PatternRule.Kind.CHILD).update(active=False)
    child = ChildFactory()
    referral(D(2018, 1, 1), [(ChildFactory(), VICTIM), (child, ALLEGED)])
    referral(D(2018, 2, 1), [(ChildFactory(), VICTIM), (child, ALLEGED)])
    patterns_check_all()
    return Alert.objects.select_related("rule").get()


def test_an_action_is_recorded_with_who_and_when_and_the_alert_is_acted_on(alert, manager):
    action = alert_record_action(
        user=manager,
        alert_id=alert.pk,
        expected_version=alert.version,
        data=ActionInput(
            kind="police_problem_solving", taken_on=timezone.localdate(), note="Referred to the team"
        ),
    )
    alert.refresh_from_db()
    assert alert.status == Alert.Status.ACTED_ON
    assert alert.acted_on_by == manager
    assert alert.acted_on_at == action.recorded_at
    assert action.recorded_by == manager
    assert [h.history_change_reason for h in alert.history.order_by("history_id")] == [
        "Raised by the nightly run",
        "Action recorded: Referral to the police's problem-solving team",
    ]
    assert action.history.get().history_user == manager


def test_no_action_needs_a_reason(alert, manager):
    with pytest.raises(ValidationError) as refused:
        alert_record_action(
            user=manager,
            alert_id=alert.pk,
            expected_version=alert.version,
            data=ActionInput(kind="no_action", taken_on=timezone.localdate(), note="ok"),
        )
    assert "note" in refused.value.message_dict
    alert.refresh_from_db()
    assert alert.is_open
    alert_record_action(
        user=manager,
        alert_id=alert.pk,
        expected_version=alert.version,
        data=ActionInput(
            kind="no_action",
            taken_on=timezone.localdate(),
            note="Both referrals were about the same incident reported twice by different agencies",
        ),
    )
    alert.refresh_from_db()
    assert not alert.is_open


def test_school_advice_is_only_for_a_school_alert(alert, manager):
    with pytest.raises(ValidationError) as refused:
        alert_record_action(
            user=manager,
            alert_id=alert.pk,
            expected_version=alert.version,
            data=ActionInput(kind="school_advice", taken_on=timezone.localdate(), note="Advice given"),
        )
    assert "kind" in refused.value.message_dict


def test_a_date_in_the_future_is_refused(alert, manager):
    with pytest.raises(ValidationError):
        alert_record_action(
            user=manager,
            alert_id=alert.pk,
            expected_version=alert.version,
            data=ActionInput(
                kind="strategy_discussion", taken_on=timezone.localdate() + dt.timedelta(days=1), note="Held"
            ),
        )


def test_only_a_manager_records_an_action(alert, role_user):
    practitioner = role_user(Role.MASH_PRACTITIONER)
    with pytest.raises(ValidationError):
        alert_record_action(
            user=practitioner,
            alert_id=alert.pk,
            expected_version=alert.version,
            data=ActionInput(kind="strategy_discussion", taken_on=timezone.localdate(), note="Held"),
        )
    assert not AlertAction.objects.exists()


def test_a_stale_form_is_refused(alert, manager):
    with pytest.raises(AlertConflict):
        alert_record_action(
            user=manager,
            alert_id=alert.pk,
            expected_version=alert.version - 1,
            data=ActionInput(kind="strategy_discussion", taken_on=timezone.localdate(), note="Held"),
        )


def test_alerts_are_not_in_the_admin_so_nothing_closes_or_deletes_one_there():
    from django.contrib.admin.sites import site

    assert Alert not in site._registry


def test_the_action_page_records_an_action(alert, manager, verified_client):
    client = verified_client(manager)
    page = client.get(f"/contexts/alerts/{alert.pk}/action/")
    assert page.status_code == 200
    assert "Advice or training for the school" not in page.content.decode()
    refused = client.post(
        f"/contexts/alerts/{alert.pk}/action/",
        {
            "kind": "no_action",
            "taken_on_0": str(timezone.localdate().day),
            "taken_on_1": str(timezone.localdate().month),
            "taken_on_2": str(timezone.localdate().year),
            "note": "no",
            "version": alert.version,
        },
    )
    assert refused.status_code == 400
    assert "There is a problem" in refused.content.decode()
    done = client.post(
        f"/contexts/alerts/{alert.pk}/action/",
        {
            "kind": "strategy_discussion",
            "taken_on_0": str(timezone.localdate().day),
            "taken_on_1": str(timezone.localdate().month),
            "taken_on_2": str(timezone.localdate().year),
            "note": "Strategy discussion with the police and the school",
            "version": alert.version,
        },
    )
    assert done.status_code == 302
    alert.refresh_from_db()
    assert alert.status == Alert.Status.ACTED_ON


def test_an_action_cannot_be_dated_before_the_alert_was_raised(alert, manager):
    raised = timezone.localtime(alert.raised_at).date()
    with pytest.raises(ValidationError) as refused:
        _record(
            user=manager,
            alert_id=alert.pk,
            expected_version=alert.version,
            data=ActionInput(
                kind="strategy_discussion", taken_on=raised - dt.timedelta(days=1), note="Held a meeting"
            ),
        )
    assert refused.value.message_dict["taken_on"] == [
        f"The date must be on or after {raised.day} {raised:%B %Y}"
    ]
    assert not AlertAction.objects.exists()


def test_every_action_needs_a_note_that_says_something(alert, manager):
    with pytest.raises(ValidationError) as refused:
        _record(
            user=manager,
            alert_id=alert.pk,
            expected_version=alert.version,
            data=ActionInput(kind="strategy_discussion", taken_on=timezone.localdate(), note="."),
        )
    assert "note" in refused.value.message_dict
    alert.refresh_from_db()
    assert alert.is_open
