"""Each kind of pattern rule: what raises an alert, thresholds, windows and scope."""

import datetime as dt

import pytest

from contexts.models import Alert, Context, PatternRule
from contexts.services import patterns_check_all
from referrals.places import place_key
from tests.contexts.helpers import ALLEGED, OTHER, VICTIM, pupils, referral, school_referral
from tests.factories import ChildFactory, SchoolFactory

pytestmark = pytest.mark.django_db

D = dt.date


def rule(kind) -> PatternRule:
    return PatternRule.objects.get(kind=kind)


def alerts(kind) -> list[Alert]:
    return list(Alert.objects.filter(rule__kind=kind).prefetch_related("evidence").order_by("id"))


def evidence(alert) -> set[int]:
    return {e.referral_id for e in alert.evidence.all()}


def only(kind):
    """Switch every other rule off, so a test sees one rule's alerts."""
    PatternRule.objects.exclude(kind=kind).update(active=False)


def test_the_defaults_are_the_issues():
    defaults = {r.kind: (r.threshold, r.window_months, r.sexual_only) for r in PatternRule.objects.all()}
    assert defaults == {
        "school_referrals": (3, 12, True),
        "same_school": (1, 12, True),
        "child": (2, 24, False),
        "place": (3, 12, False),
        "group": (2, 24, False),
    }


# --- a school: N referrals within M months ---------------------------------------------------------


def test_three_referrals_about_a_school_within_twelve_months_raise_a_school_alert():
    only(PatternRule.Kind.SCHOOL)
    school = SchoolFactory()
    made = [school_referral(school, day) for day in (D(2018, 3, 1), D(2018, 9, 1), D(2019, 3, 1))]
    assert patterns_check_all().raised == 1
    (alert,) = alerts(PatternRule.Kind.SCHOOL)
    assert evidence(alert) == {r.pk for r in made}
    assert alert.context.kind == Context.Kind.SCHOOL
    assert alert.context.school == school


def test_two_referrals_or_three_spread_over_more_than_the_window_raise_nothing():
    only(PatternRule.Kind.SCHOOL)
    school = SchoolFactory()
    for day in (D(2018, 3, 1), D(2018, 9, 1), D(2019, 3, 2)):
        school_referral(school, day)
    assert patterns_check_all().raised == 0


def test_a_changed_threshold_and_window_apply_at_the_next_run():
    only(PatternRule.Kind.SCHOOL)
    school = SchoolFactory()
    for day in (D(2018, 1, 1), D(2019, 6, 1)):
        school_referral(school, day)
    assert patterns_check_all().raised == 0
    PatternRule.objects.filter(kind=PatternRule.Kind.SCHOOL).update(threshold=2, window_months=18)
    assert patterns_check_all().raised == 1


def test_the_school_rule_counts_only_sexual_abuse_and_only_peer_on_peer():
    only(PatternRule.Kind.SCHOOL)
    school = SchoolFactory()
    school_referral(school, D(2018, 3, 1))
    school_referral(school, D(2018, 4, 1))
    school_referral(school, D(2018, 5, 1), form="bullying")
    school_referral(school, D(2018, 6, 1), peer=False)
    assert patterns_check_all().raised == 0


def test_different_pupils_of_one_school_count_for_it():
    only(PatternRule.Kind.SCHOOL)
    school, elsewhere = SchoolFactory(), SchoolFactory()
    for day in (D(2018, 3, 1), D(2018, 4, 1), D(2018, 5, 1)):
        (victim,) = pupils(school, 1)
        (alleged,) = pupils(elsewhere, 1)
        referral(day, [(victim, VICTIM), (alleged, ALLEGED)])
    assert patterns_check_all().raised == 2  # each school has three referrals


# --- same school -------------------------------------------------------------------------------------


def test_a_victim_and_alleged_perpetrator_at_one_school_raise_a_same_school_alert():
    only(PatternRule.Kind.SAME_SCHOOL)
    school = SchoolFactory()
    made = school_referral(school, D(2017, 5, 1))
    (victim,) = pupils(school, 1)
    (alleged,) = pupils(SchoolFactory(), 1)
    referral(D(2017, 5, 2), [(victim, VICTIM), (alleged, ALLEGED)])  # different schools
    assert patterns_check_all().raised == 1
    (alert,) = alerts(PatternRule.Kind.SAME_SCHOOL)
    assert evidence(alert) == {made.pk}
    assert alert.context.school == school


# --- a child -----------------------------------------------------------------------------------------


def test_a_child_named_as_alleged_perpetrator_twice_raises_a_child_alert():
    only(PatternRule.Kind.CHILD)
    child = ChildFactory()
    first = referral(D(2018, 1, 1), [(ChildFactory(), VICTIM), (child, ALLEGED)])
    second = referral(D(2019, 1, 1), [(ChildFactory(), VICTIM), (child, ALLEGED)])
    assert patterns_check_all().raised == 1
    (alert,) = alerts(PatternRule.Kind.CHILD)
    assert alert.subject_key == f"child:{child.pk}"
    assert alert.context is None
    assert evidence(alert) == {first.pk, second.pk}


def test_victim_in_one_and_alleged_perpetrator_in_another_raises_a_child_alert():
    only(PatternRule.Kind.CHILD)
    child = ChildFactory()
    referral(D(2018, 1, 1), [(child, VICTIM), (ChildFactory(), ALLEGED)])
    referral(D(2018, 2, 1), [(ChildFactory(), VICTIM), (child, ALLEGED)])
    assert patterns_check_all().raised == 1


def test_a_child_named_as_victim_twice_or_as_another_child_raises_nothing():
    only(PatternRule.Kind.CHILD)
    child = ChildFactory()
    referral(D(2018, 1, 1), [(child, VICTIM), (ChildFactory(), ALLEGED)])
    referral(D(2018, 2, 1), [(child, VICTIM), (ChildFactory(), ALLEGED)])
    referral(D(2018, 3, 1), [(ChildFactory(), VICTIM), (ChildFactory(), ALLEGED), (child, OTHER)])
    assert patterns_check_all().raised == 0


def test_the_child_rule_window_is_twenty_four_months():
    only(PatternRule.Kind.CHILD)
    child = ChildFactory()
    referral(D(2016, 1, 1), [(ChildFactory(), VICTIM), (child, ALLEGED)])
    referral(D(2018, 1, 2), [(ChildFactory(), VICTIM), (child, ALLEGED)])
    assert patterns_check_all().raised == 0


# --- a place -----------------------------------------------------------------------------------------


def test_place_names_match_after_normalising():
    assert place_key("The Rec, Millbrook") == place_key("rec millbrook") == place_key("  REC - Millbrook. ")
    assert place_key("Station Rd & High St") == "station road and high street"
    assert place_key("") == ""


def test_three_referrals_naming_one_place_raise_a_place_alert():
    only(PatternRule.Kind.PLACE)
    made = [
        referral(D(2019, 1, 1), [(ChildFactory(), VICTIM)], place="The Rec, Millbrook", form="bullying"),
        referral(D(2019, 2, 1), [(ChildFactory(), VICTIM)], place="rec millbrook"),
        referral(D(2019, 3, 1), [(ChildFactory(), VICTIM)], place="Rec - Millbrook."),
    ]
    referral(D(2019, 3, 1), [(ChildFactory(), VICTIM)], place="Millbrook Park")
    assert patterns_check_all().raised == 1
    (alert,) = alerts(PatternRule.Kind.PLACE)
    assert evidence(alert) == {r.pk for r in made}
    assert alert.context.kind == Context.Kind.PLACE
    assert not hasattr(alert.context, "place_name")  # no copy of what a referrer wrote
    assert alert.subject_key == f"context:{alert.context.pk}"
    assert "millbrook" not in alert.subject_key  # the place (exempt) stays in the context


# --- a group -----------------------------------------------------------------------------------------


def test_the_same_group_of_children_in_two_referrals_raises_a_group_alert():
    only(PatternRule.Kind.GROUP)
    a, b, c = ChildFactory(), ChildFactory(), ChildFactory()
    first = referral(D(2019, 1, 1), [(a, VICTIM), (b, ALLEGED), (c, OTHER)])
    second = referral(D(2019, 6, 1), [(b, VICTIM), (a, ALLEGED), (ChildFactory(), OTHER)])
    referral(D(2019, 7, 1), [(a, VICTIM), (ChildFactory(), ALLEGED)])  # one of them only
    assert patterns_check_all().raised == 1
    (alert,) = alerts(PatternRule.Kind.GROUP)
    assert alert.subject_key == "group:" + "-".join(str(pk) for pk in sorted((a.pk, b.pk)))
    assert evidence(alert) == {first.pk, second.pk}


def test_a_rule_switched_off_raises_nothing():
    only(PatternRule.Kind.GROUP)
    PatternRule.objects.filter(kind=PatternRule.Kind.GROUP).update(active=False)
    a, b = ChildFactory(), ChildFactory()
    referral(D(2019, 1, 1), [(a, VICTIM), (b, ALLEGED)])
    referral(D(2019, 2, 1), [(a, VICTIM), (b, ALLEGED)])
    assert patterns_check_all().raised == 0


def test_a_disposed_referral_counts_for_nothing():
    only(PatternRule.Kind.CHILD)
    child = ChildFactory()
    referral(D(2018, 1, 1), [(ChildFactory(), VICTIM), (child, ALLEGED)])
    gone = referral(D(2018, 2, 1), [(ChildFactory(), VICTIM), (child, ALLEGED)])
    type(gone).objects.filter(pk=gone.pk).update(disposed_at=gone.received_at)
    assert patterns_check_all().raised == 0
