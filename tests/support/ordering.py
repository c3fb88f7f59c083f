"""The tests that need no database run first (a plugin: ``pytest_plugins`` in tests/conftest.py).

pytest-django orders the tests as Django does, the ones without a database last. Here they go
first: while they run, the migrated template every test database is copied from
(tests/support/template_db.py) is built beside them (bin/run-tests starts it at once), so on a
fresh checkout no process only waits for it. The order among the tests that need a database is
left as it was (a stable sort), so the demo-data tests stay together and the browser tests last.
"""

from __future__ import annotations

import pytest


def needs_database(item) -> bool:
    fixtures = getattr(item, "fixturenames", ())
    return bool(item.get_closest_marker("django_db")) or "django_db_setup" in fixtures


@pytest.hookimpl(trylast=True)  # after pytest-django's own ordering
def pytest_collection_modifyitems(items):
    items.sort(key=needs_database)
