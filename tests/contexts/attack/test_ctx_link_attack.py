"""Attack (round 17, branch ctx-link): case-review access to school context records, the place
key's erasure on disposal, and corrections taken out of open alerts' evidence.

Tests named ``test_held_*`` pass and document what held. Tests marked ``xfail(strict=True)``
with "BROKEN" in their reason reproduce a finding: they fail on the product as merged and
will start to XPASS (and so fail the run) once it is fixed, so the mark must then be removed.
"""

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from contexts.models import Alert, AlertEvidence, Context, PatternRule
from contexts.services import patterns_check_all, patterns_check_referral
from core import retention
from core.models import AccessLogEntry
from core.roles import Role
from tests.contexts.helpers import VICTIM, referral, review_of, school_referral
from tests.factories import ChildFactory, SchoolFactory
from tests.nplusone import unit_of_work

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
D = dt.date


def _only(*kinds):
    PatternRule.objects.exclude(kind__in=kinds).update(active=False)


@unit_of_work
def _dispose(made, user):
    """As records.services does: every eraser of a referral, then the referral's own disposal."""
    reason = "Disposed of under the retention schedule (attack test)"
    with transaction.atomic():
        retention.erase_and_dispose("referral", record_id=made.pk, user=user, reason=reason)


@unit_of_work
def _move_place(made, place):
    detail = made.detail
    detail.incident_place = place
    detail.save()


# --- 1. the review team's access to context records ------------------------------------------------


@pytest.fixture
def two_schools(role_user, manager):
    """Lantern (three same-school referrals, all at "Qzharbour Steps": a school alert and a
    place alert) and Quarry School (three same-school referrals). One review includes Lantern's
    first case (assigned to ``reviewer``) and Quarry's first case (assigned to ``other``)."""
    _only(PatternRule.Kind.SCHOOL, PatternRule.Kind.PLACE)
    lantern = SchoolFactory(name="Lantern Academy")
    quarry = SchoolFactory(name="Quarry School")
    lan = [
        school_referral(lantern, d, place="Qzharbour Steps")
        for d in (D(2018, 3, 1), D(2018, 4, 1), D(2018, 5, 1))
    ]
    qua = [school_referral(quarry, d) for d in (D(2018, 3, 2), D(2018, 4, 2), D(2018, 5, 2))]
    patterns_check_all()
    lead = role_user(Role.LEAD_REVIEWER, username="lead")
    reviewer = role_user(Role.REVIEWER, username="reviewer")
    other = role_user(Role.REVIEWER, username="other")
    review = review_of(lead, [reviewer, other], [lan[0], qua[0]], assign={lan[0]: reviewer, qua[0]: other})
    return {
        "lantern": Context.objects.get(kind=Context.Kind.SCHOOL, school=lantern),
        "quarry": Context.objects.get(kind=Context.Kind.SCHOOL, school=quarry),
        "place": Context.objects.get(kind=Context.Kind.PLACE),
        "lan": lan,
        "qua": qua,
        "review": review,
        "lead": lead,
        "reviewer": reviewer,
        "other": other,
    }


def test_held_a_reviewer_opens_only_their_cases_school(two_schools, verified_client):
    s = two_schools
    client = verified_client(s["reviewer"])
    assert client.get(f"/contexts/{s['lantern'].pk}/").status_code == 200
    # Another school of the same review (a case they may not identify), the place context
    # their own case names, the manager pages, guessed ids: all 404.
    blocked = [
        f"/contexts/{s['quarry'].pk}/",
        f"/contexts/{s['place'].pk}/",
        "/contexts/",
        "/contexts/alerts/",
        "/contexts/alerts/?status=all",
        "/contexts/rules/",
        "/contexts/figures/",
        "/contexts/999999/",
        "/contexts/0/",
    ]
    blocked += [f"/contexts/alerts/{a.pk}/" for a in Alert.objects.all()]
    blocked += [f"/contexts/alerts/{a.pk}/action/" for a in Alert.objects.all()]
    for url in blocked:
        response = client.get(url)
        assert response.status_code == 404, url
        body = response.content.decode()
        assert "Quarry School" not in body, url
        assert "Qzharbour" not in body, url
    html = client.get(f"/contexts/{s['lantern'].pk}/").content.decode()
    for hidden in ("Qzharbour", "Quarry School", "Designated safeguarding lead", "Not sent to the school"):
        assert hidden not in html
    for r in s["lan"][1:] + s["qua"]:
        assert r.reference not in html
    findings = client.get(f"/reviews/{s['review'].pk}/findings/").content.decode()
    assert f"/contexts/{s['lantern'].pk}/" in findings
    assert f"/contexts/{s['quarry'].pk}/" not in findings
    assert "Quarry School" not in findings
    assert s["qua"][0].reference not in findings or "Quarry" not in findings


def test_held_password_only_and_signed_out_sessions_see_nothing(two_schools, client):
    s = two_schools
    url = f"/contexts/{s['lantern'].pk}/"
    response = client.get(url)  # signed out
    assert response.status_code in (302, 404)
    assert "Lantern" not in response.content.decode()
    client.force_login(s["reviewer"])  # a password only: no second factor verified
    for page in (url, f"/reviews/{s['review'].pk}/findings/"):
        response = client.get(page)
        body = response.content.decode()
        assert response.status_code != 200 or f'href="{url}"' not in body, page
        assert "Lantern Academy" not in body, page
    assert not AccessLogEntry.objects.filter(user=s["reviewer"]).exists()


def test_held_removed_expired_disposed_and_other_reviews_get_404(
    two_schools, role_user, verified_client, manager
):
    s = two_schools
    url = f"/contexts/{s['lantern'].pk}/"
    reviewer = s["reviewer"]
    # A reviewer taken off the review, their grant still live: no longer theirs.
    s["review"].reviewers.remove(reviewer)
    assert verified_client(reviewer).get(url).status_code == 404
    s["review"].reviewers.add(reviewer)
    assert verified_client(reviewer).get(url).status_code == 200
    # The grant expired.
    grants = s["lan"][0].user_grants.filter(user=reviewer)
    ends = list(grants.values_list("pk", "expires_at"))
    grants.update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    assert verified_client(reviewer).get(url).status_code == 404
    for pk, at in ends:
        type(grants.model.objects.get(pk=pk)).objects.filter(pk=pk).update(expires_at=at)
    assert verified_client(reviewer).get(url).status_code == 200
    # A reviewer on another review of the same school, with no case there to identify.
    stranger = role_user(Role.REVIEWER, username="stranger")
    review_of(s["lead"], [stranger], s["lan"][1:2], title="Operation Qzkestrel")
    assert verified_client(stranger).get(url).status_code == 404
    html = verified_client(reviewer).get(url).content.decode()
    assert "Operation Qzkestrel" not in html
    # Their one case disposed of: nothing of the school is theirs any more.
    _dispose(s["lan"][0], manager)
    assert verified_client(reviewer).get(url).status_code == 404
    findings = verified_client(reviewer).get(f"/reviews/{s['review'].pk}/findings/").content.decode()
    assert url not in findings


def test_held_a_restricted_case_is_not_listed_on_the_reviewers_context(
    two_schools, role_user, verified_client
):
    """A second case of the review at the same school, restricted and granted to nobody on the
    review team, is never listed (nor counted) on the reviewer's context page."""
    s = two_schools
    type(s["lan"][1]).objects.filter(pk=s["lan"][1].pk).update(restricted_at=timezone.now())
    html = verified_client(s["reviewer"]).get(f"/contexts/{s['lantern'].pk}/").content.decode()
    assert s["lan"][1].reference not in html
    assert "1 case from this school" in html


def test_the_context_page_logs_the_school_it_ties_each_referral_to(two_schools, verified_client):
    s = two_schools
    verified_client(s["reviewer"]).get(f"/contexts/{s['lantern'].pk}/")
    rows = AccessLogEntry.objects.filter(user=s["reviewer"], record_id=s["lan"][0].pk)
    assert any("Child.school" in row.fields for row in rows)


# --- 2. disposal: the place key ------------------------------------------------------------------


def test_a_place_key_goes_when_referrals_corrected_away_from_it_are_disposed_of(manager):
    _only(PatternRule.Kind.PLACE)
    made = [
        referral(day, [(ChildFactory(), VICTIM)], place="Qzwrong Lane")
        for day in (D(2010, 1, 1), D(2010, 2, 1), D(2010, 3, 1))
    ]
    patterns_check_all()
    context = Context.objects.get()
    for r in made:  # a referrer's slip, corrected on each referral
        _move_place(r, "Town Park")
        patterns_check_referral(referral_id=r.pk)
    for r in made:
        _dispose(r, manager)
    # No referral that ever named "Qzwrong Lane" is left; the key must not be either.
    assert not Context.objects.filter(place_key__icontains="qzwrong").exists(), Context.objects.filter(
        pk=context.pk
    ).values_list("place_key", "place_key_erased_at")
    assert not Context.history.model.objects.filter(place_key__icontains="qzwrong").exists()


# --- 3. corrections: an alert whose evidence is all taken out ----------------------------------------


def test_an_alert_whose_every_referral_is_corrected_can_still_be_acted_on(manager, verified_client):
    _only(PatternRule.Kind.PLACE)
    made = [
        referral(day, [(ChildFactory(), VICTIM)], place="Qzslip Road")
        for day in (D(2019, 1, 1), D(2019, 2, 1), D(2019, 3, 1))
    ]
    patterns_check_all()
    alert = Alert.objects.get()
    for r in made:
        _move_place(r, "Town Park")
    assert patterns_check_all().taken_out == 3
    alert.refresh_from_db()
    assert alert.status == Alert.Status.OPEN
    assert not AlertEvidence.objects.filter(alert=alert).exists()
    client = verified_client(manager)
    listed = client.get("/contexts/alerts/?status=open").content.decode()
    page = client.get(f"/contexts/alerts/{alert.pk}/")
    assert f"/contexts/alerts/{alert.pk}/" in listed
    assert page.status_code == 200


# --- 2b. after the ordinary disposal, the place is in no table at all ------------------------------


def _tables_holding(text: str) -> list[str]:
    """Every table of the database (history, outbox, notifications, access log, sessions...)
    whose rows, as text, hold ``text`` (any case)."""
    from django.db import connection

    found = []
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            quoted = connection.ops.quote_name(table)
            if connection.vendor == "postgresql":
                cursor.execute(f"SELECT count(*) FROM {quoted} t WHERE t::text ILIKE %s", [f"%{text}%"])  # noqa: S608
                held = cursor.fetchone()[0]
            else:  # SQLite: each column as text
                held = 0
                for column in connection.introspection.get_table_description(cursor, table):
                    name = connection.ops.quote_name(column.name)
                    cursor.execute(
                        f"SELECT count(*) FROM {quoted} WHERE lower(CAST({name} AS text)) LIKE %s",  # noqa: S608
                        [f"%{text.lower()}%"],
                    )
                    held += cursor.fetchone()[0]
            if held:
                found.append(table)
    return found


def test_held_the_last_disposal_leaves_the_place_in_no_table(manager, verified_client):
    """Place alert on "Qzcanary Wharf" (three referrals), the manager opens the alert and the
    context (access log, notifications, outbox all written); every referral is disposed of."""
    _only(PatternRule.Kind.PLACE)
    made = [
        referral(day, [(ChildFactory(), VICTIM)], place="Qzcanary Wharf")
        for day in (D(2010, 1, 1), D(2010, 2, 1), D(2010, 3, 1))
    ]
    patterns_check_all()
    alert = Alert.objects.get()
    client = verified_client(manager)
    assert "Qzcanary Wharf" in client.get(f"/contexts/alerts/{alert.pk}/").content.decode()
    assert "Qzcanary Wharf" in client.get(f"/contexts/{alert.context_id}/").content.decode()
    assert _tables_holding("qzcanary")  # the probe works: the referrals and the context hold it
    for r in made:
        _dispose(r, manager)
    assert _tables_holding("qzcanary") == []


def test_corrected_then_disposed_leaves_the_place_in_no_table(manager):
    _only(PatternRule.Kind.PLACE)
    made = [
        referral(day, [(ChildFactory(), VICTIM)], place="Qzslipway Close")
        for day in (D(2010, 1, 1), D(2010, 2, 1), D(2010, 3, 1))
    ]
    patterns_check_all()
    for r in made:
        _move_place(r, "Town Park")
    patterns_check_all()
    for r in made:
        _dispose(r, manager)
    assert _tables_holding("qzslipway") == []


# --- 3b. the "Taken out" section on a school alert -------------------------------------------------


def test_held_taken_out_of_a_school_alert_only_for_who_may_identify_it(manager, verified_client):
    """A child's school corrected: the referral leaves the school's open alert; a manager who may
    not identify it (restricted, no grant) sees no trace of it on the alert page."""
    _only(PatternRule.Kind.SCHOOL)
    school, elsewhere = SchoolFactory(name="Qzold School"), SchoolFactory(name="Qznew School")
    made = [school_referral(school, d) for d in (D(2018, 3, 1), D(2018, 4, 1), D(2018, 5, 1))]
    patterns_check_all()
    alert = Alert.objects.get()
    for link in made[0].children.select_related("child"):
        link.child.school = elsewhere
        link.child.save()
    type(made[0]).objects.filter(pk=made[0].pk).update(restricted_at=timezone.now())
    assert patterns_check_all().taken_out == 1
    html = verified_client(manager).get(f"/contexts/alerts/{alert.pk}/").content.decode()
    assert made[0].reference not in html
    assert "Taken out of the evidence" not in html
    assert "Qznew" not in html
    alert.refresh_from_db()
    assert alert.status == Alert.Status.OPEN
    assert not AccessLogEntry.objects.filter(user=manager, record_id=made[0].pk).exists()


def test_a_disposed_referral_is_tied_to_no_school_in_the_database(manager):
    from contexts.models import AlertEvidence as Evidence

    _only(PatternRule.Kind.SCHOOL)
    school = SchoolFactory(name="Qztied School")
    made = [school_referral(school, d) for d in (D(2010, 3, 1), D(2010, 4, 1), D(2010, 5, 1))]
    patterns_check_all()
    for r in made:
        _dispose(r, manager)
    ids = [r.pk for r in made]
    tied = Evidence.objects.filter(referral_id__in=ids, alert__context__school=school).count()
    tied += Evidence.history.filter(referral_id__in=ids, alert__context__school=school).count()
    assert tied == 0
