"""What anyone can read without signing in: the published version (Appendix 6) and the
definitions (Appendix 7) - and never a draft, whatever id or old address is tried."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.roles import Role
from modelguidance import services
from referrals.models import AbuseForm
from tests.conftest import sign_in_verified
from tests.guidance.helpers import approved, draft, published

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(role_user):
    return role_user(Role.REPORT_OFFICER, username="officer")


def test_nothing_is_public_until_a_version_is_published(client, officer):
    draft(officer, sections=[services.SectionInput("Secret draft heading", "Draft words")])
    approved(officer, sections=[services.SectionInput("Approved not published", "Words")])
    response = client.get(reverse("modelguidance:published"))
    assert response.status_code == 404
    assert "Secret draft heading" not in response.content.decode()


def test_the_published_version_is_readable_without_signing_in(client, officer):
    published(
        officer, title="Published guidance", sections=[services.SectionInput("Purpose", "Why **this**")]
    )
    later = draft(officer, title="Newer draft", sections=[services.SectionInput("Draft only", "Not yet")])
    response = client.get(reverse("modelguidance:published"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Published guidance" in body
    assert "Why <strong>this</strong>" in body
    assert "Newer draft" not in body
    assert "Draft only" not in body
    # Every staff address for the draft sends a signed-out visitor to sign in, revealing nothing.
    for name in (
        "version_detail",
        "version_edit",
        "version_compare",
        "version_eqia_file",
        "version_acknowledgements",
    ):
        page = client.get(reverse(f"modelguidance:{name}", args=[later.pk]))
        assert page.status_code == 302, name
        assert page["Location"].startswith(reverse("login"))


def test_guessing_ids_and_old_addresses_reaches_no_draft(client, officer):
    version = draft(officer, sections=[services.SectionInput("Secret draft heading", "x")])
    for url in (
        f"/guidance/model-guidance/{version.pk}/",
        f"/guidance/model-guidance/?version={version.pk}",
        f"/guidance/model-guidance/?pk={version.pk}",
        f"/guidance/model/{version.pk}/pdf/",
        f"/model-guidance/{version.pk}/",
    ):
        response = client.get(url)
        assert response.status_code in (302, 404), url
        assert "Secret draft heading" not in response.content.decode(), url


def test_a_superseded_version_is_no_longer_public(client, officer):
    published(officer, title="First", sections=[services.SectionInput("Old words", "x")])
    published(officer, title="Second", sections=[services.SectionInput("New words", "y")])
    body = client.get(reverse("modelguidance:published")).content.decode()
    assert "New words" in body
    assert "Old words" not in body


def test_other_roles_cannot_open_drafts(client, role_user, officer):
    version = draft(officer)
    for role in (Role.MASH_PRACTITIONER, Role.REVIEWER, Role.INFORMATION_GOVERNANCE):
        sign_in_verified(client, role_user(role))
        assert client.get(reverse("modelguidance:version_detail", args=[version.pk])).status_code == 404


def test_definitions_come_from_the_taxonomy_with_the_first_edition(client):
    form = AbuseForm.objects.filter(active=True).first()
    form.guidance_summary = "Words from the taxonomy about this form."
    form.first_named_in = "KCSIE 2018"
    form.save()
    response = client.get(reverse("guidance:definitions"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "What is peer on peer abuse" in body
    for each in AbuseForm.objects.filter(active=True):
        assert each.name in body
    assert "Words from the taxonomy about this form." in body
    assert "First named in: KCSIE 2018" in body


def test_the_referral_form_shows_the_guidance_for_the_chosen_form(practitioner_client):
    form = AbuseForm.objects.get(code="sexual-harassment")
    form.guidance_summary = "Harassment guidance text."
    form.save()
    page = practitioner_client.get(reverse("referrals:create")).content.decode()
    assert "Guidance on each form of abuse" in page
    assert "Harassment guidance text." in page
    assert f'data-abuse-form="{form.pk}">' in page  # closed until chosen
    # Redrawn with the form chosen (e.g. after an error), its guidance is open.
    redrawn = practitioner_client.post(
        reverse("referrals:create"),
        {"forms_of_abuse": [form.pk], "add_child": "1", "child-TOTAL_FORMS": "2", "child-INITIAL_FORMS": "0"},
    ).content.decode()
    assert f'data-abuse-form="{form.pk}" open>' in redrawn


def test_public_pages_carry_no_protective_marking_and_signed_in_pages_do(client, officer):
    published(officer, title="Published guidance", sections=[services.SectionInput("Purpose", "Why")])
    marking = "OFFICIAL-SENSITIVE"
    for name in ("modelguidance:published", "guidance:definitions", "core:accessibility", "login"):
        assert marking not in client.get(reverse(name)).content.decode(), name
    sign_in_verified(client, officer)
    # The public pages hold only public text, so they stay unmarked for an officer too (they
    # carry the public header: test_public_header.py); the internal service's pages are marked.
    assert marking not in client.get(reverse("modelguidance:published")).content.decode()
    assert marking in client.get(reverse("modelguidance:versions")).content.decode()
    assert marking in client.get(reverse("referrals:tray")).content.decode()
