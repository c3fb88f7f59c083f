"""A reviewer works a case from assignment to acceptance; axe-core on every review page."""

from __future__ import annotations

from reviews.models import CaseAssessment
from tests.browser.pages import axe_violations, screenshot, sign_in
from tests.support.reviews import _review_in_reviewing


def test_reviewer_works_a_case_from_assignment_to_acceptance(page, browser, live_server, role_user):
    _lead, reviewer, referral, review = _review_in_reviewing(role_user)
    reports = []

    sign_in(page, "lead")
    page.goto(f"/reviews/{review.pk}/")
    reports.append(axe_violations(page, "review detail"))
    with page.expect_navigation():  # audit the page the link opens, not the one it leaves
        page.get_by_role("link", name="Assign cases").click()
    reports.append(axe_violations(page, "assignment"))
    page.get_by_label(f"Reviewer for {referral.reference}").select_option(label=reviewer.get_full_name())
    page.get_by_role("button", name=f"Assign {referral.reference}").click()
    page.get_by_text("Case assigned").wait_for()

    context = browser.new_context(base_url=live_server.url, locale="en-GB", timezone_id="Europe/London")
    reviewer_page = context.new_page()
    sign_in(reviewer_page, "reviewer")
    reviewer_page.goto("/reviews/")
    reports.append(axe_violations(reviewer_page, "review list (reviewer)"))
    with reviewer_page.expect_navigation():
        reviewer_page.get_by_role("link", name=referral.reference).click()
    reports.append(axe_violations(reviewer_page, "assessment form"))
    assert "Test narrative" in reviewer_page.content()  # the reviewer's grant shows the case
    reviewer_page.get_by_role("button", name="Submit to the lead reviewer").click()
    reviewer_page.get_by_text("There is a problem").wait_for()
    reports.append(axe_violations(reviewer_page, "assessment form with errors"))
    for group in reviewer_page.locator("fieldset:has(legend:has-text(':'))").all():
        group.get_by_label("Met", exact=True).check()
    reviewer_page.get_by_role(
        "group", name="Did the advice MASH recorded match the guidance in force?"
    ).get_by_label("Partly").check()
    reviewer_page.get_by_role("group", name="Overall judgement").get_by_label("Requires improvement").check()
    reviewer_page.get_by_label("Areas for improvement").fill("Record the victim's wishes.")
    reviewer_page.get_by_role("button", name="Submit to the lead reviewer").click()
    reviewer_page.wait_for_load_state()
    if "Assessment submitted" not in reviewer_page.content():
        screenshot(reviewer_page, "assessment-failed")
        raise AssertionError(reviewer_page.locator("main").inner_text()[:3000])
    screenshot(reviewer_page, "assessment-submitted")
    context.close()

    assessment = CaseAssessment.objects.get()
    page.goto(f"/reviews/assessments/{assessment.pk}/")
    reports.append(axe_violations(page, "assessment to decide"))
    page.get_by_label("Accept the assessment").check()
    page.get_by_role("button", name="Confirm").click()
    page.get_by_text("Assessment accepted").wait_for()
    assessment.refresh_from_db()
    assert assessment.status == CaseAssessment.Status.ACCEPTED
    for name in ("screening", "moderation"):
        page.goto(f"/reviews/{review.pk}/{name}/")
        reports.append(axe_violations(page, name))
    page.goto("/reviews/new/")
    reports.append(axe_violations(page, "set up a review"))
    page.get_by_role("button", name="Set up review").click()
    page.get_by_text("There is a problem").wait_for()
    reports.append(axe_violations(page, "set up a review with errors"))
    page.goto("/guidance/?on_0=3&on_1=9&on_2=2018")
    reports.append(axe_violations(page, "guidance timeline"))
    screenshot(page, "guidance-timeline")
    found = [r for r in reports if r]
    assert not found, "\n".join(found)
