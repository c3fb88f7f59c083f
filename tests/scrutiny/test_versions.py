"""Issue 13 part 1: a report's published papers never change afterwards.

Publishing freezes a version: the text and every appendix's content as rendered that day.
Packs are made only from a version, so the same version always gives the same pack digest,
whatever happens to the model guidance, the responses or the exempt case data later. A later
change is a new version (a supplement or a correction) with a reason; the old one stays.
Publication later than five clear days before the meeting is recorded with a warning and the
chair's reasons for urgency. A version is dated the day it is published (by the system, never
typed); nothing is published once the meeting has taken place or its decision is recorded.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

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
from tests.scrutiny.helpers import add_appendix, carried_guidance, make_report, meetings, publish, travel_to

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
    assert (version.number, version.kind, carried_guidance(version).number) == (1, "original", 1)
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
        publish(officer, report, on=dt.date(2020, 11, 18))
    assert set(error.value.message_dict) == {"kind", "reason"}
    assert error.value.message_dict["reason"] == ["Enter why the papers changed since version 1"]
    second = publish(
        officer, report, on=dt.date(2020, 11, 18), kind="correction", reason="The guidance was replaced."
    )
    assert (second.number, second.kind, carried_guidance(second).number) == (2, "correction", 2)
    assert second.digest != first.digest
    first.refresh_from_db()
    assert first.digest == ReportVersion.objects.get(pk=first.pk).digest
    assert list(report.versions.values_list("number", flat=True)) == [1, 2]


def test_a_version_is_dated_the_day_it_is_published_never_a_typed_date(officer, report, client):
    """Found by attack: the publish page took any date, so papers published on the day of the
    meeting could be dated ten days earlier and look as if they gave five clear days."""
    with pytest.raises(TypeError):
        services.report_version_publish(  # no way to pass a date in
            user=officer,
            report_id=report.pk,
            expected_version=report.version,
            published_on=dt.date(2020, 11, 1),
        )
    url = reverse("scrutiny:report_publish", args=[report.pk])
    with travel_to(dt.date(2020, 11, 20)):
        sign_in_verified(client, officer)
        form = client.get(url).content.decode()
        assert "published_on" not in form
        assert "The papers will be published today, 20 November 2020, and dated so." in form
        response = client.post(
            url,
            {
                "version": report.version,
                "urgency_reasons": "The appendix was late.",
                "urgency_agreed_by": "Cllr A",
            }
            | _date("published_on", dt.date(2020, 11, 1)),  # typed anyway: ignored
        )
    assert response.status_code == 302
    version = ReportVersion.objects.get()
    assert version.published_on == dt.date(2020, 11, 20)
    assert version.late
    assert timezone.localtime(version.published_at).date() == version.published_on


def test_publishing_late_needs_the_chairs_reasons_for_urgency_and_warns_with_the_dates(officer, report):
    # The meeting is on Thursday 26 November 2020: five clear working days back is Thursday
    # 19 November, so the papers must be out by Wednesday 18 November.
    assert services.publication_deadline(dt.date(2020, 11, 26)) == dt.date(2020, 11, 18)
    assert services.clear_days(dt.date(2020, 11, 18), dt.date(2020, 11, 26)) == 5
    assert services.clear_days(dt.date(2020, 11, 20), dt.date(2020, 11, 26)) == 3
    # Bank holidays are not clear days: Monday 31 August 2020.
    assert services.clear_days(dt.date(2020, 8, 27), dt.date(2020, 9, 4)) == 4
    on_time = publish(officer, report)
    assert services.late_publication_warning(on_time) == ""
    assert (on_time.urgency_reasons, on_time.urgency_agreed_by) == ("", "")
    with pytest.raises(ValidationError) as error:
        publish(officer, report, on=dt.date(2020, 11, 20), kind="supplement", reason="A late appendix.")
    assert error.value.message_dict == {
        "urgency_reasons": ["Enter the chair's reasons for considering the papers as a matter of urgency"],
        "urgency_agreed_by": ["Enter the name of the chair who agreed the papers are urgent"],
    }
    late = publish(
        officer,
        report,
        on=dt.date(2020, 11, 20),
        kind="supplement",
        reason="A late appendix.",
        urgency_reasons="The police report arrived on 19 November.",
        urgency_agreed_by="Councillor Jane Smith",
    )
    assert late.late
    assert (late.urgency_reasons, late.urgency_agreed_by) == (
        "The police report arrived on 19 November.",
        "Councillor Jane Smith",
    )
    assert services.late_publication_warning(late) == (
        "Version 2 was published on 20 November 2020, 3 clear days before the meeting on 26 November "
        "2020. The papers should have been published by 18 November 2020 to give five clear days."
    )
    on_the_day = publish(
        officer,
        report,
        on=dt.date(2020, 11, 26),
        kind="correction",
        reason="A figure was wrong.",
        urgency_reasons="The figure misled the reader.",
        urgency_agreed_by="Councillor Jane Smith",
    )
    assert services.late_publication_warning(on_the_day) == (
        "Version 3 was published on the day of the meeting, 26 November 2020, with no clear days before "
        "it. The papers should have been published by 18 November 2020 to give five clear days."
    )


def test_nothing_is_published_after_the_meeting_or_once_the_decision_is_recorded(officer, report):
    """Found by attack: a supplement published after the meeting said "0 clear days before" it.
    The meeting never had it: nothing more is published for a meeting that has taken place, and
    nothing once its decision is recorded (a correction then goes in the minutes)."""
    another = make_report(officer, title="Another")
    with pytest.raises(ValidationError) as error:
        publish(officer, another, on=dt.date(2020, 11, 27))
    assert error.value.messages == [
        "The meeting on 26 November 2020 has taken place: papers published now were not before it. "
        "Record any correction in the minutes of the meeting."
    ]
    publish(officer, report)
    with pytest.raises(ValidationError) as error:
        publish(officer, report, on=dt.date(2020, 11, 27), kind="supplement", reason="After the meeting.")
    assert "has taken place" in error.value.messages[0]
    services.decision_record(
        user=officer,
        report_id=report.pk,
        expected_version=None,
        data=services.DecisionInput(
            decision_text="Agreed", status="draft", key_decision=False, call_in="open"
        ),
    )
    with pytest.raises(ValidationError) as error:  # even on the day of the meeting
        publish(
            officer,
            report,
            on=dt.date(2020, 11, 26),
            kind="correction",
            reason="After the decision.",
            urgency_reasons="x",
            urgency_agreed_by="y",
        )
    assert error.value.messages == [
        "The decision has been recorded, so the papers it was made on cannot change. "
        "Record any correction in the minutes of the meeting."
    ]
    assert list(report.versions.values_list("number", flat=True)) == [1]


def test_the_publish_page_says_plainly_when_the_papers_can_no_longer_be_published(officer, report, client):
    publish(officer, report)
    url = reverse("scrutiny:report_publish", args=[report.pk])
    detail = reverse("scrutiny:report", args=[report.pk])
    with travel_to(dt.date(2020, 11, 26)):
        sign_in_verified(client, officer)  # a session lasts half an hour: sign in on the day
        assert url in client.get(detail).content.decode()
    with travel_to(dt.date(2020, 11, 27)):
        sign_in_verified(client, officer)
        assert url not in client.get(detail).content.decode()
        page = client.get(url).content.decode()
        assert "The papers can no longer be published" in page
        assert "The meeting on 26 November 2020 has taken place" in page
        refused = client.post(url, {"version": report.version, "kind": "supplement", "reason": "Late"})
    assert refused.status_code == 400
    assert report.versions.count() == 1


def test_a_version_published_after_its_meeting_before_the_fix_says_so_plainly(officer, report):
    version = publish(officer, report)
    ReportVersion.objects.filter(pk=version.pk).update(
        published_on=dt.date(2020, 11, 27), urgency_reasons="x", urgency_agreed_by="y"
    )
    version.refresh_from_db()
    assert services.late_publication_warning(version) == (
        "Version 1 was published on 27 November 2020, after the meeting on 26 November 2020: the meeting "
        "did not have it. The papers should have been published by 18 November 2020 to give five clear days."
    )


def test_late_papers_cannot_be_stored_without_the_chairs_reasons(officer, report):
    version = publish(officer, report)
    with pytest.raises(IntegrityError), transaction.atomic():
        ReportVersion.objects.filter(pk=version.pk).update(published_on=dt.date(2020, 11, 20))


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
    url = reverse("scrutiny:report_publish", args=[report.pk])
    with travel_to(dt.date(2020, 11, 20)):
        sign_in_verified(client, officer)  # a session lasts half an hour: sign in on the day
        bad = client.post(url, {"version": report.version})
        assert bad.status_code == 400
        assert "Enter the chair&#x27;s reasons for considering the papers as a matter of urgency" in (
            bad.content.decode()
        )
        assert not ReportVersion.objects.exists()
        response = client.post(
            url,
            {
                "version": report.version,
                "urgency_reasons": "The appendix came late.",
                "urgency_agreed_by": "Councillor Jane Smith",
            },
        )
        assert response.status_code == 302
        version = ReportVersion.objects.get()
        page = client.get(reverse("scrutiny:report", args=[report.pk])).content.decode()
    assert "should have been published by 18 November 2020" in page  # the warning, with the dates
    assert "The chair of the meeting, Councillor Jane Smith, agreed it be considered as a matter" in page
    sign_in_verified(client, officer)
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
    with travel_to(dt.date(2020, 11, 21)):
        sign_in_verified(client, officer)
        form = client.get(url).content.decode()
    assert "Why the papers changed" in form
    # Readers see the versions but cannot publish.
    reader = role_user(Role.LEAD_REVIEWER, username="reader")
    with travel_to(dt.date(2020, 11, 21)):
        sign_in_verified(client, reader)
        assert client.get(url).status_code == 404
    sign_in_verified(client, reader)
    assert job.checksum in client.get(reverse("scrutiny:report", args=[report.pk])).content.decode()


def _date(prefix: str, day: dt.date) -> dict:
    return {f"{prefix}_0": day.day, f"{prefix}_1": day.month, f"{prefix}_2": day.year}


def test_the_exports_page_says_how_the_exempt_pack_becomes_available(officer, report, client, role_user):
    version = publish(officer, report)
    exports = reverse("documents:exports", args=["cabinet_report_version", version.pk])
    sign_in_verified(client, officer)
    page = client.get(exports).content.decode()
    assert 'id="exempt-pack-access"' in page
    assert "There is also an exempt pack, with Appendix 2 in full." in page
    assert "Information governance gives grants" in page
    assert 'value="exempt"' not in page  # not offered without a grant
    ig = role_user(Role.INFORMATION_GOVERNANCE, username="ig")
    services.report_grant(
        granted_by=ig, report_id=report.pk, user=officer, reason="Presenting officer at the cabinet meeting"
    )
    page = client.get(exports).content.decode()
    assert 'id="exempt-pack-access"' not in page
    assert 'value="exempt"' in page
