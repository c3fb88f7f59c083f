"""The lead reviewer's moderation journey: resolve a disagreement, land on the next one, read
kappa; axe-core on the page and no sideways scroll at 320 px."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from reviews import selectors
from tests.browser.pages import SCREENSHOTS, axe_violations, screenshot, sign_in
from tests.support.reviews import _review_in_moderation

README_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "moderation.png"


def test_lead_reviewer_resolves_a_disagreement_and_the_page_stays_at_the_next(page, live_server, role_user):
    _lead, _reviewer, referral, review = _review_in_moderation(role_user, disagree=3)
    _first, second, third = selectors.moderation_agreement(review=review).unresolved
    reports = []

    sign_in(page, "lead")
    page.goto(f"/reviews/{review.pk}/")
    page.get_by_role("link", name="Moderation").click()
    page.get_by_role("heading", name="Disagreements to resolve (3)").wait_for()
    reports.append(axe_violations(page, "moderation"))
    assert "Cohen's kappa" in page.locator("#kappa").inner_text()
    assert "Paired ratings" in page.locator("#kappa").inner_text()
    screenshot(page, "moderation-1280")

    card = page.locator(f"#{second.anchor}")
    card.get_by_role("button", name="Resolve").click()  # nothing chosen: an error, not a default
    page.get_by_text("There is a problem").wait_for()
    reports.append(axe_violations(page, "moderation with an error"))
    page.get_by_role("link", name="Select the rating that stands").click()
    card = page.locator(f"#{second.anchor}")
    card.get_by_label("Partly met").check()
    card.get_by_role("button", name="Resolve").click()

    page.wait_for_url(f"**/reviews/{review.pk}/moderation/#{third.anchor}")
    assert page.get_by_role("heading", name="Disagreements to resolve (2)").is_visible()
    # The page stays where the lead was: the next disagreement is in view, not the top of the page.
    assert page.evaluate("window.scrollY") > 0
    top = page.locator(f"#{third.anchor}").bounding_box()["y"]
    assert 0 <= top < 900
    assert page.locator(f"#{second.anchor}").count() == 0
    message = f"{second.first.criterion.code} in {referral.reference} is resolved as partly met."
    assert message in page.content()
    reports.append(axe_violations(page, "moderation after a resolution"))

    page.set_viewport_size({"width": 320, "height": 800})
    page.goto(f"/reviews/{review.pk}/moderation/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"the moderation page is {width} px wide at 320"
    screenshot(page, "moderation-320")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"/reviews/{review.pk}/moderation/")
    screenshot(page, "moderation-after-1280")
    if os.environ.get("UPDATE_README_SCREENSHOTS"):  # docs/screenshots is tracked: only on request
        README_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SCREENSHOTS / "moderation-after-1280.png", README_SCREENSHOT)

    found = [r for r in reports if r]
    assert not found, "\n".join(found)
