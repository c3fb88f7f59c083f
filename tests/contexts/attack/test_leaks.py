"""Attack on issue 17 (contexts): exempt links shown to a manager who may not identify a referral.

Each test asserts the SAFE behaviour, so a failing test is a finding. A restricted referral
(only named grants identify it) stands for any referral the viewer may not identify.
"""

import datetime as dt

import pytest
from django.utils import timezone

from contexts.models import Alert, Context, PatternRule
from contexts.services import patterns_check_all
from referrals.models import Referral
from tests.contexts.helpers import ALLEGED, VICTIM, referral, school_referral
from tests.factories import ChildFactory, SchoolFactory

pytestmark = pytest.mark.django_db
D = dt.date


def _restrict(*made):
    Referral.objects.filter(pk__in=[r.pk for r in made]).update(restricted_at=timezone.now())


def _only(kind):
    PatternRule.objects.exclude(kind=kind).update(active=False)


def test_school_alert_and_context_do_not_tie_a_restricted_referral_to_the_school(manager, verified_client):
    """HIGH. Which school a child attends is exempt (Child.school). The figures page knows it
    (counts only identifiable referrals), but the alert and context pages list the restricted
    referral's reference under the school's name."""
    _only(PatternRule.Kind.SCHOOL)
    school = SchoolFactory(name="Leaky Academy")
    made = [school_referral(school, day) for day in (D(2018, 3, 1), D(2018, 4, 1), D(2018, 5, 1))]
    hidden = made[1]
    _restrict(hidden)
    patterns_check_all()
    alert = Alert.objects.get()
    client = verified_client(manager)
    for url in (f"/contexts/alerts/{alert.pk}/", f"/contexts/{alert.context_id}/"):
        html = client.get(url).content.decode()
        assert "Leaky Academy" in html
        assert hidden.reference not in html, f"{url} ties restricted {hidden.reference} to Leaky Academy"


def test_school_context_exists_for_a_pattern_made_only_of_restricted_referrals(manager, verified_client):
    """HIGH. All three referrals restricted: the manager identifies none, yet the alert list,
    context list and context page name the school and list the three references."""
    _only(PatternRule.Kind.SCHOOL)
    school = SchoolFactory(name="Secret Academy")
    made = [school_referral(school, day) for day in (D(2018, 3, 1), D(2018, 4, 1), D(2018, 5, 1))]
    _restrict(*made)
    patterns_check_all()
    alert = Alert.objects.get()
    client = verified_client(manager)
    assert "Secret Academy" not in client.get("/contexts/").content.decode()
    html = client.get(f"/contexts/{alert.context_id}/").content.decode()
    assert not ("Secret Academy" in html and made[0].reference in html)


def test_child_alert_does_not_say_a_named_child_is_in_a_restricted_referral(manager, verified_client):
    """HIGH. Child X: victim in an open referral the manager identifies, alleged perpetrator in
    a restricted one. The alert page ("About: One child") shows X's name (from the open one)
    next to the restricted referral's reference: "this child is named as alleged perpetrator in
    another referral"."""
    _only(PatternRule.Kind.CHILD)
    x = ChildFactory(first_name="Zebedee", last_name="Quartermain")
    seen = referral(D(2019, 1, 10), [(x, VICTIM)])
    hidden = referral(D(2019, 2, 10), [(x, ALLEGED), (ChildFactory(), VICTIM)])
    _restrict(hidden)
    patterns_check_all()
    alert = Alert.objects.get()
    html = verified_client(manager).get(f"/contexts/alerts/{alert.pk}/").content.decode()
    assert seen.reference in html
    assert "Zebedee Quartermain" in html
    assert hidden.reference not in html, (
        "names the child and the restricted referral they are alleged perpetrator in"
    )


def test_place_context_does_not_tie_a_restricted_referral_to_the_place(manager, verified_client):
    """HIGH. The incident place is exempt. One identifiable referral is enough for the place's
    name to be shown, and the page lists every referral, restricted ones included, under it.
    The name shown is the restricted referral's own text (it was received first)."""
    _only(PatternRule.Kind.PLACE)
    hidden = referral(D(2019, 1, 1), [(ChildFactory(), VICTIM)], place="The Old Quarry, Millbrook")
    others = [
        referral(day, [(ChildFactory(), VICTIM)], place="old quarry millbrook")
        for day in (D(2019, 2, 1), D(2019, 3, 1))
    ]
    _restrict(hidden)
    patterns_check_all()
    context = Context.objects.get()
    html = verified_client(manager).get(f"/contexts/{context.pk}/").content.decode()
    assert others[0].reference in html
    assert hidden.reference not in html
    # The name is read from a referral the viewer may identify, never the restricted one's text.
    assert "The Old Quarry, Millbrook" not in html
    assert "old quarry millbrook" in html


def test_context_case_reviews_are_not_shown_to_a_role_outside_case_reviews(manager, verified_client):
    """MEDIUM. The case-review list is for CASE_REVIEW_ROLES only (core/roles.py: nobody else
    opens it). The school context shows every same-school review's title and how many of its
    cases came from the school, counting restricted referrals too."""
    from reviews.models import Review, ReviewPeriod, ScreeningDecision
    from tests.factories import UserFactory

    _only(PatternRule.Kind.SCHOOL)
    school = SchoolFactory(name="Review Academy")
    made = [school_referral(school, day) for day in (D(2018, 3, 1), D(2018, 4, 1), D(2018, 5, 1))]
    _restrict(*made)
    patterns_check_all()
    alert = Alert.objects.get()
    lead = UserFactory()
    review = Review.objects.create(
        title="Operation Nightjar thematic review",
        terms_of_reference="x",
        lead_reviewer=lead,
        created_by=lead,
        grants_end_on=D(2030, 1, 1),
    )
    period = ReviewPeriod.objects.create(review=review, name="All", start=D(2018, 1, 1), end=D(2018, 12, 31))
    for r in made:
        ScreeningDecision.objects.create(
            review=review,
            referral=r,
            period=period,
            candidate=True,
            decision=ScreeningDecision.Decision.INCLUDE,
        )
    html = verified_client(manager).get(f"/contexts/{alert.context_id}/").content.decode()
    assert "Operation Nightjar" not in html, (
        "review title and '3 cases from this school' shown to a MASH manager"
    )


def test_disposing_a_referral_removes_the_place_name_it_gave_its_context(manager, verified_client):
    """MEDIUM. Disposal erases ReferralDetail.incident_place, but Context.place_name (a copy of
    the first referral's text, exempt) and its history stay for ever."""
    from referrals.retention import referral_dispose

    _only(PatternRule.Kind.PLACE)
    made = [
        referral(day, [(ChildFactory(), VICTIM)], place="Behind 12 Larch Close")
        for day in (D(2019, 1, 1), D(2019, 2, 1), D(2019, 3, 1))
    ]
    patterns_check_all()
    from django.db import transaction

    from tests.nplusone import unit_of_work

    @unit_of_work
    def dispose(pk):
        with transaction.atomic():
            referral_dispose(record_id=pk, user=manager, reason="Retention period over")

    for r in made:
        dispose(r.pk)
    context = Context.objects.get()
    stored = [f.name for f in type(context)._meta.get_fields()]
    assert "place_name" not in stored  # no copy of what a referrer wrote, nor in its history
    assert "place_name" not in [f.name for f in context.history.model._meta.get_fields()]
    assert verified_client(manager).get(f"/contexts/{context.pk}/").status_code == 404


def test_correcting_a_referrals_place_corrects_the_context(manager, verified_client):
    """LOW/MEDIUM. A place typed wrongly (say a child's home address) and corrected on the
    referral stays as the context's name; the referral stays in the old place's alert."""
    _only(PatternRule.Kind.PLACE)
    made = [
        referral(day, [(ChildFactory(), VICTIM)], place="7 Elm Road")
        for day in (D(2019, 1, 1), D(2019, 2, 1), D(2019, 3, 1))
    ]
    patterns_check_all()
    for r in made:
        detail = r.detail
        detail.incident_place = "Town Park"
        detail.save()
    patterns_check_all()
    # The context's name is read from its referrals now: the corrected text, never the old.
    context = Context.objects.filter(alerts__status=Alert.Status.OPEN).first()
    html = verified_client(manager).get(f"/contexts/{context.pk}/").content.decode()
    assert "7 Elm Road" not in html


def test_an_alert_raised_before_its_referrals_were_restricted_stops_showing_them(manager, verified_client):
    """H4. The alert is stored while the manager may identify every referral; restricting them
    afterwards must take them (and then the alert and its context) out of every page read later."""
    _only(PatternRule.Kind.SCHOOL)
    school = SchoolFactory(name="Later Academy")
    made = [school_referral(school, day) for day in (D(2018, 3, 1), D(2018, 4, 1), D(2018, 5, 1))]
    patterns_check_all()
    alert = Alert.objects.get()
    client = verified_client(manager)
    assert made[0].reference in client.get(f"/contexts/alerts/{alert.pk}/").content.decode()

    _restrict(made[0])
    for url in (f"/contexts/alerts/{alert.pk}/", f"/contexts/{alert.context_id}/"):
        html = client.get(url).content.decode()
        assert made[1].reference in html
        assert made[0].reference not in html, url
    assert ">2<" in client.get("/contexts/alerts/").content.decode().replace(" ", "")

    _restrict(*made)
    assert client.get(f"/contexts/alerts/{alert.pk}/").status_code == 404
    assert client.get(f"/contexts/alerts/{alert.pk}/action/").status_code == 404
    assert client.get(f"/contexts/{alert.context_id}/").status_code == 404
    for url in ("/contexts/alerts/", "/contexts/alerts/?status=all", "/contexts/", "/referrals/dashboard/"):
        html = client.get(url).content.decode()
        assert f"/contexts/alerts/{alert.pk}/" not in html, url
        assert "Later Academy" not in html, url
