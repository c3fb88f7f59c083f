"""The practitioner's pages from issue 14: the tray names the children the practitioner may see,
dates read one way ("Mon 1 Apr 2019, 11:00am"), the referral page says how its RAG due time
was counted in opening hours, and the close page says first what happens to access."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from referrals import services
from referrals.models import RagLevel, Referral
from tests.browser.pages import screenshot, sign_in
from tests.factories import ReferralFactory

LONDON = ZoneInfo("Europe/London")


def test_tray_referral_page_and_close_page(page, practitioner):
    referral = ReferralFactory(
        reference="MASH-2019-0500",
        created_by=practitioner,
        received_at=dt.datetime(2019, 3, 29, 18, 10, tzinfo=LONDON),
    )
    child = referral.children.get(label="A").child
    child.first_name, child.last_name = "Zara", "Okonkwo"
    child.save()
    services.referral_start_screening(
        user=practitioner, referral_id=referral.pk, expected_version=1, rag=RagLevel.objects.get(code="red")
    )

    sign_in(page, "practitioner")
    page.goto("/referrals/?view=all")
    row = page.get_by_role("row").filter(has_text="MASH-2019-0500")
    expect(row).to_contain_text("Zara Okonkwo")
    expect(row).to_contain_text("Fri 29 Mar 2019, 6:10pm")
    screenshot(page, "practitioner-tray-1280")
    page.set_viewport_size({"width": 320, "height": 800})
    screenshot(page, "practitioner-tray-320")
    page.set_viewport_size({"width": 1280, "height": 900})

    row.get_by_role("link", name="MASH-2019-0500").click()
    expect(page.locator("#rag-explanation")).to_have_text(
        "Received Fri 29 Mar 2019, 6:10pm, outside opening hours; the 2 working hours start "
        "Mon 1 Apr 2019, 9:00am and end Mon 1 Apr 2019, 11:00am. "
        "Working hours are Monday to Friday, 9:00am to 5:00pm, except bank holidays."
    )
    screenshot(page, "practitioner-referral-1280")

    Referral.objects.filter(pk=referral.pk).update(status=Referral.Status.DECIDED)
    page.goto(f"/referrals/{referral.pk}/close/")
    expect(page.get_by_role("heading", name="What closing does to access")).to_be_visible()

    page.goto("/referrals/new/")
    screenshot(page, "practitioner-referral-form-1280")
    page.set_viewport_size({"width": 320, "height": 800})
    screenshot(page, "practitioner-referral-form-320")
