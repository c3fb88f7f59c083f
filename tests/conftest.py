"""Shared fixtures.

Tests that need a real service are marked ``postgres`` or ``redis``. On a bare machine they
skip with the reason; when ``CI`` is set a missing service fails them instead, so CI can
never go green by skipping.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings

from core.roles import GROUP_NAMES, Role
from tests import documents_kind  # noqa: F401 - registers the test-only document kind
from tests.factories import UserFactory
from tests.nplusone import digests_are_fresh_reads, tasks_are_units, unit_of_work, wrap_unit_modules
from tests.support import demo, fast_flush, fast_restore, template_db

# Fixtures that tests in several folders use (test modules import helpers from tests/support,
# never fixtures: these are found here).
from tests.support.access import review_ids  # noqa: F401
from tests.support.canary import canary_referral, canary_review, published  # noqa: F401
from tests.support.celery_worker import publish_to, worker  # noqa: F401
from tests.support.filesystem_worker import filesystem_worker  # noqa: F401
from tests.support.packs_worker import media, pack_worker  # noqa: F401
from tests.support.referral_form import source_and_form_ids  # noqa: F401

wrap_unit_modules()
fast_flush.install()  # a committing test's clean-up: DELETE, not TRUNCATE (tests/support/fast_flush.py)
fast_restore.install()  # and the migrated rows put back as read, not object by object (fast_restore.py)
tasks_are_units()
digests_are_fresh_reads()

IN_CI = bool(os.environ.get("CI"))

TESTS = Path(__file__).resolve().parent

# Tests that do not run in the parallel run of `make test` (bin/run-tests). ``serial``:
# browser tests (a live server and chromium per process) and any test with a live server or a
# real Celery worker; they run side by side on xdist workers of their own, one process per
# core, after the CPU-bound tests, each with its own database, live server, chromium and
# broker keys. ``alone``: tests that time what they start and must get a core whenever they
# need one: fault tests (they stop and start servers and time what follows), real Celery
# workers being killed and redelivered on short visibility timeouts, the backup test (a fixed
# scratch database, pg_dump and psql) and the gunicorn log test. They run in one process at
# normal priority beside the parallel run, whose workers are niced, and before the serial
# run. A test elsewhere that uses one of the fixtures below is caught the same way. A
# browser test whose pack worker is on the filesystem broker (``filesystem_worker``: its own
# folders, its own test database, nothing killed or timed) is serial, not alone.
ALONE_PATHS = [
    TESTS / "faults",
    TESTS / "test_celery_worker.py",
    TESTS / "test_packs_worker.py",
    TESTS / "core" / "test_backup.py",
    TESTS / "security" / "test_production_logs.py",
]
SERIAL_PATHS = [TESTS / "browser", *ALONE_PATHS]
ALONE_FIXTURES = {"worker", "pack_worker"}
SERIAL_FIXTURES = {"live_server", "filesystem_worker", *ALONE_FIXTURES}
#: The longest of the serial tests start first, so the other workers share out the rest
#: while they run (the run ends with short tests, not one long one).
SERIAL_FIRST = (
    "tests/browser/test_crawl.py::test_every_page_each_role_reaches_is_axe_clean_and_reflows"
    "[manager-officer-reviewer2]",
    "tests/browser/test_crawl.py::test_every_page_each_role_reaches_is_axe_clean_and_reflows[the-others]",
)


def _under(item, paths) -> bool:
    path = Path(item.path)
    return any(path == under or under in path.parents for under in paths)


def is_serial(item) -> bool:
    return _under(item, SERIAL_PATHS) or bool(SERIAL_FIXTURES & set(getattr(item, "fixturenames", ())))


def is_alone(item) -> bool:
    fixtures = set(getattr(item, "fixturenames", ()))
    if "filesystem_worker" in fixtures and not _under(item, ALONE_PATHS):
        fixtures -= {"pack_worker"}  # its own worker on its own folders: serial, not alone
    return _under(item, ALONE_PATHS) or bool(ALONE_FIXTURES & fixtures)


def pytest_itemcollected(item):
    """Mark as each test is collected (before ``-m`` chooses): ``serial`` and ``alone`` for the
    tests above; the demo-data tests go to one xdist worker, where they share one seed
    (tests/support/demo.py)."""
    if is_serial(item):
        item.add_marker(pytest.mark.serial)
    if is_alone(item):
        item.add_marker(pytest.mark.alone)
    if demo.wanted(item):
        item.add_marker(pytest.mark.xdist_group(demo.MARK))


def pytest_collection_modifyitems(items):
    """The longest serial tests first (SERIAL_FIRST). The demo-data tests run one after another
    (where the first of them was collected), so the process seeds the demo once for all of them.

    Before ``-m`` deselects, it also counts for bin/run-tests the tests a later run will select
    (``count_for_later_run``)."""
    count_for_later_run(items)
    items.sort(key=lambda item: item.nodeid not in SERIAL_FIRST)
    first = next((n for n, item in enumerate(items) if demo.wanted(item)), None)
    if first is None:
        return
    ours = [item for item in items if demo.wanted(item)]
    rest = [item for item in items if not demo.wanted(item)]
    items[:] = rest[:first] + ours + rest[first:]


def count_for_later_run(items, environ=os.environ) -> int | None:
    """How many of ``items`` the marker expression ``LATER_RUN_MARKS`` selects, written to the
    file ``LATER_RUN_COUNT`` (both set by bin/run-tests for its parallel run, which collects
    every test before ``-m`` chooses). bin/run-tests skips the serial run when it would select
    nothing, instead of starting its workers to collect the suite for no test (``make
    test-fast``). The count leaves ``-k`` aside, so it can only be too high, never too low.

    The two variables are taken out of the environment as they are read: a test that starts
    pytest itself (a collection of its own) must not write its count over the run's."""
    marks, count_file = environ.pop("LATER_RUN_MARKS", None), environ.pop("LATER_RUN_COUNT", None)
    if not marks or not count_file:
        return None
    # pytest's own evaluation of -m (the names are internal to pytest, pinned in the lock).
    from _pytest.mark import MarkMatcher
    from _pytest.mark.expression import Expression

    expression = Expression.compile(marks)
    count = sum(expression.evaluate(MarkMatcher.from_markers(item.iter_markers())) for item in items)
    Path(count_file).write_text(f"{count}\n")
    return count


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """A demo test after the shared seed was rolled back (other tests ran between): seed again."""
    if demo.current is not None and demo.wanted(item):
        demo.current.seed()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """After the last demo test of a stretch (its own changes already rolled back), roll the
    shared seed back, so no other test sees it. At the end of the run the fixture does it."""
    yield
    if demo.current is not None and nextitem is not None and not demo.wanted(nextitem):
        demo.current.roll_back()


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """Each process's test database is a copy of one migrated template (tests/support/template_db.py)."""
    template_db.use_template()


@pytest.fixture(scope="session")
def demo_data(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo data (``seed_demo``), seeded once per test process and shared (see
    tests/support/demo.py). A test's own changes are rolled back as any test's are."""
    demo.current = demo.DemoData(django_db_blocker, tmp_path_factory.mktemp("demo-media"))
    demo.current.seed()
    yield demo.current
    demo.current.roll_back()
    demo.current = None


# Hypothesis: modest example counts so the suite stays fast; no deadline (a request against
# PostgreSQL on a shared machine is slow at times, and slowness is not what these tests are
# about). CI is derandomised so a red build reproduces; HYPOTHESIS_PROFILE=thorough explores.
_HYPOTHESIS_COMMON = {
    "deadline": None,
    "print_blob": True,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
}
# Shrinking a failure through HTTP requests takes minutes: the quick profiles report the first
# failing example as found (print_blob reproduces it); "thorough" shrinks.
_QUICK = {"max_examples": 8, "phases": [Phase.explicit, Phase.reuse, Phase.generate]}
hypothesis_settings.register_profile("ci", derandomize=True, **_QUICK, **_HYPOTHESIS_COMMON)
hypothesis_settings.register_profile("dev", **_QUICK, **_HYPOTHESIS_COMMON)
hypothesis_settings.register_profile("thorough", max_examples=200, **_HYPOTHESIS_COMMON)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if IN_CI else "dev"))


def require_service(available: bool, reason: str) -> None:
    if available:
        return
    if IN_CI:
        pytest.fail(f"{reason} (CI is set, so this fails instead of skipping)")
    pytest.skip(reason)


def redis_available() -> tuple[bool, str]:
    url = os.environ.get("REDIS_URL", "")
    if not url:
        return False, "needs a real Redis: set REDIS_URL (for example redis://127.0.0.1:6379/0)"
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        return False, f"Redis at {url} is not answering: {error}"
    return True, ""


@pytest.fixture(autouse=True)
def _service_markers(request):
    if request.node.get_closest_marker("postgres"):
        from django.db import connection

        require_service(
            connection.vendor == "postgresql",
            "needs a real PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/mash",
        )
    if request.node.get_closest_marker("redis"):
        ok, reason = redis_available()
        require_service(ok, reason)


@pytest.fixture(autouse=True)
def _no_n_plus_one():
    """Every test runs with django-zeal on: an N+1 query pattern anywhere raises NPlusOneError
    (see tests/nplusone.py for what counts as one unit of work)."""
    from zeal import zeal_context

    with zeal_context():
        yield


@pytest.fixture
def role_user(db):
    """Make a user holding one role: role_user(Role.MASH_PRACTITIONER)."""

    @unit_of_work
    def make(role: Role, **kwargs):
        user = UserFactory(**kwargs)
        user.groups.add(Group.objects.get(name=GROUP_NAMES[role]))
        return user

    return make


@pytest.fixture
def practitioner(role_user):
    return role_user(Role.MASH_PRACTITIONER, username="practitioner")


@pytest.fixture
def manager(role_user):
    return role_user(Role.MASH_MANAGER, username="manager")


@unit_of_work
def sign_in_verified(client, user):
    """Sign a test client in with a confirmed authenticator and a verified session."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device, _ = TOTPDevice.objects.get_or_create(
        user=user, name="Test authenticator", defaults={"confirmed": True}
    )
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def practitioner_client(client, practitioner):
    return sign_in_verified(client, practitioner)


@pytest.fixture
def verified_client(client):
    """verified_client(user) signs the shared test client in as that user, verified."""
    return lambda user: sign_in_verified(client, user)


@pytest.fixture
def admin_client(client, admin_user):
    """pytest-django's admin_client, signed in with two-factor as every account must be."""
    return sign_in_verified(client, admin_user)
