"""A MASH practitioner signs in, records a referral, screens it and records the decision.

Sign-in, screening and the decision are done with the keyboard alone (Tab, arrows, Space,
Enter), which is what the accessibility statement promises.
"""

from __future__ import annotations

import datetime as dt
import re

from django.utils import timezone
from playwright.sync_api import expect

from referrals.models import Referral
from tests.browser.pages import PASSWORD, current_code, fill_child, fill_referral, tab_to
from tests.factories import SchoolFactory


def test_practitioner_records_screens_and_decides_a_referral(page, practitioner):
    school = SchoolFactory(name="Test Academy")
    today = timezone.localdate()

    page.goto("/sign-in/")
    tab_to(page, page.get_by_label("Username"))
    page.keyboard.type("practitioner")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    code = page.get_by_label("Code from your authenticator app")
    tab_to(page, code)
    page.keyboard.type(current_code(practitioner.totpdevice_set.get()))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Work tray", level=1)).to_be_visible()

    page.get_by_role("link", name="New referral").click()
    expect(page).to_have_title(re.compile(r"^Record a referral"))

    # Saved empty: the error summary comes first and takes focus; its links focus the field.
    page.get_by_role("button", name="Save referral").click()
    expect(page).to_have_title(re.compile(r"^Error: Record a referral"))
    summary = page.locator(".govuk-error-summary")
    expect(page.locator("main :is(h1, .govuk-error-summary)").first).to_have_class(
        re.compile("govuk-error-summary")
    )
    expect(summary).to_be_focused()
    child_2 = page.get_by_role("group", name="Child 2", exact=True)
    # The received date and time start at now, so saving empty does not ask for them.
    expect(summary).not_to_contain_text("date the referral was received")
    expect(page.get_by_label("Day").first).to_have_value(str(timezone.localdate().day))
    for message, field in [
        ("Enter the referrer's name", page.get_by_label("Referrer's name")),
        ("Select who made the referral", page.get_by_role("radio", name="School").first),
        ("Select at least one form of abuse", page.get_by_role("checkbox").first),
        ("Child 2: Enter the child's first name", child_2.get_by_label("First name")),
    ]:
        summary.get_by_role("link", name=message, exact=True).focus()
        page.keyboard.press("Enter")
        expect(field).to_be_focused()

    fill_referral(page, received=today - dt.timedelta(days=1), incident=today - dt.timedelta(days=2))
    born = dt.date(today.year - 14, 3, 1)
    fill_child(page, 1, first="Ada", last="Testchild", born=born, gender="Female")
    fill_child(page, 2, first="Ben", last="Testchild", born=born, gender="Male")
    for number in (1, 2):
        child = page.get_by_role("group", name=f"Child {number}", exact=True)
        child.get_by_label("School or college").select_option(label=str(school))
    page.get_by_role("button", name="Save referral").click()

    referral = Referral.objects.get()
    expect(page).to_have_url(re.compile(rf"/referrals/{referral.pk}/$"))
    expect(page.get_by_role("alert")).to_contain_text(f"Referral {referral.reference} recorded")
    expect(page.get_by_role("heading", name=referral.reference, level=1)).to_be_visible()
    expect(page.locator("main .govuk-tag").first).to_have_text("Received")
    children = page.get_by_role("table", name="Children in this referral")
    expect(children).to_contain_text("Ada Testchild")
    expect(children).to_contain_text("Ben Testchild")

    # Screening by keyboard: Tab into the ratings, arrow to Amber, Enter on the button.
    tab_to(page, page.get_by_role("link", name="Start screening"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Rate the referral and start screening")).to_be_visible()
    tab_to(page, page.get_by_role("radio", name=re.compile(r"^Red")))
    page.keyboard.press("ArrowDown")
    expect(page.get_by_role("radio", name=re.compile(r"^Amber"))).to_be_checked()
    tab_to(page, page.get_by_role("button", name="Start screening"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("Screening started")
    expect(page.locator("main .govuk-tag").first).to_have_text("Screening")
    expect(page.locator("main .govuk-tag").nth(1)).to_have_text("Amber")

    # The decision by keyboard: Space ticks each box, typing fills the reasons.
    tab_to(page, page.get_by_role("link", name="Record a decision"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Record the MASH decision")).to_be_visible()
    for outcome in ("Early help", "Section 17 (child in need) assessment"):
        tab_to(page, page.get_by_role("checkbox", name=outcome))
        page.keyboard.press("Space")
    tab_to(page, page.get_by_label("Reasons for the decision"))
    page.keyboard.type("Both children attend Test Academy; the school will separate them.")
    for advice in ("Designated safeguarding lead informed", "Separation advised"):
        tab_to(page, page.get_by_role("checkbox", name=advice))
        page.keyboard.press("Space")
    tab_to(page, page.get_by_label("If the decision does not do what the guidance expects, why not?"))
    page.keyboard.type("The school informed the police the same day.")
    tab_to(page, page.get_by_role("button", name="Continue"))
    page.keyboard.press("Enter")

    # Check your answers: nothing is recorded until it is confirmed.
    expect(
        page.get_by_role("heading", name="Check your answers before recording the decision")
    ).to_be_visible()
    expect(page.locator("main dl")).to_contain_text("Section 17 (child in need) assessment")
    assert not referral.decisions.exists()
    tab_to(page, page.get_by_role("button", name="Record the decision"))
    page.keyboard.press("Enter")

    expect(page.get_by_role("alert")).to_contain_text("Decision recorded")
    expect(page.locator("main .govuk-tag").first).to_have_text("Decided")
    decision = page.locator("main dl").filter(has_text="Reasons")
    expect(decision).to_contain_text("Early help")
    expect(decision).to_contain_text("Section 17 (child in need) assessment")
    expect(decision).to_contain_text("Designated safeguarding lead informed: Yes")
    expect(decision).to_contain_text("Separation advised: Yes")
    expect(decision).to_contain_text("Police informed: No")
    referral.refresh_from_db()
    assert referral.status == Referral.Status.DECIDED
    assert referral.rag.name == "Amber"

    page.get_by_role("link", name="History").click()
    expect(page.locator(".govuk-summary-card", has_text="Screening started, rated Amber")).to_be_visible()
    expect(page.locator(".govuk-summary-card", has_text="Decision recorded").first).to_be_visible()
    page.get_by_role("link", name="Work tray").click()
    page.get_by_role("link", name=re.compile(r"^All referrals")).click()
    row = page.get_by_role("row").filter(has_text=referral.reference)
    expect(row).to_contain_text("Decided")
    expect(row).to_contain_text("Amber")
