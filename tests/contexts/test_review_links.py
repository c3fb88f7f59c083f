"""Issue 17: "the same-school findings of a case review link to the contexts they concern".

A case review's lead reviewer and reviewers follow a link from the findings page to the context
record of a school where one of the review's cases has its victim and alleged perpetrator;
they see only the referrals they may identify (the access wrapper decides: reviewers hold
grants on the cases assigned to them) and the case reviews; the alerts and the managers'
actions stay the managers'. Every exempt read is logged (docs/adr/0024)."""

import datetime as dt

import pytest
from django.utils import timezone

from contexts.models import Alert, AlertAction, Context, PatternRule
from contexts.services import patterns_check_all
from core.models import AccessLogEntry
from core.roles import Role
from tests.contexts.helpers import ALLEGED, VICTIM, referral, review_of, school_referral
from tests.factories import ChildFactory, SchoolFactory

pytestmark = pytest.mark.django_db
D = dt.date


@pytest.fixture
def setting(role_user, manager):
    """Lantern Academy: three same-school referrals (a school alert with an action recorded);
    a review of the first two, the first assigned to ``reviewer``, the second to ``other``."""
    PatternRule.objects.exclude(kind=PatternRule.Kind.SCHOOL).update(active=False)
    school = SchoolFactory(name="Lantern Academy")
    made = [school_referral(school, day) for day in (D(2018, 3, 1), D(2018, 4, 1), D(2018, 5, 1))]
    patterns_check_all()
    alert = Alert.objects.get()
    AlertAction.objects.create(
        alert=alert,
        kind=AlertAction.Kind.SCHOOL_ADVICE,
        taken_on=timezone.localdate(),
        note="Qzmgrnote training booked for the school",
        recorded_at=timezone.now(),
        recorded_by=manager,
    )
    lead = role_user(Role.LEAD_REVIEWER, username="lead")
    reviewer = role_user(Role.REVIEWER, username="reviewer")
    other = role_user(Role.REVIEWER, username="other")
    review = review_of(lead, [reviewer, other], made[:2], assign={made[0]: reviewer, made[1]: other})
    return {
        "school": school,
        "made": made,
        "alert": alert,
        "context": Context.objects.get(),
        "review": review,
        "lead": lead,
        "reviewer": reviewer,
        "other": other,
    }


def test_the_findings_link_a_same_school_case_to_its_schools_context(setting, verified_client):
    reviewer, review, context, made = (
        setting["reviewer"],
        setting["review"],
        setting["context"],
        setting["made"],
    )
    client = verified_client(reviewer)
    html = client.get(f"/reviews/{review.pk}/findings/").content.decode()
    assert "Same-school cases" in html
    assert f'href="/contexts/{context.pk}/"' in html
    assert "Lantern Academy" in html
    assert made[0].reference in html
    # Only the case they may identify: the other reviewer's case is not tied to the school here.
    assert made[1].reference not in html
    logged = AccessLogEntry.objects.filter(user=reviewer, fields=["Child.school"])
    assert list(logged.values_list("record_id", flat=True)) == [made[0].pk]


def test_a_reviewer_opens_the_context_with_only_what_they_may_see(setting, verified_client):
    reviewer, context, made, alert = (
        setting["reviewer"],
        setting["context"],
        setting["made"],
        setting["alert"],
    )
    page = verified_client(reviewer).get(f"/contexts/{context.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Lantern Academy" in html
    assert made[0].reference in html
    for hidden in made[1:]:  # not theirs to identify
        assert hidden.reference not in html
    # The case-review section, linked to the review they are on.
    assert "Thematic review of peer-on-peer abuse" in html
    assert f"/reviews/{setting['review'].pk}/findings/" in html
    # The alerts, the managers' actions and what they wrote stay the managers'.
    assert f"/contexts/alerts/{alert.pk}/" not in html
    assert "Qzmgrnote" not in html
    assert "Advice or training for the school" not in html
    assert "Designated safeguarding lead" not in html
    assert 'href="/contexts/"' not in html  # the list of contexts is the managers'
    logged = AccessLogEntry.objects.filter(user=reviewer, record_type="referrals.referral")
    assert set(logged.values_list("record_id", flat=True)) == {made[0].pk}
    assert all(entry.fields == ["Child.first_name", "Child.last_name", "Child.school"] for entry in logged)


def test_the_manager_still_sees_the_whole_context_and_no_case_reviews(setting, manager, verified_client):
    html = verified_client(manager).get(f"/contexts/{setting['context'].pk}/").content.decode()
    assert f"/contexts/alerts/{setting['alert'].pk}/" in html
    assert "Qzmgrnote" in html
    assert "Designated safeguarding lead" in html
    assert "Thematic review" not in html


def test_a_review_team_member_without_a_case_they_may_identify_there_gets_404(
    setting, role_user, verified_client
):
    context, review = setting["context"], setting["review"]
    # The lead reviewer holds no grant on the cases (they assess none): the wrapper says no.
    client = verified_client(setting["lead"])
    assert f"/contexts/{context.pk}/" not in client.get(f"/reviews/{review.pk}/findings/").content.decode()
    assert client.get(f"/contexts/{context.pk}/").status_code == 404
    # A reviewer on no review of the school.
    stranger = role_user(Role.REVIEWER, username="stranger")
    assert verified_client(stranger).get(f"/contexts/{context.pk}/").status_code == 404
    # Roles outside the review team never open a context record.
    for role in (Role.REPORT_OFFICER, Role.INFORMATION_GOVERNANCE, Role.MASH_PRACTITIONER):
        user = role_user(role)
        client = verified_client(user)
        assert client.get(f"/contexts/{context.pk}/").status_code == 404
        if role != Role.MASH_PRACTITIONER:
            html = client.get(f"/reviews/{review.pk}/findings/").content.decode()
            assert f"/contexts/{context.pk}/" not in html
    # The list, the alerts and the actions stay managers' pages.
    client = verified_client(setting["reviewer"])
    for url in ("/contexts/", f"/contexts/alerts/{setting['alert'].pk}/", "/contexts/alerts/"):
        assert client.get(url).status_code == 404, url


def test_a_reviewer_whose_grant_ended_gets_404(setting, verified_client):
    from core import permissions

    reviewer, context = setting["reviewer"], setting["context"]
    client = verified_client(reviewer)
    assert client.get(f"/contexts/{context.pk}/").status_code == 200
    for grant in setting["made"][0].user_grants.filter(user=reviewer):
        grant.delete()
    assert not permissions.filter_granted(type(setting["made"][0]).objects.all(), user=reviewer).exists()
    assert client.get(f"/contexts/{context.pk}/").status_code == 404


def test_a_case_at_two_schools_links_nothing_and_a_place_context_stays_closed(
    role_user, manager, verified_client
):
    """Victim and alleged perpetrator at different schools: no same-school finding, no link,
    and the school's context stays closed to the reviewer; a place context is never theirs."""
    PatternRule.objects.exclude(kind__in=[PatternRule.Kind.SCHOOL, PatternRule.Kind.PLACE]).update(
        active=False
    )
    school = SchoolFactory(name="Harbour School")
    made = [
        referral(
            day,
            [(ChildFactory(school=school), VICTIM), (ChildFactory(), ALLEGED)],
            place="Harbour Steps",
        )
        for day in (D(2018, 3, 1), D(2018, 4, 1), D(2018, 5, 1))
    ]
    patterns_check_all()
    lead = role_user(Role.LEAD_REVIEWER, username="lead")
    reviewer = role_user(Role.REVIEWER, username="reviewer")
    review = review_of(lead, [reviewer], made[:1], assign={made[0]: reviewer})
    client = verified_client(reviewer)
    html = client.get(f"/reviews/{review.pk}/findings/").content.decode()
    assert "Same-school cases" not in html
    for context in Context.objects.all():
        assert client.get(f"/contexts/{context.pk}/").status_code == 404


def test_the_context_names_only_the_reviews_the_reviewer_is_on(setting, role_user, verified_client):
    """A reviewer learns no other review's title from the case-review section."""
    made, lead = setting["made"], setting["lead"]
    # A second review of the same school's cases, without this reviewer.
    review_of(lead, [setting["other"]], made[:2], title="Operation Nightjar")
    html = verified_client(setting["reviewer"]).get(f"/contexts/{setting['context'].pk}/").content.decode()
    assert "Thematic review of peer-on-peer abuse" in html
    assert "Operation Nightjar" not in html


def test_the_case_page_links_its_schools_context_to_the_reviewer_assessing_it(setting, verified_client):
    from reviews.models import CaseAssessment

    reviewer, context, made = setting["reviewer"], setting["context"], setting["made"]
    assessment = CaseAssessment.objects.get(reviewer=reviewer, referral=made[0])
    html = verified_client(reviewer).get(f"/reviews/assessments/{assessment.pk}/").content.decode()
    assert "attend the same school" in html
    assert f'href="/contexts/{context.pk}/"' in html
    (logged,) = AccessLogEntry.objects.filter(user=reviewer, record_id=made[0].pk)  # the page's one row
    assert "Child.school" in logged.fields
    assert "Child.first_name" in logged.fields
    # The lead reviewer opens the assessment but may not identify the case: no link.
    lead_html = (
        verified_client(setting["lead"]).get(f"/reviews/assessments/{assessment.pk}/").content.decode()
    )
    assert f"/contexts/{context.pk}/" not in lead_html
