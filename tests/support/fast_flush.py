"""Emptying the PostgreSQL test database after a live-server test in a fraction of a second.

A test that commits (browser tests and other ``transactional_db`` tests) ends with Django's
``flush``, which on PostgreSQL is one ``TRUNCATE`` of every table: about 3 to 5 s for this
project's 150 tables, however few rows they hold, because each table gets new files. The
suite runs about fifty such tests. ``DELETE FROM`` each table does the same to the few rows a
test leaves in about 0.2 s: Django makes every foreign key ``DEFERRABLE INITIALLY DEFERRED``
and ``flush`` runs in one transaction, so the order does not matter.

Two tables refuse ``DELETE`` on purpose (the access log and the security events are
append-only, by triggers that ``TRUNCATE`` does not fire), so they, and every table that
refers to them, are still truncated, together. A flush that resets sequences or cascades
(``available_apps``) is Django's own.
"""

from __future__ import annotations

from django.db.backends.postgresql.operations import DatabaseOperations

_original = DatabaseOperations.sql_flush

# Tables with triggers of their own (not Django's), and every table that refers to one of them.
_MUST_TRUNCATE = """
WITH RECURSIVE guarded(rel) AS (
    SELECT tgrelid FROM pg_trigger WHERE NOT tgisinternal
    UNION
    SELECT c.conrelid FROM pg_constraint c JOIN guarded ON c.confrelid = guarded.rel WHERE c.contype = 'f'
)
SELECT relname FROM pg_class JOIN guarded ON pg_class.oid = guarded.rel
"""


def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
    if reset_sequences or allow_cascade or not tables:
        return _original(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
    with self.connection.cursor() as cursor:
        cursor.execute(_MUST_TRUNCATE)
        guarded = {row[0] for row in cursor.fetchall()}
    delete = f"{style.SQL_KEYWORD('DELETE')} {style.SQL_KEYWORD('FROM')}"
    statements = [
        f"{delete} {style.SQL_FIELD(self.quote_name(table))};" for table in tables if table not in guarded
    ]
    truncate = [table for table in tables if table in guarded]
    if truncate:
        statements += _original(self, style, truncate)
    return statements


def install() -> None:
    DatabaseOperations.sql_flush = sql_flush
