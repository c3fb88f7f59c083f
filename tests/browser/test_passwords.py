"""A new starter sets their own password from the e-mailed link (nobody else ever knows it), and
a holder changes theirs: the pages by keyboard, with axe-core, at 1280 and 320 px."""

from __future__ import annotations

import re

from django.core import mail

from core import passwords
from core.roles import Role
from tests.browser.pages import add_authenticator, sign_in
from tests.support.axe import Audit

LINK = re.compile(r"https?://[^\s]+(?P<path>/account/set-password/\S+/)")
NEW = "kettle orchard lantern 2026"


def test_a_new_starter_sets_their_password_and_a_holder_changes_theirs(
    page, browser, live_server, role_user, django_capture_on_commit_callbacks
):
    admin = role_user(Role.ADMINISTRATOR, username="ada", is_staff=True)
    starter = role_user(Role.MASH_PRACTITIONER, username="starter", email="starter@council.example")
    starter.set_unusable_password()
    starter.save()
    mail.outbox = []
    with django_capture_on_commit_callbacks(execute=True):
        passwords.password_link_send(actor=admin, user=starter, first=True)
    [message] = [m for m in mail.outbox if m.to == ["starter@council.example"]]
    link = LINK.search(message.body)["path"]

    for width in (1280, 320):
        context = browser.new_context(base_url=live_server.url, viewport={"width": width, "height": 900})
        audit_page = context.new_page()
        audit = Audit(audit_page)
        if width == 1280:
            audit.visit("set-password", link, shot=True)
            audit.submit("set-password-errors", "Set password")
            assert "Enter a new password" in audit_page.locator(".govuk-error-summary").inner_text()
            audit_page.get_by_label("New password", exact=True).fill(NEW)
            audit_page.get_by_label("Enter the new password again").fill(NEW)
            audit_page.keyboard.press("Tab")
            audit_page.keyboard.press("Enter")  # the button, by keyboard
            audit_page.get_by_text("Your password is set").wait_for()
            audit("set-password-done")
            audit.visit("set-password-used", link)
            assert "This link does not work" in audit_page.locator("main").inner_text()
        else:
            audit.visit("set-password-used-320", link)
            width_px = audit_page.evaluate("document.documentElement.scrollWidth")
            assert width_px <= 320
        audit.assert_clean()
        context.close()
    starter.refresh_from_db()
    assert starter.check_password(NEW)

    # The holder, signed in, changes it from their sign-in methods.
    add_authenticator(starter)
    sign_in(page, "starter", NEW)
    audit = Audit(page)
    audit.visit("sign-in-methods", "/account/sign-in-methods/")
    page.get_by_role("link", name="Change your password").click()
    audit("password-change", shot=True)
    page.get_by_label("Your current password").fill("not it at all")
    page.get_by_label("New password", exact=True).fill("another orchard lantern 2027")
    page.get_by_label("Enter the new password again").fill("another orchard lantern 2027")
    audit.submit("password-change-errors", "Change password")
    assert "Your current password is not right" in page.locator(".govuk-error-summary").inner_text()
    page.set_viewport_size({"width": 320, "height": 900})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_label("Your current password").fill(NEW)
    page.get_by_label("New password", exact=True).fill("another orchard lantern 2027")
    page.get_by_label("Enter the new password again").fill("another orchard lantern 2027")
    page.get_by_role("button", name="Change password").click()
    page.get_by_text("Your password is changed").wait_for()
    audit("password-changed")
    audit.assert_clean()
    starter.refresh_from_db()
    assert starter.check_password("another orchard lantern 2027")
