"""The production posture: CSP, cookies, HSTS, session limits, throttling, two-factor.

Settings are read from ``config.settings.production`` itself, imported in a subprocess with
the variables a deploy must set, so what is tested is what runs.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.roles import Role
from core.two_factor import GRANT_CAPABLE_ROLES
from tests.conftest import sign_in_verified
from tests.factories import ReferralFactory, UserFactory
from tests.support.access import PUBLIC, _own_import_batch, app_urls

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "SECRET_KEY": "x" * 60 + "-a-long-random-production-secret",
    "ALLOWED_HOSTS": "mash.council.example",
    "DATABASE_URL": "postgres://mash@db.invalid:5432/mash",
    "REDIS_URL": "redis://redis.invalid:6379/0",
    "SITE_URL": "https://mash.council.example",
    "SECURITY_ALERTS_EMAIL": "ig-team@council.example",
    "DISPOSAL_REGISTER_PATH": "/records/disposal-register.jsonl",
}


# --- Content Security Policy ------------------------------------------------------------------

INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b|\sstyle=", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+=", re.IGNORECASE)
JAVASCRIPT_URL = re.compile(r"""(?:href|src|action)=["']?\s*javascript:""", re.IGNORECASE)


def directives(header: str) -> dict[str, list[str]]:
    parsed = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            parsed[words[0]] = words[1:]
    return parsed


def assert_strict_csp(response, where) -> None:
    header = response.get("Content-Security-Policy")
    assert header, (where, "no Content-Security-Policy header")
    assert "unsafe-inline" not in header, (where, header)
    assert "unsafe-eval" not in header, (where, header)
    policy = directives(header)
    assert policy["script-src"] == ["'self'"], (where, header)
    assert policy["style-src"] == ["'self'"], (where, header)
    assert policy["default-src"] == ["'none'"], (where, header)
    assert policy["frame-ancestors"] == ["'none'"], (where, header)
    assert policy["object-src"] == ["'none'"], (where, header)
    assert policy["base-uri"] == ["'none'"], (where, header)
    if response.get("Content-Type", "").startswith("text/html"):
        body = response.content.decode()
        # No nonce is issued, so every inline script, style or handler would be blocked: none exists.
        assert not INLINE_SCRIPT.search(body), (where, INLINE_SCRIPT.search(body).group(0))
        assert not INLINE_STYLE.search(body), (where, INLINE_STYLE.search(body).group(0))
        assert not EVENT_HANDLER.search(body), (where, EVENT_HANDLER.search(body).group(0))
        assert not JAVASCRIPT_URL.search(body), where


@pytest.mark.parametrize("role", list(Role))
def test_every_page_as_every_role_carries_a_strict_csp_and_nothing_inline(
    client, role_user, role, review_ids
):
    referral = ReferralFactory()
    user = role_user(role)
    _own_import_batch(user, referral.pk)
    sign_in_verified(client, user)
    for name, url in app_urls(referral.pk, **review_ids).items():
        if name == "logout":
            continue
        response = client.get(url)
        assert_strict_csp(response, (role, name, response.status_code))


def test_public_pages_error_pages_and_static_files_carry_the_csp(client):
    for url in [reverse("login"), reverse("core:accessibility"), reverse("healthz"), "/no-such-page/"]:
        assert_strict_csp(client.get(url), url)
    signed_out = client.get(reverse("referrals:tray"))
    assert signed_out.status_code == 302
    assert_strict_csp(signed_out, "redirect")


def test_the_js_enabled_switch_is_a_static_file(client):
    page = client.get(reverse("login")).content.decode()
    assert re.search(r'<script src="/static/js/init\.js"></script>', page)
    assert "js-enabled" not in page  # set by the file, not by an inline snippet
    assert "js-enabled" in (ROOT / "static" / "js" / "init.js").read_text()


def test_no_template_has_inline_script_style_or_handlers():
    """Templates served as pages (e-mail templates are not served, PDFs are not HTML pages)."""
    offenders = []
    for path in (ROOT / "templates").rglob("*.html"):
        relative = path.relative_to(ROOT / "templates")
        if "email" in relative.parts or "pdf" in relative.parts:
            continue
        text = path.read_text()
        for pattern in (INLINE_SCRIPT, INLINE_STYLE, EVENT_HANDLER, JAVASCRIPT_URL):
            if pattern.search(text):
                offenders.append(f"{relative}: {pattern.search(text).group(0)}")
    assert not offenders, offenders


# --- Production settings, imported for real -----------------------------------------------------

PROBE = """
import datetime as dt
import json
from django.conf import settings
import django
django.setup()
from django.test import RequestFactory
from django.http import HttpResponse
from csp.middleware import CSPMiddleware
response = CSPMiddleware(lambda request: HttpResponse("ok"))(RequestFactory().get("/"))
names = [
    "DEBUG", "SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE",
    "SESSION_COOKIE_NAME", "SESSION_COOKIE_AGE", "SESSION_SAVE_EVERY_REQUEST",
    "SESSION_EXPIRE_AT_BROWSER_CLOSE", "SESSION_ABSOLUTE_SECONDS", "CSRF_COOKIE_SECURE",
    "CSRF_COOKIE_HTTPONLY", "CSRF_COOKIE_SAMESITE", "CSRF_COOKIE_NAME", "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD", "SECURE_SSL_REDIRECT",
    "SECURE_CONTENT_TYPE_NOSNIFF", "X_FRAME_OPTIONS", "SECURE_REFERRER_POLICY",
    "SECURE_REDIRECT_EXEMPT", "AXES_FAILURE_LIMIT", "MIDDLEWARE", "CELERY_WORKER_HIJACK_ROOT_LOGGER",
]
out = {name: getattr(settings, name) for name in names}
out["csp"] = response["Content-Security-Policy"]
out["log_formatter"] = settings.LOGGING["handlers"]["console"]["formatter"]
out["log_filters"] = settings.LOGGING["handlers"]["console"]["filters"]
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def production():
    env = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV and k != "LOG_FORMAT"}
    env.update(PRODUCTION_ENV)
    result = subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_cookies_are_secure_httponly_samesite_and_host_bound(production):
    assert production["DEBUG"] is False
    assert production["SESSION_COOKIE_SECURE"] is True
    assert production["SESSION_COOKIE_HTTPONLY"] is True
    assert production["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert production["SESSION_COOKIE_NAME"].startswith("__Host-")
    assert production["CSRF_COOKIE_SECURE"] is True
    assert production["CSRF_COOKIE_HTTPONLY"] is True
    assert production["CSRF_COOKIE_SAMESITE"] == "Lax"
    assert production["CSRF_COOKIE_NAME"].startswith("__Host-")


def test_production_sends_hsts_and_redirects_to_https(production):
    assert production["SECURE_HSTS_SECONDS"] >= 31_536_000
    assert production["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert production["SECURE_HSTS_PRELOAD"] is True
    assert production["SECURE_SSL_REDIRECT"] is True
    assert production["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    assert production["X_FRAME_OPTIONS"] == "DENY"
    assert production["SECURE_REFERRER_POLICY"] == "same-origin"
    assert production["SECURE_REDIRECT_EXEMPT"] == [r"^healthz/$"]


def test_production_csp_session_limits_throttle_and_logs(production):
    assert "unsafe-inline" not in production["csp"]
    assert "script-src 'self'" in production["csp"]
    assert production["SESSION_COOKIE_AGE"] == 30 * 60
    assert production["SESSION_SAVE_EVERY_REQUEST"] is True
    assert production["SESSION_EXPIRE_AT_BROWSER_CLOSE"] is True
    assert production["SESSION_ABSOLUTE_SECONDS"] == 12 * 60 * 60
    assert production["AXES_FAILURE_LIMIT"] == 5
    for middleware in (
        "csp.middleware.CSPMiddleware",
        "core.middleware.RequestLogMiddleware",
        "core.middleware.SessionLifetimeMiddleware",
        "core.middleware.TwoFactorRequiredMiddleware",
        "axes.middleware.AxesMiddleware",
    ):
        assert middleware in production["MIDDLEWARE"]
    order = production["MIDDLEWARE"]
    assert order.index("django_otp.middleware.OTPMiddleware") < order.index(
        "core.middleware.TwoFactorRequiredMiddleware"
    )
    assert production["log_formatter"] == "json"
    assert production["log_filters"] == ["context", "exempt"]
    assert production["CELERY_WORKER_HIJACK_ROOT_LOGGER"] is False  # the worker logs through them too


def test_a_production_response_sets_hsts_and_secure_cookies_over_https(settings, client, practitioner):
    """The same settings applied in-process: what the browser actually receives."""
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    settings.SESSION_COOKIE_NAME = "__Host-sessionid"
    settings.CSRF_COOKIE_NAME = "__Host-csrftoken"
    practitioner.set_password("a-long-test-password")
    practitioner.save()
    page = client.get(reverse("login"), secure=True)
    assert page["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    csrf = page.cookies["__Host-csrftoken"]
    assert csrf["secure"]
    assert csrf["httponly"]
    assert csrf["samesite"] == "Lax"
    assert csrf["path"] == "/"
    response = client.post(
        reverse("login"), {"username": "practitioner", "password": "a-long-test-password"}, secure=True
    )
    session = response.cookies["__Host-sessionid"]
    assert session["secure"]
    assert session["httponly"]
    assert session["samesite"] == "Lax"
    assert not session["domain"]
    assert session["path"] == "/"


# --- Sessions -----------------------------------------------------------------------------------


def test_a_session_ends_twelve_hours_after_sign_in_however_active(client, practitioner):
    practitioner.set_password("a-long-test-password")
    practitioner.save()
    device = TOTPDevice.objects.create(user=practitioner, name="phone", confirmed=True)
    tray = reverse("referrals:tray")
    with time_machine.travel("2026-03-02 08:00 +0000", tick=False) as traveller:
        client.post(reverse("login"), {"username": "practitioner", "password": "a-long-test-password"})
        from django_otp import DEVICE_ID_SESSION_KEY

        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        assert client.get(tray).status_code == 200
        # Busy all day: a request every 25 minutes keeps the idle clock from running out...
        for _ in range(28):  # 11 h 40 min
            traveller.shift(25 * 60)
            assert client.get(tray).status_code == 200
        # ...but 12 hours after signing in the session ends anyway.
        traveller.shift(25 * 60)  # 12 h 05 min
        response = client.get(tray)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
        signed_out = client.get(response["Location"])
        assert "signed out after 12 hours" in signed_out.content.decode()
        # Signing in again starts a new 12 hours.
        client.post(reverse("login"), {"username": "practitioner", "password": "a-long-test-password"})
        sign_in_verified(client, practitioner)
        assert client.get(tray).status_code == 200


def test_a_session_without_a_sign_in_time_is_given_one(client, practitioner):
    with time_machine.travel("2026-03-02 08:00 +0000", tick=False):
        sign_in_verified(client, practitioner)
        session = client.session
        session.pop("mash_signed_in_at", None)
        session.save()
        assert client.get(reverse("referrals:tray")).status_code == 200
        assert client.session["mash_signed_in_at"] == dt.datetime(2026, 3, 2, 8, tzinfo=dt.UTC).timestamp()


# --- Login throttling ---------------------------------------------------------------------------


def test_lockout_after_five_failures_with_a_clear_message_and_only_for_that_account(client):
    assert settings.AXES_FAILURE_LIMIT == 5
    UserFactory(username="pat", password="a-long-test-password")
    UserFactory(username="sam", password="a-long-test-password")
    for attempt in range(4):
        response = client.post(reverse("login"), {"username": "pat", "password": f"wrong-{attempt}"})
        assert response.status_code == 200  # the GOV.UK error, not yet a lockout
        assert "There is a problem" in response.content.decode()
    fifth = client.post(reverse("login"), {"username": "pat", "password": "wrong-5"})
    assert fifth.status_code == 429  # the fifth failure locks
    locked = client.post(reverse("login"), {"username": "pat", "password": "a-long-test-password"})
    assert locked.status_code == 429
    body = locked.content.decode()
    assert "Your account is locked" in body
    assert "Wait 30 minutes" in body
    assert '<h1 class="govuk-heading-l">' in body
    # The right password does not get through while locked; another account is unaffected.
    assert "_auth_user_id" not in client.session
    other = client.post(reverse("login"), {"username": "sam", "password": "a-long-test-password"})
    assert other.status_code == 302


# --- Two-factor for every grant-capable account ---------------------------------------------------


def test_every_role_that_can_hold_a_grant_must_verify():
    assert frozenset(Role) == GRANT_CAPABLE_ROLES


@pytest.mark.parametrize("role", sorted(GRANT_CAPABLE_ROLES))
def test_no_page_opens_before_the_second_factor(client, role_user, role, review_ids):
    referral = ReferralFactory()
    user = role_user(role)
    _own_import_batch(user, referral.pk)
    urls = app_urls(referral.pk, **review_ids)
    # Signing in with a security key instead of the code (JSON over POST: a GET is 405).
    key_sign_in = {
        "otp_webauthn:credential-authentication-begin",
        "otp_webauthn:credential-authentication-complete",
    }
    # The e-mailed link to set a password (for the account its token names; it changes no
    # second factor).
    allowed = PUBLIC | {"core:verify", "core:two_factor_setup", "core:password_set"} | key_sign_in
    # A security key may be an account's first factor, as an authenticator app may.
    first_factor = {
        "core:security_key_add",
        "otp_webauthn:credential-registration-begin",
        "otp_webauthn:credential-registration-complete",
    }

    # Password only, no authenticator yet: every page sends them to set one up.
    client.force_login(user)
    assert client.get(reverse("core:security_key_add")).status_code == 200
    for name, url in urls.items():
        if name in allowed | first_factor:
            continue
        response = client.get(url)
        assert response.status_code == 302, (name, response.status_code)
        assert response["Location"].startswith(reverse("core:two_factor_setup") + "?next="), name
    # An authenticator, but no code entered this session: every page asks for the code,
    # adding a security key included.
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    assert first_factor <= set(urls)
    for name, url in urls.items():
        if name in allowed:
            continue
        response = client.get(url)
        assert response.status_code == 302, (name, response.status_code)
        assert response["Location"].startswith(reverse("core:verify") + "?next="), name
    # And nothing changes by POST either.
    response = client.post(reverse("referrals:create"), {"save": "1"})
    assert response.status_code == 302
    assert response["Location"] == reverse("core:verify")


def test_staff_must_verify_for_the_admin(client, admin_user):
    client.force_login(admin_user)
    response = client.get("/admin/referrals/school/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("core:two_factor_setup"))


def test_sign_in_without_an_authenticator_goes_straight_to_setting_one_up(client):
    user = UserFactory(username="rev", password="a-long-test-password")
    from django.contrib.auth.models import Group

    from core.roles import GROUP_NAMES

    user.groups.add(Group.objects.get(name=GROUP_NAMES[Role.REVIEWER]))
    response = client.post(
        reverse("login"),
        {"username": "rev", "password": "a-long-test-password", "next": reverse("reviews:list")},
    )
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('core:two_factor_setup')}?next=%2Freviews%2F"
