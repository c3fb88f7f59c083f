"""Query counts that do not grow with the data: every list, search and detail page.

Each page is requested with 3 referrals in the service (the one looked at has 1 note, 1 grant
holder and 1 access-log entry), then again once there are 30 (10 notes, 10 holders, 10 more
access-log entries). The page must use exactly the same number of queries both times. A
warm-up request before each count keeps one-off caches (content types) out of it.

django-zeal (tests/nplusone.py) is on here as everywhere, so a row-by-row relation load
would also raise.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core import permissions
from core.roles import Role
from referrals import services
from tests.conftest import sign_in_verified
from tests.factories import ReferralFactory
from tests.nplusone import set_up

pytestmark = pytest.mark.django_db

SMALL, LARGE = 3, 30


@set_up
def grow(*, watched, to: int, practitioner, manager, reader_clients) -> None:
    """Referrals up to ``to``; notes, grant holders and logged reads on the watched one."""
    from referrals.models import Referral

    for _ in range(to - Referral.objects.count()):
        ReferralFactory()
    notes = watched.notes.count()
    for index in range(to // 3 - notes):
        services.case_note_add(
            user=practitioner, referral_id=watched.pk, occurred_on=timezone.localdate(), text=f"Note {index}"
        )
    for index in range(to // 3 - permissions.grants_on(watched).__len__()):
        from tests.factories import UserFactory

        permissions.grant(
            watched,
            action=permissions.VIEW_EXEMPT,
            user=UserFactory(username=f"holder-{to}-{index}"),
            reason="Query-count test",
            granted_by=manager,
        )
    for client in reader_clients:  # each opening of the page logs one read
        client.get(reverse("referrals:detail", args=[watched.pk]))


def page_urls(watched) -> dict[str, tuple[str, dict]]:
    tray = reverse("referrals:tray")
    return {
        "tray (awaiting)": (tray, {}),
        "tray (all)": (tray, {"view": "all"}),
        "tray search by reference": (tray, {"view": "all", "q": "MASH-2019"}),
        "tray search by name": (tray, {"view": "all", "q": "smi"}),
        "tray export (CSV)": (reverse("referrals:export"), {"view": "all"}),
        "referral": (reverse("referrals:detail", args=[watched.pk]), {}),
        "referral history": (reverse("referrals:history", args=[watched.pk]), {}),
        "referral grants": (reverse("referrals:grants", args=[watched.pk]), {}),
        "referral access log": (reverse("referrals:access_log", args=[watched.pk]), {}),
        "referral notes": (reverse("referrals:add_note", args=[watched.pk]), {}),
        "guidance timeline": (reverse("guidance:timeline"), {}),
    }


def count(client: Client, url: str, params: dict) -> int:
    client.get(url, params)  # warm-up
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200, (url, response.status_code)
    return len(queries.captured_queries)


def test_list_search_and_detail_pages_use_the_same_queries_at_3_and_30_records(role_user):
    practitioner = role_user(Role.MASH_PRACTITIONER, username="practitioner")
    manager = role_user(Role.MASH_MANAGER, username="manager")
    infogov = role_user(Role.INFORMATION_GOVERNANCE, username="infogov")
    grantor = role_user(Role.MASH_MANAGER, username="grantor")  # nobody grants to themselves
    watched = ReferralFactory()
    for user in (practitioner, manager):
        for action in (permissions.VIEW_EXEMPT, permissions.CHANGE):
            permissions.grant(watched, action=action, user=user, reason="Works the case", granted_by=grantor)
    manager_client = sign_in_verified(Client(), manager)
    infogov_client = sign_in_verified(Client(), infogov)
    readers = [sign_in_verified(Client(), practitioner)]
    context = {"watched": watched, "practitioner": practitioner, "manager": manager}

    grow(to=SMALL, reader_clients=readers, **context)
    pages = page_urls(watched)
    access_log = (reverse("core:access_log"), {})
    small = {name: count(manager_client, url, params) for name, (url, params) in pages.items()}
    small["information governance access log"] = count(infogov_client, *access_log)

    grow(to=LARGE, reader_clients=readers * (LARGE // 3), **context)
    large = {name: count(manager_client, url, params) for name, (url, params) in pages.items()}
    large["information governance access log"] = count(infogov_client, *access_log)

    assert watched.notes.count() == LARGE // 3
    grown = {name: (small[name], large[name]) for name in small if small[name] != large[name]}
    assert not grown, f"query counts that grow with the data (3 records, 30 records): {grown}"


# --- Scrutiny, the cabinet report composer, its packs page, and the model guidance ------------


@set_up
def grow_scrutiny(*, to: int, officer, report, watched, meeting, item) -> None:
    """Scrutiny recommendations (each with a response, an action and a progress update) up to
    ``to``; as many appendices on the report; as many actions on the watched recommendation."""
    import datetime as dt

    from scrutiny import services as scrutiny_services
    from scrutiny.models import Recommendation
    from tests.scrutiny.helpers import add_appendix

    today = timezone.localdate()
    for index in range(to - Recommendation.objects.count()):
        rec = scrutiny_services.recommendation_create(
            user=officer,
            data=scrutiny_services.RecommendationInput(
                source="scrutiny", text=f"Recommendation {index}", meeting=meeting, agenda_item=item
            ),
        )
        scrutiny_services.response_record(
            user=officer,
            recommendation_id=rec.pk,
            expected_version=rec.version,
            decision="accepted",
            text="Accepted",
            responded_by="Cabinet member",
            responded_on=today,
        )
        rec.refresh_from_db()
        action = scrutiny_services.action_add(
            user=officer,
            recommendation_id=rec.pk,
            expected_version=rec.version,
            description=f"Action {index}",
            owner="Learning and achievement",
            due_date=today + dt.timedelta(days=index - 5),
        )
        scrutiny_services.progress_add(
            user=officer,
            action_id=action.pk,
            expected_version=action.version,
            date=today,
            percent_complete=50,
            text="Half way",
        )
    for index in range(to - watched.actions.count()):
        watched.refresh_from_db()
        action = scrutiny_services.action_add(
            user=officer,
            recommendation_id=watched.pk,
            expected_version=watched.version,
            description=f"Watched action {index}",
            owner="MASH",
            due_date=today + dt.timedelta(days=index),
        )
        scrutiny_services.progress_add(
            user=officer,
            action_id=action.pk,
            expected_version=action.version,
            date=today,
            percent_complete=10,
            text="Started",
        )
    kinds = ["text", "response_table", "model_guidance", "definitions"]
    for index in range(report.appendices.count(), to):
        add_appendix(officer, report, kind=kinds[index % 4], title=f"Appendix {index}", text=f"Text {index}")


@set_up
def grow_guidance(*, to: int, officer, version, compared) -> None:
    """Schools with a trained DSL up to ``to`` (each asked to acknowledge the published
    version), versions up to ``to``, and ``to`` sections in the compared drafts."""
    import datetime as dt

    from modelguidance import services as guidance_services
    from modelguidance.models import ModelGuidanceVersion, SafeguardingLead
    from tests.guidance.helpers import draft, school_with_dsl

    for index in range(to - SafeguardingLead.objects.count()):
        school_with_dsl(trained_on=timezone.localdate() - dt.timedelta(days=30 * index))
    guidance_services.acknowledgements_request(user=officer, version=version)
    for _ in range(to - ModelGuidanceVersion.objects.count()):
        draft(officer, title="Another draft")
    sections = [guidance_services.SectionInput(f"Section {n}", f"Body {n} of {to}") for n in range(to)]
    for target in compared:
        target.refresh_from_db()
        guidance_services.guidance_version_update(
            user=officer,
            version_id=target.pk,
            expected_version=target.version,
            title=target.title,
            change_summary="Grown",
            sections=sections,
        )


def test_scrutiny_guidance_and_packs_pages_use_the_same_queries_at_3_and_30_records(
    role_user, settings, tmp_path
):
    from scrutiny import services as scrutiny_services
    from scrutiny.models import Appendix, Recommendation
    from tests.guidance.helpers import draft, published
    from tests.scrutiny.helpers import make_report, meetings, publish

    settings.MEDIA_ROOT = str(tmp_path / "media")
    officer = role_user(Role.REPORT_OFFICER, username="officer")
    scrutiny_services.report_grant(
        granted_by=role_user(Role.INFORMATION_GOVERNANCE, username="ig-grantor"),
        report_id=make_report(officer).pk,
        user=officer,
        reason="Presents the report to cabinet",
    )
    from scrutiny.models import CabinetReport

    report = CabinetReport.objects.get()
    scrutiny_meeting, _, item = meetings()
    watched = scrutiny_services.recommendation_create(
        user=officer,
        data=scrutiny_services.RecommendationInput(
            source="scrutiny", text="Watched", meeting=scrutiny_meeting, agenda_item=item
        ),
    )
    version = published(officer, title="Published guidance")
    compared = [draft(officer, title="Draft A"), draft(officer, title="Draft B")]
    client = sign_in_verified(Client(), officer)

    def pages() -> dict[str, tuple[str, dict]]:
        table = Appendix.objects.filter(report=report, kind="response_table").first()
        guidance_appendix = Appendix.objects.filter(report=report, kind="model_guidance").first()
        return {
            "tracker": (reverse("scrutiny:tracker"), {}),
            "tracker (filtered)": (reverse("scrutiny:tracker"), {"source": "scrutiny"}),
            "tracker export (CSV)": (reverse("scrutiny:export"), {}),
            "recommendation": (reverse("scrutiny:recommendation", args=[watched.pk]), {}),
            "reports": (reverse("scrutiny:reports"), {}),
            "report": (reverse("scrutiny:report", args=[report.pk]), {}),
            "appendix (response table)": (reverse("scrutiny:appendix", args=[table.pk]), {}),
            "appendix (model guidance)": (reverse("scrutiny:appendix", args=[guidance_appendix.pk]), {}),
            "packs": (
                reverse(
                    "documents:exports",
                    args=["cabinet_report_version", report.versions.order_by("-number").first().pk],
                ),
                {},
            ),
            "guidance versions": (reverse("modelguidance:versions"), {}),
            "guidance version": (reverse("modelguidance:version_detail", args=[compared[0].pk]), {}),
            "guidance compare": (
                reverse("modelguidance:version_compare", args=[compared[0].pk]),
                {"with": compared[1].pk},
            ),
            "training coverage": (reverse("modelguidance:coverage"), {}),
            "acknowledgements": (reverse("modelguidance:version_acknowledgements", args=[version.pk]), {}),
        }

    sizes = {}
    for size in (SMALL, LARGE):
        grow_scrutiny(
            to=size, officer=officer, report=report, watched=watched, meeting=scrutiny_meeting, item=item
        )
        grow_guidance(to=size, officer=officer, version=version, compared=compared)
        # The papers published at this size (the second a supplement): the report page lists them.
        publish(officer, report, kind="supplement", reason="Grown")
        sizes[size] = {name: count(client, url, params) for name, (url, params) in pages().items()}

    assert Recommendation.objects.count() == LARGE
    assert report.appendices.count() == LARGE
    assert version.acknowledgements.count() == LARGE
    grown = {
        name: (sizes[SMALL][name], sizes[LARGE][name])
        for name in sizes[SMALL]
        if sizes[SMALL][name] != sizes[LARGE][name]
    }
    assert not grown, f"query counts that grow with the data (3 records, 30 records): {grown}"


# --- Case reviews -----------------------------------------------------------------------------


@set_up
def build_review(*, size: int, year: int, lead, reviewer):
    """A case review of ``size`` closed referrals received in ``year``, every case assessed,
    submitted and accepted."""
    import datetime as dt

    from referrals.models import Referral
    from reviews import services as review_services

    london = timezone.get_current_timezone()
    for index in range(size):
        day = dt.date(year, 1, 8) + dt.timedelta(days=7 * index)
        ReferralFactory(
            received_at=dt.datetime.combine(day, dt.time(10), tzinfo=london), status=Referral.Status.CLOSED
        )
    review = review_services.review_create(
        user=lead,
        title=f"Review of {year}",
        terms_of_reference="Assess the advice MASH gave against the DfE guidance in force at the time.",
        lead_reviewer=lead,
        reviewers=[reviewer],
        periods=[review_services.PeriodInput(f"{year}", dt.date(year, 1, 1), dt.date(year, 12, 31))],
        grants_end_on=timezone.localdate() + dt.timedelta(days=60),
    )
    review_services.review_start_screening(user=lead, review_id=review.pk)
    for decision in review.screening.filter(candidate=True):
        review_services.screening_decide(user=lead, decision_id=decision.pk, include=True)
    review_services.review_start_reviewing(user=lead, review_id=review.pk)
    assessment = None
    for referral in Referral.objects.filter(received_at__year=year):
        assessment = review_services.assessment_assign(
            user=lead, review_id=review.pk, referral_id=referral.pk, reviewer=reviewer
        )
        ratings = {
            r.criterion_id: review_services.RatingInput("met", "Evidence")
            for r in assessment.ratings.select_related("criterion")
        }
        assessment = review_services.assessment_save(
            user=reviewer,
            assessment_id=assessment.pk,
            expected_version=assessment.version,
            ratings=ratings,
            advice_matched="partly",
            overall_judgement="good",
            good_practice="Good practice",
            areas_for_improvement="Improvement",
        )
        assessment = review_services.assessment_submit(
            user=reviewer, assessment_id=assessment.pk, expected_version=assessment.version
        )
        review_services.assessment_decide(
            user=lead, assessment_id=assessment.pk, accept=True, comments="Fine"
        )
    review.refresh_from_db()
    assert review.assessments.count() == size
    return review, assessment


def test_case_review_pages_use_the_same_queries_at_3_and_30_cases(role_user):
    lead = role_user(Role.LEAD_REVIEWER, username="lead")
    reviewer = role_user(Role.REVIEWER, username="reviewer")
    client = sign_in_verified(Client(), lead)
    sizes = {}
    for size, year in ((SMALL, 2018), (LARGE, 2019)):
        review, assessment = build_review(size=size, year=year, lead=lead, reviewer=reviewer)
        pages = {
            "reviews list": reverse("reviews:list"),  # the lead's: one review, then two
            "review": reverse("reviews:detail", args=[review.pk]),
            "findings": reverse("reviews:findings", args=[review.pk]),
            "report": reverse("reviews:report", args=[review.pk]),
            "case details": reverse("reviews:case_details", args=[review.pk]),
            "assessment": reverse("reviews:assessment", args=[assessment.pk]),
        }
        sizes[size] = {name: count(client, url, {}) for name, url in pages.items()}
    grown = {
        name: (sizes[SMALL][name], sizes[LARGE][name])
        for name in sizes[SMALL]
        if sizes[SMALL][name] != sizes[LARGE][name]
    }
    assert not grown, f"query counts that grow with the data (3 cases, 30 cases): {grown}"
