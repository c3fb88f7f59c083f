"""What a user does in the browser: sign in, fill GOV.UK inputs, move by keyboard, look."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Locator, Page

from tests.nplusone import unit_of_work

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PASSWORD = "a-long-test-password"  # UserFactory's
AXE = Axe()


def add_authenticator(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Test authenticator", confirmed=True)


def current_code(device: TOTPDevice) -> str:
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift)
    return f"{code:0{device.digits}d}"


@unit_of_work
def sign_in(page: Page, username: str, password: str = PASSWORD) -> None:
    """Sign in through the real pages: password, then the authenticator's code if the user has one."""
    page.goto("/sign-in/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/sign-in/" not in url or "/sign-in/code/" in url)
    if "/sign-in/code/" in page.url:
        device = TOTPDevice.objects.get(user__username=username, confirmed=True)
        page.get_by_label("Code from your authenticator app").fill(current_code(device))
        page.get_by_role("button", name="Continue").click()
        page.wait_for_url(lambda url: "/sign-in/" not in url)


def fill_date(scope: Page | Locator, legend: str, day: dt.date) -> None:
    """A GOV.UK date input: three text boxes inside a fieldset named by its legend."""
    group = scope.get_by_role("group", name=legend)
    group.get_by_label("Day").fill(str(day.day))
    group.get_by_label("Month").fill(str(day.month))
    group.get_by_label("Year").fill(str(day.year))


def choose(scope: Page | Locator, question: str, answer: str) -> None:
    """Tick the radio or checkbox labelled ``answer`` in the fieldset asking ``question``."""
    scope.get_by_role("group", name=question).get_by_label(answer, exact=True).check()


def fill_referral(page: Page, *, received: dt.date, incident: dt.date) -> None:
    fill_date(page, "Date the referral was received", received)
    page.get_by_label("Time the referral was received").fill("14:30")
    choose(page, "Who made the referral", "School")
    choose(page, "Forms of abuse", "Sexual assault")
    choose(page, "Is this peer-on-peer (child-on-child) abuse?", "Yes")
    fill_date(page, "Date of the incident", incident)
    choose(page, "Where did it happen?", "School")
    choose(page, "Was consent to the referral sought?", "Yes")
    page.get_by_label("Referrer's name").fill("Rita Referrer")
    page.get_by_label("Referrer's role").fill("Designated safeguarding lead")
    page.get_by_label("Referrer's telephone number or email address").fill("rita@school.example")
    page.get_by_label("What was reported").fill("The child told a teacher what happened at break.")


def fill_child(page: Page, number: int, *, first: str, last: str, born: dt.date, gender: str) -> None:
    child = page.get_by_role("group", name=f"Child {number}", exact=True)
    child.get_by_label("First name").fill(first)
    child.get_by_label("Last name").fill(last)
    fill_date(child, "Date of birth", born)
    choose(child, "Gender", gender)


def tab_to(page: Page, target: Locator, limit: int = 80) -> None:
    """Press Tab until ``target`` has focus: proof that the keyboard alone can reach it."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"{limit} presses of Tab never reached {target}")


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def axe_violations(page: Page, name: str) -> str:
    """axe-core's report on the page as it is now, or "" when it finds nothing."""
    results = AXE.run(page)
    if not results.violations_count:
        return ""
    return f"--- {name}: {page.url}\n{results.generate_report()}"
