"""The three main tasks with the keyboard alone (issue 7).

After each page loads, nothing but ``page.keyboard`` acts: Tab and Shift+Tab to a control,
then Enter, Space, arrows or typing. Locators only check where focus is and what the page
says. At every step the focused element must show GOV.UK's focus style (``key_to`` checks it).

(a) A MASH practitioner logs a referral with two children, starts screening and records the
    decision (after checking their answers).
(b) A reviewer rates an assigned case against every guidance criterion in force and submits.
(c) A report officer exports the public pack of a cabinet report's published version (packs
    are made from the frozen papers only), follows the progress (a real Celery worker makes
    it) to done and downloads it from the link.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from django.utils import timezone
from playwright.sync_api import expect

from core.models import ExportJob
from core.roles import Role
from referrals.models import Referral
from reviews import services as review_services
from reviews.models import CaseAssessment
from tests.browser.pages import (
    add_authenticator,
    assert_focus_visible,
    key_choose,
    key_date,
    key_press_on,
    key_select,
    key_tick,
    key_to,
    key_type,
    screenshot,
    sign_in_by_keyboard,
)
from tests.factories import SchoolFactory
from tests.nplusone import set_up
from tests.scrutiny.helpers import add_appendix, make_report, publish
from tests.support.reviews import _review_in_reviewing


def test_a_practitioner_logs_screens_and_decides_a_referral_by_keyboard(page, practitioner):
    school = SchoolFactory(name="Keyboard Academy")
    today = timezone.localdate()
    received, incident = today - dt.timedelta(days=1), today - dt.timedelta(days=2)
    born = dt.date(today.year - 14, 3, 1)

    sign_in_by_keyboard(page, "practitioner")
    expect(page.get_by_role("heading", name="Work tray", level=1)).to_be_visible()
    key_press_on(page, page.get_by_role("link", name="New referral"))
    expect(page).to_have_title(re.compile(r"^Record a referral"))

    key_date(page, page, "Date the referral was received", received)
    key_type(page, page.get_by_label("Time the referral was received"), "14:30")
    key_choose(page, page, "Who made the referral", "School")
    key_tick(page, page.get_by_role("checkbox", name="Sexual assault", exact=True))
    key_choose(page, page, "Is this peer-on-peer (child-on-child) abuse?", "Yes")
    key_date(page, page, "Date of the incident", incident)
    key_choose(page, page, "Where did it happen?", "School")
    key_choose(page, page, "Was consent to the referral sought?", "Yes")
    key_type(page, page.get_by_label("Referrer's name"), "Rita Referrer")
    key_type(page, page.get_by_label("Referrer's role"), "Designated safeguarding lead")
    key_type(page, page.get_by_label("Referrer's telephone number or email address"), "rita@school.example")
    key_type(page, page.get_by_label("What was reported"), "The child told a teacher what happened at break.")
    for number, first, gender in ((1, "Ada", "Female"), (2, "Ben", "Male")):
        child = page.get_by_role("group", name=f"Child {number}", exact=True)
        key_type(page, child.get_by_label("First name"), first)
        key_type(page, child.get_by_label("Last name"), "Keyboardchild")
        key_date(page, child, "Date of birth", born)
        key_choose(page, child, "Gender", gender)
        key_select(page, child.get_by_label("School or college"), str(school))
    screenshot(page, "keyboard-referral-filled")
    key_press_on(page, page.get_by_role("button", name="Save referral"))

    expect(page.get_by_role("alert")).to_contain_text("recorded")
    referral = Referral.objects.get()
    expect(page.get_by_role("heading", name=referral.reference, level=1)).to_be_visible()
    children = page.get_by_role("table", name="Children in this referral")
    expect(children).to_contain_text("Ada Keyboardchild")
    expect(children).to_contain_text("Ben Keyboardchild")

    key_press_on(page, page.get_by_role("link", name="Start screening"))
    expect(page.get_by_role("heading", name="Rate the referral and start screening")).to_be_visible()
    key_choose(page, page, "RAG rating", re.compile(r"^Amber"))
    key_press_on(page, page.get_by_role("button", name="Start screening"))
    expect(page.get_by_role("alert")).to_contain_text("Screening started")

    key_press_on(page, page.get_by_role("link", name="Record a decision"))
    expect(page.get_by_role("heading", name="Record the MASH decision")).to_be_visible()
    key_tick(page, page.get_by_role("checkbox", name="Early help"))
    key_type(
        page,
        page.get_by_label("Reasons for the decision"),
        "Both children attend Keyboard Academy; the school will separate them.",
    )
    key_tick(page, page.get_by_role("checkbox", name="Designated safeguarding lead informed"))
    key_tick(page, page.get_by_role("checkbox", name="Separation advised"))
    key_type(
        page,
        page.get_by_label("If the decision does not do what the guidance expects, why not?"),
        "The school informed the police the same day.",
    )
    key_press_on(page, page.get_by_role("button", name="Continue"))
    # Check your answers: nothing is recorded until it is confirmed.
    expect(
        page.get_by_role("heading", name="Check your answers before recording the decision")
    ).to_be_visible()
    assert not referral.decisions.exists()
    key_press_on(page, page.get_by_role("button", name="Record the decision"))

    expect(page.get_by_role("alert")).to_contain_text("Decision recorded")
    expect(page.locator("main .govuk-tag").first).to_have_text("Decided")
    screenshot(page, "keyboard-referral-decided")
    referral.refresh_from_db()
    assert referral.status == Referral.Status.DECIDED
    assert referral.rag.name == "Amber"
    assert [c.child.first_name for c in referral.children.select_related("child").order_by("pk")] == [
        "Ada",
        "Ben",
    ]


def test_a_reviewer_rates_an_assigned_case_by_keyboard(page, role_user):
    lead, reviewer, referral, review = _review_in_reviewing(role_user)
    review_services.assessment_assign(
        user=lead, review_id=review.pk, referral_id=referral.pk, reviewer=reviewer
    )

    sign_in_by_keyboard(page, "reviewer")
    key_press_on(page, page.get_by_role("link", name=referral.reference))
    expect(page.get_by_role("heading", name=re.compile(referral.reference), level=1)).to_be_visible()

    cards = page.locator("form .app-child-card")  # one per criterion: a rating and evidence
    count = cards.count()
    assert count > 0
    for index in range(count):
        card = cards.nth(index)
        key_choose(page, card, card.locator("legend").inner_text().strip(), "Met")
        key_type(page, card.get_by_role("textbox").first, f"Recorded in the MASH decision ({index + 1}).")
    key_choose(page, page, "Did the advice MASH recorded match the guidance in force?", "Partly")
    key_choose(page, page, "Overall judgement", "Requires improvement")
    key_type(page, page.get_by_label("Areas for improvement"), "Record the victim's wishes.")
    screenshot(page, "keyboard-assessment-rated")
    key_press_on(page, page.get_by_role("button", name="Submit to the lead reviewer"))

    expect(page.get_by_text("Assessment submitted")).to_be_visible()
    assessment = CaseAssessment.objects.get()
    assert assessment.status == CaseAssessment.Status.SUBMITTED
    assert assessment.overall_judgement == "requires_improvement"
    assert assessment.advice_matched == "partly"
    assert set(assessment.ratings.values_list("rating", flat=True)) == {"met"}
    assert assessment.ratings.count() == count


@set_up
def _report_with_an_exempt_appendix(officer):
    report = make_report(officer)
    add_appendix(officer, report, title="Review report")
    add_appendix(
        officer,
        report,
        title="Cases by name",
        text="Ada Keyboardchild",
        exempt=True,
        schedule_12a_paragraph=2,
        public_interest="The children could be identified.",
    )
    publish(officer, report)
    return report


def test_an_officer_exports_the_public_pack_by_keyboard(page, role_user, filesystem_worker):
    officer = role_user(Role.REPORT_OFFICER, username="officer", first_name="Olu", last_name="Officer")
    add_authenticator(officer)
    report = _report_with_an_exempt_appendix(officer)

    sign_in_by_keyboard(page, "officer")
    page.goto(f"/scrutiny/reports/{report.pk}/")
    key_press_on(page, page.get_by_role("link", name=re.compile("^Export version 1 as PDF packs")))
    key_press_on(page, page.get_by_role("button", name="Export the public pack"))
    page.wait_for_url("**/documents/jobs/*/")
    expect(page.locator("progress#export-progress-bar")).to_be_visible()
    screenshot(page, "keyboard-pack-waiting")
    page.get_by_text("The pack is ready").wait_for(timeout=120_000)  # the page reloads itself
    screenshot(page, "keyboard-pack-ready")
    download_link = page.get_by_role("link", name="Download the public pack")
    key_to(page, download_link)
    with page.expect_download() as download_info:
        page.keyboard.press("Enter")
    download = download_info.value
    assert Path(download.path()).read_bytes()[:5] == b"%PDF-"
    assert download.suggested_filename.endswith(".pdf")
    assert "exempt" not in download.suggested_filename
    job = ExportJob.objects.get()
    assert (job.status, job.variant) == (ExportJob.Status.DONE, ExportJob.Variant.PUBLIC)
    assert_focus_visible(page)
