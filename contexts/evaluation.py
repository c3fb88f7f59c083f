"""Finding patterns: each rule's query and the sliding window over it.

A rule's *subject* is what the referrals share: a school, a place, a child, a group of
children. For each subject the referrals are put in order of receipt and a window of the
rule's months slides over them; every window holding a pattern (``threshold`` referrals or
more, and for the child rule at least one naming the child as alleged perpetrator) marks its
referrals, and overlapping windows make one pattern. The windows slide over the whole record,
so the 2017-2019 cases raise their alerts today as they would have then.

Two ways in, the same code:

- :func:`patterns_for_referral`: when a referral is saved, only the rules it can affect
  (it must be in the rule's scope) and only its own subjects (its schools, its place, its
  children), over referrals received within one window either side of it. A fixed number of
  queries whatever the size of the record: one for the referral, one per rule in scope. The
  school rules read the school index (``contexts.school_index``), which the saves keep in
  step.
- :func:`patterns_all`: the nightly run, every subject of a rule in one query.

Only the pseudonymous facts are read (ids, roles, dates); the exempt ones (a child's school,
a place's key) are read in SQL to group by and go no further than the context they make.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from contexts.models import PatternRule, SchoolReferral
from referrals.models import Referral, ReferralChild, ReferralDetail

Kind = PatternRule.Kind
VICTIM = ReferralChild.Role.VICTIM
ALLEGED = ReferralChild.Role.ALLEGED_PERPETRATOR
ROLES = (VICTIM, ALLEGED)


@dataclass(frozen=True)
class Pattern:
    """Referrals that together match a rule. ``subject`` says what they share, pseudonymously:
    ``school:<id>``, ``place:<key>`` (exempt: resolved to a context before it is stored),
    ``child:<id>`` or ``group:<id>-<id>``."""

    kind: str
    subject: str
    referral_ids: frozenset[int]


@dataclass
class Item:
    on: dt.date
    referral_id: int
    role: str = ""


@dataclass
class Target:
    """The referral a check is about, with what the rules need to know of it (two queries:
    the referral, and its children with their roles and schools). The rules' queries then name
    its children and schools as literal lists, which the planner answers from the indexes on
    them, however many referrals there are."""

    pk: int
    received_at: dt.datetime
    is_peer_on_peer: bool
    disposed: bool
    is_sexual: bool
    place_key: str = field(repr=False, default="")
    #: (child id, role, school id or None) for each child of the referral.
    links: list[tuple[int, str, int | None]] = field(repr=False, default_factory=list)

    @property
    def children(self) -> list[int]:
        return sorted({child for child, _role, _school in self.links})

    @property
    def named_children(self) -> list[int]:
        """Children named as victim or alleged perpetrator."""
        return sorted({child for child, role, _school in self.links if role in ROLES})

    @property
    def schools(self) -> list[int]:
        return sorted({school for _c, role, school in self.links if role in ROLES and school is not None})

    @property
    def same_schools(self) -> list[int]:
        victims = {school for _c, role, school in self.links if role == VICTIM and school is not None}
        alleged = {school for _c, role, school in self.links if role == ALLEGED and school is not None}
        return sorted(victims & alleged)


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` months earlier (the month's last day when it has no such day)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def months_after(day: dt.date, months: int) -> dt.date:
    return months_before(day, -months)


def windows(
    items: list[Item], *, months: int, qualifies: Callable[[list[Item]], bool]
) -> list[frozenset[int]]:
    """The patterns among one subject's referrals: the referrals of every window of ``months``
    (received on or after the same day ``months`` earlier) that ``qualifies``, overlapping
    windows merged. ``items`` in any order.

    A window is a slice ``items[start:end + 1]`` of the sorted items. A :class:`Threshold`
    (what the rules use) is answered from running counts, so a subject of n referrals costs
    O(n), not O(n x window): a school's thousand referrals within a window either side made the
    old way (a set of the window's referrals built for every window) the check's largest cost.
    Any other ``qualifies`` is given the window's items, as before."""
    items = sorted(items, key=lambda i: (i.on, i.referral_id))
    if not items:
        return []
    # run[k]: how many distinct referrals come before items[k]'s. A referral's items share its
    # day, so they are next to each other; hand-made items where they are not take the old way.
    run = [0] * len(items)
    for k in range(1, len(items)):
        run[k] = run[k - 1] + (items[k].referral_id != items[k - 1].referral_id)
    if run[-1] + 1 != len({i.referral_id for i in items}):
        return _windows_by_sets(items, months=months, qualifies=qualifies)
    if isinstance(qualifies, Threshold):
        alleged = [0]
        for item in items:
            alleged.append(alleged[-1] + (item.role == ALLEGED))

        def holds(start: int, end: int) -> bool:
            if run[end] - run[start] + 1 < qualifies.referrals:
                return False
            return not qualifies.alleged or alleged[end + 1] > alleged[start]

    else:

        def holds(start: int, end: int) -> bool:
            return qualifies(items[start : end + 1])

    # Each pattern as [first, last] index: overlapping windows (sharing a referral) make one
    # contiguous slice, since a window starts at the first item of its earliest referral.
    found: list[list[int]] = []
    start = 0
    for end, last in enumerate(items):
        earliest = months_before(last.on, months)
        while items[start].on < earliest:
            start += 1
        if not holds(start, end):
            continue
        if found and run[start] <= run[found[-1][1]]:
            found[-1][1] = end
        else:
            found.append([start, end])
    return [frozenset(i.referral_id for i in items[first : last + 1]) for first, last in found]


def _windows_by_sets(
    items: list[Item], *, months: int, qualifies: Callable[[list[Item]], bool]
) -> list[frozenset[int]]:
    """:func:`windows` for sorted items whose referrals are not next to each other."""
    found: list[set[int]] = []
    start = 0
    for end, last in enumerate(items):
        earliest = months_before(last.on, months)
        while items[start].on < earliest:
            start += 1
        window = items[start : end + 1]
        if not qualifies(window):
            continue
        ids = {i.referral_id for i in window}
        if found and found[-1] & ids:
            found[-1] |= ids
        else:
            found.append(ids)
    return [frozenset(ids) for ids in found]


@dataclass(frozen=True)
class Threshold:
    """A window qualifies with ``referrals`` distinct referrals or more, and (``alleged``) one
    item at least naming the subject as alleged perpetrator. Callable on a window's items;
    :func:`windows` answers it from running counts instead."""

    referrals: int
    alleged: bool = False

    def __call__(self, window: list[Item]) -> bool:
        if len({i.referral_id for i in window}) < self.referrals:
            return False
        return not self.alleged or any(i.role == ALLEGED for i in window)


def _count(rule: PatternRule) -> Threshold:
    return Threshold(rule.threshold)


def _child_pattern(rule: PatternRule) -> Threshold:
    return Threshold(rule.threshold, alleged=True)


def _local_day(value: dt.datetime, zone: dt.tzinfo | None = None) -> dt.date:
    """The local day of ``value``: ``zone`` is the current time zone, looked up once by a caller
    converting many rows (the look-up costs more than the conversion)."""
    return timezone.localtime(value, zone).date()


# --- scope ---------------------------------------------------------------------------------------


def _sexual_exists(ref: str) -> Exists:
    links = Referral.forms_of_abuse.through.objects.filter(
        referral_id=OuterRef(ref), abuseform__is_sexual=True
    )
    return Exists(links)


def _scope(rule: PatternRule, *, via: str) -> Q:
    """Referrals a rule counts: peer-on-peer, not disposed of, sexual if the rule says so.
    ``via``: the path to the referral from the queried model ("referral__" or "")."""
    q = Q(**{f"{via}is_peer_on_peer": True, f"{via}disposed_at__isnull": True})
    if rule.sexual_only:
        q &= Q(_sexual_exists(f"{via}pk" if via else "pk"))
    return q


def in_scope(rule: PatternRule, target: Target) -> bool:
    """Whether saving ``target`` can change what ``rule`` finds: it is a referral the rule
    counts, and it has what the rule groups by (a place, a school, a named child, two children)."""
    if not target.is_peer_on_peer or target.disposed:
        return False
    if rule.sexual_only and not target.is_sexual:
        return False
    has = {
        Kind.PLACE: bool(target.place_key),
        Kind.SCHOOL: bool(target.schools),
        Kind.SAME_SCHOOL: bool(target.same_schools),
        Kind.CHILD: bool(target.named_children),
        Kind.GROUP: len(target.children) >= 2,
    }
    return has[rule.kind]


def target_get(referral_id: int) -> Target | None:
    row = (
        Referral.objects.filter(pk=referral_id)
        .annotate(is_sexual=_sexual_exists("pk"))
        .values(
            "pk", "received_at", "is_peer_on_peer", "disposed_at", "is_sexual", "detail__incident_place_key"
        )
        .first()
    )
    if row is None:
        return None
    links = list(
        ReferralChild.objects.filter(referral_id=referral_id).values_list(
            "child_id", "role", "child__school_id"
        )
    )
    return Target(
        links=links,
        pk=row["pk"],
        received_at=row["received_at"],
        is_peer_on_peer=row["is_peer_on_peer"],
        disposed=row["disposed_at"] is not None,
        is_sexual=row["is_sexual"],
        place_key=row["detail__incident_place_key"] or "",
    )


# --- each rule's rows: (subject, referral id, received at[, role]) ------------------------------


def _range(rule: PatternRule, target: Target | None, *, via: str) -> Q:
    if target is None:
        return Q()
    day = _local_day(target.received_at)
    zone = timezone.get_current_timezone()
    # Whole local days: the windows count in days, the column is a timestamp.
    low = dt.datetime.combine(months_before(day, rule.window_months), dt.time.min, tzinfo=zone)
    high = dt.datetime.combine(
        months_after(day, rule.window_months) + dt.timedelta(days=1), dt.time.min, tzinfo=zone
    )
    return Q(**{f"{via}received_at__gte": low, f"{via}received_at__lt": high})


def _links(rule: PatternRule, target: Target | None) -> QuerySet:
    return ReferralChild.objects.filter(
        _scope(rule, via="referral__"), _range(rule, target, via="referral__")
    )


def _indexed_school_rows(
    rule: PatternRule, target: Target, schools: list[int], *, same: bool
) -> Iterable[tuple]:
    """A check's school rows, from the school index (``contexts.school_index``, kept in step by
    the saves): the window's rows of its schools, read by school and date."""
    rows = SchoolReferral.objects.filter(
        _scope(rule, via="referral__"),
        _range(rule, target, via=""),
        school_id__in=schools,
    )
    if same:
        rows = rows.filter(same_school=True)
    rows = rows.order_by().values_list("school_id", "referral_id", "received_at").distinct()
    return ((f"school:{school}", referral, received, "") for school, referral, received in rows)


def _school_rows(rule: PatternRule, target: Target | None) -> Iterable[tuple]:
    if target is not None:
        return _indexed_school_rows(rule, target, target.schools, same=False)
    links = _links(rule, None).filter(role__in=ROLES, child__school__isnull=False)
    rows = links.order_by().values_list("child__school_id", "referral_id", "referral__received_at").distinct()
    return ((f"school:{school}", referral, received, "") for school, referral, received in rows)


def _same_school_links() -> QuerySet:
    """Victims with an alleged perpetrator at their school in the same referral."""
    alleged = ReferralChild.objects.filter(
        referral_id=OuterRef("referral_id"), role=ALLEGED, child__school_id=OuterRef("child__school_id")
    )
    return ReferralChild.objects.filter(role=VICTIM, child__school__isnull=False).filter(Exists(alleged))


def _same_school_rows(rule: PatternRule, target: Target | None) -> Iterable[tuple]:
    if target is not None:
        return _indexed_school_rows(rule, target, target.same_schools, same=True)
    links = _same_school_links().filter(_scope(rule, via="referral__"))
    rows = links.order_by().values_list("child__school_id", "referral_id", "referral__received_at").distinct()
    return ((f"school:{school}", referral, received, "") for school, referral, received in rows)


def _child_rows(rule: PatternRule, target: Target | None) -> Iterable[tuple]:
    links = _links(rule, target).filter(role__in=ROLES)
    if target is not None:
        links = links.filter(
            child_id__in=ReferralChild.objects.filter(referral_id=target.pk, role__in=ROLES).values(
                "child_id"
            )
        )
    rows = links.order_by().values_list("child_id", "referral_id", "referral__received_at", "role")
    return ((f"child:{child}", referral, received, role) for child, referral, received, role in rows)


def _place_rows(rule: PatternRule, target: Target | None) -> Iterable[tuple]:
    details = ReferralDetail.objects.filter(
        _scope(rule, via="referral__"), _range(rule, target, via="referral__")
    )
    details = (
        details.filter(incident_place_key=target.place_key)
        if target is not None
        else details.exclude(incident_place_key="")
    )
    rows = details.order_by().values_list("incident_place_key", "referral_id", "referral__received_at")
    return ((f"place:{key}", referral, received, "") for key, referral, received in rows)


def _group_patterns(rule: PatternRule, target: Target | None) -> list[Pattern]:
    """Groups of two or more children named together in ``threshold`` referrals or more.

    A group is what two referrals' children have in common (at least two children); its
    referrals are those naming every child of it."""
    links = _links(rule, target)
    if target is not None:
        links = links.filter(
            child_id__in=ReferralChild.objects.filter(referral_id=target.pk).values("child_id")
        )
    children: dict[int, set[int]] = defaultdict(set)
    received: dict[int, dt.date] = {}
    zone = timezone.get_current_timezone()
    for referral_id, child_id, received_at in links.values_list(
        "referral_id", "child_id", "referral__received_at"
    ):
        children[referral_id].add(child_id)
        received[referral_id] = _local_day(received_at, zone)
    by_child: dict[int, list[int]] = defaultdict(list)
    for referral_id, kids in children.items():
        if len(kids) >= 2:
            for child_id in kids:
                by_child[child_id].append(referral_id)
    groups: set[frozenset[int]] = set()
    sources = [target.pk] if target is not None else sorted(children)
    for referral_id in sources:
        kids = children.get(referral_id, set())
        if len(kids) < 2:
            continue
        others = {other for child_id in kids for other in by_child[child_id] if other != referral_id}
        for other in others:
            shared = kids & children[other]
            if len(shared) >= 2:
                groups.add(frozenset(shared))
    patterns = []
    for group in groups:
        members = [Item(received[r], r) for r, kids in children.items() if group <= kids]
        subject = "group:" + "-".join(str(c) for c in sorted(group))
        for ids in windows(members, months=rule.window_months, qualifies=_count(rule)):
            if target is None or target.pk in ids:
                patterns.append(Pattern(rule.kind, subject, ids))
    return patterns


_ROWS = {
    Kind.SCHOOL: _school_rows,
    Kind.SAME_SCHOOL: _same_school_rows,
    Kind.CHILD: _child_rows,
    Kind.PLACE: _place_rows,
}


def _patterns(rule: PatternRule, target: Target | None) -> list[Pattern]:
    if rule.kind == Kind.GROUP:
        return _group_patterns(rule, target)
    by_subject: dict[str, list[Item]] = defaultdict(list)
    zone = timezone.get_current_timezone()
    for subject, referral_id, received_at, role in _ROWS[rule.kind](rule, target):
        by_subject[subject].append(Item(_local_day(received_at, zone), referral_id, role))
    qualifies = _child_pattern(rule) if rule.kind == Kind.CHILD else _count(rule)
    found = []
    for subject, items in sorted(by_subject.items()):
        for ids in windows(items, months=rule.window_months, qualifies=qualifies):
            if target is None or target.pk in ids:
                found.append(Pattern(rule.kind, subject, ids))
    return found


def patterns_for_referral(rule: PatternRule, target: Target) -> list[Pattern]:
    """The patterns ``target`` is part of under ``rule`` (none if it is out of the rule's scope)."""
    if not rule.active or not in_scope(rule, target):
        return []
    return _patterns(rule, target)


def patterns_all(rule: PatternRule) -> list[Pattern]:
    """Every pattern of ``rule`` in the whole record (the nightly run)."""
    if not rule.active:
        return []
    return _patterns(rule, None)
