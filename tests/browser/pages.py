"""What a user does in the browser: sign in, fill GOV.UK inputs, move by keyboard, look."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from axe_playwright_python.base import AxeResults
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


_EXPANDED_NOT_ALLOWED = re.compile(r'ARIA attribute is not allowed: aria-expanded="(true|false)"')


def _govuk_conditional_reveal(node: dict) -> bool:
    """aria-expanded on a GOV.UK radio that controls a conditional reveal, and nothing else wrong.

    GOV.UK Frontend's radios script sets it on purpose: screen readers announce it, and the
    Design System keeps it as a documented known issue (alphagov/govuk-frontend#979) though
    ARIA does not list aria-expanded for radios. Nothing else is excused.
    """
    messages = [item["message"] for item in node.get("all", []) + node.get("any", []) + node.get("none", [])]
    return (
        'class="govuk-radios__input"' in node.get("html", "")
        and "aria-controls=" in node.get("html", "")
        and bool(messages)
        and all(
            re.fullmatch(r'ARIA attribute is not allowed: aria-expanded="(true|false)"', m) for m in messages
        )
    )


#: axe-core, added to the page unless an init script already did (``with_axe``), run for
#: violations only; only they are sent back.
_AXE_RUN = """async () => {
  const results = await window.axe.run(document, {resultTypes: ["violations"]});
  return {violations: results.violations};
}"""


def with_axe(context) -> None:
    """Load axe-core into every page of ``context`` as it opens, once for the context rather
    than sent with each audit."""
    context.add_init_script(script=AXE.axe_script)


def axe_violations(page: Page, name: str) -> str:
    """axe-core's report on the page as it is now, or "" when it finds nothing.

    A test that clicks a link and then audits must wait for the navigation it started
    (``with page.expect_navigation(): ...click()``): axe run while the document is being
    replaced fails on a null document, or audits the page being left.
    """
    page.wait_for_load_state("load")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.axe_script)
    results = AxeResults(page.evaluate(_AXE_RUN))
    for violation in results.response["violations"]:
        if violation["id"] == "aria-allowed-attr":
            violation["nodes"] = [n for n in violation["nodes"] if not _govuk_conditional_reveal(n)]
    results.response["violations"] = [v for v in results.response["violations"] if v["nodes"]]
    if not results.violations_count:
        return ""
    return f"--- {name}: {page.url}\n{results.generate_report()}"


# --- The keyboard alone -------------------------------------------------------------------
# Journeys that promise "keyboard only" move with these: Tab and Shift+Tab to a control, then
# Enter, Space, arrows or typing. Locators are used to *check* where focus is, never to act.

#: GOV.UK Frontend's focus colour ($govuk-focus-colour, #ffdd00) as computed styles give it.
FOCUS_COLOUR = "rgb(255, 221, 0)"

_FOCUS_STYLE = """([colour]) => {
  const element = document.activeElement;
  if (!element || element === document.body) return {ok: false, what: "nothing has focus"};
  const styles = [getComputedStyle(element)];
  if (element.matches(".govuk-radios__input, .govuk-checkboxes__input") && element.labels.length) {
    styles.push(getComputedStyle(element.labels[0], "::before"));  // the drawn box or circle
  }
  const ok = styles.some(style =>
    (style.outlineStyle !== "none" && style.outlineColor === colour && parseFloat(style.outlineWidth) >= 2)
    || style.boxShadow.includes(colour)
    || style.backgroundColor === colour
  );
  const what = `${element.tagName.toLowerCase()}#${element.id || ""}.${element.className || ""} `
    + `"${(element.innerText || element.value || element.getAttribute("aria-label") || "").slice(0, 40)}"`;
  return {ok, what};
}"""


def assert_focus_visible(page: Page) -> None:
    """The focused element shows GOV.UK's focus style: the yellow outline, box or highlight."""
    found = page.evaluate(_FOCUS_STYLE, [FOCUS_COLOUR])
    assert found["ok"], f"no visible GOV.UK focus style on {found['what']}"


def has_focus(target: Locator) -> bool:
    return target.evaluate("element => element === document.activeElement")


def key_to(page: Page, target: Locator, limit: int = 120) -> None:
    """Tab forwards (then, if it is behind, Shift+Tab back) until ``target`` has focus, and
    check the focus can be seen there."""
    target.wait_for(state="attached")
    for key in ("Tab", "Shift+Tab"):
        for _ in range(limit):
            page.keyboard.press(key)
            if has_focus(target):
                assert_focus_visible(page)
                return
    raise AssertionError(f"neither Tab nor Shift+Tab reached {target}")


def key_type(page: Page, target: Locator, text: str) -> None:
    key_to(page, target)
    page.keyboard.type(text)


def key_date(page: Page, scope: Page | Locator, legend: str, day: dt.date) -> None:
    """A GOV.UK date input by keyboard: Day, Month and Year, one Tab apart."""
    group = scope.get_by_role("group", name=legend)
    key_type(page, group.get_by_label("Day"), str(day.day))
    for part, value in (("Month", day.month), ("Year", day.year)):
        page.keyboard.press("Tab")
        assert has_focus(group.get_by_label(part)), f"Tab from the day did not reach the {part.lower()}"
        page.keyboard.type(str(value))


def key_choose(page: Page, scope: Page | Locator, question: str, answer: str | re.Pattern) -> None:
    """Pick a radio by keyboard: Tab into the group (its first radio), arrow down to the answer,
    Space to be sure it is chosen."""
    group = scope.get_by_role("group", name=question, exact=True)
    radios = group.get_by_role("radio")
    wanted = group.get_by_role("radio", name=answer, exact=True if isinstance(answer, str) else None)
    key_to(page, radios.first)
    for _ in range(radios.count()):
        if has_focus(wanted):
            break
        page.keyboard.press("ArrowDown")
    assert has_focus(wanted), f"the arrows never reached {answer!r} in {question!r}"
    page.keyboard.press("Space")
    assert wanted.is_checked()
    assert_focus_visible(page)


def key_tick(page: Page, box: Locator) -> None:
    """Tick a checkbox by keyboard: Tab to it, Space."""
    key_to(page, box)
    page.keyboard.press("Space")
    assert box.is_checked()


def key_select(page: Page, select: Locator, label: str) -> None:
    """A closed <select> by keyboard: Tab to it and type the start of the option's text."""
    key_to(page, select)
    page.keyboard.type(label)
    chosen = select.evaluate("s => s.options[s.selectedIndex].text")
    assert chosen == label, f"typing {label!r} chose {chosen!r}"


def key_press_on(page: Page, target: Locator, key: str = "Enter") -> None:
    """Tab to a link or button and press Enter (or Space) on it."""
    key_to(page, target)
    page.keyboard.press(key)


def sign_in_by_keyboard(page: Page, username: str, password: str = PASSWORD) -> None:
    """Sign in with the keyboard alone: username, Tab, password, Enter; the code, Enter."""
    page.goto("/sign-in/")
    key_type(page, page.get_by_label("Username"), username)
    page.keyboard.press("Tab")
    assert_focus_visible(page)
    page.keyboard.type(password)
    page.keyboard.press("Enter")
    code = page.get_by_label("Code from your authenticator app")
    code.wait_for()
    device = TOTPDevice.objects.get(user__username=username, confirmed=True)
    key_type(page, code, current_code(device))
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/sign-in/" not in url)


def both_widths(page, name: str) -> None:
    """Screenshots at 1280 and 320 px, and the page must not scroll sideways at 320."""
    screenshot(page, f"{name}-1280")
    page.set_viewport_size({"width": 320, "height": 800})
    wide = page.evaluate("document.documentElement.scrollWidth")
    screenshot(page, f"{name}-320")
    page.set_viewport_size({"width": 1280, "height": 900})
    assert wide <= 320, f"{name}: sideways scroll at 320 px ({wide} px wide)"
