"""The pages: evidence under the access rules (and every exempt read logged), the context
record, the dashboard panel and the figures, internal and public-safe."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from contexts.models import Alert, Context, PatternRule
from contexts.selectors import figures_public
from contexts.services import patterns_check_all
from core.models import AccessLogEntry
from core.roles import Role
from tests.conftest import sign_in_verified
from tests.contexts.helpers import ALLEGED, VICTIM, referral, school_referral
from tests.factories import ChildFactory, SchoolFactory
from tests.nplusone import set_up

pytestmark = pytest.mark.django_db

D = dt.date


@pytest.fixture
def school_alert():
    """A school with three referrals; the second restricted, so the MASH team may not identify it."""
    PatternRule.objects.exclude(kind=PatternRule.Kind.SCHOOL).update(active=False)
    school = SchoolFactory(name="Canary Academy")
    made = [school_referral(school, day) for day in (D(2018, 3, 1), D(2018, 4, 1), D(2018, 5, 1))]
    type(made[1]).objects.filter(pk=made[1].pk).update(restricted_at=timezone.now())
    patterns_check_all()
    return Alert.objects.get(), made


@set_up
def _names(referral):
    return [
        f"{link.child.first_name} {link.child.last_name}"
        for link in referral.children.select_related("child")
    ]


def test_evidence_lists_only_the_referrals_the_manager_may_identify(school_alert, manager, verified_client):
    alert, (seen, hidden, also_seen) = school_alert
    hidden_names, seen_names = _names(hidden), _names(seen) + _names(also_seen)
    page = verified_client(manager).get(f"/contexts/alerts/{alert.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    for made in (seen, also_seen):
        assert made.reference in html
    # Listed under the school, the hidden referral would say which school its children attend.
    assert hidden.reference not in html
    assert "Sexual assault" in html
    for name in seen_names:
        assert name in html
    for name in hidden_names:
        assert name not in html
    logged = AccessLogEntry.objects.filter(user=manager, channel="page")
    assert set(logged.values_list("record_label", flat=True)) == {seen.reference, also_seen.reference}
    # A school alert shows which school their children attend: logged too.
    assert all(entry.fields == ["Child.first_name", "Child.last_name", "Child.school"] for entry in logged)


def test_a_session_not_yet_verified_identifies_nobody(school_alert, manager, client):
    alert, _made = school_alert
    client.force_login(manager)
    # Signed in but not verified: the middleware sends them to the second factor first.
    page = client.get(f"/contexts/alerts/{alert.pk}/")
    assert page.status_code == 302


def test_only_managers_open_an_alert(school_alert, role_user, verified_client):
    from core.roles import Role

    alert, _made = school_alert
    for role in (Role.MASH_PRACTITIONER, Role.REVIEWER, Role.ADMINISTRATOR, Role.INFORMATION_GOVERNANCE):
        assert verified_client(role_user(role)).get(f"/contexts/alerts/{alert.pk}/").status_code == 404


def test_the_context_record_shows_its_timeline_dsl_and_reviews(school_alert, manager, verified_client):
    alert, made = school_alert
    page = verified_client(manager).get(f"/contexts/{alert.context_id}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Canary Academy" in html
    assert "Designated safeguarding lead" in html
    assert "No designated safeguarding lead recorded" in html
    assert f"Alert {alert.pk}</a> raised" in html
    assert f"/contexts/alerts/{alert.pk}/action/" in html  # open the context, add an action
    assert made[0].reference in html


def test_a_place_and_its_context_are_shown_only_to_someone_who_may_identify_one_of_its_referrals(
    manager, verified_client
):
    PatternRule.objects.exclude(kind=PatternRule.Kind.PLACE).update(active=False)
    made = [
        referral(day, [(ChildFactory(), VICTIM)], place="Canary Park")
        for day in (D(2019, 1, 1), D(2019, 2, 1))
    ]
    made.append(referral(D(2019, 3, 1), [(ChildFactory(), VICTIM)], place="canary park"))
    patterns_check_all()
    context = Context.objects.get()
    client = verified_client(manager)
    assert "Canary Park" in client.get(f"/contexts/{context.pk}/").content.decode()
    assert AccessLogEntry.objects.filter(
        record_type="contexts.context", fields=["ReferralDetail.incident_place"]
    ).exists()
    type(made[0]).objects.filter(pk__in=[r.pk for r in made]).update(restricted_at=timezone.now())
    assert client.get(f"/contexts/{context.pk}/").status_code == 404
    assert "Canary Park" not in client.get("/contexts/").content.decode()
    assert f"/contexts/{context.pk}/" not in client.get("/contexts/").content.decode()


def test_the_dashboard_shows_alerts_awaiting_action(school_alert, manager, verified_client):
    alert, _made = school_alert
    html = verified_client(manager).get("/referrals/dashboard/").content.decode()
    assert "Contextual safeguarding alerts" in html
    assert f"/contexts/alerts/{alert.pk}/" in html
    assert "1 alert awaiting action" in html


def test_the_internal_figures_name_schools_and_the_public_ones_suppress_small_counts(
    school_alert, manager, verified_client
):
    client = verified_client(manager)
    html = client.get("/contexts/figures/").content.decode()
    this_month = timezone.localdate().strftime("%B %Y")
    assert this_month in html
    public = figures_public()
    row = next(r for r in public.months if r.month == timezone.localdate().replace(day=1))
    assert row.raised is None  # one alert: a count from 1 to 5 is suppressed
    assert public.total_raised is None
    public_html = client.get("/contexts/figures/public/").content.decode()
    assert "Canary Academy" not in public_html
    assert "Suppressed" in public_html


def test_the_public_figures_show_counts_above_the_threshold(settings):
    settings.CONTEXT_SUPPRESSION_THRESHOLD = 2
    rule = PatternRule.objects.get(kind=PatternRule.Kind.CHILD)
    now = timezone.now()
    for n in range(4):
        Alert.objects.create(rule=rule, subject_key=f"child:{n}", raised_at=now)
    figures = figures_public()
    row = next(r for r in figures.months if r.month == timezone.localdate().replace(day=1))
    assert row.raised == 4


def test_a_child_alert_names_the_child_only_to_a_manager_who_may_identify_every_referral(
    manager, verified_client
):
    PatternRule.objects.exclude(kind=PatternRule.Kind.CHILD).update(active=False)
    x = ChildFactory(first_name="Ottoline", last_name="Brackenbury")
    first = referral(D(2019, 1, 10), [(x, VICTIM)])
    second = referral(D(2019, 2, 10), [(x, ALLEGED), (ChildFactory(), VICTIM)])
    patterns_check_all()
    alert = Alert.objects.get()
    client = verified_client(manager)
    html = client.get(f"/contexts/alerts/{alert.pk}/").content.decode()
    assert "About" in html
    assert "One child" not in html
    assert "Ottoline Brackenbury" in html
    # Every referral is logged as read with the children's names (the child's name among them).
    logged = AccessLogEntry.objects.filter(user=manager, fields=["Child.first_name", "Child.last_name"])
    assert set(logged.values_list("record_label", flat=True)) >= {first.reference, second.reference}
    type(second).objects.filter(pk=second.pk).update(restricted_at=timezone.now())
    html = client.get(f"/contexts/alerts/{alert.pk}/").content.decode()
    assert "One child" in html
    assert second.reference not in html


def test_the_evidence_table_wraps_at_whole_words(school_alert, manager, verified_client):
    """At 320 px "assault" and "perpetrator" broke mid-word; app-words wraps at words (as the
    DSL tables, 9796203) and the table scrolls in its region."""
    alert, _made = school_alert
    html = verified_client(manager).get(f"/contexts/alerts/{alert.pk}/").content.decode()
    assert html.count('class="govuk-table__cell app-words"') >= 3
    assert "app-table-region" in html


@pytest.mark.parametrize("role_name", [role.name for role in Role])
def test_the_header_offers_contexts_only_where_the_role_may_open_it(role_name, role_user, client):
    """The service navigation's "Contexts" link, if a role is shown it, opens for that role
    (the administrator was once sent to the pattern rules, which are the managers' alone)."""
    user = role_user(Role[role_name])
    sign_in_verified(client, user)
    home = client.get("/", follow=True).content.decode()
    links = re.findall(r'href="(/contexts/[^"]*)"[^>]*>Contexts</a>', home)
    may_open = Role[role_name] in {Role.MASH_MANAGER, Role.REPORT_OFFICER, Role.INFORMATION_GOVERNANCE}
    assert len(links) == (1 if may_open else 0), (role_name, links)
    for link in links:
        assert client.get(link).status_code == 200, (role_name, link)
