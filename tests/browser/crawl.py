"""The crawl of tests/browser/test_crawl.py: each demo account, signed in through the real
pages, follows every same-origin link breadth-first, each URL pattern visited a bounded number
of times; what it checks on each page (axe-core at 1280 px, reflow at 320 px); and the pages
each role must reach."""

from __future__ import annotations

import os
import re
from collections import Counter, deque
from urllib.parse import urldefrag, urlsplit

from django.core.management import call_command
from django.urls import Resolver404, resolve

from core.roles import Role
from tests.browser.pages import axe_violations, screenshot
from tests.nplusone import set_up
from tests.support.access import EXPECTED, POST_ONLY

#: How many pages of one URL pattern a role visits (different records, filters, pages), and
#: how many new links to one pattern each page adds: a list of 25 referrals adds three, so
#: each view of the work tray (awaiting, overdue, mine, all) offers referrals in other states.
PER_PATTERN = 3
PER_PAGE = 3
#: Patterns whose pages differ in what they link to: a referral links to closing only when
#: decided and to reopening or emergency access only when closed; a recommendation links
#: to its actions only when it has some (the tracker's first ones have none).
PER_PATTERN_FOR = {"referrals:tray": 6, "referrals:detail": 12, "scrutiny:recommendation": 8}
PER_PAGE_FOR = {"scrutiny:recommendation": 8}
#: A bound on the pages one role visits, so a link explosion cannot run away.
MAX_PAGES = 120

#: Not pages: files and data the browser downloads, and signing out.
NOT_PAGES = {
    "logout",
    "referrals:export",  # CSV
    "referrals:import_sample",  # CSV
    "scrutiny:export",  # CSV
    "scrutiny:appendix_file",  # the uploaded PDF
    "scrutiny:report_preview",  # PDF (a part as it will print)
    "scrutiny:appendix_preview",  # PDF
    "modelguidance:published_pdf",  # PDF
    "modelguidance:version_eqia_file",  # PDF
    "documents:download",  # PDF
    "documents:job_status",  # JSON for the progress bar's script
    "healthz",  # JSON
    *POST_ONLY,  # the security-key script's JSON ceremonies
}

#: A query that asks a page for a download (the access log's "Download these entries as CSV").
DOWNLOAD_QUERY = re.compile(r"(^|&)format=csv(&|$)")

#: The admin's index and one change list are crawled; its forms and other lists are Django's own.
ADMIN_LISTS = 1

#: Pages in EXPECTED that no link leads to, and why (each is checked by another test).
NOT_BY_LINK = {
    # Signing in passes through it before the crawl starts (tests/browser/test_axe.py audits it).
    "core:verify": "part of signing in, before the session is verified",
    # Only an account with no second factor sets one up (every demo account has one); signing
    # in leads there (tests/browser/test_axe.py audits it).
    "core:two_factor_setup": "part of signing in, for an account with no authenticator yet",
    # A holder opens it from the e-mail (tests/browser/test_passwords.py).
    "core:password_set": "the link is in the set-password e-mail only",
    # Schools' DSLs open it from the e-mail (tests/browser/test_guidance.py).
    "modelguidance:acknowledge": "the link is in the acknowledgement e-mail only",
    # Reached by submitting the upload form (tests/browser/test_import.py).
    "referrals:import_preview": "reached by POSTing a CSV file",
    # Reached by pressing "Export the ... pack" (tests/browser/test_packs.py and the keyboard
    # journey in tests/browser/test_keyboard.py).
    "documents:job": "reached by POSTing an export; the demo data has no export jobs",
}

#: Pages the role reaches only in a state the demo data does not hold, or not by a link.
NOT_IN_DEMO_STATE: dict[Role, dict[str, str]] = {
    Role.MASH_PRACTITIONER: {
        # Closing removes the practitioner's grants, and the Reopen button needs a grant to
        # change the referral (or the manager role): only managers are offered it.
        "referrals:reopen": "a closed referral holds no grant of the practitioner's",
    },
    Role.MASH_MANAGER: {
        # The demo authorises every decision that needs a manager; and since closed referrals
        # stay readable by the MASH, no demo referral the manager opens withholds identities,
        # and only those offer emergency access (tests/browser/test_axe.py::test_manager_pages
        # walks both pages with axe).
        "referrals:authorise_decision": "the demo holds no decision awaiting authorisation",
        "referrals:break_glass": "no demo referral withholds identities from the manager",
    },
    Role.REPORT_OFFICER: {
        # The demo's version 3 is a draft without its equality impact assessment, so the
        # version page offers neither (tests/browser/test_guidance.py walks both with axe).
        "modelguidance:version_approve": "only for a submitted version with its EqIA attached",
        "modelguidance:version_publish": "only for an approved version",
        # The demo report's meeting (26 November 2020) has passed and its decision is recorded,
        # so no more papers are published and the report page offers no Publish link
        # (tests/browser/test_scrutiny.py walks the publish page with axe).
        "scrutiny:report_publish": "the demo report's meeting is over and decided",
    },
}


# --- Reflow (WCAG 2.2, 1.4.10) ---------------------------------------------------------------
# At 320 CSS pixels no page may scroll sideways (``scrollWidth`` no more than ``clientWidth``),
# and no element may reach past the right or left edge of the page unless it sits inside a
# scroll region: a named, focusable ``role="region"`` (``aria-label`` or ``aria-labelledby``,
# ``tabindex="0"``) that scrolls its wide table itself.

REFLOW_WIDTH = 320
#: The width axe-core audits at (a laptop).
DESKTOP = {"width": 1280, "height": 900}

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


def audit_page(page, label: str) -> tuple[str, str]:
    """axe-core's report at 1280 px, then the reflow problems with the same page at 320 px
    (the viewport narrowed and widened again, so each page is fetched once for both)."""
    axe = axe_violations(page, label)
    page.set_viewport_size({"width": REFLOW_WIDTH, "height": 640})
    try:
        reflow = reflow_problems(page, label)
    finally:
        page.set_viewport_size(DESKTOP)
    return axe, reflow


def expected_names(role: Role) -> set[str]:
    names = {name for name, roles in EXPECTED.items() if role in roles}
    return names - NOT_PAGES - set(NOT_BY_LINK) - set(NOT_IN_DEMO_STATE.get(role, {}))


@set_up
def seed_demo() -> None:
    call_command("seed_demo", "--allow-non-debug", verbosity=0)


class Crawl:
    """One role's breadth-first walk over the links it is shown."""

    def __init__(self, page, origin: str, label: str, audit=audit_page):
        self.page = page
        self.audit = audit
        self.origin = origin
        self.label = label
        self.seen_urls: set[str] = set()
        self.visits: Counter[str] = Counter()
        self.admin_lists: set[str] = set()
        self.reports: list[str] = []
        self.failures: list[str] = []
        self.pages = 0

    def name_of(self, url: str) -> str | None:
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" != self.origin:
            return None
        try:
            return resolve(parts.path).view_name
        except Resolver404:
            self.failures.append(f"{self.label}: a link to {url} resolves to no page")
            return None

    def wanted(self, url: str, name: str) -> bool:
        if url in self.seen_urls or name in NOT_PAGES:
            return False
        if self.visits[name] >= PER_PATTERN_FOR.get(name, PER_PATTERN):
            return False
        if name.startswith("admin:") and name != "admin:index":
            if not name.endswith("_changelist"):
                return False
            if name not in self.admin_lists and len(self.admin_lists) >= ADMIN_LISTS:
                return False
        return True

    def run(self, start: str = "/") -> None:
        queue = deque([self.origin + start])
        while queue and self.pages < MAX_PAGES:
            url = queue.popleft()
            name = self.name_of(url)
            if name is None or not self.wanted(url, name):
                continue
            self.seen_urls.add(url)
            self.visits[name] += 1
            if name.startswith("admin:") and name != "admin:index":
                self.admin_lists.add(name)
            self.pages += 1
            response = self.page.goto(url)
            self.page.wait_for_load_state()
            if response is None or response.status != 200:
                status = response.status if response else "no response"
                self.failures.append(f"{self.label}: {url} ({name}) answered {status}")
                continue
            if self.page.url.split("#")[0] != url:  # redirected: count where it went
                landed = self.name_of(self.page.url)
                if landed:
                    self.seen_urls.add(self.page.url)
                    self.visits[landed] += 1
            self.reports.append(self.audit(self.page, f"{self.label} {name}"))
            if self.visits[name] == 1 and os.environ.get("CRAWL_SCREENSHOTS"):
                screenshot(self.page, f"crawl-{self.label}-{name.replace(':', '-')}")
            added: Counter[str] = Counter()
            for link in self.page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
                link = urldefrag(link).url
                if DOWNLOAD_QUERY.search(urlsplit(link).query) or link in self.seen_urls:
                    continue
                target = self.name_of(link)
                if (
                    target is None
                    or added[target] >= PER_PAGE_FOR.get(target, PER_PAGE)
                    or not self.wanted(link, target)
                ):
                    continue
                added[target] += 1
                queue.append(link)

    @property
    def names(self) -> set[str]:
        return {name for name, count in self.visits.items() if count}
