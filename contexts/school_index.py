"""The school rules' index: a row per (school, referral) with the referral's date
(``contexts.models.SchoolReferral``).

The per-referral check of the school rules wants the referrals under the referral's schools
within a window either side of it. The referrals' own tables reach them only through every
child each school ever had (about 7,000 children for a referral at two schools of 100,000
referrals, whatever the window); the index reads the window's rows by school and date.

It is derived from the referrals, children and their schools, and kept three ways:

- :func:`refresh_saved`: when referrals are saved, in the saving transaction (the
  ``referrals.changes`` listener), their rows and those of every referral sharing a child with
  them (a child's school corrected on one referral is the child's school on all of them), so
  the checks after the commit, in whatever order, read what the referrals now say;
- :func:`rebuild`: the nightly run (and a large import's full run) compares the whole table
  with the referrals and writes the difference, so anything changed another way is right
  again by the next night, as the alerts are;
- :func:`erase`: a referral's disposal takes its rows (which school a child attends is exempt).

Rows of a referral may be written twice when a save and the nightly rebuild run at once;
readers ask for distinct rows, and the referral's next refresh leaves one of each. The rebuild
and a disposal's erasing take turns on an advisory lock (PostgreSQL), so a disposed referral is
never written back.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Q

from contexts.models import SchoolReferral
from referrals.models import Child, Referral, ReferralChild

VICTIM = ReferralChild.Role.VICTIM
ALLEGED = ReferralChild.Role.ALLEGED_PERPETRATOR


def _rows(referrals: Q) -> list[SchoolReferral]:
    links = (
        ReferralChild.objects.filter(
            referrals,
            role__in=(VICTIM, ALLEGED),
            child__school__isnull=False,
            referral__disposed_at__isnull=True,
        )
        .order_by()
        .values_list("referral_id", "child__school_id", "role", "referral__received_at")
    )
    roles: dict[tuple[int, int], set[str]] = defaultdict(set)
    received = {}
    for referral_id, school_id, role, received_at in links:
        roles[(school_id, referral_id)].add(role)
        received[(school_id, referral_id)] = received_at
    return [
        SchoolReferral(
            school_id=school_id,
            referral_id=referral_id,
            received_at=received[(school_id, referral_id)],
            same_school={VICTIM, ALLEGED} <= held,
        )
        for (school_id, referral_id), held in sorted(roles.items())
    ]


#: Referrals refreshed per statement (SQLite allows 32,766 parameters; PostgreSQL more).
CHUNK = 2_000
#: The advisory lock of the school index (an arbitrary constant, unique in this database).
LOCK_KEY = 7_240_011


def refresh(*, referral_ids: Iterable[int]) -> None:
    """Write these referrals' rows again from the referrals (three queries a chunk)."""
    ids = sorted(set(referral_ids))
    with transaction.atomic():
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            SchoolReferral.objects.filter(referral_id__in=chunk).delete()
            SchoolReferral.objects.bulk_create(_rows(Q(referral_id__in=chunk)))


def refresh_saved(*, referral_ids: Iterable[int]) -> None:
    """In the saving transaction (the ``referrals.changes`` listener): the saved referrals'
    rows, and those of the referrals sharing a child with them (a child's school corrected on
    one referral is the child's school on all of them). Every check after the commit then reads
    rows as the referrals now are, whichever of a batch's checks runs first."""
    ids = sorted(set(referral_ids))
    if not ids:
        return
    sharing: set[int] = set()
    for start in range(0, len(ids), CHUNK):
        children = ReferralChild.objects.filter(referral_id__in=ids[start : start + CHUNK]).values("child_id")
        sharing |= set(
            ReferralChild.objects.filter(child_id__in=children)
            .order_by()
            .values_list("referral_id", flat=True)
        )
    refresh(referral_ids=sharing | set(ids))


def _serialise_with_disposal(cursor) -> None:
    """The nightly rebuild and a disposal's erasing take turns (PostgreSQL; SQLite writes one
    transaction at a time anyway): a referral disposed of while the rebuild compares cannot be
    written back after its rows were erased."""
    if connection.vendor == "postgresql":
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])


@dataclass(frozen=True)
class Rebuilt:
    added: int
    removed: int


#: The rows the referrals say, as one SELECT (table names filled in by :func:`rebuild`).
_FRESH = (
    "SELECT c.school_id, rc.referral_id, r.received_at, "
    "(SUM(CASE WHEN rc.role = %s THEN 1 ELSE 0 END) > 0 "
    "AND SUM(CASE WHEN rc.role = %s THEN 1 ELSE 0 END) > 0) AS same_school "
    "FROM {links} rc JOIN {children} c ON c.id = rc.child_id JOIN {referrals} r ON r.id = rc.referral_id "
    "WHERE rc.role IN (%s, %s) AND c.school_id IS NOT NULL AND r.disposed_at IS NULL "
    "GROUP BY c.school_id, rc.referral_id, r.received_at"
)
_SAME = "{a}.school_id = {b}.school_id AND {a}.referral_id = {b}.referral_id " + (
    "AND {a}.received_at = {b}.received_at AND {a}.same_school = {b}.same_school"
)


def rebuild() -> Rebuilt:
    """The nightly run: the rows the referrals say, compared with the index in SQL; only the
    difference is written (on a normal night, nothing), so the table is not rewritten whole."""
    table = SchoolReferral._meta.db_table
    fresh = _FRESH.format(
        links=ReferralChild._meta.db_table, children=Child._meta.db_table, referrals=Referral._meta.db_table
    )
    with transaction.atomic(), connection.cursor() as cursor:
        _serialise_with_disposal(cursor)
        cursor.execute("DROP TABLE IF EXISTS contexts_school_index_fresh")
        cursor.execute(
            f"CREATE TEMPORARY TABLE contexts_school_index_fresh AS {fresh}",
            [VICTIM, ALLEGED, VICTIM, ALLEGED],
        )
        cursor.execute(
            f"DELETE FROM {table} WHERE NOT EXISTS (SELECT 1 FROM contexts_school_index_fresh f "  # noqa: S608
            f"WHERE {_SAME.format(a='f', b=table)})"
        )
        removed = cursor.rowcount
        cursor.execute(
            f"INSERT INTO {table} (school_id, referral_id, received_at, same_school) "  # noqa: S608
            "SELECT f.school_id, f.referral_id, f.received_at, f.same_school "
            "FROM contexts_school_index_fresh f "
            f"WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {_SAME.format(a='t', b='f')})"
        )
        added = cursor.rowcount
        cursor.execute("DROP TABLE contexts_school_index_fresh")
        if (added or removed) and connection.vendor == "postgresql":
            # Fresh statistics, so the checks' plans see the rows as they now are.
            cursor.execute(f"ANALYZE {table}")
    return Rebuilt(added=added, removed=removed)


def erase(*, record_id: int, user, reason: str) -> None:
    """Before a referral is disposed of (a ``core.retention`` eraser): its rows go. Waits for a
    nightly rebuild under way, which then no longer sees the referral as kept."""
    with connection.cursor() as cursor:
        _serialise_with_disposal(cursor)
    SchoolReferral.objects.filter(referral_id=record_id).delete()
