"""A practitioner adds a security key and then signs in with it instead of a code.

Chromium's virtual authenticator (DevTools ``WebAuthn.addVirtualAuthenticator``) plays the
key: a real WebAuthn ceremony in the browser, through django-otp-webauthn's own script under
the strict Content Security Policy (the page fixture fails on any CSP report or script error).
"""

from __future__ import annotations

import re

from django_otp.plugins.otp_static.models import StaticDevice
from django_otp_webauthn.models import WebAuthnCredential
from playwright.sync_api import expect

from core.models import SecurityEvent
from tests.browser.pages import PASSWORD, axe_violations, sign_in


def virtual_security_key(page) -> str:
    session = page.context.new_cdp_session(page)
    session.send("WebAuthn.enable")
    answer = session.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    return answer["authenticatorId"]


def test_a_security_key_is_added_and_then_signs_in_without_a_code(page, practitioner, live_server, settings):
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [live_server.url]
    virtual_security_key(page)
    reports = []

    # Signed in with the authenticator app: add a key from "Your sign-in methods".
    sign_in(page, "practitioner")
    page.locator(".app-account-menu__summary").click()  # the account menu, a <details>
    page.get_by_role("link", name="Two-factor and security keys").click()
    expect(page.get_by_role("heading", name="Your sign-in methods", level=1)).to_be_visible()
    expect(page.get_by_text("You have not added a security key.")).to_be_visible()
    reports.append(axe_violations(page, "sign-in methods, no key"))
    page.get_by_role("link", name="Add a security key").click()
    # The step-up first, as for replacing the app: the password again and a current code.
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_title(re.compile(r"^Error: Add a security key"))
    expect(page.get_by_role("link", name="Enter your password")).to_be_visible()
    reports.append(axe_violations(page, "add a key, password missing"))
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("link", name="Enter the code from your authenticator app")).to_be_visible()
    # The app's code was used to sign in a moment ago (good once per 30 seconds): a recovery code.
    static = StaticDevice.objects.create(user=practitioner, name="Recovery codes", confirmed=True)
    static.token_set.create(token="recover1")
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_label("Code from your current authenticator app, or a recovery code").fill("recover1")
    page.get_by_role("button", name="Continue").click()
    add = page.get_by_role("button", name="Add security key")
    expect(add).to_be_visible()
    reports.append(axe_violations(page, "add a key, ready"))
    add.click()

    page.wait_for_url(re.compile(r"/account/sign-in-methods/$"))
    expect(page.get_by_text("Security key 1 added")).to_be_visible()
    expect(page.get_by_role("cell", name="Security key 1", exact=True)).to_be_visible()
    reports.append(axe_violations(page, "sign-in methods, one key"))
    assert WebAuthnCredential.objects.filter(user=practitioner, confirmed=True).count() == 1
    added = SecurityEvent.Kind.SECURITY_KEY_ADDED
    assert SecurityEvent.objects.filter(user=practitioner, kind=added).exists()

    # Sign out, and in again with the password and the key alone.
    page.locator(".app-account-menu__summary").click()
    page.get_by_role("button", name=re.compile("^Sign out")).click()
    page.goto("/sign-in/?next=/referrals/")
    page.get_by_label("Username").fill("practitioner")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/sign-in/code/"))
    use_key = page.get_by_role("button", name="Use your security key")
    expect(use_key).to_be_visible()
    expect(page.get_by_label("Code from your authenticator app")).to_be_visible()
    reports.append(axe_violations(page, "enter your code, with a key"))
    use_key.click()

    # The work tray needs a verified session: the key gave it one.
    page.wait_for_url(re.compile(r"/referrals/$"))
    expect(page.get_by_role("heading", name="Work tray", level=1)).to_be_visible()
    assert WebAuthnCredential.objects.get(user=practitioner).last_used_at is not None
    found = [report for report in reports if report]
    assert not found, "\n".join(found)
