"""The demo's cabinet report is the 26 November 2020 report: same headings in the same order,
same appendix list (tests/scrutiny/fixtures holds the published text)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.management import call_command as _call_command
from django.urls import reverse

from scrutiny.models import AgendaEntry, CabinetReport, DecisionRecord, Recommendation, Response
from tests.conftest import sign_in_verified
from tests.nplusone import set_up, unit_of_work
from tests.scrutiny.helpers import carried_guidance

call_command = set_up(_call_command)  # the seed builds its rows one by one on purpose

pytestmark = pytest.mark.django_db

SOURCE = (Path(__file__).parent / "fixtures" / "cabinet-report-2020-11-26.txt").read_text()

HEADINGS_2020 = [
    "Meeting",
    "Meeting date",
    "Title of report",
    "Report by",
    "Classification",
    "Decision type",
    "Wards affected",
    "Purpose",
    "Recommendation(s)",
    "Alternative options",
    "Key considerations",
    "Community impact",
    "Environmental Impact",
    "Equality duty",
    "Resource implications",
    "Legal implications",
    "Risk management",
    "Consultees",
    "Appendices",
    "Background papers",
]


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u2013", "-")).strip().lower()


def test_the_heading_list_is_the_published_reports():
    lines = [line.split("\t")[0].rstrip(":").strip() for line in SOURCE.splitlines()]
    positions = [lines.index(heading) for heading in HEADINGS_2020]
    assert positions == sorted(positions)


def appendix_list_2020() -> list[tuple[int, str]]:
    return [
        (int(number), _normal(title))
        for number, title in re.findall(r"^Appendix (\d+) [-\u2013] (.+)$", SOURCE, flags=re.MULTILINE)
    ]


def test_the_demo_cabinet_report(settings, tmp_path, client, django_user_model, demo_data):
    """The shared seed: the report, the tracker, the pages, idempotence."""
    settings.DEBUG = True
    settings.MEDIA_ROOT = str(demo_data.copy_media(tmp_path))
    demo = CabinetReport.objects.get(meeting__date="2020-11-26")

    # The 2020 appendix list, in order; Appendix 2 exempt; Appendix 4 an uploaded PDF.
    assert len(appendix_list_2020()) == 8
    assert [(a.number, _normal(a.title)) for a in demo.appendices.all()] == appendix_list_2020()
    assert [a.number for a in demo.appendices.filter(exempt=True)] == [2]
    assert demo.appendices.get(number=4).kind == "uploaded_pdf"
    # Appendices 6 and 7 come from the guidance app: the published model guidance, the taxonomy.
    assert demo.appendices.get(number=6).kind == "model_guidance"
    assert demo.appendices.get(number=7).kind == "definitions"

    # The 2020 headings in the 2020 order, as the composer shows the report.
    officer = django_user_model.objects.get(username="officer")
    sign_in_verified(client, officer)
    page = client.get(reverse("scrutiny:report", args=[demo.pk])).content.decode()
    body = page[page.index('<article class="app-document"') : page.index("</article>")]
    tags = r'<(?:dt class="govuk-summary-list__key"|h2 class="govuk-heading-m")>([^<]+)<'
    assert [_normal(h) for h in re.findall(tags, body)] == [_normal(h) for h in HEADINGS_2020]
    # Four lettered recommendations, paragraphs 1 to 19 numbered on from alternative options.
    assert re.findall(r"\(([a-d])\)</span> The executive", body) == ["a", "b", "c", "d"]
    paragraph = r'class="app-numbered-paragraph"><span class="app-number">(\d+)\.'
    numbers = [int(n) for n in re.findall(paragraph, body)]
    assert numbers == list(range(1, 20))
    for number, title in appendix_list_2020():
        assert f"appendix {number} - {title}" in _normal(body)
    assert "part exempt: appendix 2" in _normal(body)

    # The tracker: every source, scrutiny's numbered 1 to 5 with the executive's responses.
    assert set(Recommendation.objects.values_list("source", flat=True)) == set(Recommendation.Source.values)
    scrutiny = Recommendation.objects.filter(source="scrutiny").order_by("number")
    assert list(scrutiny.values_list("number", flat=True)) == [1, 2, 3, 4, 5]
    assert Response.objects.filter(recommendation__in=scrutiny).count() == 5
    assert set(Response.objects.values_list("decision", flat=True)) == set(Response.Decision.values)
    # The agenda item is followed across meetings: scrutiny in September, cabinet in November.
    dates = [
        e.meeting.date.isoformat()
        for e in AgendaEntry.objects.filter(item=demo.agenda_item).select_related("meeting")
    ]
    assert dates == ["2020-09-15", "2020-11-26"]
    assert demo.decision.status == "effective"

    # Every appendix page renders for a grant holder; the PDF comes through its checked view.
    # The officer's grant was given by information governance, for 30 days, not by themselves.
    from core import permissions

    [grant] = permissions.grants_on(demo)
    assert (grant.holder_kind, grant.granted_by, grant.kind) == ("user", "infogov", "Granted by a manager")
    assert grant.holder.startswith("Olu")
    assert grant.expires_at is not None
    assert 29 <= (grant.expires_at - grant.granted_at).days <= 30
    assert len(grant.reason.split()) >= 3
    for appendix in demo.appendices.all():
        response = client.get(reverse("scrutiny:appendix", args=[appendix.pk]))
        assert response.status_code == 200, appendix
        assert appendix.title in response.content.decode()
    from modelguidance.models import ModelGuidanceVersion

    put_to_cabinet = ModelGuidanceVersion.objects.get(number=1)
    draft = ModelGuidanceVersion.objects.get(status="draft")
    appendix_6 = client.get(reverse("scrutiny:appendix", args=[demo.appendices.get(number=6).pk]))
    assert f"Version {put_to_cabinet.number}, published" in appendix_6.content.decode()
    assert draft.title not in appendix_6.content.decode()
    pdf = client.get(reverse("scrutiny:appendix_file", args=[demo.appendices.get(number=4).pk]))
    assert b"".join(pdf.streaming_content)[:5] == b"%PDF-"

    # 2020 as it was: the review closed, every assessment accepted, moderation done (kappa shown).
    from reviews.models import CaseAssessment
    from reviews.selectors import moderation_agreement

    review = demo.appendices.get(number=1).review
    assert review.status == "closed"
    assert set(review.assessments.values_list("status", flat=True)) == {CaseAssessment.Status.ACCEPTED}
    assert review.assessments.filter(kind="moderation").exists()
    agreement = moderation_agreement(review=review)
    assert agreement.kappa is not None
    assert all(resolved is not None for _, _, resolved in agreement.disagreements)
    # Published on 18 November 2020 (five clear days), decided on that version, effective after call-in.
    [version] = demo.versions.all()
    assert (version.published_on.isoformat(), version.late, carried_guidance(version).number) == (
        "2020-11-18",
        False,
        1,
    )
    decision = demo.decision
    assert decision.report_version == version
    assert (decision.decided_on.isoformat(), decision.call_in_ends_on.isoformat()) == (
        "2020-11-26",
        "2020-12-04",
    )
    assert decision.effective_on.isoformat() == "2020-12-05"
    # Guidance version 1 was approved by that decision, by someone other than its drafter.
    assert put_to_cabinet.decision == decision
    assert put_to_cabinet.approved_by_id not in (put_to_cabinet.created_by_id, put_to_cabinet.submitted_by_id)
    for guidance in ModelGuidanceVersion.objects.exclude(status="draft"):
        assert guidance.decision.decision_date >= guidance.submitted_at.date()
    page = client.get(reverse("scrutiny:report", args=[demo.pk])).content.decode()
    assert "Version 1: published for the meeting, published 18 November 2020" in page
    appendix_1 = client.get(reverse("scrutiny:appendix", args=[demo.appendices.get(number=1).pk]))
    assert "The review has not closed" not in appendix_1.content.decode()

    # The pack's digest renders every generated appendix from its sources (no request needed).
    from scrutiny import packs

    digest = packs.cabinet_report_digest(report=demo)
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert packs.cabinet_report_digest(report=demo) == digest

    # Idempotent; and a database loaded before scrutiny existed gets the report on the next run.
    counts = (CabinetReport.objects.count(), Recommendation.objects.count())
    call_command("seed_demo")
    assert (CabinetReport.objects.count(), Recommendation.objects.count()) == counts
    # (Such a database predates the model guidance too: its versions cite the cabinet decision.)
    from modelguidance.models import (
        Acknowledgement,
        AppendixGuidanceVersion,
        ModelGuidanceVersion,
        ReportVersionGuidanceVersion,
        SafeguardingLead,
        TrainingRecord,
    )
    from scrutiny.models import ExemptAppendixSnapshot, ReportVersion, ReportVersionAppendix

    Acknowledgement.objects.all().delete()
    # Published records are protected from deletion; a test clearing the tables unlinks them first.
    ReportVersionGuidanceVersion.objects.all().delete()
    AppendixGuidanceVersion.objects.all().delete()
    ModelGuidanceVersion.objects.all().delete()
    TrainingRecord.objects.all().delete()
    SafeguardingLead.objects.all().delete()
    DecisionRecord.objects.all().delete()
    ExemptAppendixSnapshot.objects.all().delete()
    ReportVersionAppendix.objects.all().delete()
    ReportVersion.objects.all().delete()
    CabinetReport.objects.all().delete()
    Recommendation.objects.all().delete()
    call_command("seed_demo")
    assert CabinetReport.objects.filter(meeting__date="2020-11-26").count() == 1
    assert ModelGuidanceVersion.objects.get(number=1).decision.report.meeting.date.isoformat() == "2020-11-26"


def test_the_demo_report_as_packs(settings, tmp_path, demo_data):
    """The 2020 report through the real pipeline - the export job and its Celery task, with
    the N+1 detector on as for any task: the public pack carries no child's name from the
    exempt Appendix 2 (a notice stands in its place) and the exempt pack does; the uploaded
    Appendix 4 is merged into both."""
    from django.contrib.auth import get_user_model
    from django.core.files.storage import default_storage

    from core import permissions as core_permissions
    from core.documents import services as documents
    from core.models import ExportJob
    from core.tasks import render_export_job
    from referrals.models import Child
    from scrutiny import selectors
    from tests.core.pdf_helpers import need_poppler, page_png, pdf_text

    need_poppler()
    settings.DEBUG = True
    settings.MEDIA_ROOT = str(demo_data.copy_media(tmp_path))
    demo = CabinetReport.objects.get(meeting__date="2020-11-26")
    cases = selectors.exempt_case_list(demo.appendices.get(number=2).review)
    names = {name for case in cases for _, name, _ in case.children}
    assert names
    assert len(names) <= Child.objects.count()
    officer = get_user_model().objects.get(username="officer")
    # The demo's grant, given by information governance (test_the_demo_cabinet_report).
    assert core_permissions.has_grant(officer, demo)
    officer.is_verified = lambda: True  # as in a two-factor session

    version = demo.versions.get()

    @unit_of_work  # each pack is its own request and task, as an officer's would be
    def pack(variant: str) -> bytes:
        job, _ = documents.export_job_request(
            user=officer, kind="cabinet_report_version", object_id=version.pk, variant=variant
        )
        render_export_job.apply(args=[job.pk]).get()  # a task: its own N+1 context
        job = ExportJob.objects.get(pk=job.pk)
        assert job.status == ExportJob.Status.DONE, job.message
        with default_storage.open(job.file.name, "rb") as handle:
            return handle.read()

    public = _normal(pdf_text(pack("public")))
    exempt_pdf = pack("exempt")
    exempt = _normal(pdf_text(exempt_pdf))
    assert not [name for name in names if _normal(name) in public]
    assert all(_normal(name) in exempt for name in names)
    assert "exempt by virtue of paragraph 2 of part 1 of schedule 12a" in public
    assert "redacted cso report april 2017" in public
    assert "demo: a stand-in for the redacted report" in public  # the uploaded PDF, merged
    from modelguidance.models import ModelGuidanceVersion

    put_to_cabinet = ModelGuidanceVersion.objects.get(number=1)
    assert _normal(put_to_cabinet.sections.order_by("order").first().heading) in public  # Appendix 6
    assert "the alleged victim is taken seriously" in public  # version 1's wording, as cabinet saw it
    assert "first named in" in public  # Appendix 7
    assert "the review has not closed" not in public
    assert "not yet accepted" not in public
    page_png(exempt_pdf, 1, Path(__file__).resolve().parents[2] / "test-artifacts" / "demo-exempt-pack")


def test_the_demo_2020_pack_digest_survives_a_new_guidance_publication(settings, tmp_path, demo_data):
    """The incident: after model guidance version 3 was published, a new public pack of the
    decided 2020 report read "Version 3, published ..." in Appendix 6. The decided version's
    digest and pack are the same after a new guidance version is published."""

    from django.contrib.auth import get_user_model

    from core import documents
    from core.documents.rendering import pack_html
    from modelguidance import services as guidance_services
    from modelguidance.models import ModelGuidanceVersion
    from scrutiny import packs
    from tests.guidance.helpers import cabinet_decision, eqia_upload

    settings.DEBUG = True
    settings.MEDIA_ROOT = str(demo_data.copy_media(tmp_path))
    demo = CabinetReport.objects.get(meeting__date="2020-11-26")
    version = demo.versions.get()
    entry = documents.get_kind("cabinet_report_version")

    def public() -> str:
        parts = packs.report_version_parts(report_version=version)
        return str(pack_html(parts=parts, classification="Open", exempt_pack=False, title="x")[0])

    before, html = entry.digest(version), public()
    users = {u.username: u for u in get_user_model().objects.filter(username__in=["admin", "officer"])}
    admin, officer = users["admin"], users["officer"]
    three = ModelGuidanceVersion.objects.get(status="draft")
    guidance_services.guidance_version_submit(user=admin, version_id=three.pk)
    guidance_services.guidance_version_attach_eqia(
        user=admin, version_id=three.pk, upload=eqia_upload(), summary="x"
    )
    guidance_services.guidance_version_approve(
        user=officer, version_id=three.pk, decision=cabinet_decision(officer)
    )
    guidance_services.guidance_version_publish(user=officer, version_id=three.pk)
    version.refresh_from_db()
    assert entry.digest(version) == before
    assert public() == html
    assert three.title not in html
    assert "The alleged victim is taken seriously" in html  # version 1, as cabinet saw it
    assert packs.cabinet_report_digest(report=demo) != before  # the live composer did move on
