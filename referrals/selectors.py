"""Reads of referrals. Views ask these functions; they never build querysets themselves."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from dataclasses import dataclass, field
from operator import attrgetter

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_cte import CTE, with_cte

from core import permissions, retention
from core.exempt import mask, shown_fields
from core.history import HistoryEntry, history_entries
from core.roles import MASH_ROLES, user_roles
from core.timescales import age_on
from referrals.models import (
    AbuseForm,
    CaseNote,
    Child,
    Outcome,
    Referral,
    ReferralChild,
    ReferralDecision,
    ReferralDetail,
)

PAGE_SIZE = 25
COUNT_CAP = 1000


class TrayView:
    ALL = "all"
    MINE = "mine"
    AWAITING = "awaiting"
    OVERDUE = "overdue"
    LABELS = {
        AWAITING: "Awaiting decision",
        OVERDUE: "Overdue",
        MINE: "My referrals",
        ALL: "All referrals",
    }


# Keyset orderings: (field, descending). The id breaks ties so every row has one place.
_ORDERINGS = {
    TrayView.ALL: ("received_at", True),
    TrayView.MINE: ("received_at", True),
    TrayView.AWAITING: ("decision_due_at", False),
    TrayView.OVERDUE: ("decision_due_at", False),
}


def referrals_visible_to(*, user) -> QuerySet[Referral]:
    """Every referral the user may open, pseudonymised unless they may also see identities.

    MASH roles and information governance open any referral; anyone else only those they
    hold a live grant on (a reviewer's assigned cases, say). Filtered in SQL.
    """
    if permissions.can_open_referrals(user):
        return Referral.objects.all()
    return permissions.filter_granted(Referral.objects.all(), user=user)


def referrals_identifiable_by(*, user) -> QuerySet[Referral]:
    """Referrals whose identities the user may see now: a live grant and a verified session."""
    if not permissions.is_verified(user):
        return Referral.objects.none()
    return permissions.filter_granted(Referral.objects.all(), user=user)


# Every reference is "MASH-", the year, "-" and a number (services._next_reference), so only
# a term like this can be the start of one.
_REFERENCE_SHAPE = re.compile(r"(MASH-)?[0-9-]*")


def referral_search_filter(*, user, term: str) -> Q:
    """Search by reference (prefix) and by a child's name (prefix per word).

    A name only ever matches referrals whose identities the user may see: a name search
    never matches, counts or hints at anything else.
    """
    term = " ".join(term.split())
    if not term:
        return Q()
    words = name_search_words(user=user, term=term)
    if words:
        return Q(pk__in=_identifiable_referrals_named(user=user, words=words))
    upper = term.upper()
    if "MASH-".startswith(upper):
        return Q()  # "M", "MA" ... "MASH-" begin every reference: everything matches
    by_reference = Q(reference__startswith=upper)
    if not upper.startswith("MASH-"):
        by_reference |= Q(reference__startswith=f"MASH-{upper}")
    if _REFERENCE_SHAPE.fullmatch(upper):
        # Only a reference can match. As an IN over a query PostgreSQL finds the few matches
        # by the reference index and sorts just those, instead of walking the whole tray.
        return Q(pk__in=Referral.objects.filter(by_reference).order_by().values("pk"))
    return by_reference


#: A name word must have this many letters; shorter ones would match most children.
NAME_WORD_MIN = 2
#: At most this many children are matched by a name search (the words are prefixes).
NAME_MATCH_CAP = 20_000


def name_search_words(*, user, term: str) -> list[str]:
    """The words a search term looks for in children's names; none when it is not a name search.

    Names are exempt, so only a verified session searches them; and a term only a reference
    can match (``MASH-2019-00``, ``2019``) is not a name.
    """
    term = " ".join(term.split())
    upper = term.upper()
    if not term or not permissions.is_verified(user) or "MASH-".startswith(upper):
        return []
    if _REFERENCE_SHAPE.fullmatch(upper):
        return []
    return [w.lower() for w in term.split() if len(w) >= NAME_WORD_MIN][:4]


def name_search_capped(*, user, term: str) -> bool:
    """Whether more children match the term's name words than a search looks at
    (``NAME_MATCH_CAP``): then the results may be missing referrals, and the user is told."""
    words = name_search_words(user=user, term=term)
    if not words:
        return False
    return bool(list(_children_named(words)[NAME_MATCH_CAP : NAME_MATCH_CAP + 1]))


def _children_named(words: list[str]):
    """Children whose first or last name starts with each word, as ids (a child whose first and
    last names both start with the first word comes twice)."""
    first, *others = words
    other_words = Q()
    for word in others:
        other_words &= Q(first_name_key__startswith=word) | Q(last_name_key__startswith=word)
    named = Child.objects.filter(other_words).order_by().values("pk")
    # UNION ALL spares sorting the matches to find the pairs; the caller's IN absorbs them.
    return named.filter(last_name_key__startswith=first).union(
        named.filter(first_name_key__startswith=first), all=True
    )


def _identifiable_referrals_named(*, user, words: list[str]) -> list[int]:
    """Referrals the user may identify with a child whose first or last name starts with
    each word: one query, whatever the size of the tables.

    Every match starts its last or its first name with the first word, so the children come
    from a range of each covering name index (``child_last_first_idx``,
    ``child_first_last_idx``), further words checked on the index entries, and their
    referrals from ``referral_child_by_child_idx``: on PostgreSQL, index-only scans. Those
    links are a materialised CTE and the user's grants are checked on just them, each
    grant table hashed once. Without the CTE the planner pushes the grant check down into
    the link scan, charges the grant subqueries once per child and reads the whole link
    table instead (see docs/performance.md)."""
    children = _children_named(words)[:NAME_MATCH_CAP]
    links = CTE(
        ReferralChild.objects.filter(child_id__in=children).order_by().values("referral_id"),
        name="named_links",
        materialized=True,
    )
    identifiable = permissions.filter_granted(links.queryset(), user=user, via="referral")
    ids = with_cte(links, select=identifiable).order_by("referral_id").values_list("referral_id", flat=True)
    return list(ids.distinct())


def referrals_with_school(*, user, school) -> QuerySet:
    """Referrals the user may identify with a child at ``school``, as a subquery of ids.

    Which school a child attends is exempt: a filter on it must not match, count or hint at a
    referral whose identities the user may not see (it would tell them the school).
    """
    if not permissions.is_verified(user):
        return ReferralChild.objects.none().values("referral_id")
    links = ReferralChild.objects.filter(child__school=school).order_by()
    return permissions.filter_granted(links, user=user, via="referral").values("referral_id")


@dataclass
class TrayPage:
    rows: list[Referral]
    next_cursor: str | None
    previous_cursor: str | None
    count: int
    count_capped: bool
    #: Rows whose children's names the page shows (for the access log); the others are masked.
    identified: list[Referral] = field(default_factory=list)


#: What the tray shows of a referral's children when the user may identify it; and, for the
#: results of a search, enough to tell children of the same name apart.
TRAY_SHOWS = {Child: ["first_name", "last_name"]}
TRAY_SEARCH_SHOWS = {Child: ["first_name", "last_name", "date_of_birth", "school"]}


@dataclass(frozen=True)
class TrayChild:
    label: str
    role: str
    #: None where the user may not identify the referral (then the row shows "Child A").
    name: str | None = None
    child_id: int | None = None
    born: dt.date | None = None
    school: str = ""


def _tray_children(*, user, rows: list[Referral], details: bool = False) -> list[Referral]:
    """Give each row ``tray_children`` (``TrayChild``): names for the rows the user may identify,
    with date of birth and school too when ``details`` (a search's results); the label and role
    only otherwise. Returns the identified rows."""
    identifiable = permissions.exempt_ids(Referral, user=user, ids=[r.pk for r in rows])
    by_referral: dict[int, list[ReferralChild]] = {}
    links = ReferralChild.objects.filter(referral_id__in=[r.pk for r in rows]).select_related("child__school")
    for link in links:
        by_referral.setdefault(link.referral_id, []).append(link)
    for row in rows:
        shown = row.pk in identifiable
        row.tray_children = [
            TrayChild(
                label=link.label,
                role=link.get_role_display(),
                name=f"{link.child.first_name} {link.child.last_name}",
                child_id=link.child_id,
                born=link.child.date_of_birth if details else None,
                school=link.child.school.name if details and link.child.school else "",
            )
            if shown
            else TrayChild(label=link.label, role=link.get_role_display())
            for link in sorted(by_referral.get(row.pk, []), key=attrgetter("label"))
        ]
    return [r for r in rows if r.pk in identifiable]


def referrals_with_children(*, user, rows: list[Referral]) -> list[Referral]:
    """Give each referral ``tray_children`` as the tray does: the children's names where the user
    may identify the referral, "Child A" and the role otherwise. Returns the identified rows,
    for the access log (``TRAY_SHOWS``)."""
    return _tray_children(user=user, rows=rows)


def _encode_cursor(value: dt.datetime, pk: int, backwards: bool) -> str:
    raw = json.dumps([value.isoformat(), pk, backwards]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[dt.datetime, int, bool] | None:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, pk, backwards = json.loads(base64.urlsafe_b64decode(padded.encode()))
        moment = parse_datetime(value)
        if moment is None or not isinstance(pk, int) or not isinstance(backwards, bool):
            return None
        return moment, pk, backwards
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        return None


def referral_tray(
    *, user, view: str, queryset: QuerySet[Referral], cursor: str | None = None, details: bool = False
) -> TrayPage:
    """One page of the work tray: keyset pagination, so page 4,000 costs what page 1 does.
    ``details``: the children's dates of birth and schools too (a search's results)."""
    now = timezone.now()
    if view == TrayView.MINE:
        queryset = queryset.filter(created_by=user)
    elif view == TrayView.AWAITING:
        queryset = queryset.filter(status__in=Referral.OPEN_STATUSES)
    elif view == TrayView.OVERDUE:
        queryset = queryset.filter(status__in=Referral.OPEN_STATUSES, decision_due_at__lt=now)
    field, descending = _ORDERINGS.get(view, _ORDERINGS[TrayView.ALL])

    position = _decode_cursor(cursor) if cursor else None
    backwards = bool(position and position[2])
    page_qs = queryset
    if position:
        value, pk, _ = position
        # Going forwards on a descending order means smaller values, and so on.
        smaller = descending != backwards
        op = "lt" if smaller else "gt"
        # The first condition follows from the second; it is there so the index scan starts at
        # the cursor instead of walking past every row before it (an OR alone only filters).
        page_qs = page_qs.filter(
            Q(**{f"{field}__{op}e": value}),
            Q(**{f"{field}__{op}": value}) | Q(**{field: value, f"pk__{op}": pk}),
        )
    reverse = descending != backwards
    ordering = (f"-{field}", "-pk") if reverse else (field, "pk")
    rows = list(
        page_qs.order_by(*ordering)
        .select_related("rag", "source")
        .prefetch_related("forms_of_abuse")[: PAGE_SIZE + 1]
    )
    has_more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    if backwards:
        rows.reverse()

    next_cursor = previous_cursor = None
    if rows:
        first, last = rows[0], rows[-1]
        if has_more or backwards:
            next_cursor = _encode_cursor(getattr(last, field), last.pk, False)
        if position and (has_more or not backwards):
            previous_cursor = _encode_cursor(getattr(first, field), first.pk, True)
        if backwards and not has_more:
            previous_cursor = None
    for row in rows:
        row.is_overdue = row.is_open and row.decision_due_at < now
    # A disposed referral's row says so, with its certificate (one query, only when there is one).
    disposals = retention.disposals("referral", [row.pk for row in rows if row.disposed_at])
    for row in rows:
        row.disposal = disposals.get(row.pk)
    count = queryset.order_by()[: COUNT_CAP + 1].count()
    identified = _tray_children(user=user, rows=rows, details=details)
    return TrayPage(
        identified=identified,
        rows=rows,
        next_cursor=next_cursor,
        previous_cursor=previous_cursor,
        count=min(count, COUNT_CAP),
        count_capped=count > COUNT_CAP,
    )


def tray_match_count(*, queryset: QuerySet[Referral]) -> int:
    """How many referrals a search matches in every status (capped like the tray's count)."""
    return min(queryset.order_by()[: COUNT_CAP + 1].count(), COUNT_CAP)


def tray_counts(*, user, queryset: QuerySet[Referral]) -> dict[str, int]:
    """Counts for the tray's tabs (open work is a small, indexed slice of the table).

    One query for both: for a user whose view is filtered by grants, each query reads their
    grants again (see docs/performance.md, "Grants at scale").
    """
    now = timezone.now()
    counts = queryset.filter(status__in=Referral.OPEN_STATUSES).aggregate(
        awaiting=Count("pk"), overdue=Count("pk", filter=Q(decision_due_at__lt=now))
    )
    return {TrayView.AWAITING: counts["awaiting"], TrayView.OVERDUE: counts["overdue"]}


# --- One referral ---------------------------------------------------------------------------


@dataclass
class ChildFacts:
    """A child on a referral. ``child`` is masked unless the viewer may see identities."""

    link: ReferralChild
    child: Child
    age_at_incident: int
    school_phase: str
    school_id: int | None


@dataclass
class OtherReferral:
    """Another referral about a child on this one: pseudonymous facts only. ``identifiable``
    says whether the viewer may open it with identities; a restricted one they may not is
    listed for the MASH team with who to ask (history checks)."""

    referral: Referral
    labels: list[str]
    forms_of_abuse: list[str]
    outcomes: list[str]
    identifiable: bool


@dataclass
class ReferralView:
    referral: Referral
    detail: ReferralDetail
    children: list[ChildFacts]
    same_school: bool | None
    decisions: list[ReferralDecision]
    pending_decision: ReferralDecision | None
    notes: list[CaseNote]
    is_overdue: bool
    decision_within_timescale: bool | None
    exempt_visible: bool
    can_change: bool
    other_referrals: list[OtherReferral] = field(default_factory=list)
    #: How the RAG response due time was worked out (opening hours), or "" without a RAG level.
    #: The exempt fields the page shows (``Model.field``), for the access log: none if masked.
    shown_fields: list[str] = field(default_factory=list)


#: The exempt fields the referral page prints (the address, postcode and search keys it does not).
DETAIL_SHOWS = {
    Child: ["first_name", "last_name", "date_of_birth", "school"],
    ReferralDetail: [
        "referrer_name",
        "referrer_role",
        "referrer_organisation",
        "referrer_contact",
        "narrative",
        "consent_not_sought_reason",
        "incident_place",
    ],
    ReferralDecision: [
        "rationale",
        "advice_notes",
        "guidance_departure_reason",
        "amendment_reason",
        "authorisation_note",
    ],
    CaseNote: ["text"],
}


def referral_get(*, user, pk: int) -> Referral:
    """The referral if the user may open it; Referral.DoesNotExist otherwise (a 404)."""
    return referrals_visible_to(user=user).get(pk=pk)


def referral_view(*, user, pk: int) -> ReferralView:
    referral = (
        referrals_visible_to(user=user)
        .select_related("source", "rag", "detail", "created_by")
        .prefetch_related(
            "forms_of_abuse",
            Prefetch(
                "children",
                queryset=ReferralChild.objects.select_related("child__school").order_by("label"),
            ),
            Prefetch(
                "decisions",
                queryset=ReferralDecision.objects.select_related(
                    "decided_by", "authorised_by"
                ).prefetch_related("outcomes"),
            ),
            Prefetch("notes", queryset=CaseNote.objects.select_related("recorded_by", "corrects")),
        )
        .get(pk=pk)
    )
    visible = permissions.can_see_exempt(user, referral)
    children = [
        ChildFacts(
            link=link,
            child=link.child,
            age_at_incident=age_on(link.child.date_of_birth, referral.incident_date),
            school_phase=link.child.school.get_phase_display() if link.child.school else "Not known",
            school_id=link.child.school_id,
        )
        for link in referral.children.all()
    ]
    same_school = _same_school(children)
    decisions = list(referral.decisions.all())
    notes = list(referral.notes.all())
    detail = referral.detail
    if not visible:
        for item in [detail, *decisions, *notes, *(c.child for c in children)]:
            mask(item)
        for note in notes:
            if note.corrects is not None:
                mask(note.corrects)
        for facts in children:
            facts.school_id = None
    other_referrals = _other_referrals(user=user, referral=referral, children=children) if visible else []
    return ReferralView(
        other_referrals=other_referrals,
        referral=referral,
        detail=detail,
        children=children,
        same_school=same_school,
        decisions=decisions,
        pending_decision=next(
            (d for d in decisions if d.status == ReferralDecision.Status.AWAITING_AUTHORISATION), None
        ),
        notes=notes,
        is_overdue=referral.is_open and referral.decision_due_at < timezone.now(),
        decision_within_timescale=next(
            (d.within_timescale for d in decisions if d.status == ReferralDecision.Status.IN_FORCE), None
        ),
        exempt_visible=visible,
        can_change=permissions.has_grant(user, referral, permissions.CHANGE),
        shown_fields=(
            shown_fields([detail, *decisions, *notes, *(c.child for c in children)], displayed=DETAIL_SHOWS)
            if visible
            else []
        ),
    )


def _other_referrals(*, user, referral: Referral, children: list[ChildFacts]) -> list[OtherReferral]:
    """Other referrals about this referral's children, for a viewer who may identify them here.

    Found through the child's person record (never by a name, date of birth or school), so
    nothing is keyed on an exempt value. A referral the viewer may identify is listed; one they
    may not is listed only when it is restricted and they are MASH staff: a restricted earlier
    referral must not be invisible to a history check (reference, date, form of abuse, outcome,
    who restricted it). Constant queries, whatever the number of children or referrals.
    """
    labels = {facts.link.child_id: facts.link.label for facts in children}
    if not labels:
        return []
    links = list(
        ReferralChild.objects.filter(child_id__in=labels)
        .exclude(referral_id=referral.pk)
        .select_related("referral__restricted_by")
        .prefetch_related(
            "referral__forms_of_abuse",
            Prefetch("referral__decisions", queryset=ReferralDecision.objects.prefetch_related("outcomes")),
        )
        .order_by("-referral__received_at", "referral_id", "label")
    )
    identifiable = permissions.exempt_ids(Referral, user=user, ids={link.referral_id for link in links})
    mash = bool(user_roles(user) & MASH_ROLES)
    found: dict[int, OtherReferral] = {}
    for link in links:
        other = link.referral
        shown = other.pk in identifiable or (mash and other.is_restricted)
        if not shown:
            continue
        if other.pk not in found:
            in_force = next(
                (d for d in other.decisions.all() if d.status == ReferralDecision.Status.IN_FORCE), None
            )
            found[other.pk] = OtherReferral(
                referral=other,
                labels=[],
                forms_of_abuse=[f.name for f in other.forms_of_abuse.all()],
                outcomes=[o.name for o in in_force.outcomes.all()] if in_force else [],
                identifiable=other.pk in identifiable,
            )
        found[other.pk].labels.append(f"Child {labels[link.child_id]}")
    return list(found.values())


@dataclass
class ChildReferral:
    """One referral a child appears in, as the child record lists it."""

    referral: Referral
    label: str
    role: str
    forms_of_abuse: list[str]
    outcomes: list[str]
    age_at_incident: int | None
    identifiable: bool


@dataclass
class ChildRecord:
    """A child and every referral they appear in that the viewer may know of."""

    child: Child
    referrals: list[ChildReferral]
    #: The referrals whose identities the page shows (the reads to log).
    identifiable: list[Referral]
    #: The exempt fields the page shows (``Model.field``), for the access log.
    shown_fields: list[str]


#: The exempt fields the child record prints (not the address or postcode).
CHILD_RECORD_SHOWS = {
    Child: ["first_name", "last_name", "date_of_birth", "gender", "school", "year_group", "send"]
}


def child_record(*, user, pk: int) -> ChildRecord:
    """The child record, if the user may identify a referral the child appears in; otherwise
    ``Child.DoesNotExist`` (a 404, the same as for no such child).

    Listed: every referral about the child that the user may identify, and, for the MASH team,
    a restricted one they may not (reference, date, form of abuse, outcome and whom to ask), as
    the referral page's history check does. Nothing else is listed or counted, so the page says
    nothing about referrals the user may not know of. Constant queries, however many referrals;
    and one query, the same, whether the child is missing or only out of reach (no timing hint).
    """
    if not permissions.is_verified(user) or not 0 < pk < 2**63:
        raise Child.DoesNotExist
    identifiable = set(
        permissions.filter_granted(
            ReferralChild.objects.filter(child_id=pk), user=user, via="referral"
        ).values_list("referral_id", flat=True)
    )
    if not identifiable:
        raise Child.DoesNotExist
    links = list(
        ReferralChild.objects.filter(child_id=pk)
        .select_related("referral__restricted_by")
        .prefetch_related(
            "referral__forms_of_abuse",
            Prefetch("referral__decisions", queryset=ReferralDecision.objects.prefetch_related("outcomes")),
        )
        .order_by("-referral__received_at", "referral_id")
    )
    child = Child.objects.select_related("school").get(pk=pk)
    mash = bool(user_roles(user) & MASH_ROLES)
    rows = []
    for link in links:
        referral = link.referral
        known = referral.pk in identifiable
        if not known and not (mash and referral.is_restricted):
            continue
        in_force = next(
            (d for d in referral.decisions.all() if d.status == ReferralDecision.Status.IN_FORCE), None
        )
        rows.append(
            ChildReferral(
                referral=referral,
                # A restricted referral the user may not identify: its reference, date, form of
                # abuse, outcome and whom to ask; not the child's part in it or their age then.
                label=link.label if known else "",
                role=link.get_role_display() if known else "",
                forms_of_abuse=[f.name for f in referral.forms_of_abuse.all()],
                outcomes=[o.name for o in in_force.outcomes.all()] if in_force else [],
                age_at_incident=age_on(child.date_of_birth, referral.incident_date) if known else None,
                identifiable=known,
            )
        )
    return ChildRecord(
        child=child,
        referrals=rows,
        identifiable=[row.referral for row in rows if row.identifiable],
        shown_fields=shown_fields([child], displayed=CHILD_RECORD_SHOWS),
    )


def _same_school(children: list[ChildFacts]) -> bool | None:
    """Whether a victim and an alleged perpetrator attend the same school (None: not known)."""
    victims = {c.school_id for c in children if c.link.role == ReferralChild.Role.VICTIM}
    alleged = {c.school_id for c in children if c.link.role == ReferralChild.Role.ALLEGED_PERPETRATOR}
    victims.discard(None)
    alleged.discard(None)
    if not victims or not alleged:
        return None
    return bool(victims & alleged)


def child_matches(*, user, first_name: str, last_name: str, date_of_birth: dt.date) -> list[Child]:
    """Existing person records with the same name and date of birth (a likely duplicate).

    Only children on referrals whose identities the user may see are offered: the check
    must not reveal that a child the user may not see is known to MASH.
    """
    identifiable = referrals_identifiable_by(user=user).values("pk")
    return list(
        Child.objects.filter(
            first_name_key=first_name.strip().lower(),
            last_name_key=last_name.strip().lower(),
            date_of_birth=date_of_birth,
            pk__in=ReferralChild.objects.filter(referral__in=identifiable).values("child_id"),
        ).select_related("school")[:5]
    )


# --- History ----------------------------------------------------------------------------------


def _m2m_names() -> dict[str, dict[int, str]]:
    return {
        "abuseform": dict(AbuseForm.objects.values_list("pk", "name")),
        "outcome": dict(Outcome.objects.values_list("pk", "name")),
    }


def referral_history(
    *, user, pk: int, referral: Referral | None = None
) -> tuple[Referral, list[HistoryEntry], bool]:
    """Everything that happened to a referral and the records hanging off it, newest first.

    ``referral``: the same referral already loaded through ``referral_get`` for this user (a
    view's), so it is not read twice.

    Changes to exempt fields show as "[exempt]" unless the user may see identities; the
    third value says whether they may (and so whether the view must log the read).
    """
    if referral is None or referral.pk != pk:
        referral = referral_get(user=user, pk=pk)
    visible = permissions.can_see_exempt(user, referral)
    history_models = [
        (Referral.history.filter(id=referral.pk).select_related("history_user"), lambda r: "Referral"),
        (
            ReferralDetail.history.filter(referral_id=referral.pk).select_related("history_user"),
            lambda r: "Referrer and narrative",
        ),
        (
            ReferralChild.history.filter(referral_id=referral.pk).select_related("history_user"),
            lambda r: f"Child {r.label}",
        ),
        (
            ReferralDecision.history.filter(referral_id=referral.pk).select_related("history_user"),
            lambda r: "Decision",
        ),
        (
            CaseNote.history.filter(referral_id=referral.pk).select_related("history_user"),
            lambda r: "Case note",
        ),
    ]
    names = _m2m_names()
    entries: list[HistoryEntry] = []
    for records, label in history_models:
        entries.extend(history_entries(records, label=label, may_see_exempt=visible, m2m_names=names))
    entries.sort(key=attrgetter("when"), reverse=True)
    return referral, entries, visible


def referral_changes_since(*, user, referral: Referral, version: int) -> list[HistoryEntry]:
    """What changed on a referral after the given version: shown when an edit conflicts."""
    visible = permissions.can_see_exempt(user, referral)
    records = list(
        Referral.history.filter(id=referral.pk, version__gte=version).select_related("history_user")
    )
    since = min((r.history_date for r in records if r.version == version), default=None)
    names = _m2m_names()
    entries = history_entries(records, label=lambda r: "Referral", may_see_exempt=visible, m2m_names=names)
    detail_records = list(
        ReferralDetail.history.filter(referral_id=referral.pk).select_related("history_user")
    )
    detail_entries = history_entries(
        detail_records, label=lambda r: "Referrer and narrative", may_see_exempt=visible, m2m_names=names
    )
    entries.extend(detail_entries)
    if since is not None:
        # Only what happened after the user's version: not the records' creation.
        entries = [e for e in entries if e.when > since and not e.what.endswith(" created")]
    entries.sort(key=attrgetter("when"), reverse=True)
    return entries


def decision_expectations(*, referral: Referral):
    """What the guidance in force on the referral's received date expects a decision on its
    forms of abuse to do (the decision page lists them)."""
    from referrals.expectations import expectations_for

    return expectations_for(
        on=timezone.localtime(referral.received_at).date(),
        forms_of_abuse=[f.pk for f in referral.forms_of_abuse.all()],
    )


def decision_awaiting_authorisation(*, referral: Referral) -> ReferralDecision | None:
    return (
        referral.decisions.filter(status=ReferralDecision.Status.AWAITING_AUTHORISATION)
        .select_related("decided_by", "amends")
        .prefetch_related("outcomes")
        .first()
    )


def drafts_of(*, user):
    """The user's own unexpired drafts of new referrals (nobody else's, ever)."""
    from referrals.models import ReferralDraft

    return ReferralDraft.objects.filter(author=user, expires_at__gt=timezone.now())


def draft_get(*, user, pk: int):
    """The user's own unexpired draft; ReferralDraft.DoesNotExist for anyone else's (a 404)."""
    return drafts_of(user=user).get(pk=pk)


def emergency_access_ends(*, user, referral: Referral) -> dt.datetime | None:
    """When the user's emergency (break-glass) access to the referral ends, while it lasts."""
    from django.db.models import Max

    from core.permissions import GrantKind
    from referrals.models import ReferralUserGrant

    return ReferralUserGrant.objects.filter(
        content_object=referral, user=user, kind=GrantKind.BREAK_GLASS, expires_at__gt=timezone.now()
    ).aggregate(ends=Max("expires_at"))["ends"]


# --- A referral disposed of under the retention schedule ------------------------------------------


@dataclass(frozen=True)
class DisposedReferral:
    """What a disposed referral's page shows: that it was disposed of (when, the certificate,
    the rule) and the pseudonymous facts of its tombstone, with codes given their names."""

    referral: Referral
    disposal: retention.Disposal | None
    received_on: dt.date | None
    incident_on: dt.date | None
    closed_on: dt.date | None
    source: str
    location: str
    forms_of_abuse: list[str]
    outcomes: list[str]
    rag: str
    children: list[dict]


def _fact_date(value) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def disposed_referral(*, referral: Referral) -> DisposedReferral:
    disposal = retention.disposals("referral", [referral.pk]).get(referral.pk)
    facts = dict(disposal.facts) if disposal else {}
    forms = dict(
        AbuseForm.objects.filter(code__in=facts.get("forms_of_abuse", [])).values_list("code", "name")
    )
    outcomes = dict(Outcome.objects.filter(code__in=facts.get("outcomes", [])).values_list("code", "name"))
    roles = dict(ReferralChild.Role.choices)
    return DisposedReferral(
        referral=referral,
        disposal=disposal,
        received_on=_fact_date(facts.get("received_on")),
        incident_on=_fact_date(facts.get("incident_on")),
        closed_on=_fact_date(facts.get("closed_on")),
        source=str(referral.source)
        if facts.get("source") == referral.source.code
        else facts.get("source", ""),
        location=dict(Referral.Location.choices).get(facts.get("location", ""), facts.get("location", "")),
        forms_of_abuse=[forms.get(code, code) for code in facts.get("forms_of_abuse", [])],
        outcomes=[outcomes.get(code, code) for code in facts.get("outcomes", [])],
        rag=facts.get("rag") or "",
        children=[
            {"label": child.get("label", ""), "role": roles.get(child.get("role", ""), child.get("role", ""))}
            for child in facts.get("children", [])
        ],
    )
