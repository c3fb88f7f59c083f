"""axe-core on the findings, the review report (Appendix 1) and case details (Appendix 3).

A review of 24 cases in two periods, rated in a fixed spread so the tables have large and
small counts. The findings page is for the review team and shows every figure in full (only
the report and case details, which may leave the team, are suppressed): the lead reviewer
(no grants) sees the figures but cannot follow a count to its cases; the reviewer who holds
grants on every case follows a count to its cases.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from core.roles import Role
from referrals.models import Referral
from reviews import services
from tests.browser.pages import add_authenticator, sign_in
from tests.factories import ReferralFactory
from tests.nplusone import set_up
from tests.support.axe import Audit

RATINGS = [
    "met",
    "met",
    "met",
    "met",
    "partly_met",
    "not_met",
    "met",
    "not_recorded",
    "met",
    "not_applicable",
]


@pytest.fixture
def audit(page):
    return Audit(page)


@set_up
def _review(role_user):
    lead = role_user(Role.LEAD_REVIEWER, username="lead", first_name="Lee", last_name="Lead")
    reviewer = role_user(Role.REVIEWER, username="reviewer", first_name="Rae", last_name="Viewer")
    for user in (lead, reviewer):
        add_authenticator(user)
    zone = timezone.get_current_timezone()
    first = [dt.date(2018, 1, 8) + dt.timedelta(days=9 * i) for i in range(14)]
    second = [dt.date(2018, 11, 5) + dt.timedelta(days=20 * i) for i in range(10)]
    cases = [
        ReferralFactory(
            status=Referral.Status.CLOSED, received_at=dt.datetime.combine(d, dt.time(10), tzinfo=zone)
        )
        for d in first + second
    ]
    review = services.review_create(
        user=lead,
        title="Review of peer on peer abuse cases",
        terms_of_reference=(
            "Review the referrals of peer-on-peer sexual abuse the MASH received from January 2017 to "
            "November 2019 where the children attended the same school, and assess the advice MASH gave "
            "against the Department for Education guidance in force at the time."
        ),
        lead_reviewer=lead,
        reviewers=[reviewer],
        periods=[
            services.PeriodInput("Jan 2017 - Oct 2018", dt.date(2017, 1, 1), dt.date(2018, 10, 31)),
            services.PeriodInput("Nov 2018 - Nov 2019", dt.date(2018, 11, 1), dt.date(2019, 11, 30)),
        ],
        grants_end_on=timezone.localdate() + dt.timedelta(days=60),
    )
    services.review_start_screening(user=lead, review_id=review.pk)
    for decision in review.screening.filter(candidate=True):
        services.screening_decide(user=lead, decision_id=decision.pk, include=True)
    services.review_start_reviewing(user=lead, review_id=review.pk)
    for index, referral in enumerate(cases):
        a = services.assessment_assign(
            user=lead, review_id=review.pk, referral_id=referral.pk, reviewer=reviewer
        )
        rows = list(a.ratings.select_related("criterion").order_by("criterion__order"))
        ratings = {
            r.criterion_id: services.RatingInput(RATINGS[(index * 3 + order * 7) % len(RATINGS)])
            for order, r in enumerate(rows)
        }
        a = services.assessment_save(
            user=reviewer,
            assessment_id=a.pk,
            expected_version=a.version,
            ratings=ratings,
            advice_matched="partly",
            overall_judgement=["good", "requires_improvement", "inadequate"][index % 3],
        )
        a = services.assessment_submit(user=reviewer, assessment_id=a.pk, expected_version=a.version)
        services.assessment_decide(user=lead, assessment_id=a.pk, accept=True)
    return review


def test_findings_report_and_case_details(page, audit, browser, live_server, role_user):
    review = _review(role_user)
    findings = f"/reviews/{review.pk}/findings/"

    sign_in(page, "lead")
    audit.visit("findings-in-full-no-drill-down", findings, shot=True)
    assert "these figures are for the review team and are not suppressed" in page.locator("main").inner_text()
    assert page.locator("a[href*='rating=']").count() == 0
    page.get_by_role("button", name="Save theme").click()
    page.get_by_text("There is a problem").wait_for()
    audit("findings-theme-errors")
    page.get_by_label("Title").fill("Recording the children's wishes")
    page.get_by_label("What the review found").fill(
        "In most cases the MASH recorded the decision and its reasons, but rarely what the victim wanted."
    )
    page.get_by_role("button", name="Save theme").click()
    page.get_by_text("Theme saved").wait_for()
    for text in (
        "Every designated safeguarding lead to be trained on the DfE advice on sexual violence.",
        "The MASH to record the victim's wishes and the separation advice in every peer-on-peer case.",
    ):
        page.get_by_label("Recommendation", exact=True).fill(text)
        page.get_by_role("button", name="Save recommendation").click()
        page.get_by_text("Recommendation saved").wait_for()
    audit("findings-with-themes")
    # Both run the disclosure policy's solver over every table of the report (CPU-bound: a few
    # seconds on a quiet machine, over 20 s with browser tests running beside it).
    audit.visit("review-report", f"/reviews/{review.pk}/report/", shot=True, timeout=90_000)
    audit.visit("case-details", f"/reviews/{review.pk}/case-details/", shot=True, timeout=90_000)

    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 1280, "height": 900},
        locale="en-GB",
        timezone_id="Europe/London",
    )
    reviewer_page = context.new_page()
    sign_in(reviewer_page, "reviewer")
    reviewer_audit = Audit(reviewer_page)
    reviewer_audit.visit("findings-in-full", findings, shot=True)
    reviewer_page.locator("a[href*='rating=not_met']").first.click()
    reviewer_page.locator("#cases").get_by_role("link").first.wait_for()
    reviewer_audit("findings-drill-down", shot=True)
    context.close()
    audit.reports += reviewer_audit.reports
    audit.assert_clean()
