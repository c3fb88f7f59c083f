"""Browser tests: Debian's chromium, driven by Playwright, against pytest-django's live server.

The live server needs a transactional database, which Django empties after each test; the
serialised rollback puts back what the migrations seeded (roles, reference data) first.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connections
from playwright.sync_api import sync_playwright

from tests.browser.pages import add_authenticator, with_axe
from tests.conftest import require_service

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_itemcollected(item):
    """Mark this folder's tests ``browser`` as they are collected, so ``-m "not browser"``
    (``make test-fast``) deselects them: a mark added after collection would come too late."""
    if Path(__file__).parent in item.path.parents:
        item.add_marker(pytest.mark.browser)


@pytest.hookimpl(trylast=True)  # after pytest-django's own reordering
def pytest_collection_modifyitems(items):
    """Run this folder's tests last.

    While Playwright runs, its event loop counts as running on this thread, and Django then
    keeps this thread's database connections apart from the ones other tests set up.
    """
    here = Path(__file__).parent
    ours = {item for item in items if here in item.path.parents}
    items[:] = [item for item in items if item not in ours] + [item for item in items if item in ours]


@pytest.fixture(scope="session")
def browser(django_db_setup):
    require_service(CHROMIUM.exists(), f"needs Debian's chromium at {CHROMIUM} (apt-get install chromium)")
    before = {alias: connections[alias] for alias in connections}
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        # The ORM is safe here (nothing awaits); Django only sees Playwright's loop. Its new
        # connection objects need the migrated rows that serialised rollback restores.
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        for alias, connection in before.items():
            if hasattr(connection, "_test_serialized_contents"):
                connections[alias]._test_serialized_contents = connection._test_serialized_contents
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
        connections.close_all()


@pytest.fixture(autouse=True)
def _live_database(browser, transactional_db, django_db_serialized_rollback):
    """Each test starts with the migrated rows (roles, reference data) and nothing else."""


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context on the live server.

    A JavaScript error, a missing static file or anything the Content Security Policy blocks
    fails the test.
    """
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 1280, "height": 900},
        locale="en-GB",
        timezone_id="Europe/London",
    )
    # As the crawls: browser tests run two or more side by side (bin/run-tests), so a page
    # that takes 2 s on a quiet machine can take several times that on a busy one.
    context.set_default_timeout(20_000)
    with_axe(context)
    page = context.new_page()
    errors: list[str] = []

    def missing_static(response):
        if "/static/" in response.url and response.status >= 400:
            errors.append(f"{response.status} for {response.url}")

    def csp_violation(message):
        if "Content Security Policy" in message.text:
            errors.append(f"CSP: {message.text}")

    page.on("pageerror", lambda error: errors.append(f"JavaScript error: {error}"))
    page.on("response", missing_static)
    page.on("console", csp_violation)
    yield page
    context.close()
    assert not errors, "\n".join(errors)


@pytest.fixture
def practitioner(practitioner):
    """The shared practitioner, with an authenticator app: identities need a verified session."""
    add_authenticator(practitioner)
    return practitioner


@pytest.fixture
def manager(manager):
    add_authenticator(manager)
    return manager
