"""The published version as a PDF for anyone (Appendix 6 with Appendix 7), rendered once by
the pack pipeline when it is published, and never a draft's."""

from __future__ import annotations

from unittest import mock

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from core.roles import Role
from modelguidance import services
from tests.core.pdf_helpers import need_poppler, pdf_text, reader
from tests.guidance.helpers import draft, published

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(role_user):
    return role_user(Role.REPORT_OFFICER, username="officer")


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_no_pdf_until_something_is_published(client, officer):
    draft(officer, sections=[services.SectionInput("Draft heading", "Draft words")])
    assert client.get(reverse("modelguidance:published_pdf")).status_code == 404


def test_publishing_renders_the_pdf_once_and_anyone_downloads_it(
    client, officer, django_capture_on_commit_callbacks
):
    need_poppler()
    with django_capture_on_commit_callbacks(execute=True):
        version = published(
            officer,
            title="Model guidance for schools",
            sections=[services.SectionInput("Responding to a report", "Tell the **DSL** at once.")],
        )
    name = services.published_pdf_name(version)
    assert default_storage.exists(name)  # rendered by the task queued on publishing
    draft(officer, sections=[services.SectionInput("Unapproved heading", "Unapproved words")])
    with mock.patch("core.documents.render_pack") as render:
        response = client.get(reverse("modelguidance:published_pdf"))
    render.assert_not_called()  # served from storage, not rendered per request
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    pdf = _body(response)
    text = pdf_text(pdf)
    assert "Model guidance for schools" in text
    assert "Responding to a report" in text
    assert "What is peer on peer abuse" in text  # Appendix 7
    assert "Sexual harassment" in text
    assert "Unapproved" not in text
    assert "/StructTreeRoot" in str(reader(pdf).trailer["/Root"].keys())


def test_the_pdf_follows_the_newly_published_version(client, officer, django_capture_on_commit_callbacks):
    need_poppler()
    published(officer, sections=[services.SectionInput("Old words", "x")])
    with django_capture_on_commit_callbacks(execute=True):
        published(officer, sections=[services.SectionInput("New words", "y")])
    text = pdf_text(_body(client.get(reverse("modelguidance:published_pdf"))))
    assert "New words" in text
    assert "Old words" not in text


def test_a_missing_file_is_rendered_on_request(client, officer):
    need_poppler()
    published(officer, sections=[services.SectionInput("Rendered late", "x")])  # task not run
    response = client.get(reverse("modelguidance:published_pdf"))
    assert response.status_code == 200
    assert "Rendered late" in pdf_text(_body(response))


def test_the_renderer_refuses_anything_unpublished(officer):
    version = draft(officer)
    assert services.guidance_version_render_pdf(version_id=version.pk) is None
