"""The demo data (``seed_demo``), seeded once per test process and shared.

Seeding takes 25 to 50 seconds, and several tests check the demo. A test marked
``demo_data`` (or using the ``demo_data`` fixture) runs on top of one seed: the seed is
written inside a transaction that is never committed, each test's own changes sit in a
savepoint inside it (pytest-django's ``db``) and are rolled back as usual, and the seed
itself is rolled back before the next test that is not a demo test. ``tests/conftest.py``
runs the demo tests one after another (and on one xdist worker: ``xdist_group``), so a run
seeds once; were a demo test ever to come after other tests again, it is simply seeded again.

The seed writes one uploaded PDF (the cabinet report's Appendix 4) to a media folder of its
own; ``copy_media`` gives a test its own copy, so the files of one test never reach another.

The browser crawl (tests/browser/test_crawl.py) needs the demo committed in its live server's
database, in the serial run, after the parallel run has seeded it. bin/run-tests names a folder
for the run (``DEMO_SNAPSHOT_DIR``): the parallel run's seed is read back there as written
(every table's rows and the media files, ``keep``), and each crawl writes it into its own
database (``put_back``, about a second) instead of seeding again (15 to 50 s each). Without
the folder, a snapshot from another day or database, or a parallel run that seeded nothing
(``-k``, a path), the crawl seeds as before.
"""

from __future__ import annotations

import os
import pickle
import shutil
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.test import override_settings
from django.utils import timezone
from zeal import zeal_ignore

from tests.support import fast_restore

MARK = "demo_data"


class DemoData:
    """The shared seed of one test process: ``seed()`` and ``roll_back()``."""

    def __init__(self, blocker, media_root: Path):
        self.blocker = blocker
        self.media_root = media_root
        self._atomics: dict[str, transaction.Atomic] = {}
        self.seeds = 0

    @property
    def active(self) -> bool:
        return bool(self._atomics)

    def seed(self) -> None:
        if self.active:
            return
        shutil.rmtree(self.media_root, ignore_errors=True)
        self.media_root.mkdir(parents=True)
        with self.blocker.unblock():
            for alias in connections:
                atomic = transaction.atomic(using=alias)
                atomic.__enter__()
                self._atomics[alias] = atomic
            try:
                # The seed builds its rows one by one on purpose (not an N+1 to detect).
                with override_settings(MEDIA_ROOT=str(self.media_root)), zeal_ignore():
                    call_command("seed_demo", "--allow-non-debug", verbosity=0)
                keep(self.media_root)
            except BaseException:
                self._roll_back()
                raise
        self.seeds += 1

    def roll_back(self) -> None:
        if not self.active:
            return
        with self.blocker.unblock():
            self._roll_back()

    def _roll_back(self) -> None:
        for alias, atomic in reversed(list(self._atomics.items())):
            transaction.set_rollback(True, using=alias)
            atomic.__exit__(None, None, None)
        self._atomics.clear()

    def copy_media(self, to: Path) -> Path:
        """Copy the seed's media files (the uploaded Appendix 4) into a test's own folder."""
        shutil.copytree(self.media_root, to, dirs_exist_ok=True)
        return to


#: The process's shared seed, made by the ``demo_data`` fixture on first use.
current: DemoData | None = None


def wanted(item) -> bool:
    return item.get_closest_marker(MARK) is not None or MARK in getattr(item, "fixturenames", ())


# --- The seed kept for the serial run's crawl ---------------------------------------------------

SNAPSHOT_DIR = "DEMO_SNAPSHOT_DIR"


def _snapshot_dir() -> Path | None:
    folder = os.environ.get(SNAPSHOT_DIR)
    return Path(folder) if folder else None


def _identity(connection) -> dict:
    """What a snapshot must match to be written back: the day the seed ran (its dates are
    relative to it) and the kind of database its rows were read from."""
    return {"day": timezone.localdate().isoformat(), "vendor": connection.vendor}


def keep(media_root: Path) -> None:
    """Read back every table's rows and copy the media files the seed just wrote (inside its
    transaction), once per run, for ``put_back``."""
    folder = _snapshot_dir()
    if folder is None or (folder / "rows.pickle").exists():
        return
    connection = connections[DEFAULT_DB_ALIAS]
    rows = fast_restore.read_rows(
        connection, fast_restore._holding(connection, fast_restore._tables(connection))
    )
    making = folder / f"making-{os.getpid()}"
    shutil.copytree(media_root, making / "media")
    (making / "rows.pickle").write_bytes(pickle.dumps({**_identity(connection), "rows": rows}))
    folder.mkdir(parents=True, exist_ok=True)
    shutil.move(making / "media", folder / "media")
    os.replace(making / "rows.pickle", folder / "rows.pickle")  # complete, or not there at all
    shutil.rmtree(making, ignore_errors=True)


def put_back() -> bool:
    """Write the kept seed into the (committing) test's database and its media files into
    MEDIA_ROOT, in place of every row there. False, and nothing changed, if there is none to
    write back for today and this kind of database."""
    folder = _snapshot_dir()
    if folder is None or not (folder / "rows.pickle").exists():
        return False
    kept = pickle.loads((folder / "rows.pickle").read_bytes())  # noqa: S301 - this run's own file
    connection = connections[DEFAULT_DB_ALIAS]
    if {key: kept[key] for key in ("day", "vendor")} != _identity(connection):
        return False
    with transaction.atomic():
        # Every table, as Django's flush (PostgreSQL truncates a table only with all that refer to it).
        connection.ops.execute_sql_flush(
            connection.ops.sql_flush(no_style(), fast_restore._tables(connection))
        )
        fast_restore.write_rows(connection, kept["rows"])
        resets = connection.ops.sequence_reset_sql(no_style(), apps.get_models(include_auto_created=True))
        with connection.cursor() as cursor:
            for statement in resets:
                cursor.execute(statement)
    ContentType.objects.clear_cache()  # ids read before may belong to other rows now
    shutil.copytree(folder / "media", settings.MEDIA_ROOT, dirs_exist_ok=True)
    return True
