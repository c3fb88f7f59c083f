"""Issue 13 part 1: a report's published papers never change afterwards.

Publishing freezes a version: the text and every appendix's content as rendered that day.
Packs are made only from a version, so the same version always gives the same pack digest,
whatever happens to the model guidance, the responses or the exempt case data later. A later
change is a new version (a supplement or a correction) with a reason; the old one stays.
Publication later than five clear days before the meeting is recorded with a warning.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core import documents
from core.documents import services as document_services
from core.documents.rendering import pack_html
from core.models import ExportJob
from core.roles import Role
from modelguidance import services as guidance_services
from scrutiny import packs, services
from scrutiny.models import ExemptAppendixSnapshot, ReportVersion, ReportVersionAppendix
from tests.conftest import sign_in_verified
from tests.guidance.helpers import approved, published
from tests.nplusone import unit_of_work
from tests.scrutiny.helpers import add_appendix, make_report, meetings, publish

pytestmark = pytest.mark.django_db

CANARY = "Qzcnryfrozen"
V1 = [guidance_services.SectionInput("Purpose", "Frozenversiononetext.")]
V2 = [guidance_services.SectionInput("Purpose", "Laterversiontwotext.")]


@pytest.fixture
def officer(role_user, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return role_user(Role.REPORT_OFFICER, username="officer")


@pytest.fixture
def report(officer):
    published(officer, sections=V1, title="Model guidance v1")
    report = make_report(officer)
    add_appendix(officer, report, title="Public text", text="Publictextasitwas.")
    add_appendix(
        officer,
        report,
        title="Names",
        text=f"{CANARY} named children",
        exempt=True,
        schedule_12a_paragraph=2,
        public_interest="Children",
    )
    add_appendix(officer, report, kind="response_table", title="Executive response")
    add_appendix(officer, report, kind="model_guidance", title="Model guidance for schools")
    report.refresh_from_db()
    return report


def _html(version, *, exempt_pack: bool) -> str:
    parts = packs.report_version_parts(report_version=version)
    html, _ = pack_html(
        parts=parts, classification=version.classification, exempt_pack=exempt_pack, title=version.title
    )
    return str(html)


@unit_of_work
def _change_everything(officer, report):
    """After publication: a new guidance version, a new response, new text, a changed exempt appendix."""
    second = approved(officer, sections=V2, title="Model guidance v2")
    guidance_services.guidance_version_publish(user=second.approved_by, version_id=second.pk)
    scrutiny_meeting, _, item = meetings()
    services.recommendation_create(
        user=officer,
        data=services.RecommendationInput(
            source="scrutiny", text="Laterrecommendation", meeting=scrutiny_meeting, agenda_item=item
        ),
    )
    report.refresh_from_db()
    services.cabinet_report_update(
        user=officer,
        report_id=report.pk,
        expected_version=report.version,
        values={"purpose": "Laterpurpose."},
    )
    names = report.appendices.get(number=2)
    services.appendix_update(
        user=officer,
        appendix_id=names.pk,
        expected_version=names.version,
        data=services.AppendixInput(
            kind="text",
            title="Names",
            text="Laterexempttext",
            exempt=True,
            schedule_12a_paragraph=2,
            public_interest="Children",
        ),
    )


def test_a_published_version_gives_the_same_pack_whatever_changes_later(officer, report):
    version = publish(officer, report)
    assert (version.number, version.kind, version.guidance_version.number) == (1, "original", 1)
    entry = documents.get_kind("cabinet_report_version")
    digest, public, exempt = (
        entry.digest(version),
        _html(version, exempt_pack=False),
        _html(version, exempt_pack=True),
    )
    live = packs.cabinet_report_digest(report=report)
    assert "Frozenversiononetext." in public
    assert "Publictextasitwas." in public
    assert CANARY not in public
    assert CANARY.lower() in exempt.lower()

    _change_everything(officer, report)

    version = ReportVersion.objects.get(pk=version.pk)
    assert entry.digest(version) == digest
    assert _html(version, exempt_pack=False) == public
    assert _html(version, exempt_pack=True) == exempt
    for later in ("Laterversiontwotext", "Laterrecommendation", "Laterpurpose", "Laterexempttext"):
        assert later not in public
        assert later not in exempt
    assert packs.cabinet_report_digest(report=report) != live  # the live report did change


def test_the_same_version_reuses_its_finished_pack(
    officer, report, role_user, django_capture_on_commit_callbacks
):
    version = publish(officer, report)
    user = role_user(Role.REPORT_OFFICER, username="clerk")
    with django_capture_on_commit_callbacks(execute=True):
        job, created = document_services.export_job_request(
            user=user, kind="cabinet_report_version", object_id=version.pk, variant="public"
        )
    job.refresh_from_db()
    assert created
    assert job.status == ExportJob.Status.DONE, job.message
    _change_everything(officer, report)
    again, created = document_services.export_job_request(
        user=user, kind="cabinet_report_version", object_id=version.pk, variant="public"
    )
    assert (again.pk, created, again.checksum) == (job.pk, False, job.checksum)


def test_only_a_version_is_exported_never_the_live_report():
    with pytest.raises(documents.UnknownKind):
        documents.get_kind("cabinet_report")
    assert documents.get_kind("cabinet_report_version").model is ReportVersion


def test_a_change_after_publication_is_a_new_version_with_a_reason(officer, report):
    first = publish(officer, report)
    _change_everything(officer, report)
    with pytest.raises(ValidationError) as error:
        publish(officer, report, on=dt.date(2020, 11, 20))
    assert set(error.value.message_dict) == {"kind", "reason"}
    assert error.value.message_dict["reason"] == ["Enter why the papers changed since version 1"]
    with pytest.raises(ValidationError) as error:
        publish(officer, report, on=dt.date(2020, 11, 17), kind="correction", reason="x")
    assert "on or after version 1's" in error.value.message_dict["published_on"][0]
    second = publish(
        officer, report, on=dt.date(2020, 11, 20), kind="correction", reason="The guidance was replaced."
    )
    assert (second.number, second.kind, second.guidance_version.number) == (2, "correction", 2)
    assert second.digest != first.digest
    first.refresh_from_db()
    assert first.digest == ReportVersion.objects.get(pk=first.pk).digest
    assert list(report.versions.values_list("number", flat=True)) == [1, 2]


def test_publishing_late_warns_with_the_dates(officer, report):
    # The meeting is on Thursday 26 November 2020: five clear working days back is Thursday
    # 19 November, so the papers must be out by Wednesday 18 November.
    assert services.publication_deadline(dt.date(2020, 11, 26)) == dt.date(2020, 11, 18)
    assert services.clear_days(dt.date(2020, 11, 18), dt.date(2020, 11, 26)) == 5
    assert services.clear_days(dt.date(2020, 11, 20), dt.date(2020, 11, 26)) == 3
    # Bank holidays are not clear days: Monday 31 August 2020.
    assert services.clear_days(dt.date(2020, 8, 27), dt.date(2020, 9, 4)) == 4
    on_time = publish(officer, report)
    assert services.late_publication_warning(on_time) == ""
    late = publish(officer, report, on=dt.date(2020, 11, 20), kind="supplement", reason="A late appendix.")
    assert late.late
    assert services.late_publication_warning(late) == (
        "Version 2 was published on 20 November 2020, 3 clear days before the meeting on 26 November "
        "2020. The papers should have been published by 18 November 2020 to give five clear days."
    )
    another = make_report(officer, title="Another")
    with pytest.raises(ValidationError) as error:
        publish(officer, another, on=dt.date(2020, 11, 27))
    assert error.value.message_dict["published_on"] == ["The papers must be published before the meeting"]


def test_exempt_content_is_stored_apart_and_the_public_pack_never_reads_it(officer, report):
    version = publish(officer, report)
    names = version.appendices.get(number=2)
    assert names.exempt
    assert names.body_html == ""
    assert CANARY in ExemptAppendixSnapshot.objects.get(appendix=names).body_html
    assert not ReportVersionAppendix.objects.filter(body_html__contains=CANARY).exists()
    assert not ReportVersion.objects.filter(report_html__contains=CANARY).exists()
    for model in (ReportVersion, ReportVersionAppendix, ExemptAppendixSnapshot):
        assert model not in admin.site._registry
        assert not hasattr(model, "history")
    table = ExemptAppendixSnapshot._meta.db_table
    with CaptureQueriesContext(connection) as queries:
        public = _html(version, exempt_pack=False)
    assert not [q for q in queries.captured_queries if table in q["sql"]]
    assert CANARY not in public
    assert "exempt by virtue of paragraph 2" in public


def test_the_decided_report_shows_its_versions_and_their_packs(
    officer, report, client, role_user, django_capture_on_commit_callbacks
):
    sign_in_verified(client, officer)
    url = reverse("scrutiny:report_publish", args=[report.pk])
    bad = client.post(url, {"version": report.version})
    assert bad.status_code == 400
    assert "Enter the date the papers are published" in bad.content.decode()
    assert not ReportVersion.objects.exists()
    response = client.post(url, {"version": report.version} | _date("published_on", dt.date(2020, 11, 20)))
    assert response.status_code == 302
    version = ReportVersion.objects.get()
    page = client.get(reverse("scrutiny:report", args=[report.pk])).content.decode()
    assert "should have been published by 18 November 2020" in page  # the warning, with the dates
    exports = reverse("documents:exports", args=["cabinet_report_version", version.pk])
    assert exports in page
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(exports, {"variant": "public"}).status_code == 302
    job = ExportJob.objects.get()
    page = client.get(reverse("scrutiny:report", args=[report.pk])).content.decode()
    assert "Version 1: published for the meeting, published 20 November 2020" in page
    assert job.checksum in page
    assert reverse("documents:download", args=[job.pk]) in page
    # A second version asks what it is and why.
    report.refresh_from_db()
    form = client.get(url).content.decode()
    assert "Why the papers changed" in form
    # Readers see the versions but cannot publish.
    reader = role_user(Role.LEAD_REVIEWER, username="reader")
    sign_in_verified(client, reader)
    assert client.get(url).status_code == 404
    assert job.checksum in client.get(reverse("scrutiny:report", args=[report.pk])).content.decode()


def _date(prefix: str, day: dt.date) -> dict:
    return {f"{prefix}_0": day.day, f"{prefix}_1": day.month, f"{prefix}_2": day.year}
