"""The test suite's own house rules: test modules hold tests only, and the runs it is split into."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from core.roles import Role
from tests.support import template_db

TESTS = Path(__file__).resolve().parent


def _test_modules():
    return sorted(path for path in TESTS.rglob("test_*.py"))


def test_no_test_module_imports_another_test_module():
    """Builders and fixtures that several modules use live in tests/support/ (or the folder's
    helper module), never in a test module that another imports: importing one runs its tests'
    module-level set-up and ties two files' tests together."""
    found = []
    for path in _test_modules():
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                if name.startswith("tests.") and name.rsplit(".", 1)[-1].startswith("test_"):
                    found.append(f"{path.relative_to(TESTS.parent)}:{node.lineno} imports {name}")
    assert not found, "\n".join(found)


def test_the_template_database_is_named_by_every_migration(tmp_path, monkeypatch):
    """A changed migration changes the template's name, so a test database is never copied
    from a template that lags the code."""
    app = tmp_path / "someapp" / "migrations"
    app.mkdir(parents=True)
    (app / "0001_initial.py").write_text("operations = []\n")
    (tmp_path / "requirements.lock").write_text("django==5.2\n")
    monkeypatch.setattr(template_db, "ROOT", tmp_path)
    first = template_db.digest()
    (app / "0001_initial.py").write_text("operations = ['changed']\n")
    assert template_db.digest() != first
    (app / "0001_initial.py").write_text("operations = []\n")
    assert template_db.digest() == first
    (tmp_path / "requirements.lock").write_text("django==5.2.1\n")
    assert template_db.digest() != first


def test_each_kind_of_test_lands_in_the_run_made_for_it(request):
    """Browser tests run in the last run (serial, side by side); faults, workers killed and
    the backup in the alone run (one process, beside the parallel run); everything else in
    the parallel run."""
    from tests.conftest import ALONE_PATHS, SERIAL_PATHS

    assert TESTS / "browser" in SERIAL_PATHS
    assert TESTS / "browser" not in ALONE_PATHS
    for alone in ("faults", "test_packs_worker.py", "test_celery_worker.py"):
        assert TESTS / alone in ALONE_PATHS
        assert TESTS / alone in SERIAL_PATHS  # so the first run never picks them up
    assert not request.node.get_closest_marker("serial")


def test_a_pack_worker_on_the_filesystem_broker_is_serial_a_killed_or_redis_one_alone():
    """A browser test with its own worker on its own broker folders shares the machine with the
    other browser tests; a worker on Redis, or one the test kills, still has it to itself."""
    from types import SimpleNamespace

    from tests.conftest import is_alone, is_serial

    def item(path, *fixtures):
        return SimpleNamespace(path=TESTS / path, fixturenames=fixtures)

    on_files = item("browser/test_packs.py", "live_server", "filesystem_worker", "publish_to", "pack_worker")
    assert is_serial(on_files)
    assert not is_alone(on_files)
    assert is_alone(item("browser/test_packs.py", "live_server", "pack_worker"))
    assert is_alone(item("browser/test_packs.py", "live_server", "worker"))
    assert is_alone(item("test_packs_worker.py", "filesystem_worker", "pack_worker"))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_quick_clean_up_empties_every_table_the_append_only_ones_too(role_user):
    """tests/support/fast_flush.py: DELETE for most tables, TRUNCATE for the append-only ones
    (their triggers refuse DELETE) and the tables that refer to them; afterwards nothing is
    left, as after Django's own flush."""
    from django.core.management import call_command
    from django.core.management.color import no_style
    from django.db import connection

    from core.models import AccessLogEntry
    from tests.factories import ReferralFactory

    tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
    statements = connection.ops.sql_flush(no_style(), tables)
    truncated = " ".join(s for s in statements if s.startswith("TRUNCATE"))
    assert '"core_accesslogentry"' in truncated
    assert '"core_securityevent"' in truncated
    assert sum(s.startswith("DELETE") for s in statements) > 100

    ReferralFactory()
    user = role_user(Role.MASH_MANAGER)
    AccessLogEntry.objects.create(
        user=user, record_type="referral", record_id=1, record_label="x", channel="page", reason="test"
    )
    call_command("flush", interactive=False, verbosity=0, inhibit_post_migrate=True, reset_sequences=False)
    with connection.cursor() as cursor:
        left = {}
        for table in tables:
            cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            count = cursor.fetchone()[0]
            if count:
                left[table] = count
    assert left == {}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_quick_reload_writes_the_migrated_rows_exactly_as_django_s_reload(monkeypatch):
    """tests/support/fast_restore.py: into an emptied database, the rows written back as read
    are the rows Django's own reload writes, every column of every table (the hostile walk's
    checksums); into one that is not empty, Django reloads them itself."""
    from django.apps import apps
    from django.core.management import call_command
    from django.db import connection
    from zeal import zeal_ignore

    from tests.hostile.walk import db_state
    from tests.support import fast_restore

    data = connection._test_serialized_contents
    creation = connection.creation

    # Django's reload adds many-to-many rows, and history rows (saving a criterion's forms of
    # abuse is a change), each with the next id of its sequence, the history dated the moment
    # it runs: those rows are compared without their ids and date.
    renumbered = [
        model
        for model in apps.get_models(include_auto_created=True)
        if hasattr(model, "instance_type") or model._meta.auto_created
    ]
    bookkeeping = {"history_id", "history_date"}

    def emptied_then(reload) -> dict:
        # As between tests: the rows deleted, the sequences left where they are.
        call_command(
            "flush", interactive=False, verbosity=0, inhibit_post_migrate=True, reset_sequences=False
        )
        with zeal_ignore():  # Django's reload saves object by object, as it does between tests
            reload()
        state = db_state(exclude=[model._meta.db_table for model in renumbered])
        for model in renumbered:
            ignored = bookkeeping | {model._meta.pk.attname}
            if getattr(getattr(model, "instance_type", None), "_meta", model._meta).auto_created:
                ignored.add("id")  # a history row of a many-to-many row: that row's (new) id
            rows = [{k: v for k, v in row.items() if k not in ignored} for row in model.objects.values()]
            state[model._meta.db_table] = sorted(rows, key=repr)
        return state

    monkeypatch.setattr(fast_restore, "_snapshots", {})
    djangos = emptied_then(lambda: fast_restore._original(creation, data))
    assert djangos["django_content_type"][0] > 100, "the migrated rows were reloaded"
    assert djangos["guidance_historicalcriterion"], "the reload's history rows are compared too"
    emptied_then(lambda: creation.deserialize_db_from_string(data))  # through Django, then read
    assert len(fast_restore._snapshots) == 1
    called = []
    monkeypatch.setattr(fast_restore, "_original", lambda *args: called.append(args))
    assert emptied_then(lambda: creation.deserialize_db_from_string(data)) == djangos
    assert called == [], "the second reload was written back from what was read, not by Django"
    with zeal_ignore():
        creation.deserialize_db_from_string(data)  # not emptied: Django's reload
    assert len(called) == 1


def test_the_serial_tests_named_to_start_first_exist():
    """SERIAL_FIRST (tests/conftest.py) names the longest serial tests by node id; a renamed
    test would silently lose its place at the front of the serial run."""
    import subprocess
    import sys

    from tests.conftest import SERIAL_FIRST

    files = sorted({node.split("::")[0] for node in SERIAL_FIRST})
    collected = subprocess.run(  # noqa: S603 - pytest on our own test files
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *files],
        capture_output=True,
        text=True,
        cwd=TESTS.parent,
        check=False,
    ).stdout.split()
    assert set(SERIAL_FIRST) <= set(collected), sorted(set(SERIAL_FIRST) - set(collected))


def test_the_parallel_run_counts_the_tests_the_serial_run_will_select(tmp_path):
    """bin/run-tests starts the serial run only if the parallel run's collection counted a test
    for it: the count is taken before ``-m`` deselects, with the serial run's expression."""
    import os
    import subprocess
    import sys

    count = tmp_path / "serial.count"
    collect = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
    subprocess.run(  # noqa: S603 - pytest on our own test file
        [*collect, "-m", "not serial", "tests/browser/test_crawl.py"],
        capture_output=True,
        cwd=TESTS.parent,
        check=False,
        env={**os.environ, "LATER_RUN_MARKS": "serial and not alone", "LATER_RUN_COUNT": str(count)},
    )
    assert count.read_text() == "2\n"  # both crawl groups, though this run's -m leaves them out


def test_the_count_follows_the_marker_expression_and_is_written_only_when_asked(tmp_path):
    from types import SimpleNamespace

    from tests.conftest import count_for_later_run

    def item(*marks):
        return SimpleNamespace(iter_markers=lambda: [getattr(pytest.mark, name).mark for name in marks])

    items = [item("serial", "browser"), item("serial", "alone"), item("serial"), item()]
    count = tmp_path / "count"

    def asked():
        return {"LATER_RUN_MARKS": "serial and not alone and (not browser)", "LATER_RUN_COUNT": str(count)}

    environ = asked()
    assert count_for_later_run(items, environ) == 1
    assert count.read_text() == "1\n"
    # Taken out as read: pytest started by a test of the run inherits neither, writes nothing.
    assert environ == {}
    assert count_for_later_run(items[:2], environ) is None
    assert count.read_text() == "1\n"
    assert count_for_later_run(items[:2], asked()) == 0
    assert count.read_text() == "0\n"


def test_a_race_test_s_thread_still_running_after_the_timeout_is_an_error():
    """tests.support.threads.side_by_side: a hung thread is reported, not silently left."""
    import threading

    from tests.support.threads import side_by_side

    release = threading.Event()

    def hangs():
        release.wait(timeout=10)

    def fails():
        raise ValueError("seen")

    try:
        errors = side_by_side(hangs, fails, timeout=0.2)
    finally:
        release.set()
    assert [type(error) for error in errors] == [ValueError, TimeoutError]
    assert "hangs was still running" in str(errors[1])


def test_threads_that_hang_together_are_waited_for_once_not_once_each():
    """The timeout is one deadline for every thread: three hung threads cost it once, not three
    times over (each join used to start its own wait)."""
    import threading
    import time

    from tests.support.threads import side_by_side

    release = threading.Event()

    def hangs():
        release.wait(timeout=10)

    started = time.monotonic()
    try:
        errors = side_by_side(hangs, hangs, hangs, timeout=0.5)
    finally:
        release.set()
    assert [type(error) for error in errors] == [TimeoutError] * 3
    assert time.monotonic() - started < 1.25  # three waits would take at least 1.5 s


def test_tests_of_one_xdist_group_run_on_one_worker(tmp_path):
    """The demo-data tests share one seed only if ``--dist loadgroup`` keeps them on one worker
    (tests/conftest.py marks them ``xdist_group`` as they are collected). pytest 9.2 made
    pytest-xdist 3.8 ignore the group without a word (pytest-dev/pytest-xdist#1386: its node-id
    suffix no longer takes), and each worker seeded the demo for itself."""
    import os
    import subprocess
    import sys

    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "conftest.py").write_text(
        "import pytest\n\n"
        "def pytest_itemcollected(item):\n"
        "    if item.name.startswith('test_grouped'):\n"
        "        item.add_marker(pytest.mark.xdist_group('shared'))\n"
    )
    (tmp_path / "test_many.py").write_text(
        "import os, pathlib, pytest\n\n"
        "def _where(name):\n"
        "    worker = os.environ['PYTEST_XDIST_WORKER']\n"
        "    pathlib.Path(__file__).with_name(name + '.worker').write_text(worker)\n\n"
        "@pytest.mark.parametrize('n', range(6))\n"
        "def test_grouped(n):\n    _where(f'grouped{n}')\n\n"
        "@pytest.mark.parametrize('n', range(6))\n"
        "def test_free(n):\n    _where(f'free{n}')\n"
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST_", "DJANGO_"))}
    pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:django"]
    run = subprocess.run(  # noqa: S603 - pytest on the files written above
        [*pytest, "-n", "2", "--dist", "loadgroup", "-c", str(tmp_path / "pytest.ini"), str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    grouped = {path.read_text() for path in tmp_path.glob("grouped*.worker")}
    assert len(list(tmp_path.glob("grouped*.worker"))) == 6
    assert len(grouped) == 1, f"the group's tests ran on {sorted(grouped)}"
