"""Attack (round 17, browser): a reviewer goes from the review's findings to the same-school
panel and the school's context record, and from their case's page to it, by keyboard alone,
with axe-core at 1280 px and no sideways scroll at 320 px (screenshots of both widths)."""

from __future__ import annotations

import datetime as dt

import pytest

from contexts.models import Context, PatternRule
from contexts.services import patterns_check_all
from core.roles import Role
from tests.browser.pages import add_authenticator, axe_violations, key_press_on, screenshot, sign_in
from tests.contexts.helpers import review_of, school_referral
from tests.factories import SchoolFactory
from tests.nplusone import set_up

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
D = dt.date


def _at_320(page, name: str) -> None:
    page.set_viewport_size({"width": 320, "height": 800})
    wide = page.evaluate("document.documentElement.scrollWidth")
    screenshot(page, f"attack17-{name}-320")
    page.set_viewport_size({"width": 1280, "height": 900})
    screenshot(page, f"attack17-{name}-1280")
    assert wide <= 320, f"{name}: {wide}px wide at 320"


@set_up
def _setting(role_user):
    PatternRule.objects.exclude(kind=PatternRule.Kind.SCHOOL).update(active=False)
    school = SchoolFactory(name="Lantern Academy with a rather long name for narrow screens")
    made = [school_referral(school, d) for d in (D(2018, 3, 1), D(2018, 4, 1), D(2018, 5, 1))]
    patterns_check_all()
    lead = role_user(Role.LEAD_REVIEWER, username="lead")
    reviewer = role_user(Role.REVIEWER, username="reviewer")
    other = role_user(Role.REVIEWER, username="other")
    add_authenticator(reviewer)
    review = review_of(lead, [reviewer, other], made[:2], assign={made[0]: reviewer, made[1]: other})
    return review, Context.objects.get(), made


def test_a_reviewer_walks_findings_to_context_by_keyboard(page, live_server, role_user):
    from reviews.models import CaseAssessment

    review, context, made = _setting(role_user)
    reports = []
    sign_in(page, "reviewer")
    page.goto(f"/reviews/{review.pk}/findings/")
    page.get_by_role("heading", name="Same-school cases").wait_for()
    reports.append(axe_violations(page, "attack17-findings"))
    _at_320(page, "findings")

    key_press_on(page, page.get_by_role("link", name="Context record for Lantern Academy"))
    page.get_by_role("heading", name="Lantern Academy", exact=False, level=1).wait_for()
    assert page.url.endswith(f"/contexts/{context.pk}/")
    body = page.content()
    assert made[0].reference in body
    assert made[1].reference not in body
    assert "Designated safeguarding lead" not in body
    reports.append(axe_violations(page, "attack17-context"))
    _at_320(page, "context")

    # Back to the review from the context's case-review section, by keyboard.
    key_press_on(page, page.get_by_role("link", name="Thematic review of peer-on-peer abuse"))
    page.get_by_role("heading", name="Same-school cases").wait_for()

    assessment = CaseAssessment.objects.get(reviewer__username="reviewer", referral=made[0])
    page.goto(f"/reviews/assessments/{assessment.pk}/")
    page.get_by_role("heading", name="Same school", exact=True).wait_for()
    reports.append(axe_violations(page, "attack17-assessment"))
    _at_320(page, "assessment")
    key_press_on(page, page.get_by_role("link", name="Context record for Lantern Academy"))
    page.get_by_role("heading", name="Lantern Academy", exact=False, level=1).wait_for()
    assert not any(reports), "\n".join(r for r in reports if r)
