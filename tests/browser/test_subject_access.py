"""A subject access request in the browser, from logging to the signed-off pack.

An information governance officer logs a victim's request (through a parent), sees the other
child's name proposed for redaction in context, withholds one more phrase, signs the pack
off and downloads it: the alleged perpetrator's name is on no page of it. axe-core checks
every page, and each is photographed at 1280 and 320 pixels wide.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone

from core.roles import Role
from records.models import SubjectAccessRequest
from referrals import services as referral_services
from referrals.models import ReferralSource
from tests.browser.pages import add_authenticator, both_widths, choose, fill_date, sign_in
from tests.core.pdf_helpers import pdf_pages_text
from tests.referrals.helpers import child_input, referral_input
from tests.support.axe import Audit

PERPETRATOR = "Qzperpboy"


@pytest.fixture
def officer(role_user):
    user = role_user(Role.INFORMATION_GOVERNANCE, username="ig-browser", first_name="Ira", last_name="Gov")
    add_authenticator(user)
    return user


@pytest.fixture
def referral(role_user, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return referral_services.referral_create(
        user=role_user(Role.MASH_PRACTITIONER, username="browser-creator"),
        data=referral_input(
            source=ReferralSource.objects.get(code="parent-carer"),
            referrer_name="Pat Referrerparent",
            narrative=f"Amy said that {PERPETRATOR} Smithperp took her phone at break.",
        ),
        children=[
            child_input("victim", first_name="Amy", last_name="Victimson"),
            child_input("alleged_perpetrator", first_name=PERPETRATOR, last_name="Smithperp"),
        ],
    )


def test_a_subject_access_request_from_logging_to_the_signed_off_pack(page, officer, referral):
    audit = Audit(page)
    victim = referral.children.get(role="victim")
    sign_in(page, "ig-browser")
    audit.visit("records", "/records/")
    both_widths(page, "records-home")
    page.get_by_role("link", name="All subject access requests").click()
    audit("subject access requests")
    page.get_by_role("button", name="Log a subject access request").click()
    audit("log a request")
    audit.submit("log a request with errors", "Log the request")
    assert page.get_by_text("Enter the name of the person making the request").first.is_visible()

    page.get_by_label("Referral the child appears in").fill(referral.reference)
    page.get_by_label("The child's label in that referral").fill(victim.label)
    page.get_by_label("Name of the person making the request").fill("Mrs Victimson")
    choose(page, "Their relation to the child", "A parent with parental responsibility")
    page.get_by_label("How their identity was verified").fill("Passport and a council tax bill seen")
    fill_date(page, "Date the request was received", timezone.localdate() - dt.timedelta(days=3))
    page.get_by_role("button", name="Log the request").click()
    page.wait_for_url("**/records/subject-access/*/")
    sar = SubjectAccessRequest.objects.get()
    audit("request")
    both_widths(page, "sar-detail")
    assert page.get_by_text(f"{referral.reference}, Child {victim.label}").first.is_visible()

    page.get_by_role("link", name=f"Review redactions for {sar.reference}").click()
    audit("redactions")
    both_widths(page, "sar-redactions")
    assert page.locator("mark", has_text=f"{PERPETRATOR} Smithperp").first.is_visible()
    page.get_by_label("Text to withhold").fill("at break")
    choose(page, "Exemption", "Serious harm (DPA 2018, Schedule 3, Part 5)")
    page.get_by_label("Why it is withheld").fill(
        "Saying when it happened would let the other family work out who reported it"
    )
    page.get_by_role("button", name="Withhold it").click()
    page.wait_for_url("**/redactions/")
    assert page.get_by_text("Redactions updated").is_visible()

    page.get_by_role("link", name=f"Back to {sar.reference}").click()
    page.get_by_role("button", name="Sign off the pack").click()
    audit("sign off")
    page.get_by_role("button", name="Sign off and make the pack").click()
    page.wait_for_url("**/documents/jobs/*/")
    page.get_by_text("The pack is ready").wait_for(timeout=90_000)
    audit("pack ready")
    both_widths(page, "sar-pack")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the exempt pack").click()
    pages = pdf_pages_text(Path(download_info.value.path()).read_bytes())
    for text in pages:
        assert PERPETRATOR.lower() not in text.lower()
        assert "at break" not in text.lower()
    assert "Amy Victimson" in "\n".join(pages)
    sar.refresh_from_db()
    assert sar.status == SubjectAccessRequest.Status.SIGNED_OFF
    assert sar.disclosures.count() == 1
    audit.assert_clean()
