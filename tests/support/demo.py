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
"""

from __future__ import annotations

import shutil
from pathlib import Path

from django.core.management import call_command
from django.db import connections, transaction
from django.test import override_settings
from zeal import zeal_ignore

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
