"""The contract with core.documents: parts in order, a digest that follows every source,
classification, and who may download the exempt pack."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from core import documents
from core.roles import Role
from scrutiny import packs, services
from tests.conftest import sign_in_verified
from tests.scrutiny.helpers import add_appendix, make_report, meetings, pdf_upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(role_user):
    return role_user(Role.REPORT_OFFICER, username="officer")


def test_parts_are_the_report_then_the_appendices_in_order(officer, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    report = make_report(officer)
    add_appendix(officer, report, title="Public text")
    add_appendix(officer, report, kind="uploaded_pdf", title="CSO", upload=pdf_upload())
    add_appendix(
        officer, report, title="Names", exempt=True, schedule_12a_paragraph=2, public_interest="Children"
    )
    add_appendix(officer, report, kind="response_table", title="Executive response")
    parts = packs.cabinet_report_parts(report=report)
    assert [p.title for p in parts] == [
        report.title,
        "Appendix 1 - Public text",
        "Appendix 2 - CSO",
        "Appendix 3 - Names",
        "Appendix 4 - Executive response",
    ]
    assert isinstance(parts[2], documents.PdfPart)
    assert parts[2].file.endswith(".pdf")
    assert (parts[3].exempt, parts[3].schedule_12a_paragraph, parts[3].public_interest) == (
        True,
        2,
        "Children",
    )
    assert all(p.template.startswith("scrutiny/pdf/") for p in parts if isinstance(p, documents.HtmlPart))
    assert packs.cabinet_report_classification(report=report) == "Part exempt"
    assert documents.get_kind("cabinet_report_version").model.__name__ == "ReportVersion"


def test_the_digest_changes_with_every_source(officer, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    scrutiny_meeting, _, item = meetings()
    report = make_report(officer)
    add_appendix(officer, report, kind="response_table", title="Executive response")
    first = packs.cabinet_report_digest(report=report)
    assert packs.cabinet_report_digest(report=report) == first  # same inputs, same digest

    # A generated appendix's source changes: a scrutiny recommendation on the item gets a response.
    rec = services.recommendation_create(
        user=officer,
        data=services.RecommendationInput(
            source="scrutiny", text="x", meeting=scrutiny_meeting, agenda_item=item
        ),
    )
    second = packs.cabinet_report_digest(report=report)
    assert second != first
    services.response_record(
        user=officer,
        recommendation_id=rec.pk,
        expected_version=rec.version,
        decision="accepted",
        text="Agreed",
        responded_by="Cabinet member",
        responded_on=scrutiny_meeting.date,
    )
    third = packs.cabinet_report_digest(report=report)
    assert third != second
    # A report field changes.
    report.refresh_from_db()
    services.cabinet_report_update(
        user=officer, report_id=report.pk, expected_version=report.version, values={"consultees": "Others."}
    )
    fourth = packs.cabinet_report_digest(report=report)
    assert fourth != third
    # An uploaded file changes: its checksum is in the digest.
    appendix = add_appendix(officer, report, kind="uploaded_pdf", title="CSO", upload=pdf_upload(pages=1))
    fifth = packs.cabinet_report_digest(report=report)
    services.appendix_update(
        user=officer,
        appendix_id=appendix.pk,
        expected_version=appendix.version,
        data=services.AppendixInput(kind="uploaded_pdf", title="CSO", upload=pdf_upload(pages=2)),
    )
    assert packs.cabinet_report_digest(report=report) not in {first, second, third, fourth, fifth}


def test_only_grant_holders_in_a_two_factor_session_may_download_the_exempt_pack(officer, role_user, client):
    report = make_report(officer)
    reader = role_user(Role.LEAD_REVIEWER, username="reader")
    sign_in_verified(client, reader)
    user = client.get("/").wsgi_request.user
    assert not packs.user_may_download_exempt(user=user, report=report)
    ig = role_user(Role.INFORMATION_GOVERNANCE, username="ig")
    services.report_grant(
        granted_by=ig, report_id=report.pk, user=reader, reason="Presents the report to cabinet"
    )
    user = client.get("/").wsgi_request.user
    assert packs.user_may_download_exempt(user=user, report=report)
    client.logout()
    client.force_login(reader)  # a password-only session
    assert not packs.user_may_download_exempt(user=client.get("/").wsgi_request.user, report=report)
    # A role without scrutiny never may, grant or not.
    practitioner = role_user(Role.MASH_PRACTITIONER, username="p")
    with pytest.raises(ValidationError):  # the service gives none to a role without scrutiny
        services.report_grant(
            granted_by=ig, report_id=report.pk, user=practitioner, reason="Reads the report for cabinet"
        )
    # A grant written some other way (an older rule, a bug) still opens nothing.
    from core import permissions

    permissions.grant(
        report, action=permissions.VIEW_EXEMPT, user=practitioner, reason="Written directly", granted_by=ig
    )
    sign_in_verified(client, practitioner)
    assert not packs.user_may_download_exempt(user=client.get("/").wsgi_request.user, report=report)
