"""The council's public pages carry its public header, never the internal service's
navigation or account menu - whoever opens them, signed in or not. Internal pages keep both."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from core.roles import Role
from tests.conftest import sign_in_verified
from tests.guidance.helpers import published, school_with_dsl

pytestmark = pytest.mark.django_db

#: What only the internal service shows: its navigation, its account menu, its notifications.
INTERNAL = ('aria-label="Service menu"', "govuk-service-navigation", "app-account-menu", "Sign out")
INTERNAL_LINKS = ("/scrutiny/", "/guidance/model/", "/guidance/schools/training/", "/referrals/")


@pytest.fixture
def officer(role_user):
    return role_user(Role.REPORT_OFFICER, username="officer")


@pytest.fixture
def public_urls(officer, django_capture_on_commit_callbacks):
    school_with_dsl(trained_on=None)
    with django_capture_on_commit_callbacks(execute=True):
        published(officer, title="Published guidance")
    link = re.search(r"(/guidance/acknowledge/[^/]+/[^/\s]+/)", mail.outbox[-1].body)[1]
    return {
        "published": reverse("modelguidance:published"),
        "definitions": reverse("guidance:definitions"),
        "acknowledge": link,
        "acknowledge_refused": reverse("modelguidance:acknowledge", args=["000000", "not-a-token"]),
    }


def assert_public(body: str, name: str) -> None:
    for marker in INTERNAL:
        assert marker not in body, f"{name}: {marker}"
    for path in INTERNAL_LINKS:
        assert f'href="{path}' not in body, f"{name} links to {path}"
    assert "app-header--public" in body, name
    assert "Safeguarding guidance for schools" in body, name
    assert "OFFICIAL-SENSITIVE" not in body, name


@pytest.mark.parametrize("signed_in", [False, True], ids=["signed-out", "officer"])
def test_public_pages_carry_the_public_header_and_no_internal_navigation(
    client, officer, public_urls, signed_in
):
    if signed_in:
        sign_in_verified(client, officer)
    for name, url in public_urls.items():
        response = client.get(url)
        assert response.status_code in (200, 404), (name, response.status_code)
        assert_public(response.content.decode(), name)


def test_the_acknowledged_page_is_public_too(client, public_urls):
    response = client.post(public_urls["acknowledge"], {"name": "Dee Ess-Ell", "confirm": "on"})
    assert response.status_code == 200
    assert "Acknowledgement recorded" in response.content.decode()
    assert_public(response.content.decode(), "acknowledged")


def test_internal_pages_keep_the_service_navigation_and_account_menu(client, officer):
    sign_in_verified(client, officer)
    for url in (reverse("modelguidance:versions"), reverse("scrutiny:reports"), reverse("guidance:timeline")):
        body = client.get(url).content.decode()
        assert 'aria-label="Service menu"' in body, url
        assert "app-account-menu" in body, url
        assert f'href="{reverse("scrutiny:tracker")}"' in body, url
        assert "app-header--public" not in body, url
