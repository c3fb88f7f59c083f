"""Appendices 6 and 7 drawn from the guidance app: the published model guidance (never a
draft) and "What is peer on peer abuse" from the forms-of-abuse taxonomy. Both are kept
current: publishing a new version, or changing a form of abuse, changes the pack's digest."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.roles import Role
from modelguidance import services as guidance_services
from referrals.models import AbuseForm
from scrutiny import packs
from scrutiny.models import Appendix
from tests.conftest import sign_in_verified
from tests.guidance.helpers import approved, draft, published
from tests.nplusone import unit_of_work
from tests.scrutiny.helpers import add_appendix, make_report

pytestmark = pytest.mark.django_db

V1 = [guidance_services.SectionInput("Purpose", "Versiononetext: take every report seriously.")]
V2 = [guidance_services.SectionInput("Purpose", "Versiontwotext: say victim, not alleged victim.")]
DRAFT = [guidance_services.SectionInput("Purpose", "Drafttextneverforschools.")]


@pytest.fixture
def officer(role_user, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return role_user(Role.REPORT_OFFICER, username="officer")


@pytest.fixture
def report(officer):
    report = make_report(officer)
    add_appendix(officer, report, kind="model_guidance", title="Model guidance for schools")
    add_appendix(officer, report, kind="definitions", title="What is Peer on Peer Abuse")
    report.refresh_from_db()
    return report


@unit_of_work
def _page(client, report, number) -> str:
    appendix = Appendix.objects.get(report=report, number=number)
    response = client.get(reverse("scrutiny:appendix", args=[appendix.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _rendered(report, number) -> str:
    """The appendix as the pack renders it (its HtmlPart's template and context)."""
    from django.template.loader import render_to_string

    part = packs.cabinet_report_parts(report=report)[number]
    return render_to_string(part.template, part.context)


def test_appendix_6_is_the_published_version_never_a_draft(officer, report, client):
    sign_in_verified(client, officer)
    # Before anything is published, a draft is not shown in its place.
    draft(officer, sections=DRAFT)
    page = _page(client, report, 1)
    assert "No version of the model guidance has been published yet" in page
    assert "Drafttextneverforschools" not in page
    assert "Drafttextneverforschools" not in _rendered(report, 1)

    published(officer, sections=V1, title="Model guidance v1")
    approved(officer, sections=V2, title="Model guidance v2")  # approved, not yet published
    page = _page(client, report, 1)
    assert "Versiononetext" in page
    for text in ("Versiontwotext", "Drafttextneverforschools"):
        assert text not in page
        assert text not in _rendered(report, 1)
    assert "Versiononetext" in _rendered(report, 1)
    assert "Model guidance, the published version (generated)" in page


def test_appendix_7_lists_the_forms_of_abuse_with_their_first_edition(officer, report, client):
    sign_in_verified(client, officer)
    page = _page(client, report, 2)
    forms = list(AbuseForm.objects.filter(active=True))
    assert forms
    for form in forms:
        assert form.name in page
    assert "What is Peer on Peer Abuse" in page
    assert all(form.name in _rendered(report, 2) for form in forms)


def test_publishing_a_new_version_changes_the_digest(officer, report):
    first = published(officer, sections=V1, title="Model guidance v1")
    before = packs.cabinet_report_digest(report=report)
    # A new draft (or one approved but not published) changes nothing in the pack.
    second = approved(officer, sections=V2, title="Model guidance v2")
    assert packs.cabinet_report_digest(report=report) == before
    guidance_services.guidance_version_publish(user=second.approved_by, version_id=second.pk)
    after = packs.cabinet_report_digest(report=report)
    assert after != before
    assert "Versiontwotext" in _rendered(report, 1)
    assert "Versiononetext" not in _rendered(report, 1)
    first.refresh_from_db()
    assert first.status == "superseded"


def test_a_changed_form_of_abuse_changes_the_digest(officer, report):
    before = packs.cabinet_report_digest(report=report)
    form = AbuseForm.objects.filter(active=True).first()
    form.guidance_summary = "Anewsummaryofthisform"
    form.save()
    assert packs.cabinet_report_digest(report=report) != before
    assert "Anewsummaryofthisform" in _rendered(report, 2)


def test_the_composer_offers_the_new_kinds(officer, report, client):
    sign_in_verified(client, officer)
    page = client.get(reverse("scrutiny:appendix_add", args=[report.pk])).content.decode()
    assert 'value="model_guidance"' in page
    assert 'value="definitions"' in page
    report_page = client.get(reverse("scrutiny:report", args=[report.pk])).content.decode()
    assert "Appendix 1 - Model guidance for schools" in report_page
