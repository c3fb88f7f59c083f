"""Error pages (400, 403, CSRF failure, 404, 500) repeat nothing from the request or the case."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from core.roles import Role
from tests.conftest import sign_in_verified
from tests.support.canary import leaks

pytestmark = pytest.mark.django_db


def assert_plain_error(response, status: int, heading: str) -> None:
    assert response.status_code == status
    body = response.content.decode()
    assert f'<h1 class="govuk-heading-l">{heading}</h1>' in body
    assert not leaks(body), leaks(body)
    assert "Traceback" not in body
    assert "unsafe-inline" not in response["Content-Security-Policy"]


def test_400_for_a_bad_host_header_does_not_repeat_it(client):
    response = client.get("/", HTTP_HOST="qzcnry.attacker.example")
    assert_plain_error(response, 400, "Sorry, there is a problem with the request")


def test_403_repeats_nothing(client, admin_user, canary_referral):
    sign_in_verified(client, admin_user)
    response = client.get("/admin/core/accesslogentry/add/?note=qzcnry")
    assert_plain_error(response, 403, "You cannot do this")


def test_csrf_failure_repeats_nothing_of_the_form(role_user, canary_referral):
    client = Client(enforce_csrf_checks=True)
    sign_in_verified(client, role_user(Role.MASH_PRACTITIONER))
    response = client.post(
        reverse("referrals:add_note", args=[canary_referral.pk]),
        {"text": "Qzcnry note typed in", "occurred_on-day": "1"},
    )
    assert_plain_error(response, 403, "Sorry, the form could not be sent")
    assert "CSRF" not in response.content.decode()


def test_404_repeats_neither_path_nor_query(client, role_user, canary_referral):
    sign_in_verified(client, role_user(Role.MASH_MANAGER))
    response = client.get("/referrals/qzcnry-firsta/?name=QzcnryLastB")
    assert_plain_error(response, 404, "Page not found")
    # A referral the user may not open is the same 404, with nothing of the referral.
    response = client.get(reverse("referrals:detail", args=[canary_referral.pk + 1000]))
    assert_plain_error(response, 404, "Page not found")


def test_500_shows_nothing_of_the_case(client, role_user, canary_referral, monkeypatch):
    from referrals import selectors

    def explode(**kwargs):
        raise RuntimeError("Qzcnry in the exception")

    monkeypatch.setattr(selectors, "referral_view", explode)
    sign_in_verified(client, role_user(Role.MASH_MANAGER))
    client.raise_request_exception = False
    response = client.get(reverse("referrals:detail", args=[canary_referral.pk]) + "?q=qzcnry")
    assert_plain_error(response, 500, "Sorry, there is a problem with the service")


def test_a_bad_request_gets_the_service_error_page(client):
    """Also what a request gets when the database goes away after its view ran (tests/faults)."""
    response = client.get("/", HTTP_HOST="not-this-service.example")  # DisallowedHost: a 400
    assert response.status_code == 400
    body = response.content.decode()
    assert "Sorry, there is a problem with the request" in body
    assert "check whether it was saved" in body
    assert "Bad Request (400)" not in body
