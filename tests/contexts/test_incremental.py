"""After a referral is saved: only the rules it can affect, a fixed number of queries, through
the outbox, and never the same alert twice."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from contexts.models import Alert, AlertEvidence, PatternRule
from contexts.services import patterns_check_all, patterns_check_referral
from core.models import OutboxMessage
from referrals import changes
from referrals.services import ChildInput, referral_add_child
from tests.contexts.helpers import ALLEGED, OTHER, VICTIM, referral, school_referral
from tests.factories import ChildFactory, SchoolFactory, UserFactory

pytestmark = pytest.mark.django_db

D = dt.date
Kind = PatternRule.Kind


def test_a_referral_checks_only_the_rules_it_can_affect():
    bullying = referral(D(2019, 1, 1), [(ChildFactory(), VICTIM), (ChildFactory(), ALLEGED)], form="bullying")
    assert patterns_check_referral(referral_id=bullying.pk).rules_checked == [Kind.CHILD, Kind.GROUP]
    placed = referral(D(2019, 1, 1), [(ChildFactory(), VICTIM)], place="Bus station")
    # One child, a victim at a school: no alleged perpetrator at the same school, no group.
    assert patterns_check_referral(referral_id=placed.pk).rules_checked == [
        Kind.SCHOOL,
        Kind.CHILD,
        Kind.PLACE,
    ]
    not_peer = referral(D(2019, 1, 1), [(ChildFactory(), VICTIM)], peer=False)
    assert patterns_check_referral(referral_id=not_peer.pk).rules_checked == []


def test_a_rule_switched_off_is_not_checked():
    PatternRule.objects.filter(kind=Kind.GROUP).update(active=False)
    made = referral(D(2019, 1, 1), [(ChildFactory(), VICTIM), (ChildFactory(), ALLEGED)], form="bullying")
    assert patterns_check_referral(referral_id=made.pk).rules_checked == [Kind.CHILD]


def test_the_check_of_one_referral_raises_what_the_nightly_run_would():
    school = SchoolFactory()
    made = [school_referral(school, day) for day in (D(2018, 3, 1), D(2018, 9, 1), D(2019, 3, 1))]
    result = patterns_check_referral(referral_id=made[-1].pk)
    assert result.raised == 2  # the school (three referrals) and same school (one)
    assert patterns_check_all().raised == 0  # the nightly run finds nothing new


def _queries_for(referral_id: int) -> int:
    with CaptureQueriesContext(connection) as queries:
        patterns_check_referral(referral_id=referral_id)
    return len(queries)


def test_the_same_queries_whatever_the_size_of_the_record():
    """The check reads a fixed number of queries: a few referrals or many more about the same
    school, children and place outside its window, and about other schools."""
    school = SchoolFactory()
    child = ChildFactory(school=school)
    friend = ChildFactory(school=school)

    def ours(day):
        return referral(day, [(child, VICTIM), (friend, ALLEGED)], place="The Rec")

    target = ours(D(2019, 6, 1))
    ours(D(2019, 7, 1))
    patterns_check_all()  # the alerts already stand: the check finds nothing new
    small = _queries_for(target.pk)
    for year in (2010, 2012, 2014):
        ours(D(year, 1, 1))
    for _ in range(6):
        school_referral(SchoolFactory(), D(2019, 6, 1))
        referral(D(2019, 6, 1), [(ChildFactory(), VICTIM), (ChildFactory(), ALLEGED)], place="Elsewhere")
    patterns_check_all()
    assert _queries_for(target.pk) == small


def test_checking_twice_raises_nothing_more():
    child = ChildFactory()
    referral(D(2018, 1, 1), [(ChildFactory(), VICTIM), (child, ALLEGED)])
    second = referral(D(2018, 6, 1), [(ChildFactory(), VICTIM), (child, ALLEGED)])
    first_run = patterns_check_referral(referral_id=second.pk)
    assert first_run.raised >= 1
    alerts, evidence = Alert.objects.count(), AlertEvidence.objects.count()
    assert patterns_check_referral(referral_id=second.pk).raised == 0
    assert patterns_check_all().raised == 0
    assert (Alert.objects.count(), AlertEvidence.objects.count()) == (alerts, evidence)


def test_a_new_referral_adds_to_an_open_alert_and_raises_a_new_one_once_it_was_acted_on(manager):
    from contexts.services import ActionInput, alert_record_action

    PatternRule.objects.exclude(kind=Kind.CHILD).update(active=False)
    child = ChildFactory()
    referral(D(2018, 1, 1), [(ChildFactory(), VICTIM), (child, ALLEGED)])
    referral(D(2018, 2, 1), [(ChildFactory(), VICTIM), (child, ALLEGED)])
    patterns_check_all()
    (alert,) = Alert.objects.all()
    third = referral(D(2018, 3, 1), [(ChildFactory(), VICTIM), (child, ALLEGED)])
    result = patterns_check_referral(referral_id=third.pk)
    assert (result.raised, result.extended) == (0, 1)
    assert AlertEvidence.objects.filter(alert=alert).count() == 3
    alert.refresh_from_db()
    assert alert.history.first().history_change_reason == "1 more referral in the pattern"

    alert_record_action(
        user=manager,
        alert_id=alert.pk,
        expected_version=alert.version,
        data=ActionInput(
            kind="strategy_discussion", taken_on=timezone.localdate(), note="Strategy discussion held"
        ),
    )
    fourth = referral(D(2018, 4, 1), [(ChildFactory(), VICTIM), (child, ALLEGED)])
    assert patterns_check_referral(referral_id=fourth.pk).raised == 1
    newer = Alert.objects.exclude(pk=alert.pk).get()
    assert newer.is_open
    assert set(newer.evidence.values_list("referral_id", flat=True)) >= {fourth.pk}


def test_saving_a_referral_queues_its_check_through_the_outbox():
    made = referral(D(2019, 1, 1), [(ChildFactory(), VICTIM), (ChildFactory(), ALLEGED)], status="received")
    user = UserFactory()
    referral_add_child(
        user=user,
        referral_id=made.pk,
        expected_version=made.version,
        child=ChildInput(
            role=OTHER, first_name="Sam", last_name="Othertest", date_of_birth=D(2008, 1, 1), gender="female"
        ),
    )
    assert OutboxMessage.objects.filter(task="contexts.tasks.check_referral", args=[made.pk]).exists()


def test_a_large_import_queues_one_full_run():
    changes.referrals_saved(referral_ids=range(1, 200))
    assert list(OutboxMessage.objects.values_list("task", "args")) == [("contexts.tasks.check_all", [])]


def test_after_commit_the_worker_raises_the_alert(django_capture_on_commit_callbacks, manager):
    """The whole way: saved, committed, published, run (eagerly here), managers notified."""
    from core.models import Notification

    child = ChildFactory()
    referral(D(2018, 1, 1), [(ChildFactory(), VICTIM), (child, ALLEGED)])
    second = referral(D(2018, 2, 1), [(ChildFactory(), VICTIM), (child, ALLEGED)])
    with django_capture_on_commit_callbacks(execute=True):
        changes.referrals_saved(referral_ids=[second.pk])
    alert = Alert.objects.get(rule__kind=Kind.CHILD)
    note = Notification.objects.get(user=manager, kind="context_alert")
    assert note.url == f"/contexts/alerts/{alert.pk}/"
    assert child.first_name not in note.text
    assert note.text.startswith(f"Alert {alert.pk}: ")


def test_an_alert_raised_and_extended_in_one_run_keeps_the_history_a_save_of_each_step_writes():
    """The nightly run writes its new alerts together: each still has a record raising it and
    one per extension, in order, by no user, with its version then."""
    PatternRule.objects.exclude(kind=Kind.CHILD).update(active=False)
    child = ChildFactory()
    for day in (D(2015, 1, 1), D(2015, 2, 1), D(2019, 1, 1), D(2019, 2, 1), D(2019, 3, 1)):
        referral(day, [(ChildFactory(), VICTIM), (child, ALLEGED)])
    result = patterns_check_all()
    assert (result.raised, result.extended) == (1, 1)  # two patterns, years apart: one open alert
    (alert,) = Alert.objects.all()
    assert alert.version == 2
    assert AlertEvidence.objects.filter(alert=alert).count() == 5
    history = [
        (h.history_type, h.version, h.history_change_reason, h.history_user_id)
        for h in alert.history.order_by("history_date", "history_id")
    ]
    assert history == [
        ("+", 1, "Raised by the nightly run", None),
        ("~", 2, "3 more referrals in the pattern", None),
    ]
    assert list(alert.history.values_list("version", flat=True)) == [2, 1]  # newest first


def test_the_contexts_a_run_opens_have_the_history_a_save_writes():
    from contexts.models import Context

    school = SchoolFactory()
    for day in (D(2018, 3, 1), D(2018, 9, 1), D(2019, 3, 1)):
        school_referral(school, day, place="The Rec")
    patterns_check_all()
    contexts = Context.objects.order_by("id")
    assert [(c.kind, c.school_id, c.place_key != "") for c in contexts] == [
        ("school", school.pk, False),
        ("place", None, True),
    ]
    for context in contexts:
        assert [
            (h.history_type, h.history_change_reason, h.history_user_id, h.created_at)
            for h in context.history.all()
        ] == [("+", "Context opened by a pattern rule", None, context.created_at)]


def test_saves_announced_together_queue_one_full_run_not_a_check_each():
    """The demo data's hundreds of referrals (referrals.changes.batched): one full run."""
    made = [referral(D(2019, 1, 1), [(ChildFactory(), VICTIM)]) for _ in range(3)]
    OutboxMessage.objects.all().delete()
    heard: list[list[int]] = []
    changes.register(heard.append)
    try:
        with changes.batched():
            with changes.batched():  # nested: the outermost announces
                changes.referrals_saved(referral_ids=[made[0].pk])
            for one in made:
                changes.referrals_saved(referral_ids=[one.pk])
            assert heard == []
    finally:
        changes._listeners.remove(heard.append)
    assert heard == [sorted(m.pk for m in made)]
    assert (
        list(OutboxMessage.objects.values_list("task", flat=True)) == ["contexts.tasks.check_referral"] * 3
    )  # three referrals: under the bulk threshold, a check each
    OutboxMessage.objects.all().delete()
    with changes.batched():
        changes.referrals_saved(referral_ids=range(1, 60))
    assert list(OutboxMessage.objects.values_list("task", flat=True)) == ["contexts.tasks.check_all"]


def _a_failing_batch():
    with changes.batched():
        changes.referrals_saved(referral_ids=[1])
        raise RuntimeError("the job failed")


def test_a_batch_that_fails_announces_nothing():
    heard: list[list[int]] = []
    changes.register(heard.append)
    try:
        with pytest.raises(RuntimeError, match="the job failed"):
            _a_failing_batch()
    finally:
        changes._listeners.remove(heard.append)
    assert heard == []
