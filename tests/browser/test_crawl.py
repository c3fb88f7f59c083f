"""axe-core on every page template each role reaches by following links (issue 7).

The demo data (``seed_demo``) is loaded into the live server's database; then each demo
account signs in through the real pages (password and authenticator code), starts at the
home page and follows every same-origin link breadth-first. Pages are de-duplicated by URL
pattern (``resolve()``): each pattern is visited at most ``PER_PATTERN`` times per role, so the
crawl stays bounded however much data there is. Sign-out, downloads (CSV, PDF, uploaded
files, the JSON job status) and the admin's deep pages are not followed; the admin index and
one change list are.

Every page reached must answer 200 and be axe-core clean; and the crawl must reach every
page the role may open (``tests/test_access.py`` EXPECTED), apart from the few listed in
``NOT_BY_LINK`` (tests/browser/crawl.py) with the reason no link leads there.
"""

from __future__ import annotations

import os
import time

from core.roles import Role
from devtools.management.commands.seed_demo import DEMO_PASSWORD, DEMO_USERS
from tests.browser.crawl import Crawl, expected_names, seed_demo
from tests.browser.pages import sign_in


def test_every_page_each_role_reaches_is_axe_clean(browser, live_server):
    assert set(Role) <= {role for *_, role in DEMO_USERS}, "every role needs a demo account to crawl with"
    started = time.monotonic()
    seed_demo()
    seeded = time.monotonic() - started
    reports, failures, summary = [], [], []
    for username, _first, _last, role in DEMO_USERS:
        if username == "practitioner2" or username not in os.environ.get("CRAWL_USERS", username):
            continue  # the same role as practitioner
        context = browser.new_context(
            base_url=live_server.url,
            viewport={"width": 1280, "height": 900},
            locale="en-GB",
            timezone_id="Europe/London",
        )
        context.set_default_timeout(20_000)
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
        reports += crawl.reports
        failures += crawl.failures + [f"{username}: {error}" for error in errors]
        missing = expected_names(role) - crawl.names
        if missing:
            failures.append(f"{username} ({role.label}) never reached: {sorted(missing)}")
        took = time.monotonic() - began
        summary.append(f"{username}: {crawl.pages} pages, {len(crawl.names)} patterns in {took:.0f} s")
    print(f"seed_demo {seeded:.0f} s;", "; ".join(summary))  # the figures, for pytest -s
    found = [report for report in reports if report]
    if found:
        failures.append(f"axe found violations on {len(found)} page(s):\n" + "\n".join(found))
    assert not failures, "\n".join(failures)
