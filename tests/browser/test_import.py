"""Importing historic referrals in the browser: axe-core on every state of the import pages."""

from __future__ import annotations

from pathlib import Path

import pytest

from referrals.models import Referral, School
from tests.browser.pages import axe_violations, screenshot, sign_in

SAMPLE = Path(__file__).resolve().parents[2] / "referrals" / "fixtures" / "sample_import.csv"


@pytest.fixture
def schools(db):
    for urn in ("990001", "990035", "990036", "990037", "990040", "990051"):
        School.objects.create(urn=urn, name=f"School {urn} (demo)", phase="secondary", local_authority="X")


def test_a_manager_checks_and_imports_a_file(page, manager, schools, tmp_path):
    reports = []
    sign_in(page, "manager")
    page.goto("/referrals/")
    page.get_by_role("link", name="Import historic referrals").click()
    page.get_by_role("heading", name="Import historic referrals").wait_for()
    reports.append(axe_violations(page, "import-upload"))
    page.get_by_text("Columns the file must have").click()
    screenshot(page, "import-upload")

    page.get_by_role("button", name="Check the file").click()
    page.get_by_text("There is a problem").wait_for()
    reports.append(axe_violations(page, "import-upload-errors"))
    page.get_by_role("link", name="Select a CSV file").click()
    assert page.evaluate("document.activeElement.type") == "file"

    bad = tmp_path / "bad.csv"
    bad.write_text(SAMPLE.read_text(encoding="utf-8").replace("13/01/2015", "31/02/2015"), encoding="utf-8")
    page.get_by_label("Upload a file").set_input_files(str(bad))
    page.get_by_role("button", name="Check the file").click()
    page.get_by_role("heading", name="The file has problems").wait_for()
    reports.append(axe_violations(page, "import-preview-errors"))
    screenshot(page, "import-preview-errors")

    page.goto("/referrals/import/")
    page.get_by_label("Upload a file").set_input_files(str(SAMPLE))
    page.get_by_role("button", name="Check the file").click()
    page.get_by_role("heading", name="Check the file before you import it").wait_for()
    reports.append(axe_violations(page, "import-preview"))
    screenshot(page, "import-preview")

    page.get_by_role("button", name="Import 6 referrals").click()
    page.get_by_role("heading", name="File imported").wait_for()
    reports.append(axe_violations(page, "import-done"))
    assert Referral.objects.filter(external_id__isnull=False).count() == 6

    found = [report for report in reports if report]
    assert not found, "axe found violations:\n" + "\n".join(found)
