"""A part of the report composer previewed as it will print: rendered now by the packs'
WeasyPrint pipeline, inline. An exempt appendix prints in full only for a grant holder in a
two-factor session (and the read is logged); anyone else gets the public pack's notice."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from core.models import AccessLogEntry
from core.roles import Role
from scrutiny import services
from tests.conftest import sign_in_verified
from tests.scrutiny.helpers import add_appendix, make_report

pytestmark = pytest.mark.django_db

CANARY = "Canary exempt words Zebedee"


@pytest.fixture
def officer(role_user):
    return role_user(Role.REPORT_OFFICER, username="officer")


@pytest.fixture
def report(officer):
    report = make_report(officer)
    add_appendix(officer, report, title="Open text", text="Open words Quentin")
    add_appendix(
        officer,
        report,
        title="Names",
        text=CANARY,
        exempt=True,
        schedule_12a_paragraph=2,
        public_interest="The children could be identified",
    )
    return report


def pdf_text(response) -> str:
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline;")
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)


def test_the_report_and_an_open_appendix_preview_as_they_will_print(client, officer, report):
    sign_in_verified(client, officer)
    text = pdf_text(client.get(reverse("scrutiny:report_preview", args=[report.pk])))
    assert "Review of peer on peer abuse cases" in text
    assert "Page 1 of" in text  # the packs' page furniture
    assert "Part exempt" in text  # the running header's classification
    open_appendix = report.appendices.get(number=1)
    text = pdf_text(client.get(reverse("scrutiny:appendix_preview", args=[open_appendix.pk])))
    assert "Open words Quentin" in text
    assert CANARY not in text


def test_an_exempt_appendix_previews_only_as_its_notice_without_a_grant(client, officer, report):
    exempt = report.appendices.get(number=2)
    sign_in_verified(client, officer)
    text = pdf_text(client.get(reverse("scrutiny:appendix_preview", args=[exempt.pk])))
    assert CANARY not in text
    assert "Schedule 12A" in text
    assert not AccessLogEntry.objects.exists()
    page = client.get(reverse("scrutiny:report", args=[report.pk])).content.decode()
    assert "notice: you have no grant for its content" in page


def test_a_grant_holder_previews_the_exempt_appendix_in_full_and_the_read_is_logged(
    client, officer, report, role_user
):
    exempt = report.appendices.get(number=2)
    ig = role_user(Role.INFORMATION_GOVERNANCE, username="ig")
    services.report_grant(
        granted_by=ig, report_id=report.pk, user=officer, reason="Presents the report to cabinet"
    )
    sign_in_verified(client, officer)
    text = pdf_text(client.get(reverse("scrutiny:appendix_preview", args=[exempt.pk])))
    assert CANARY in text
    entry = AccessLogEntry.objects.get()
    assert (entry.user, entry.channel) == (officer, AccessLogEntry.Channel.PDF)
    # A password-only session (no two-factor) is back to the notice.
    client.logout()
    client.force_login(officer)
    response = client.get(reverse("scrutiny:appendix_preview", args=[exempt.pk]))
    if response["Content-Type"] == "application/pdf":
        assert CANARY not in pdf_text(response)


def test_roles_without_scrutiny_get_no_preview(client, role_user, report):
    sign_in_verified(client, role_user(Role.MASH_PRACTITIONER, username="p"))
    assert client.get(reverse("scrutiny:report_preview", args=[report.pk])).status_code == 404
    exempt = report.appendices.get(number=2)
    assert client.get(reverse("scrutiny:appendix_preview", args=[exempt.pk])).status_code == 404
