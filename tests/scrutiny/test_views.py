"""Scrutiny pages: forms with GOV.UK errors that change nothing, stale edits, CSV, filters, history."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse

from core.roles import Role
from scrutiny import services
from scrutiny.models import Appendix, CabinetReport, DecisionRecord, Recommendation
from tests.conftest import sign_in_verified
from tests.scrutiny.helpers import (
    REPORT_VALUES,
    add_appendix,
    make_report,
    meetings,
    pdf_bytes,
    publish,
    travel_to,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(role_user):
    return role_user(Role.REPORT_OFFICER, username="officer")


@pytest.fixture
def officer_client(client, officer):
    return sign_in_verified(client, officer)


def _date(prefix: str, day: dt.date) -> dict:
    return {f"{prefix}_0": day.day, f"{prefix}_1": day.month, f"{prefix}_2": day.year}


def test_recording_a_recommendation_numbers_it_and_bad_input_shows_the_error_summary(officer_client):
    scrutiny_meeting, _, _ = meetings()
    url = reverse("scrutiny:recommendation_create")
    response = officer_client.post(url, {"source": "scrutiny", "text": "Train DSLs"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "There is a problem" in body
    assert "Select the scrutiny meeting that made the recommendation" in body
    assert "<title>Error:" in body
    assert not Recommendation.objects.exists()
    response = officer_client.post(
        url, {"source": "scrutiny", "text": "Train DSLs", "meeting": scrutiny_meeting.pk}
    )
    rec = Recommendation.objects.get()
    assert response.status_code == 302
    assert rec.number == 1


def test_a_stale_response_gets_the_conflict_page_and_changes_nothing(officer_client, officer):
    scrutiny_meeting, _, _ = meetings()
    rec = services.recommendation_create(
        user=officer, data=services.RecommendationInput(source="scrutiny", text="x", meeting=scrutiny_meeting)
    )
    url = reverse("scrutiny:response", args=[rec.pk])
    form = {
        "version": rec.version,
        "decision": "accepted",
        "text": "Agreed",
        "responded_by": "Cabinet member",
        **_date("responded_on", dt.date(2020, 11, 26)),
    }
    services.recommendation_update(
        user=officer, recommendation_id=rec.pk, expected_version=1, text="y", status="open"
    )
    response = officer_client.post(url, form)
    assert response.status_code == 409
    assert "Your changes have not been saved" in response.content.decode()
    rec.refresh_from_db()
    assert not hasattr(rec, "response")
    response = officer_client.post(url, form | {"version": 2})
    assert response.status_code == 302
    rec.refresh_from_db()
    assert rec.response.decision == "accepted"


def test_actions_progress_and_the_tracker_filters_and_csv(officer_client, officer):
    scrutiny_meeting, _, _ = meetings()
    late = services.recommendation_create(
        user=officer,
        data=services.RecommendationInput(source="scrutiny", text="Late one", meeting=scrutiny_meeting),
    )
    services.recommendation_create(
        user=officer,
        data=services.RecommendationInput(
            source="external_audit", text="=HYPERLINK(1)", source_reference="NSPCC audit"
        ),
    )
    response = officer_client.post(
        reverse("scrutiny:action_add", args=[late.pk]),
        {
            "version": 1,
            "description": "Train",
            "owner": "Learning team",
            **_date("due_date", dt.date(2020, 1, 1)),
        },
    )
    assert response.status_code == 302
    action = late.actions.get()
    # A progress update with a bad percentage: an error, nothing saved.
    url = reverse("scrutiny:action", args=[action.pk])
    bad = {"progress-version": action.version, "progress-percent_complete": "150", "progress-text": "x"}
    response = officer_client.post(url, bad | _date("progress-date", dt.date(2020, 2, 1)))
    assert response.status_code == 400
    assert "Progress must be between 0 and 100 per cent" in response.content.decode()
    assert not action.updates.exists()

    tracker = reverse("scrutiny:tracker")
    red = officer_client.get(tracker, {"rag": "red"}).content.decode()
    assert "Scrutiny recommendation 1" in red
    assert "NSPCC audit" not in red
    by_owner = officer_client.get(tracker, {"owner": "learning"}).content.decode()
    assert "Scrutiny recommendation 1" in by_owner
    by_source = officer_client.get(tracker, {"source": "external_audit"}).content.decode()
    assert "Scrutiny recommendation 1" not in by_source
    committee = officer_client.get(tracker, {"committee": scrutiny_meeting.committee_id}).content.decode()
    assert "Scrutiny recommendation 1" in committee

    response = officer_client.get(reverse("scrutiny:export"))
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["Recommendation", "Source", "Meeting"]
    assert {row[6] for row in rows[1:]} == {"Red", "No actions"}
    assert "'=HYPERLINK(1)" in [row[3] for row in rows]  # a formula is neutralised

    history = officer_client.get(reverse("scrutiny:recommendation_history", args=[late.pk])).content.decode()
    assert "Action created" in history
    assert "Recommendation changed" in history  # the action moved it to in progress


def test_composing_a_report_and_its_appendices(officer_client, officer, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    _, cabinet_meeting, item = meetings()
    form = dict(REPORT_VALUES.items()) | {"agenda_item": item.pk, "meeting": cabinet_meeting.pk}
    response = officer_client.post(reverse("scrutiny:report_create"), form | {"title": ""})
    assert response.status_code == 400
    assert "Enter the title of the report" in response.content.decode()
    assert not CabinetReport.objects.exists()
    response = officer_client.post(reverse("scrutiny:report_create"), form)
    report = CabinetReport.objects.get()
    assert response.status_code == 302

    add = reverse("scrutiny:appendix_add", args=[report.pk])
    fake = io.BytesIO(b"MZ not a pdf")
    fake.name = "appendix.pdf"
    response = officer_client.post(
        add, {"version": report.version, "kind": "uploaded_pdf", "title": "CSO", "upload": fake}
    )
    assert response.status_code == 400
    assert "The selected file must be a PDF" in response.content.decode()
    real = io.BytesIO(pdf_bytes(pages=2))
    real.name = "x.pdf"
    response = officer_client.post(
        add, {"version": report.version, "kind": "uploaded_pdf", "title": "CSO", "upload": real}
    )
    assert response.status_code == 302
    report.refresh_from_db()
    response = officer_client.post(
        add,
        {"version": report.version, "kind": "text", "title": "Names", "text": "x", "exempt": "on"},
    )
    body = response.content.decode()
    assert "Select the paragraph of Schedule 12A that makes it exempt" in body
    response = officer_client.post(
        add,
        {
            "version": report.version,
            "kind": "text",
            "title": "Names",
            "text": "x",
            "exempt": "on",
            "schedule_12a_paragraph": "2",
            "public_interest": "Identifies children",
        },
    )
    assert response.status_code == 302
    page = officer_client.get(reverse("scrutiny:report", args=[report.pk])).content.decode()
    assert "Part exempt" in page
    assert "Appendix 1 - CSO" in page
    assert "Appendix 2 - Names (exempt)" in page
    # A stale appendix add (someone else changed the report) is refused.
    response = officer_client.post(add, {"version": 1, "kind": "text", "title": "Late", "text": "x"})
    assert response.status_code == 409
    assert Appendix.objects.count() == 2


def test_grants_page_gives_and_removes_access(client, officer_client, officer, role_user):
    """Information governance gives access, for a reason and until a date (at most 90 days);
    the report officers who compose the report no longer give it (they gave it to themselves)."""
    from django.utils import timezone

    from core import permissions

    report = make_report(officer)
    lead = role_user(Role.LEAD_REVIEWER, username="lead")
    url = reverse("scrutiny:report_grants", args=[report.pk])
    assert officer_client.get(url).status_code == 404
    ends = timezone.localdate() + dt.timedelta(days=30)
    assert officer_client.post(url, {"user": officer.pk, "reason": "Presents the report"}).status_code == 404
    assert not permissions.has_grant(officer, report)

    ig = role_user(Role.INFORMATION_GOVERNANCE, username="ig")
    ig_client = sign_in_verified(client, ig)
    page = ig_client.get(url).content.decode()
    assert f'value="{ends.day}"' in page  # the end date offered is 30 days away
    response = ig_client.post(url, {"user": lead.pk, "reason": ""} | _date("expires_on", ends))
    assert "Enter why this person needs the exempt appendices" in response.content.decode()
    response = ig_client.post(url, {"user": lead.pk, "reason": "aaaaaaaaaa"} | _date("expires_on", ends))
    assert "in at least 20 characters and 3 words" in response.content.decode()
    too_late = timezone.localdate() + dt.timedelta(days=91)
    response = ig_client.post(
        url, {"user": lead.pk, "reason": "Presents the report to cabinet"} | _date("expires_on", too_late)
    )
    assert "must be within 90 days of today" in response.content.decode()
    response = ig_client.post(url, {"user": lead.pk, "reason": "Presents the report to cabinet"})
    assert "Enter the date access ends" in response.content.decode()
    assert not permissions.has_grant(lead, report)
    ig_client.post(
        url, {"user": lead.pk, "reason": "Presents the report to cabinet"} | _date("expires_on", ends)
    )
    assert permissions.has_grant(lead, report)
    grant = permissions.grants_on(report)[0]
    assert grant.granted_by == "ig"
    assert timezone.localtime(grant.expires_at).date() == ends
    ig_client.post(url, {"revoke": grant.id})
    assert not permissions.has_grant(lead, report)
    assert "Removed" in ig_client.get(url).content.decode()


def test_the_decision_record(officer_client, officer):
    report = make_report(officer)
    publish(officer, report)
    url = reverse("scrutiny:decision", args=[report.pk])
    form = {
        "decision_text": "Approved",
        "status": "published",
        "call_in": "open",
        "decision_maker": "cabinet",
    }
    response = officer_client.post(url, form)
    assert "Enter the date the decision was published" in response.content.decode()
    response = officer_client.post(url, form | _date("published_on", dt.date(2020, 11, 27)))
    assert response.status_code == 302
    page = officer_client.get(reverse("scrutiny:report", args=[report.pk])).content.decode()
    assert "Call-in period open: the call-in period ends 4 December 2020" in page


def test_readers_see_no_change_buttons(client, role_user, officer):
    report = make_report(officer)
    add_appendix(officer, report)
    lead = role_user(Role.LEAD_REVIEWER)
    sign_in_verified(client, lead)
    page = client.get(reverse("scrutiny:report", args=[report.pk])).content.decode()
    assert "Change the report" not in page
    assert client.get(reverse("scrutiny:report_edit", args=[report.pk])).status_code == 404
    assert client.post(reverse("scrutiny:report_edit", args=[report.pk]), {}).status_code == 404


def test_a_key_decision_not_subject_to_call_in_needs_the_scrutiny_chairs_agreement_shown_on_the_record(
    officer_client, officer
):
    """Found by attack: a key decision was recorded as "not subject to call-in" with no reason,
    so it took effect with no chance for scrutiny to call it in and no record of why."""
    report = make_report(officer, decision_type="key")
    publish(officer, report)
    url = reverse("scrutiny:decision", args=[report.pk])
    form = {
        "decision_text": "Approved",
        "status": "published",
        "key_decision": "on",
        "call_in": "not_subject",
        "decision_maker": "cabinet",
    } | _date("published_on", dt.date(2020, 11, 27))
    refused = officer_client.post(url, form)
    assert refused.status_code == 400
    body = refused.content.decode()
    assert "Enter why the key decision is urgent" in body
    assert "Enter the name of the chair of the scrutiny committee who agreed the decision is urgent" in body
    assert not DecisionRecord.objects.filter(report=report).exists()
    response = officer_client.post(
        url,
        form
        | {
            "call_in_exemption_reason": "The contract ends on 1 December; any delay leaves no service.",
            "call_in_exemption_agreed_by": "Councillor Pat Jones",
        },
    )
    assert response.status_code == 302
    page = officer_client.get(reverse("scrutiny:report", args=[report.pk])).content.decode()
    assert "Why it is not subject to call-in" in page
    assert "Urgent: The contract ends on 1 December; any delay leaves no service." in page
    assert "Agreed by the chair of the scrutiny committee, Councillor Pat Jones" in page
    # The decision page starts from the record, reasons included.
    again = officer_client.get(url).content.decode()
    assert "Councillor Pat Jones" in again


def _card(page: str, title: str) -> str:
    """The text of the summary card headed ``title`` on the report page."""
    start = page.index(f">{title}</h3>")
    return page[start : page.index("</section>", start)]


def test_the_report_page_groups_its_actions_and_says_what_to_do_next(officer_client, officer):
    report = make_report(officer)
    add_appendix(officer, report)
    url = reverse("scrutiny:report", args=[report.pk])
    with travel_to(dt.date(2020, 11, 18)):  # before the meeting: the papers can be published
        page = officer_client.get(url).content.decode()
    assert page.count('class="govuk-summary-card"') == 3
    compose, publishing, exports = (
        _card(page, "Write the report"),
        _card(page, "Publish and decide"),
        _card(page, "Export PDF packs"),
    )
    assert reverse("scrutiny:report_edit", args=[report.pk]) in compose
    assert reverse("scrutiny:appendix_add", args=[report.pk]) in compose
    assert reverse("scrutiny:disclosure_check", args=[report.pk]) in publishing
    assert reverse("scrutiny:report_publish", args=[report.pk]) in publishing
    assert reverse("scrutiny:decision", args=[report.pk]) in publishing
    assert "publish the papers for the meeting to export them" in exports
    assert "then publish the papers for the meeting" in page.split('id="next-step"')[1].split("</p>")[0]
    # One h1, the report's title; the report's own h1 (the PDF's) is not repeated on the page.
    assert page.count("<h1") == 1

    version = publish(officer, report)
    with travel_to(dt.date(2020, 11, 18)):
        page = officer_client.get(url).content.decode()
    assert "The papers are published. Record the decision" in page
    exports = _card(page, "Export PDF packs")
    assert reverse("documents:exports", args=["cabinet_report_version", version.pk]) in exports


def test_a_reader_sees_only_the_actions_open_to_them(client, role_user, officer):
    report = make_report(officer)
    sign_in_verified(client, role_user(Role.LEAD_REVIEWER))
    with travel_to(dt.date(2020, 11, 10)):
        page = client.get(reverse("scrutiny:report", args=[report.pk])).content.decode()
    for name in ("report_edit", "appendix_add", "report_publish", "decision", "report_grants"):
        assert reverse(f"scrutiny:{name}", args=[report.pk]) not in page, name
    assert reverse("scrutiny:disclosure_check", args=[report.pk]) in page
    assert "The report is being drafted" in page
