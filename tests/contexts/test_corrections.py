"""Issue 17: a referral whose place or school is corrected after its alert was raised is taken
out of the evidence of the open alerts whose school or place it no longer names. The alert is
never closed by it (a manager acts on every alert), and its history says what changed."""

import datetime as dt

import pytest

from contexts.models import Alert, AlertAction, AlertEvidence, PatternRule
from contexts.services import TAKEN_OUT, patterns_check_all, patterns_check_referral
from core.models import AccessLogEntry
from referrals import changes
from tests.contexts.helpers import VICTIM, referral, school_referral
from tests.factories import ChildFactory, SchoolFactory
from tests.nplusone import unit_of_work

pytestmark = pytest.mark.django_db
D = dt.date


def _only(*kinds):
    PatternRule.objects.exclude(kind__in=kinds).update(active=False)


@unit_of_work
def _move_place(made, place):
    detail = made.detail
    detail.incident_place = place
    detail.save()


@unit_of_work
def _move_school(made, school):
    """A child's school corrected on the referral's form: the save announces the referral."""
    for link in made.children.select_related("child"):
        link.child.school = school
        link.child.save()
    changes.referrals_saved(referral_ids=[made.pk])


@pytest.fixture
def place_alert():
    _only(PatternRule.Kind.PLACE)
    made = [
        referral(day, [(ChildFactory(), VICTIM)], place="7 Elm Road")
        for day in (D(2019, 1, 1), D(2019, 2, 1), D(2019, 3, 1))
    ]
    patterns_check_all()
    return Alert.objects.get(), made


def test_a_corrected_place_takes_the_referral_out_of_the_open_alert(place_alert, manager, verified_client):
    alert, made = place_alert
    _move_place(made[0], "Town Park")
    result = patterns_check_referral(referral_id=made[0].pk)
    assert result.taken_out == 1
    assert set(AlertEvidence.objects.filter(alert=alert).values_list("referral_id", flat=True)) == {
        made[1].pk,
        made[2].pk,
    }
    alert.refresh_from_db()
    # Never closed by it: left with fewer referrals than the rule's 3, it awaits a manager.
    assert alert.status == Alert.Status.OPEN
    assert alert.history.first().history_change_reason == TAKEN_OUT
    removed = AlertEvidence.history.get(alert_id=alert.pk, referral_id=made[0].pk, history_type="-")
    assert removed.history_change_reason == TAKEN_OUT
    # Safe to run twice.
    assert patterns_check_referral(referral_id=made[0].pk).taken_out == 0

    html = verified_client(manager).get(f"/contexts/alerts/{alert.pk}/").content.decode()
    assert "Taken out of the evidence" in html
    assert f"{made[0].reference}</a> taken out on" in html
    assert f"{made[1].reference}</a></th>" in html  # still evidence
    assert f"{made[0].reference}</a></th>" not in html  # no longer evidence
    assert "Town Park" not in html
    assert "7 Elm Road" in html
    assert AccessLogEntry.objects.filter(
        user=manager, record_id=made[0].pk, fields=["ReferralDetail.incident_place"]
    ).exists()


def test_a_referral_taken_out_is_shown_only_to_someone_who_may_identify_it(
    place_alert, manager, verified_client
):
    from django.utils import timezone

    alert, made = place_alert
    _move_place(made[0], "Town Park")
    patterns_check_referral(referral_id=made[0].pk)
    type(made[0]).objects.filter(pk=made[0].pk).update(restricted_at=timezone.now())
    html = verified_client(manager).get(f"/contexts/alerts/{alert.pk}/").content.decode()
    assert made[0].reference not in html
    assert "Taken out of the evidence" not in html


def test_a_corrected_school_takes_the_referral_out_of_the_schools_open_alerts():
    _only(PatternRule.Kind.SCHOOL, PatternRule.Kind.SAME_SCHOOL)
    school, elsewhere = SchoolFactory(), SchoolFactory()
    made = [school_referral(school, day) for day in (D(2018, 3, 1), D(2018, 4, 1), D(2018, 5, 1))]
    patterns_check_all()
    alerts = list(Alert.objects.filter(context__school=school).select_related("rule"))
    assert {a.rule.kind for a in alerts} == {PatternRule.Kind.SCHOOL, PatternRule.Kind.SAME_SCHOOL}
    _move_school(made[1], elsewhere)
    result = patterns_check_referral(referral_id=made[1].pk)
    assert result.taken_out == 2
    for alert in alerts:
        alert.refresh_from_db()
        assert alert.status == Alert.Status.OPEN
        assert made[1].pk not in set(alert.referrals.values_list("pk", flat=True))
    # At its new school it is a same-school case again: an alert there (1 referral is enough).
    same = Alert.objects.get(context__school=elsewhere, rule__kind=PatternRule.Kind.SAME_SCHOOL)
    assert set(same.referrals.values_list("pk", flat=True)) == {made[1].pk}


def test_an_alert_already_acted_on_keeps_its_evidence(place_alert, manager):
    from django.utils import timezone

    alert, made = place_alert
    AlertAction.objects.create(
        alert=alert,
        kind=AlertAction.Kind.STRATEGY,
        taken_on=timezone.localdate(),
        note="Strategy discussion held",
        recorded_at=timezone.now(),
        recorded_by=manager,
    )
    Alert.objects.filter(pk=alert.pk).update(status=Alert.Status.ACTED_ON)
    _move_place(made[0], "Town Park")
    assert patterns_check_referral(referral_id=made[0].pk).taken_out == 0
    assert AlertEvidence.objects.filter(alert=alert).count() == 3


def test_an_unchanged_referral_stays_in_its_alerts(place_alert):
    alert, made = place_alert
    _move_place(made[0], "7 ELM  road")  # the same place once normalised
    assert patterns_check_referral(referral_id=made[0].pk).taken_out == 0
    assert AlertEvidence.objects.filter(alert=alert).count() == 3


def test_the_saved_referral_hook_takes_it_out_after_commit(place_alert, django_capture_on_commit_callbacks):
    """The whole way: referrals.changes (called by the referral services), the outbox, the check."""
    from referrals import changes

    alert, made = place_alert
    _move_place(made[2], "Town Park")
    with django_capture_on_commit_callbacks(execute=True):
        changes.referrals_saved(referral_ids=[made[2].pk])
    assert made[2].pk not in set(
        AlertEvidence.objects.filter(alert=alert).values_list("referral_id", flat=True)
    )


def test_the_nightly_run_takes_out_a_referral_corrected_by_any_path():
    """A child's school corrected on the child's record, with no check queued for the referral."""
    _only(PatternRule.Kind.SCHOOL)
    school, elsewhere = SchoolFactory(), SchoolFactory()
    made = [school_referral(school, day) for day in (D(2018, 3, 1), D(2018, 4, 1), D(2018, 5, 1))]
    patterns_check_all()
    alert = Alert.objects.get()
    _move_school(made[0], elsewhere)
    assert patterns_check_all().taken_out == 1
    alert.refresh_from_db()
    assert alert.status == Alert.Status.OPEN
    assert set(alert.referrals.values_list("pk", flat=True)) == {made[1].pk, made[2].pk}
    assert patterns_check_all().taken_out == 0


@unit_of_work
def _move_schools(made, school):
    from referrals.models import ReferralChild

    for link in ReferralChild.objects.filter(referral__in=made).select_related("child"):
        link.child.school = school
        link.child.save()


def test_an_emptied_school_alert_is_acted_on_without_naming_its_school(manager, verified_client):
    """Every referral of an open school alert taken out (a child's school corrected) and
    restricted from the manager: the alert is still listed and acted on (never silently
    closed), but says neither the school nor a referral the manager may not identify."""
    from django.utils import timezone

    _only(PatternRule.Kind.SCHOOL)
    school, elsewhere = SchoolFactory(name="Qzemptied School"), SchoolFactory(name="Qzother School")
    made = [school_referral(school, d) for d in (D(2018, 3, 1), D(2018, 4, 1), D(2018, 5, 1))]
    patterns_check_all()
    alert = Alert.objects.get(context__school=school)
    _move_schools(made, elsewhere)
    type(made[0]).objects.filter(pk__in=[r.pk for r in made]).update(restricted_at=timezone.now())
    assert patterns_check_all().taken_out == 3
    client = verified_client(manager)
    for url in ("/contexts/alerts/?status=open", "/referrals/dashboard/", f"/contexts/alerts/{alert.pk}/"):
        html = client.get(url).content.decode()
        assert f"/contexts/alerts/{alert.pk}/" in html, url
        assert "Qzemptied" not in html, url
        for r in made:
            assert r.reference not in html, url
    page = client.get(f"/contexts/alerts/{alert.pk}/").content.decode()
    assert "Withheld" in page
    assert f"/contexts/{alert.context_id}/" not in page
    assert "Qzemptied" not in client.get("/contexts/").content.decode()
    assert client.get(f"/contexts/{alert.context_id}/").status_code == 404
    assert client.get(f"/contexts/alerts/{alert.pk}/action/").status_code == 200
    alert.refresh_from_db()
    day = timezone.localdate()
    done = client.post(
        f"/contexts/alerts/{alert.pk}/action/",
        {
            "kind": "strategy_discussion",
            "taken_on_0": str(day.day),
            "taken_on_1": str(day.month),
            "taken_on_2": str(day.year),
            "note": "Strategy discussion with the police and the school",
            "version": alert.version,
        },
    )
    assert done.status_code == 302
    alert.refresh_from_db()
    assert alert.status == Alert.Status.ACTED_ON
    assert not AccessLogEntry.objects.filter(user=manager, record_id__in=[r.pk for r in made]).exists()
