"""One client-address rule (core.client_address) for sign-in lockouts, the access log and
security events: X-Forwarded-For counts only behind the configured number of trusted proxies."""

from __future__ import annotations

from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import RequestFactory
from django.urls import reverse

from core.access_log import record_access
from core.client_address import client_ip
from core.models import SecurityEvent
from core.security_events import security_event_record
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
PROXY = "10.0.0.5"  # the TLS proxy: every request reaches the app from here
PASSWORD = "a-long-test-password"


def sign_in(client, password: str, forwarded_for: str | None):
    extra = {"REMOTE_ADDR": PROXY}
    if forwarded_for is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return client.post(reverse("login"), {"username": "pat", "password": password}, **extra)


def lock_out(client, forwarded_for: str) -> None:
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, f"wrong-{attempt}", forwarded_for)
    assert sign_in(client, PASSWORD, forwarded_for).status_code == 429


def test_behind_one_proxy_two_clients_are_locked_out_separately(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    UserFactory(username="pat", password=PASSWORD)
    # The first client also tries to pass as someone else: the proxy appended its real address.
    lock_out(client, "203.0.113.99, 198.51.100.1")
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.1"}
    client.cookies.clear()
    other = sign_in(client, PASSWORD, "198.51.100.2")
    assert other.status_code == 302  # a different user behind the same proxy is not locked out
    assert "_auth_user_id" in client.session


def test_with_no_trusted_proxy_x_forwarded_for_is_ignored(client, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    UserFactory(username="pat", password=PASSWORD)
    lock_out(client, "198.51.100.1")
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {PROXY}
    # A client cannot escape the lockout (or pick its address) by sending another header.
    client.cookies.clear()
    assert sign_in(client, PASSWORD, "198.51.100.2").status_code == 429
    assert sign_in(client, PASSWORD, None).status_code == 429


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "198.51.100.1", PROXY),
        (1, "198.51.100.1", "198.51.100.1"),
        (1, "203.0.113.99, 198.51.100.1", "198.51.100.1"),
        (2, "203.0.113.99, 198.51.100.1, 10.0.0.4", "198.51.100.1"),
        (2, "198.51.100.1", PROXY),  # fewer entries than proxies: not through them all
        (1, "not-an-address", PROXY),
        (1, "", PROXY),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_the_client_address_rule(settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_the_access_log_and_security_events_use_the_same_address_as_lockouts(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    user = UserFactory()
    request = RequestFactory().get(
        "/referrals/1/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.99, 198.51.100.7"
    )
    entry = record_access(request=request, user=user, record=user, label="x", fields=["name"], channel="web")
    event = security_event_record(kind=SecurityEvent.Kind.ROLE_CHANGED, user=user, request=request)
    assert entry.ip_address == event.ip_address == client_ip(request) == "198.51.100.7"


def test_no_other_code_reads_the_address_itself():
    """REMOTE_ADDR and X-Forwarded-For are read in one place only."""
    readers = []
    for app in ("config", "core", "referrals", "reviews", "scrutiny", "guidance", "modelguidance"):
        for path in (ROOT / app).rglob("*.py"):
            text = path.read_text()
            if ("REMOTE_ADDR" in text or "X_FORWARDED_FOR" in text) and path.name != "client_address.py":
                readers.append(str(path.relative_to(ROOT)))
    assert readers == []
    assert settings.AXES_CLIENT_IP_CALLABLE == "core.client_address.client_ip"
