"""The new referral form in sections (issue 14), as a MASH practitioner, by keyboard.

The contents at the top link to each section's heading; Enter on a link moves focus there, so
the next Tab is the section's first question; "Return to contents" goes back. After a save that
fails, the error summary comes first and the contents say which sections have a problem; what
was typed is kept, and one button still saves the whole referral. No JavaScript is needed for
any of it: the links are plain links to headings that can take focus.
"""

from __future__ import annotations

import datetime as dt
import re

from django.utils import timezone
from playwright.sync_api import expect

from referrals.models import Referral
from tests.browser.pages import (
    axe_violations,
    fill_child,
    fill_referral,
    has_focus,
    key_press_on,
    key_type,
    screenshot,
    sign_in_by_keyboard,
)


def status_of(page, title: str):
    """The status the contents give a section."""
    item = page.locator(".govuk-task-list__item").filter(has=page.get_by_role("link", name=title))
    return item.locator(".govuk-task-list__status")


def test_a_practitioner_moves_through_the_form_by_its_sections_with_the_keyboard(page, practitioner):
    today = timezone.localdate()
    reports = []
    sign_in_by_keyboard(page, "practitioner")
    page.goto("/referrals/new/")
    expect(page).to_have_title(re.compile(r"^Record a referral"))
    contents = page.get_by_role("list").filter(has=page.get_by_role("link", name="1. Referral received"))
    expect(contents.get_by_role("link")).to_have_text(
        [
            "1. Referral received",
            "2. What happened",
            "3. Consent",
            "4. Referrer and what was reported",
            "5. Children",
        ]
    )
    expect(status_of(page, "3. Consent")).to_have_text("Not yet started")
    reports.append(axe_violations(page, "referral-form-sections"))

    # Straight to section 4: Enter on its link puts focus on its heading, Tab on its first question.
    key_press_on(page, page.get_by_role("link", name="4. Referrer and what was reported"))
    heading = page.locator("h2#referrer")
    expect(heading).to_be_focused()
    assert heading.evaluate("h => h.getBoundingClientRect().top") < 200, "the heading is scrolled into view"
    page.keyboard.press("Tab")
    expect(page.get_by_label("Referrer's name")).to_be_focused()
    page.keyboard.type("Rita Referrer")

    # Back to the contents from the end of the section, then on to section 2.
    key_press_on(
        page, page.get_by_role("link", name="Return to contents (from Referrer and what was reported)")
    )
    expect(page.locator("h2#contents")).to_be_focused()
    key_press_on(page, page.get_by_role("link", name="2. What happened"))
    expect(page.locator("h2#incident")).to_be_focused()
    page.keyboard.press("Tab")
    assert has_focus(page.get_by_role("checkbox", name="Bullying, including cyberbullying"))

    # "Save the referral" from the contents goes to the buttons; saving now fails.
    key_press_on(page, page.get_by_role("link", name="Return to contents (from What happened)"))
    key_press_on(page, page.get_by_role("link", name="save the referral"))
    expect(page.locator("h2#save")).to_be_focused()
    key_press_on(page, page.get_by_role("button", name="Save referral"))

    expect(page).to_have_title(re.compile(r"^Error: Record a referral"))
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    assert summary.evaluate("s => s.getBoundingClientRect().top") < page.locator("#contents").evaluate(
        "c => c.getBoundingClientRect().top"
    ), "the error summary comes before the contents"
    expect(summary).to_contain_text("Enter what was reported")
    expect(status_of(page, "4. Referrer and what was reported")).to_have_text("There is a problem")
    expect(status_of(page, "1. Referral received")).to_have_text("There is a problem")  # who referred
    expect(page.get_by_label("Referrer's name")).to_have_value("Rita Referrer")  # kept
    reports.append(axe_violations(page, "referral-form-sections-errors"))
    screenshot(page, "referral-form-sections-errors")
    page.set_viewport_size({"width": 320, "height": 800})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"the form with errors scrolls sideways at 320 px ({width} px wide)"
    screenshot(page, "referral-form-sections-errors-320")
    page.set_viewport_size({"width": 1280, "height": 900})

    # The contents reach the children too; then everything is filled and one button saves it all.
    key_press_on(page, page.get_by_role("link", name="5. Children"))
    expect(page.locator("h2#children")).to_be_focused()
    fill_referral(page, received=today - dt.timedelta(days=1), incident=today - dt.timedelta(days=2))
    born = dt.date(today.year - 14, 3, 1)
    fill_child(page, 1, first="Ada", last="Sectionchild", born=born, gender="Female")
    fill_child(page, 2, first="Ben", last="Sectionchild", born=born, gender="Male")
    key_type(page, page.get_by_label("Referrer's organisation"), "Sections Academy")
    key_press_on(page, page.get_by_role("button", name="Save referral"))
    expect(page.get_by_role("alert")).to_contain_text("recorded")
    referral = Referral.objects.get()
    assert referral.detail.referrer_name == "Rita Referrer"
    assert referral.detail.referrer_organisation == "Sections Academy"
    assert referral.children.count() == 2

    found = [report for report in reports if report]
    assert not found, "axe found violations:\n" + "\n".join(found)
