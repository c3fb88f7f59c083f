"""Every page each role reaches by following links: axe-core clean at 1280 px, and no sideways
scrolling at 320 px (reflow, WCAG 2.2, 1.4.10).

The demo data (``seed_demo``) is loaded into the live server's database; then each demo
account signs in through the real pages (password and authenticator code), starts at the
home page and follows every same-origin link breadth-first. Pages are de-duplicated by URL
pattern (``resolve()``): each pattern is visited at most ``PER_PATTERN`` times per role, so the
crawl stays bounded however much data there is. Sign-out, downloads (CSV, PDF, uploaded
files, the JSON job status) and the admin's deep pages are not followed; the admin index and
one change list are.

Every page reached must answer 200, raise no JavaScript or CSP error and be axe-core clean;
narrowed to 320 px, it must not scroll sideways, and nothing on it may reach past its edges
outside a named, focusable scroll region (``reflow_problems`` in tests/browser/crawl.py). The
crawl must reach every page the role may open (``tests/test_access.py`` EXPECTED), apart from
the few listed in ``NOT_BY_LINK`` (tests/browser/crawl.py) with the reason no link leads there.

The accounts are crawled in two groups of about the same number of pages, each its own test,
so the serial run's workers crawl side by side (each seeds the demo data once).
"""

from __future__ import annotations

import os
import time

import pytest

from core.roles import Role
from devtools.management.commands.seed_demo import DEMO_PASSWORD, DEMO_USERS
from tests.browser.crawl import DESKTOP, REFLOW_WIDTH, Crawl, expected_names, seed_demo
from tests.browser.pages import sign_in, with_axe

#: The demo accounts crawled, in two groups (practitioner2 has practitioner's role and pages).
GROUPS = {
    "manager-officer-reviewer2": ("manager", "officer", "reviewer2"),
    "the-others": ("practitioner", "reviewer", "leadreviewer", "infogov", "admin"),
}


@pytest.mark.parametrize("group", list(GROUPS))
def test_every_page_each_role_reaches_is_axe_clean_and_reflows(browser, live_server, group):
    crawled = {name for names in GROUPS.values() for name in names}
    assert crawled == {username for username, *_ in DEMO_USERS} - {"practitioner2"}, (
        "a demo account is crawled by no group"
    )
    assert set(Role) <= {role for username, *_, role in DEMO_USERS if username in crawled}, (
        "every role needs a demo account to crawl with"
    )
    started = time.monotonic()
    seed_demo()
    seeded = time.monotonic() - started
    axe_reports, reflow_reports, failures, summary = [], [], [], []
    for username, _first, _last, role in DEMO_USERS:
        if username not in GROUPS[group] or username not in os.environ.get("CRAWL_USERS", username):
            continue
        context = browser.new_context(
            base_url=live_server.url,
            viewport=DESKTOP,
            locale="en-GB",
            timezone_id="Europe/London",
        )
        context.set_default_timeout(20_000)
        with_axe(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error, errors=errors: errors.append(f"JavaScript error: {error}"))
        page.on(
            "console",
            lambda message, errors=errors: (
                errors.append(f"CSP: {message.text}") if "Content Security Policy" in message.text else None
            ),
        )
        began = time.monotonic()
        sign_in(page, username, DEMO_PASSWORD)
        crawl = Crawl(page, live_server.url, username)
        crawl.run()
        context.close()
        axe_reports += [axe for axe, _reflow in crawl.reports if axe]
        reflow_reports += [reflow for _axe, reflow in crawl.reports if reflow]
        failures += crawl.failures + [f"{username}: {error}" for error in errors]
        missing = expected_names(role) - crawl.names
        if missing:
            failures.append(f"{username} ({role.label}) never reached: {sorted(missing)}")
        took = time.monotonic() - began
        summary.append(f"{username}: {crawl.pages} pages, {len(crawl.names)} patterns in {took:.0f} s")
    print(f"seed_demo {seeded:.0f} s;", "; ".join(summary))  # the figures, for pytest -s
    if axe_reports:
        failures.append(f"axe found violations on {len(axe_reports)} page(s):\n" + "\n".join(axe_reports))
    if reflow_reports:
        failures.append(
            f"{len(reflow_reports)} page(s) scroll sideways at {REFLOW_WIDTH} px:\n"
            + "\n".join(reflow_reports)
        )
    assert not failures, "\n".join(failures)
