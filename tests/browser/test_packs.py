"""Exporting PDF packs in the browser, made by a real Celery worker (kombu's filesystem broker).

An officer exports the public pack and watches the progress bar move to done, then, holding
a grant, exports and downloads the exempt pack (the download is in the access log). Without
JavaScript the job page still gets to the pack (a <noscript> meta refresh, or the "Check
again now" link). axe-core checks every page this adds: the packs page, a job waiting or
being made, done and failed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import timezone

from core import permissions
from core.models import AccessLogEntry, ExportJob
from core.roles import Role
from tests.browser.pages import add_authenticator, sign_in
from tests.documents_kind import KIND
from tests.factories import ReferralFactory
from tests.support.axe import Audit


@pytest.fixture
def officer(role_user):
    user = role_user(Role.REPORT_OFFICER, username="officer", first_name="Olu", last_name="Officer")
    add_authenticator(user)
    return user


def test_an_officer_exports_both_packs_and_watches_the_progress(page, officer, filesystem_worker):
    audit = Audit(page)
    referral = ReferralFactory()
    permissions.grant(referral, action=permissions.VIEW_EXEMPT, reason="Writing the report", user=officer)
    sign_in(page, "officer")
    audit.visit("packs page", f"/documents/{KIND}/{referral.pk}/", shot=True)

    page.get_by_role("button", name="Export the public pack").click()
    page.wait_for_url("**/documents/jobs/*/")
    bar = page.locator("progress#export-progress-bar")
    assert bar.is_visible()
    audit("job waiting or being made", shot=True)
    page.get_by_text("The pack is ready").wait_for(timeout=90_000)  # the script reloads when done
    audit("job done", shot=True)
    job = ExportJob.objects.get(variant="public")
    assert job.status == ExportJob.Status.DONE
    assert page.get_by_text(job.checksum).is_visible()

    page.get_by_role("link", name="Back to the packs").click()
    page.get_by_role("button", name="Export the exempt pack").click()
    page.wait_for_url("**/documents/jobs/*/")
    assert page.get_by_text("Exempt pack: not for publication").is_visible()
    page.get_by_text("The pack is ready").wait_for(timeout=90_000)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the exempt pack").click()
    download = download_info.value
    assert download.suggested_filename.endswith("-exempt.pdf")
    assert Path(download.path()).read_bytes()[:5] == b"%PDF-"
    entry = AccessLogEntry.objects.get()
    assert (entry.user_id, entry.record_id, entry.channel) == (officer.pk, referral.pk, "pdf")
    audit.assert_clean()


def test_without_javascript_the_job_page_reaches_the_pack(browser, live_server, officer, filesystem_worker):
    """Without JavaScript the page carries a <noscript> meta refresh (tests/core checks the
    markup); Playwright's script-disabled mode still parses <noscript> as if scripts ran, so
    here the person follows "Check again now" until the pack is ready."""
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False, locale="en-GB")
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        referral = ReferralFactory()
        sign_in(page, "officer")
        page.goto(f"/documents/{KIND}/{referral.pk}/")
        page.get_by_role("button", name="Export the public pack").click()
        page.wait_for_url("**/documents/jobs/*/")
        assert page.locator("progress#export-progress-bar").is_visible()
        for _ in range(60):
            if page.get_by_text("The pack is ready").count():
                break
            page.wait_for_timeout(1_500)
            page.get_by_role("link", name="Check again now").click()
        assert page.get_by_text("The pack is ready").is_visible()
        assert page.get_by_role("link", name="Download the public pack").is_visible()
        assert ExportJob.objects.get().status == ExportJob.Status.DONE
    finally:
        context.close()


def test_a_failed_job_page_is_accessible(page, officer):
    audit = Audit(page)
    referral = ReferralFactory()
    job = ExportJob.objects.create(
        kind=KIND,
        object_id=referral.pk,
        variant="public",
        source_digest="f" * 64,
        title="A failed pack",
        status=ExportJob.Status.FAILED,
        message="The uploaded file for “Appendix 4” is not a PDF that can be read.",
        requested_by=officer,
        finished_at=timezone.now(),
    )
    sign_in(page, "officer")
    audit.visit("job failed", f"/documents/jobs/{job.pk}/", shot=True)
    assert page.get_by_text("is not a PDF that can be read").is_visible()
    assert page.get_by_role("button", name="Try again").is_visible()
    audit.assert_clean()
