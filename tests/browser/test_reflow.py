"""Reflow (WCAG 2.2, 1.4.10) on every page each role reaches, at 320 CSS pixels (issue 14).

The same crawl as the axe-core one (``test_crawl.py``): the demo data, each demo account
signed in through the real pages, every same-origin link followed breadth-first, each URL
pattern visited a bounded number of times. At 320 px wide no page may scroll sideways
(``scrollWidth`` no more than ``clientWidth``), and no element may reach past the right or
left edge of the page unless it sits inside a scroll region: a named, focusable
``role="region"`` (``aria-label`` or ``aria-labelledby``, ``tabindex="0"``) that scrolls its wide
table itself.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from core.roles import Role
from devtools.management.commands.seed_demo import DEMO_PASSWORD, DEMO_USERS
from tests.browser.crawl import Crawl, expected_names, seed_demo
from tests.browser.pages import sign_in

WIDTH = 320

#: Each element that sticks out of the page, outside a scroll region, and the page's width.
_OVERFLOW = """(pageOnly) => {
  const root = document.documentElement;
  const width = root.clientWidth;
  const problems = [];
  if (root.scrollWidth > width) problems.push(`the page is ${root.scrollWidth} px wide`);
  if (pageOnly) return problems;
  for (const region of document.querySelectorAll('[role=region]')) {
    if (region.scrollWidth > region.clientWidth
        && !((region.getAttribute('aria-label') || region.getAttribute('aria-labelledby'))
             && region.getAttribute('tabindex') === '0')) {
      problems.push(`a region that scrolls has no name (aria-label or aria-labelledby) or tabindex="0"`);
    }
  }
  for (const element of document.body.querySelectorAll('*')) {
    const parent = element.parentElement;
    const region = parent
      && parent.closest('[role=region][tabindex="0"]:is([aria-label], [aria-labelledby])');
    if (region && region.scrollWidth > region.clientWidth) continue;  // scrolls inside its region
    if (element.closest('details:not([open]) > :not(summary)')) continue;  // not shown
    const style = getComputedStyle(element);
    if (style.display === 'none' || style.visibility === 'hidden') continue;
    const box = element.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    if (box.right > width + 0.5 || box.left < -0.5) {
      const classes = typeof element.className === 'string' ? element.className.trim() : '';
      const name = element.tagName.toLowerCase() + (element.id ? '#' + element.id : '')
        + (classes ? '.' + classes.split(/\\s+/).join('.') : '');
      problems.push(`${name} spans ${Math.round(box.left)} to ${Math.round(box.right)} px`);
      if (problems.length > 5) break;
    }
  }
  return problems;
}"""


def reflow_problems(page, label: str) -> str:
    # Django's admin (its own responsive styles, not the GOV.UK pages) lays its index out with
    # table cells whose boxes reach past the edge while their text wraps inside the page; for
    # it, only the page itself must not scroll sideways.
    admin = urlsplit(page.url).path.startswith("/admin/")
    problems = page.evaluate(_OVERFLOW, admin)
    return f"{label} ({page.url}): " + "; ".join(problems) if problems else ""


def test_no_page_any_role_reaches_scrolls_sideways_at_320_px(browser, live_server):
    assert set(Role) <= {role for *_, role in DEMO_USERS}, "every role needs a demo account to crawl with"
    seed_demo()
    reports, failures, summary = [], [], []
    for username, _first, _last, role in DEMO_USERS:
        if username == "practitioner2" or username not in os.environ.get("CRAWL_USERS", username):
            continue  # the same role as practitioner
        context = browser.new_context(
            base_url=live_server.url,
            viewport={"width": WIDTH, "height": 640},
            locale="en-GB",
            timezone_id="Europe/London",
        )
        context.set_default_timeout(20_000)
        page = context.new_page()
        sign_in(page, username, DEMO_PASSWORD)
        crawl = Crawl(page, live_server.url, username, audit=reflow_problems)
        crawl.run()
        context.close()
        found = [report for report in crawl.reports if report]
        reports += found
        failures += crawl.failures
        missing = expected_names(role) - crawl.names
        if missing:
            failures.append(f"{username} ({role.label}) never reached: {sorted(missing)}")
        summary.append(f"{username}: {crawl.pages} pages, {len(found)} too wide")
    print("; ".join(summary))  # per role, for pytest -s
    if reports:
        failures.append(f"{len(reports)} page(s) scroll sideways at {WIDTH} px:\n" + "\n".join(reports))
    assert not failures, "\n".join(failures)
