"""An officer drafts and submits the model guidance; a second officer records the cabinet's
approval and publishes it (nobody approves or publishes what they drafted); a school's DSL
acknowledges it through the e-mailed link without an account. axe-core on every page the
issue adds."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail

from core.roles import Role
from modelguidance.models import Acknowledgement, ModelGuidanceVersion
from tests.browser.pages import add_authenticator, sign_in
from tests.guidance.helpers import PDF, cabinet_decision, school_with_dsl
from tests.support.axe import Audit

LINK = re.compile(r"https?://[^\s]+(?P<path>/guidance/acknowledge/[^/]+/[^/\s]+/)")


def banner(page, text: str) -> None:
    page.locator(".govuk-notification-banner__heading", has_text=text).wait_for()


@pytest.fixture
def audit(page):
    return Audit(page)


def test_officer_publishes_and_a_school_acknowledges(page, audit, browser, live_server, role_user):
    officer = role_user(Role.REPORT_OFFICER, username="officer", first_name="Olu", last_name="Officer")
    add_authenticator(officer)
    school, _ = school_with_dsl(trained_on=dt.date(2025, 1, 6), name="Brookside Academy", urn="700001")
    school_with_dsl(trained_on=dt.date(2020, 1, 6), name="Lapsed Primary School", urn="700002")
    decision = cabinet_decision(officer)
    mail.outbox = []

    sign_in(page, "officer")
    audit.visit("versions-empty", "/guidance/model/")
    page.get_by_role("button", name="Start a new draft").click()
    page.get_by_role("heading", name="Edit the draft").wait_for()
    audit("version-edit", shot=True)

    page.get_by_label("Title").fill("Model guidance for handling peer on peer abuse in schools")
    page.get_by_label("Summary of changes").fill("First version for cabinet.")
    section = page.get_by_role("group", name="Section 1")
    section.get_by_label("Heading").fill("Purpose")
    audit.submit("version-edit-errors", "Save the draft")
    assert "Enter the text of the section" in page.locator(".govuk-error-summary").inner_text()
    page.get_by_role("group", name="Section 1").get_by_label("Text").fill(
        "This guidance helps schools respond to **peer on peer abuse**.\n\n* Tell the DSL at once"
    )
    page.get_by_role("button", name="Save the draft").click()
    banner(page, "Draft saved")
    audit("version-detail-draft", shot=True)

    page.get_by_role("link", name="Submit for approval").click()
    audit("version-submit")
    page.get_by_role("button", name="Submit for approval").click()
    banner(page, "Version 1 submitted for approval")

    page.get_by_role("link", name="Record cabinet approval").click()
    audit("version-approve-no-eqia")
    page.get_by_label(str(decision)).check()
    audit.submit("version-approve-refused", "Record approval")
    assert "Attach the equality impact assessment" in page.locator(".govuk-error-summary").inner_text()

    page.get_by_role("link", name="Back to version 1").click()
    page.get_by_role("link", name="Attach the equality impact assessment").click()
    audit("version-eqia")
    audit.submit("version-eqia-errors", "Attach")
    page.get_by_label("Equality impact assessment (PDF)").set_input_files(
        {"name": "eqia.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    page.get_by_label("Summary of the assessment").fill("No adverse impact on any protected group.")
    page.get_by_role("button", name="Attach").click()
    banner(page, "Equality impact assessment attached")

    # The drafter cannot record the approval of their own version, nor publish it.
    page.get_by_role("link", name="Record cabinet approval").click()
    page.get_by_label(str(decision)).check()
    audit.submit("version-approve-own-work", "Record approval")
    assert "You drafted or submitted version 1: someone else must approve it" in (
        page.locator(".govuk-error-summary").inner_text()
    )
    version = ModelGuidanceVersion.objects.get()
    assert version.status == "submitted"

    # A second officer, in their own browser, records the approval and publishes.
    approver = role_user(Role.REPORT_OFFICER, username="approver", first_name="Ada", last_name="Approver")
    add_authenticator(approver)
    approver_context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}, locale="en-GB"
    )
    approver_page = approver_context.new_page()
    approver_audit = Audit(approver_page)
    sign_in(approver_page, approver.username)
    approver_audit.visit("version-detail-submitted", f"/guidance/model/{version.pk}/")
    approver_page.get_by_role("link", name="Record cabinet approval").click()
    approver_audit("version-approve")
    approver_page.get_by_label(str(decision)).check()
    approver_page.get_by_role("button", name="Record approval").click()
    banner(approver_page, "Approval recorded")
    version.refresh_from_db()
    assert (version.status, version.approved_by, version.decision) == ("approved", approver, decision)

    # The drafter still cannot publish it.
    audit.visit("version-publish-own-work", f"/guidance/model/{version.pk}/publish/")
    audit.submit("version-publish-refused", "Publish")
    assert "someone else must publish it" in page.locator("main").inner_text()
    assert mail.outbox == []

    approver_page.get_by_role("link", name="Publish to schools").click()
    approver_audit("version-publish")
    approver_page.get_by_role("button", name="Publish").click()
    banner(approver_page, "Version 1 published")
    approver_audit("version-detail-published", shot=True)
    approver_context.close()
    audit.reports += approver_audit.reports
    version.refresh_from_db()
    assert (version.status, version.published_by) == ("published", approver)

    page.goto(f"/guidance/model/{version.pk}/")
    page.get_by_role("link", name="Schools' acknowledgements").click()
    audit("acknowledgements-waiting", shot=True)

    # A second draft, to compare.
    page.goto("/guidance/model/")
    page.get_by_role("button", name="Start a new draft").click()
    page.get_by_role("group", name="Section 1").get_by_label("Text").fill(
        "This guidance helps schools respond to **peer on peer abuse**.\n\n* Tell the DSL straight away"
    )
    page.get_by_label("Summary of changes").fill("Plainer words.")
    page.get_by_role("button", name="Save the draft").click()
    banner(page, "Draft saved")
    page.get_by_role("link", name="Compare with another version").click()
    page.locator(".app-diff ins.app-diff__ins", has_text="straight away").wait_for()
    assert "at once" in page.locator(".app-diff del.app-diff__del").first.inner_text()  # not the key
    assert "**" not in page.locator(".app-diff").inner_text()  # the rendered text, not Markdown
    audit("version-compare", shot=True)
    audit.visit("versions", "/guidance/model/")
    audit.visit("coverage", "/guidance/schools/training/", shot=True)
    assert "1 of 2" in page.locator("#coverage-figure").inner_text()
    page.get_by_role("link", name="Lapsed Primary School").first.click()
    audit("school-coverage")

    # The school's DSL, with no account, in a fresh browser.
    assert len(mail.outbox) == 2
    message = next(m for m in mail.outbox if m.to == [f"dsl{school.urn}@school.example"])
    link = LINK.search(message.body)["path"]
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    school_page = context.new_page()
    school_audit = Audit(school_page)
    school_audit.visit("published", "/guidance/model-guidance/", shot=True)
    assert "Tell the DSL at once" in school_page.locator("main").inner_text()
    assert "straight away" not in school_page.locator("main").inner_text()  # the newer draft
    school_audit.visit("definitions", "/guidance/what-is-peer-on-peer-abuse/")
    school_audit.visit("acknowledge", link, shot=True)
    school_audit.submit("acknowledge-errors", "Confirm")
    school_page.get_by_label("Your full name").fill("Dee Ess-Ell")
    school_page.get_by_label("I confirm the school has received this version of the model guidance").check()
    school_page.get_by_role("button", name="Confirm").click()
    school_page.get_by_role("heading", name="Acknowledgement recorded").wait_for()
    school_audit("acknowledged", shot=True)
    school_audit.visit("acknowledge-used", link, status=410)
    context.close()
    ack = Acknowledgement.objects.get(school=school)
    assert ack.acknowledged_name == "Dee Ess-Ell"

    audit.visit("acknowledgements-one-done", f"/guidance/model/{version.pk}/acknowledgements/")
    assert "1 of 2 schools asked have acknowledged" in page.locator("main").inner_text()
    page.get_by_role("button", name="Remind every school that has not acknowledged").click()
    banner(page, "Reminders sent to 1 schools")
    assert mail.outbox[-1].subject.startswith("Reminder:")

    audit.reports += school_audit.reports
    audit.assert_clean()


def test_the_referral_form_opens_the_guidance_for_a_ticked_form(page, audit, practitioner):
    sign_in(page, "practitioner")
    audit.visit("referral-form-guidance", "/referrals/new/")
    guidance = page.locator("#abuse-form-guidance details", has_text="Sexual assault")
    assert guidance.get_attribute("open") is None
    page.get_by_role("group", name="Forms of abuse").get_by_label("Sexual assault", exact=True).check()
    page.wait_for_function("document.querySelector('#abuse-form-guidance details[open]') !== null")
    assert "report to the police" in guidance.inner_text().lower()
    audit("referral-form-guidance-open")
    audit.assert_clean()
