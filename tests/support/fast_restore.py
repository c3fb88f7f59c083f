"""Putting the migrated rows back after a committing test's flush in a fraction of a second.

A test with ``serialized_rollback`` (every browser test, and the live-server and real-worker
tests) starts with Django reloading the rows the migrations wrote - roles, permissions,
content types, the DfE guidance library and the reference lists, about 900 objects - from the
JSON it serialised when it made the test database: object by object through the ORM, each an
UPDATE tried and then an INSERT. That took 1.2 s a test on PostgreSQL and 0.7 s on SQLite.

Into an emptied database (the flush before it ran with ``inhibit_post_migrate``, so not even a
content type is left), the reload writes the same rows every time. So the first such reload in
a process goes through Django and the rows it wrote are read back, table by table; each later
one writes those rows back as they were read (PostgreSQL's ``COPY``, SQLite's
``executemany``), in one transaction, with the same constraint check at the end as Django's.
A reload into a database that is not empty (the first in a process, into the migrated copy)
always goes through Django.

The one difference: Django's reload writes history rows for the guidance criteria (saving their
forms of abuse is a change simple-history records), dated the moment it runs; written back,
they keep the date of the process's first reload. ``tests/test_suite.py`` checks that every
other column of every table is the same.
"""

from __future__ import annotations

from django.db.backends.base.creation import BaseDatabaseCreation
from django.db.transaction import atomic

_original = BaseDatabaseCreation.deserialize_db_from_string

#: {(database name, the serialised JSON): {table: what it held after the reload}}
_snapshots: dict[tuple[str, str], dict[str, object]] = {}


def _emptied(connection) -> bool:
    """Flushed without the post-migrate signal: the content types (always among the migrated
    rows, and re-made by that signal) are gone, as is everything else."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM django_content_type LIMIT 1")
        return cursor.fetchone() is None


def _holding(connection, tables: list[str]) -> list[str]:
    quote = connection.ops.quote_name
    probes = " UNION ALL ".join(
        f"SELECT {index} FROM (SELECT 1 FROM {quote(table)} LIMIT 1) AS t{index}"  # noqa: S608 - our own names
        for index, table in enumerate(tables)
    )
    with connection.cursor() as cursor:
        cursor.execute(probes)
        return [tables[row[0]] for row in cursor.fetchall()]


def _read(connection) -> dict[str, object]:
    tables = sorted(connection.introspection.django_table_names(only_existing=True, include_views=False))
    quote = connection.ops.quote_name
    snapshot: dict[str, object] = {}
    with connection.cursor() as cursor:
        for table in _holding(connection, tables):
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {quote(table)} TO STDOUT") as copy:
                    snapshot[table] = b"".join(bytes(block) for block in copy)
            else:
                cursor.execute(f"SELECT * FROM {quote(table)}")  # noqa: S608 - our own names
                snapshot[table] = cursor.fetchall()
    return snapshot


def _write(connection, snapshot: dict[str, object]) -> None:
    quote = connection.ops.quote_name
    with atomic(using=connection.alias), connection.constraint_checks_disabled():
        with connection.cursor() as cursor:
            for table, held in snapshot.items():
                if connection.vendor == "postgresql":
                    with cursor.cursor.copy(f"COPY {quote(table)} FROM STDIN") as copy:
                        copy.write(held)
                elif held:
                    marks = ", ".join(["%s"] * len(held[0]))
                    cursor.executemany(f"INSERT INTO {quote(table)} VALUES ({marks})", held)  # noqa: S608
        connection.check_constraints(table_names=list(snapshot))


def deserialize_db_from_string(self, data):
    connection = self.connection
    if connection.vendor not in ("postgresql", "sqlite") or not _emptied(connection):
        return _original(self, data)
    key = (connection.settings_dict["NAME"], data)
    snapshot = _snapshots.get(key)
    if snapshot is None:
        _original(self, data)
        _snapshots[key] = _read(connection)
    else:
        _write(connection, snapshot)
    return None


def install() -> None:
    BaseDatabaseCreation.deserialize_db_from_string = deserialize_db_from_string
