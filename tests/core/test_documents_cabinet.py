"""The cabinet report end to end: composed in scrutiny, published as a frozen version, exported
as both packs by the job pipeline (Celery eager here; tests/test_packs_worker.py runs a real
worker), downloaded."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from weasyprint import HTML

from core.models import AccessLogEntry, ExportJob
from core.roles import Role
from scrutiny import services as scrutiny_services
from scrutiny.models import ReportVersion
from tests.conftest import sign_in_verified
from tests.core.pdf_helpers import page_pixels, page_png, pdf_pages_text, reader, reddish_share
from tests.nplusone import unit_of_work
from tests.scrutiny.helpers import add_appendix, make_report, publish

pytestmark = pytest.mark.django_db

CANARY = "Qzcnryexempt"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "packs"


@pytest.fixture
def report(role_user, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    author = role_user(Role.REPORT_OFFICER, username="author")
    report = make_report(author)
    add_appendix(author, report, title="Report on the review", text="The review looked at 300 cases.")
    add_appendix(
        author,
        report,
        title="Historic cases of peer on peer abuse",
        text=f"{CANARY} names of the children",
        exempt=True,
        schedule_12a_paragraph=2,
        public_interest="The public interest in maintaining the exemption outweighs disclosure.",
    )
    upload = HTML(
        string="<p>Uploadedcsotext April 2017</p><p style='break-before: page'>second</p>"
    ).write_pdf()
    add_appendix(
        author,
        report,
        kind="uploaded_pdf",
        title="Redacted CSO report April 2017",
        upload=SimpleUploadedFile("cso.pdf", upload, content_type="application/pdf"),
    )
    add_appendix(
        author, report, kind="response_table", title="Executive response to scrutiny recommendations"
    )
    report.refresh_from_db()
    return report


@pytest.fixture
def holder(role_user, report):
    user = role_user(Role.REPORT_OFFICER, username="holder")
    scrutiny_services.report_grant(
        granted_by=role_user(Role.INFORMATION_GOVERNANCE, username="ig-grantor"),
        report_id=report.pk,
        user=user,
        reason="Clerk to the cabinet meeting",
    )
    return user


def _exports(report) -> str:
    """The export page of the report's latest published version."""
    version = ReportVersion.objects.filter(report_id=report.pk).order_by("-number").first()
    return reverse("documents:exports", args=["cabinet_report_version", version.pk])


@unit_of_work  # the request and the task it queues; in production each is its own unit
def _export(client, report, variant, capture) -> ExportJob:
    if not ReportVersion.objects.filter(report_id=report.pk).exists():
        publish(report.created_by, report)
    with capture(execute=True):
        response = client.post(_exports(report), {"variant": variant})
    assert response.status_code == 302, response.content.decode()[:2000]
    job = ExportJob.objects.filter(variant=variant).latest("pk")
    assert job.status == ExportJob.Status.DONE, job.message
    return job


def _download(client, job) -> bytes:
    response = client.get(reverse("documents:download", args=[job.pk]))
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def test_the_cabinet_report_exports_as_a_public_and_an_exempt_pack(
    client, report, holder, role_user, django_capture_on_commit_callbacks, tmp_path
):
    sign_in_verified(client, holder)
    publish(holder, report)
    exports = client.get(reverse("scrutiny:report", args=[report.pk])).content.decode()
    assert _exports(report) in exports

    public = _download(client, _export(client, report, "public", django_capture_on_commit_callbacks))
    pages = pdf_pages_text(public)
    text = " ".join(" ".join(pages).split())
    assert CANARY not in text
    assert (
        "Appendix 2 - Historic cases of peer on peer abuse is exempt by virtue of paragraph 2 of Part 1 "
        "of Schedule 12A to the Local Government Act 1972" in text
    )
    assert "The public interest in maintaining the exemption outweighs disclosure." in text
    assert "Uploadedcsotext April 2017" in text  # the uploaded appendix, merged
    assert "Review of peer on peer abuse cases" in text
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page
        assert "EXEMPT - NOT FOR PUBLICATION" not in page
    outline = [item.title for item in reader(public).outline if not isinstance(item, list)]
    assert "Appendix 3 - Redacted CSO report April 2017" in outline
    assert AccessLogEntry.objects.count() == 0

    exempt_job = _export(client, report, "exempt", django_capture_on_commit_callbacks)
    exempt = _download(client, exempt_job)
    pages = pdf_pages_text(exempt)
    assert CANARY in " ".join(pages)
    for page in pages:
        assert "EXEMPT - NOT FOR PUBLICATION" in page
    version = ReportVersion.objects.get(report_id=report.pk)
    assert sorted(AccessLogEntry.objects.values_list("user_id", "record_type", "record_id", "channel")) == [
        (holder.pk, "scrutiny.cabinetreport", report.pk, "pdf"),
        (holder.pk, "scrutiny.reportversion", version.pk, "pdf"),
    ]

    # Looked at: the first page of each pack and the merged upload, kept for a person to open.
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name, pdf, page in (("public-1", public, 1), ("exempt-1", exempt, 1)):
        assert page_png(pdf, page, ARTIFACTS / name).stat().st_size > 5_000
    width, height, rgb = page_pixels(exempt, len(pages), tmp_path)
    assert reddish_share(width, height, rgb, top=0.0, bottom=0.09) > 0.001

    # Another officer without the grant: no exempt button, and the exempt pack is a 404.
    sign_in_verified(client, role_user(Role.REPORT_OFFICER, username="other"))
    page = client.get(_exports(report)).content.decode()
    assert "Export the public pack" in page
    assert "Export the exempt pack" not in page
    assert client.get(reverse("documents:download", args=[exempt_job.pk])).status_code == 404
    assert client.get(reverse("documents:job", args=[exempt_job.pk])).status_code == 404


def test_a_published_version_reuses_its_pack_and_a_change_needs_a_new_version(
    client, report, holder, django_capture_on_commit_callbacks
):
    sign_in_verified(client, holder)
    first = _export(client, report, "public", django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(_exports(report), {"variant": "public"})
    assert ExportJob.objects.count() == 1  # unchanged: the finished pack is reused
    add_appendix(holder, report, title="Legal basis", text="The legal basis.")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(_exports(report), {"variant": "public"})
    assert ExportJob.objects.count() == 1  # the published version did not change
    publish(holder, report, kind="supplement", reason="The legal basis, added.")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(_exports(report), {"variant": "public"})
    newer = ExportJob.objects.exclude(pk=first.pk).get()
    assert newer.source_digest != first.source_digest
    assert newer.status == ExportJob.Status.DONE
    assert first.object_id != newer.object_id  # each version keeps its own pack


def test_the_public_pack_carries_the_published_guidance_and_the_definitions(
    client, report, holder, django_capture_on_commit_callbacks
):
    """Appendices 6 and 7 from the guidance app: the published version's text is in the public
    pack (a draft's never is) and so are the forms of abuse; publishing the next version makes
    a new pack rather than reusing the old one."""
    from modelguidance import services as guidance_services
    from referrals.models import AbuseForm
    from tests.guidance.helpers import approved, draft, published

    published(holder, sections=[guidance_services.SectionInput("Purpose", "Publishedguidancetext one.")])
    draft(holder, sections=[guidance_services.SectionInput("Purpose", "Draftguidancetext never.")])
    add_appendix(holder, report, kind="model_guidance", title="Model guidance for schools")
    add_appendix(holder, report, kind="definitions", title="What is Peer on Peer Abuse")
    sign_in_verified(client, holder)
    first = _export(client, report, "public", django_capture_on_commit_callbacks)
    text = " ".join(" ".join(pdf_pages_text(_download(client, first))).split())
    assert "Appendix 5 - Model guidance for schools" in text
    assert "Publishedguidancetext one." in text
    assert "Draftguidancetext" not in text
    assert "What is Peer on Peer Abuse" in text
    for form in AbuseForm.objects.filter(active=True):
        assert form.name in text
    assert CANARY not in text

    second = approved(holder, sections=[guidance_services.SectionInput("Purpose", "Nextguidancetext two.")])
    guidance_services.guidance_version_publish(user=second.approved_by, version_id=second.pk)
    # The published papers keep the guidance they were published with: the same pack.
    same = _export_again(client, report, django_capture_on_commit_callbacks)
    assert (same.pk, same.checksum) == (first.pk, first.checksum)
    # A supplement carries the new version.
    publish(holder, report, kind="supplement", reason="Model guidance version 2 was published.")
    again = _export_again(client, report, django_capture_on_commit_callbacks)
    assert again.pk != first.pk
    assert again.source_digest != first.source_digest
    text = " ".join(" ".join(pdf_pages_text(_download(client, again))).split())
    assert "Nextguidancetext two." in text
    assert "Publishedguidancetext" not in text


@unit_of_work
def _export_again(client, report, capture) -> ExportJob:
    with capture(execute=True):
        response = client.post(_exports(report), {"variant": "public"})
    assert response.status_code == 302
    job = ExportJob.objects.filter(variant="public").latest("pk")
    assert job.status == ExportJob.Status.DONE, job.message
    return job
