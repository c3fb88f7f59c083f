"""An officer keeps the tracker and composes a cabinet report in the browser; axe-core on
every scrutiny page, errors included; forms submitted from the keyboard; no JavaScript needed
for any of it (every page is a plain form post)."""

from __future__ import annotations

import datetime as dt

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.roles import Role
from scrutiny import services
from scrutiny.models import Action, Appendix, CabinetReport, DecisionRecord, Recommendation
from tests.browser.pages import add_authenticator, choose, fill_date, sign_in
from tests.scrutiny.helpers import meetings, travel_to
from tests.support.axe import Audit


@pytest.fixture
def audit(page):
    return Audit(page)


def test_officer_tracks_recommendations_and_composes_a_report(
    page, audit, role_user, settings, tmp_path, live_server
):
    settings.MEDIA_ROOT = tmp_path
    officer = role_user(Role.REPORT_OFFICER, username="officer", first_name="Olu", last_name="Officer")
    add_authenticator(officer)
    scrutiny_meeting, cabinet_meeting, item = meetings()
    sign_in(page, "officer")

    # The tracker, then a recommendation: first with a mistake, then right (keyboard submit).
    audit.visit("tracker", "/scrutiny/", shot=True)
    page.get_by_role("link", name="Record a recommendation").click()
    audit("recommendation-create")
    choose(page, "Where does it come from?", "Scrutiny committee")
    page.get_by_label("Recommendation", exact=True).fill("Train every designated safeguarding lead.")
    audit.submit("recommendation-create-errors", "Record recommendation")
    assert "Select the scrutiny meeting that made the recommendation" in page.content()
    page.get_by_label("Scrutiny meeting").select_option(str(scrutiny_meeting.pk))
    page.get_by_label("Agenda item (optional)").select_option(str(item.pk))
    page.get_by_role("button", name="Record recommendation").focus()
    page.keyboard.press("Enter")
    page.get_by_text("Scrutiny recommendation 1 recorded").wait_for()
    rec = Recommendation.objects.get()
    audit("recommendation-detail", shot=True)

    page.get_by_role("link", name="Record the response").click()
    audit("response")
    choose(page, "Executive response", "Partially accepted")
    page.get_by_label("Response", exact=True).fill("Training for all leads by the spring term.")
    page.get_by_label("Responded by").fill("Cabinet member children and families")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Response recorded").wait_for()

    page.get_by_role("link", name="Add an action").click()
    audit("action-add")
    page.get_by_label("What will be done").fill("Run the training")
    page.get_by_label("Owner").fill("Learning and achievement team")
    fill_date(page, "Due date", dt.date(2020, 1, 31))
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Action added").wait_for()
    audit("recommendation-red", shot=True)
    page.get_by_role("link", name="Run the training").click()
    audit("action")
    page.get_by_label("Progress (per cent)").fill("150")
    page.get_by_label("What has happened").fill("Half the schools done")
    audit.submit("action-progress-errors", "Record progress")
    audit.visit("evidence-add", f"/scrutiny/recommendations/{rec.pk}/evidence/new/")
    audit.visit("recommendation-edit", f"/scrutiny/recommendations/{rec.pk}/edit/")
    audit.visit("recommendation-history", f"/scrutiny/recommendations/{rec.pk}/history/")
    assert Action.objects.get().updates.count() == 0

    # The report: started with the sections in order, an exempt appendix, access given.
    audit.visit("reports", "/scrutiny/reports/")
    page.get_by_role("link", name="Start a report").click()
    audit("report-create")
    page.get_by_label("Agenda item").select_option(str(item.pk))
    page.get_by_label("Meeting", exact=True).select_option(str(cabinet_meeting.pk))
    page.get_by_label("Title of report").fill("Review of peer on peer abuse cases")
    page.get_by_label("Report by").fill("Cabinet member children and families")
    choose(page, "Decision type", "Non-key")
    page.get_by_label("Purpose").fill("To receive the outcomes of the review.")
    audit.submit("report-create-errors", "Save the report")
    page.get_by_label("Recommendations").fill("The executive note the report\nThe executive agree appendix 1")
    page.get_by_label("Alternative options").fill("There are no alternative options.")
    page.get_by_label("Key considerations").fill("The committee met.\n\nThe review looked at cases.")
    page.get_by_role("button", name="Save the report").click()
    report = CabinetReport.objects.get()
    page.wait_for_url(f"**/scrutiny/reports/{report.pk}/")
    audit("report", shot=True)
    assert "(b)" in page.content()

    page.get_by_role("link", name="Add an appendix").click()
    audit("appendix-add")
    choose(page, "What kind of appendix?", "Text")
    page.get_by_label("Title").fill("Historic cases of peer on peer")
    page.get_by_label("Text (for a text appendix)").fill("Exempt names would be here.")
    page.get_by_label("Exempt from publication (Schedule 12A)").check()
    audit.submit("appendix-add-errors", "Save")
    page.get_by_label("Paragraph of Schedule 12A").select_option("2")
    page.get_by_label("Public interest statement").fill("It would reveal the identity of children.")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Appendix 1 added").wait_for()
    assert "Part exempt" in page.content()
    appendix = Appendix.objects.get()
    audit.visit("appendix-notice", f"/scrutiny/appendices/{appendix.pk}/")
    assert "Exempt names would be here." not in page.content()

    # Access to the exempt appendix is information governance's to give, never the officer's
    # own: in a second browser, IG gives it (first with a reason that says nothing).
    audit.visit("grants-not-the-officers", f"/scrutiny/reports/{report.pk}/grants/", status=404)
    ig = role_user(Role.INFORMATION_GOVERNANCE, username="ig", first_name="Ira", last_name="Governance")
    add_authenticator(ig)
    ig_context = page.context.browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}, locale="en-GB"
    )
    ig_page = ig_context.new_page()
    ig_audit = Audit(ig_page)
    sign_in(ig_page, "ig")
    ig_audit.visit("grants", f"/scrutiny/reports/{report.pk}/grants/")
    ig_page.get_by_label("Person").select_option(str(officer.pk))
    ig_page.get_by_label("Why they need the exempt appendices").fill("Presenting")
    ig_audit.submit("grants-errors", "Give access")
    assert "in at least 20 characters and 3 words" in ig_page.content()
    ig_page.get_by_label("Why they need the exempt appendices").fill(
        "Presenting officer at the cabinet meeting"
    )
    ig_page.get_by_role("button", name="Give access").click()
    ig_page.get_by_text("Grant given").wait_for()
    ig_audit("grants-given")
    ig_context.close()
    ig_audit.assert_clean()
    audit.visit("appendix-content", f"/scrutiny/appendices/{appendix.pk}/", shot=True)
    assert "Exempt names would be here." in page.content()
    audit.visit("appendix-edit", f"/scrutiny/appendices/{appendix.pk}/edit/")
    audit.visit("report-edit", f"/scrutiny/reports/{report.pk}/edit/")
    audit.visit("report-history", f"/scrutiny/reports/{report.pk}/history/")
    # The decision is made on the published papers: refused until they are published.
    audit.visit("decision", f"/scrutiny/reports/{report.pk}/decision/")
    page.get_by_label("Decision", exact=True).fill("Approved")
    choose(page, "Status", "Published")
    choose(page, "Call-in", "Call-in period open")
    audit.submit("decision-errors", "Save")
    errors = page.locator(".govuk-error-summary").inner_text()
    assert "Publish the report for the meeting before recording its decision" in errors
    assert "Enter the date the decision was published" in errors
    assert not DecisionRecord.objects.exists()

    # The papers published on Friday 20 November, three clear days before the meeting: a frozen
    # version 1, with the chair's reasons for urgency. A version is dated the day it is
    # published (never typed), so the test goes to that day, and signs in on it.
    with travel_to(dt.date(2020, 11, 20)):
        # Back in 2020 the 2026 session has not expired (so the sign-in page would send the
        # officer on) and the authenticator's last code is from the future (so django-otp would
        # refuse an earlier one): start afresh, as the officer would on that day.
        page.context.clear_cookies()
        TOTPDevice.objects.filter(user=officer).update(last_t=-1)
        sign_in(page, "officer")
        audit.visit("report-before-publishing", f"/scrutiny/reports/{report.pk}/")
        page.get_by_role("link", name="Publish the papers for the meeting").click()
        audit("report-publish")
        assert "The papers will be published today, 20 November 2020" in page.content()
        page.get_by_label("The chair's reasons for considering the papers as a matter of urgency").fill(
            "The police report arrived on 19 November."
        )
        page.get_by_label("Chair of the meeting who agreed").fill("Councillor Jane Smith")
        page.get_by_role("button", name="Publish").click()
        page.get_by_text("Version 1 published").wait_for()
        audit("report-published")
    sign_in(page, "officer")
    assert list(report.versions.values_list("number", flat=True)) == [1]
    assert report.versions.get().published_on == dt.date(2020, 11, 20)

    # Now the decision, which must say who made it: a cabinet member needs their title.
    audit.visit("decision-published", f"/scrutiny/reports/{report.pk}/decision/")
    page.get_by_label("Decision", exact=True).fill("Approved")
    choose(page, "Status", "Published")
    choose(page, "Call-in", "Call-in period open")
    fill_date(page, "Date published", dt.date(2020, 11, 27))
    choose(page, "Who made the decision", "A cabinet member")
    audit.submit("decision-maker-errors", "Save")
    assert "Enter the title of the person who made the decision" in (
        page.locator(".govuk-error-summary").inner_text()
    )
    page.get_by_label("Title of the decision maker").fill("Cabinet member children and families")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Decision recorded").wait_for()
    audit("report-decided")
    decision = DecisionRecord.objects.get()
    assert (decision.decision_maker, decision.decision_maker_name) == (
        "cabinet_member",
        "Cabinet member children and families",
    )
    assert decision.report_version == report.versions.get(number=1)

    # A stale save: someone else changes the report meanwhile.
    page.goto(f"/scrutiny/reports/{report.pk}/edit/")
    report.refresh_from_db()
    services.cabinet_report_update(
        user=officer, report_id=report.pk, expected_version=report.version, values={"consultees": "Others."}
    )
    page.get_by_label("Purpose").fill("Changed meanwhile")
    audit.submit("report-conflict", "Save the report", status=409)
    audit.assert_clean()
