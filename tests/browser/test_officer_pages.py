"""The pages the recent officer work changed, walked in the browser as their roles: the public
pages as a school's DSL with no account, comparing guidance versions, the cabinet report's
action cards and its print previews, and reminding schools about DSL training. axe-core on
every page, the main action of each journey by keyboard alone, and each changed page at
320 CSS pixels without sideways scrolling; screenshots of each at 1280 and 320 px."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from django.core import mail
from django.utils import timezone

from core.roles import Role
from modelguidance.models import Acknowledgement, TrainingReminder
from tests.browser.pages import (
    add_authenticator,
    key_press_on,
    key_select,
    key_tick,
    key_to,
    key_type,
    sign_in,
)
from tests.guidance.helpers import SECTIONS, draft, published, school_with_dsl
from tests.scrutiny.helpers import add_appendix, make_report
from tests.support.axe import Audit

SHOTS = Path(tempfile.gettempdir()) / "officer-shots"
LINK = re.compile(r"https?://[^\s]+(?P<path>/guidance/acknowledge/[^/]+/[^/\s]+/)")
CANARY = "Canary exempt words Zebedee"


@pytest.fixture
def audit(page):
    return Audit(page)


@pytest.fixture
def officer(role_user):
    user = role_user(Role.REPORT_OFFICER, username="officer", first_name="Olu", last_name="Officer")
    add_authenticator(user)
    return user


def active_navigation(page) -> list[str]:
    """The service navigation's items marked as where the page is (one, or none)."""
    return page.locator(".govuk-service-navigation__item--active").all_inner_texts()


def look(page, name: str, widths: list[str]) -> None:
    """Screenshots at 1280 and 320 px; at 320 px the page must not scroll sideways."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}-1280.png", full_page=True)
    page.set_viewport_size({"width": 320, "height": 640})
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > 320:
        widths.append(f"{name} ({page.url}) is {width} px wide at 320 px")
    page.screenshot(path=SHOTS / f"{name}-320.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def pdf_text(body: bytes, tmp_path: Path, name: str) -> str:
    assert body[:5] == b"%PDF-"
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(body)
    pdftotext = shutil.which("pdftotext")
    assert pdftotext, "needs poppler-utils' pdftotext"
    return subprocess.run(  # noqa: S603 - a fixed tool on our own file
        [pdftotext, str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def test_a_school_dsl_without_an_account_reads_and_acknowledges_the_guidance(
    browser, live_server, officer, tmp_path
):
    school, lead = school_with_dsl(trained_on=dt.date(2025, 1, 6), name="Brookside Academy", urn="700001")
    mail.outbox = []
    published(officer, title="Model guidance for handling peer on peer abuse in schools")
    link = LINK.search(next(m for m in mail.outbox if m.to == [lead.email]).body)["path"]

    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}, locale="en-GB"
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"JavaScript error: {error}"))
    audit, widths = Audit(page), []
    try:
        audit.visit("public-published", "/guidance/model-guidance/")
        assert "Tell the DSL at once" in page.locator("main").inner_text()
        assert page.locator(".app-header--public").is_visible()
        assert not page.get_by_text("Sign out").count()
        name = page.locator(".govuk-header__service-name")
        assert name.evaluate("e => getComputedStyle(e).color") == "rgb(255, 255, 255)"  # white on black
        look(page, "public-published", widths)
        audit.visit("public-definitions", "/guidance/what-is-peer-on-peer-abuse/")
        look(page, "public-definitions", widths)
        audit.visit("public-acknowledge", link)
        look(page, "public-acknowledge", widths)

        # The main action, by keyboard: name, tick, Confirm.
        key_type(page, page.get_by_label("Your full name"), "Dee Ess-Ell")
        key_tick(
            page, page.get_by_label("I confirm the school has received this version of the model guidance")
        )
        key_press_on(page, page.get_by_role("button", name="Confirm"))
        page.get_by_role("heading", name="Acknowledgement recorded").wait_for()
        audit("public-acknowledged")
        look(page, "public-acknowledged", widths)
        audit.visit("public-acknowledge-used", link, status=410)
        look(page, "public-acknowledge-used", widths)
    finally:
        context.close()
    assert Acknowledgement.objects.get(school=school).acknowledged_name == "Dee Ess-Ell"
    assert not errors, errors
    assert not widths, widths
    audit.assert_clean()


def test_an_officer_compares_two_versions_word_by_word(page, audit, officer):
    first = published(officer, title="Model guidance")
    second = draft(
        officer,
        title="Model guidance",
        summary="Plainer words.",
        sections=[
            SECTIONS[0],
            type(SECTIONS[1])(
                "Responding to a report", "* Take the report seriously\n* Tell the DSL straight away"
            ),
        ],
    )
    widths: list[str] = []
    sign_in(page, "officer")
    audit.visit("compare-choose", f"/guidance/model/{second.pk}/compare/")
    # The main action, by keyboard: choose the version and Compare.
    key_select(page, page.get_by_label("Compare with"), f"Version {first.number} (published)")
    key_press_on(page, page.get_by_role("button", name="Compare"))
    page.locator(".app-diff ins.app-diff__ins", has_text="straight away").wait_for()
    assert "at once" in page.locator(".app-diff del.app-diff__del").first.inner_text()
    assert "**" not in page.locator(".app-diff").inner_text()
    audit("compare")
    assert active_navigation(page) == ["Model guidance"]
    look(page, "compare", widths)
    assert not widths, widths
    audit.assert_clean()


def test_an_officer_uses_the_report_page_and_previews_it_as_it_will_print(
    page, audit, officer, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    report = make_report(officer)
    add_appendix(officer, report, title="Open text", text="Open words Quentin")
    add_appendix(
        officer,
        report,
        title="Names",
        text=CANARY,
        exempt=True,
        schedule_12a_paragraph=2,
        public_interest="The children could be identified",
    )
    widths: list[str] = []
    sign_in(page, "officer")
    audit.visit("report", f"/scrutiny/reports/{report.pk}/")
    cards = page.locator(".govuk-summary-card__title")
    assert cards.all_inner_texts() == ["Write the report", "Publish and decide", "Export PDF packs"]
    assert (
        "has passed and no papers were published" in page.locator("#next-step").inner_text()
    )  # a 2020 meeting
    look(page, "report", widths)

    # The main action, by keyboard: reach the print preview link and follow it.
    preview = page.get_by_role("link", name="Preview the report as it will print")
    key_to(page, preview)
    response = page.request.get(preview.get_attribute("href"))
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    text = pdf_text(response.body(), tmp_path, "report")
    assert "Review of peer on peer abuse cases" in text
    assert "First consideration." in text  # the key considerations section
    assert CANARY not in text

    open_preview = page.get_by_role("link", name="Preview appendix 1 as it will print")
    key_to(page, open_preview)
    response = page.request.get(open_preview.get_attribute("href"))
    assert response.headers["content-type"] == "application/pdf"
    text = pdf_text(response.body(), tmp_path, "appendix-1")
    assert "Open words Quentin" in text
    assert CANARY not in text

    # No grant for the exempt appendix: its preview is the public pack's notice.
    exempt_preview = page.get_by_role("link", name="Preview appendix 2 as it will print")
    response = page.request.get(exempt_preview.get_attribute("href"))
    assert response.headers["content-type"] == "application/pdf"
    text = pdf_text(response.body(), tmp_path, "appendix-2")
    assert "Schedule 12A" in text
    assert CANARY not in text

    # Following a card's link by keyboard leaves the page for the next step.
    key_press_on(page, page.get_by_role("link", name="Check the figures the public pack would publish"))
    page.wait_for_url(f"**/scrutiny/reports/{report.pk}/disclosure/")
    audit("disclosure-check")
    assert not widths, widths
    audit.assert_clean()


def test_an_officer_reminds_schools_about_dsl_training(page, audit, officer):
    today = timezone.localdate()
    school_with_dsl(trained_on=today - dt.timedelta(days=3 * 365), name="Lapsed Primary School", urn="700002")
    school_with_dsl(trained_on=None, name="Never Trained High", urn="700003")
    _, lead = school_with_dsl(trained_on=today - dt.timedelta(days=30), name="Current Academy", urn="700004")
    version = published(officer, title="Model guidance")
    widths: list[str] = []
    sign_in(page, "officer")
    audit.visit("coverage", "/guidance/schools/training/")
    look(page, "coverage", widths)

    # The main action, by keyboard: the button, the confirmation, Send.
    key_press_on(page, page.get_by_role("link", name="Remind schools whose DSL training is out of date"))
    page.get_by_role("heading", name="Remind schools to renew DSL training").wait_for()
    audit("training-reminders")
    assert active_navigation(page) == ["DSL training"]
    listed = page.locator("#reminder-schools").inner_text()
    assert "Lapsed Primary School" in listed
    assert "Never Trained High" in listed
    assert "Current Academy" not in listed
    look(page, "training-reminders", widths)
    key_press_on(page, page.get_by_role("button", name="Send 2 reminders"))
    page.locator(".govuk-notification-banner").wait_for()
    audit("coverage-reminded")
    assert "e-mailed to 2 schools" in page.locator(".govuk-notification-banner").inner_text()
    assert TrainingReminder.objects.count() == 2
    look(page, "coverage-reminded", widths)

    audit.visit("training-reminders-none-due", "/guidance/schools/training/reminders/")
    assert "No school is due a reminder now" in page.locator("main").inner_text()
    look(page, "training-reminders-none-due", widths)

    audit.visit("acknowledgements", f"/guidance/model/{version.pk}/acknowledgements/")
    main = page.locator("main").inner_text()
    assert lead.name in main
    assert lead.email in main
    look(page, "acknowledgements", widths)
    assert not widths, widths
    audit.assert_clean()
