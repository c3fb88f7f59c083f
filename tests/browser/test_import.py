"""Importing historic referrals in the browser: axe-core on every state of the import pages."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from playwright.sync_api import expect

from devtools.synthetic import to_csv
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


def test_the_preview_lists_the_referrals_to_be_created_and_updated_before_the_import(
    page, manager, schools, tmp_path
):
    """Issue 14: the manager sees which referrals a file creates and which it updates, by
    reference, with the children named only where the manager may identify the referral."""
    reports = []
    sign_in(page, "manager")
    page.goto("/referrals/import/")
    page.get_by_label("Upload a file").set_input_files(str(SAMPLE))
    page.get_by_role("button", name="Check the file").click()
    page.get_by_role("heading", name="Check the file before you import it").wait_for()
    created = page.get_by_role("region", name="Referrals the file will create")
    expect(created.get_by_role("row")).to_have_count(7)  # the headings and six referrals
    expect(created).to_contain_text("CASE-2015-000101")
    expect(created).not_to_contain_text("Demoford")  # nothing from the file names anyone
    page.get_by_role("button", name="Import 6 referrals").click()
    page.get_by_role("heading", name="File imported").wait_for()
    done = page.get_by_role("region", name="Referrals the file created")
    first = Referral.objects.get(external_id="CASE-2015-000101")
    expect(done.get_by_role("row").filter(has_text="CASE-2015-000101")).to_contain_text(first.reference)

    # The case system corrects one referral and adds another: the preview says which is which.
    rows = list(csv.DictReader(SAMPLE.open(encoding="utf-8", newline="")))
    rows[0]["narrative"] = "SAMPLE (synthetic). Corrected in the case system."
    added = dict(rows[1], source_id="CASE-2015-009999")
    changed_file = tmp_path / "corrected.csv"
    changed_file.write_bytes(to_csv([*rows, added]))
    page.goto("/referrals/import/")
    page.get_by_label("Upload a file").set_input_files(str(changed_file))
    page.get_by_role("button", name="Check the file").click()
    page.get_by_role("heading", name="Check the file before you import it").wait_for()
    expect(page.get_by_role("region", name="Referrals the file will create")).to_contain_text(
        "CASE-2015-009999"
    )
    updated = page.get_by_role("region", name="Referrals already in the service that the file changes")
    row = updated.get_by_role("row").filter(has_text=first.reference)
    expect(row).to_contain_text("What was reported")
    expect(row).to_contain_text("Alex Demoford")  # a closed referral: the MASH team may identify it
    expect(page.get_by_role("button", name="Import 2 referrals")).to_be_visible()
    reports.append(axe_violations(page, "import-preview-lists"))
    screenshot(page, "import-preview-lists")
    page.set_viewport_size({"width": 320, "height": 800})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"the preview scrolls sideways at 320 px ({width} px wide)"
    screenshot(page, "import-preview-lists-320")

    row.get_by_role("link", name=first.reference).click()
    page.get_by_role("heading", name=first.reference).wait_for()
    found = [report for report in reports if report]
    assert not found, "axe found violations:\n" + "\n".join(found)
