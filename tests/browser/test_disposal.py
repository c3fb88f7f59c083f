"""Disposal in the browser: one information governance officer places a legal hold, decides a
record for disposal and makes a batch; a second approves it and sees the certificate. axe-core
checks each page; each is photographed at 1280 and 320 pixels wide."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from core.roles import Role
from records import services
from records.models import DisposalBatch, Tombstone
from tests.browser.pages import add_authenticator, both_widths, choose, sign_in
from tests.factories import ReferralFactory
from tests.support.axe import Audit


@pytest.fixture
def officers(role_user, settings, tmp_path):
    settings.RETENTION_SCHEDULE = [
        {"record_type": "referral", "trigger": "last_activity", "years": 1, "source": "Test schedule"}
    ]
    settings.DISPOSAL_REGISTER_PATH = str(tmp_path / "register.jsonl")
    users = []
    for name in ("ig-decides", "ig-approves"):
        user = role_user(Role.INFORMATION_GOVERNANCE, username=name)
        add_authenticator(user)
        users.append(user)
    return users


def test_hold_decide_batch_and_a_second_officer_approves(page, browser, live_server, officers):
    audit = Audit(page)
    kept = ReferralFactory(status="closed")
    disposed = ReferralFactory(status="closed")
    services.disposal_review_list(today=timezone.localdate() + dt.timedelta(days=800))

    sign_in(page, "ig-decides")
    audit.visit("place a hold", "/records/legal-holds/new/")
    page.get_by_label("Name of the legal hold").fill("Independent inquiry")
    page.get_by_label("Why the records must be kept").fill(
        "The inquiry instructed that no records about child sexual abuse are destroyed"
    )
    page.get_by_label("Referrals it names (optional)").fill(kept.reference)
    page.get_by_role("button", name="Place the legal hold").click()
    page.wait_for_url("**/legal-holds/*/")
    audit("legal hold")
    both_widths(page, "legal-hold")

    audit.visit("disposal review", "/records/disposal-review/")
    both_widths(page, "disposal-review")
    page.get_by_role("link", name=disposed.reference).click()
    audit("decide")
    both_widths(page, "disposal-decide")
    choose(page, "What should happen to this record?", "Dispose of it")
    page.get_by_role("button", name="Record the decision").click()
    page.wait_for_url("**/disposal-review/")
    page.get_by_role("button", name="Put these in a batch for approval").click()
    page.wait_for_url("**/disposal-batches/*/")
    assert page.get_by_text("another information governance officer must approve it").is_visible()
    batch = DisposalBatch.objects.get()

    second = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    other = second.new_page()
    sign_in(other, "ig-approves")
    other.goto(f"/records/disposal-batches/{batch.pk}/")
    choose(other, "Do you approve the disposal of these records?", "Yes, dispose of them")
    other.get_by_role("button", name="Record your decision").click()
    other.wait_for_url(f"**/disposal-batches/{batch.pk}/")
    batch.refresh_from_db()
    assert batch.status == DisposalBatch.Status.DISPOSED
    assert other.get_by_role("heading", name=f"Disposal certificate {batch.certificate_number}").is_visible()
    second_audit = Audit(other)
    second_audit("certificate")
    both_widths(other, "disposal-certificate")
    second.close()
    assert list(Tombstone.objects.values_list("reference", flat=True)) == [disposed.reference]
    audit.assert_clean()
    second_audit.assert_clean()
