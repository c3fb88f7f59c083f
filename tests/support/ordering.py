"""In the xdist runs, the tests that need no database run first (a plugin: ``pytest_plugins``
in tests/conftest.py).

pytest-django orders the tests as Django does, the ones without a database last. On xdist
workers (the parallel and serial runs of bin/run-tests) they go first here: while they run, the
migrated template every test database is copied from (tests/support/template_db.py) is built
beside them (bin/run-tests starts it at once), so on a fresh checkout no worker only waits for
it. The order among the tests that need a database is left as it was (a stable sort), so the
demo-data tests stay together and the browser tests last. A run in one process (the alone run)
keeps pytest-django's order: its fault test works on the template itself.
"""

from __future__ import annotations

import os

import pytest

#: Fixtures that give a test the database (pytest-django's ``db``, ``transactional_db`` and
#: ``live_server`` all come with ``django_db_setup``; named too, in case one ever does not).
DATABASE_FIXTURES = {"django_db_setup", "db", "transactional_db", "live_server"}


def needs_database(item) -> bool:
    """As pytest-django decides it: a ``django_db`` mark, a database fixture, or a Django
    ``TestCase`` / ``TransactionTestCase`` class (which asks for no fixture by name)."""
    from django.test import TransactionTestCase

    cls = getattr(item, "cls", None)
    if cls is not None and issubclass(cls, TransactionTestCase):
        return True
    return bool(item.get_closest_marker("django_db")) or bool(
        DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))
    )


@pytest.hookimpl(trylast=True)  # after pytest-django's own ordering
def pytest_collection_modifyitems(items):
    if os.environ.get("PYTEST_XDIST_WORKER"):
        items.sort(key=needs_database)
