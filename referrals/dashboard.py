"""The MASH manager's dashboard: reads only (selectors), each figure one aggregate query.

- Due today and overdue: open referrals whose decision is due before the end of today, by RAG,
  with the time left (negative: overdue).
- Decided within one working day: of referrals decided in a period, the share decided by their
  decision due time (the end of the working day after receipt, core.timescales.decision_due_at),
  this week, this month and over the last twelve months.
- Work by practitioner: open referrals allocated to each member of the MASH team, how many of
  them are overdue, and how many each decided this month.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from referrals.models import RagLevel, Referral

DUE_LIST_LIMIT = 200


@dataclass(frozen=True)
class DueRow:
    referral: Referral
    time_left: dt.timedelta

    @property
    def is_overdue(self) -> bool:
        return self.time_left.total_seconds() < 0

    @property
    def time_left_text(self) -> str:
        seconds = abs(int(self.time_left.total_seconds()))
        hours, rest = divmod(seconds, 3600)
        minutes = rest // 60
        days, hours = divmod(hours, 24)
        parts = []
        if days:
            parts.append(f"{days} day{'s' if days != 1 else ''}")
        if hours:
            parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
        if not days and (minutes or not hours):
            parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
        text = " ".join(parts)
        return f"Overdue by {text}" if self.is_overdue else f"{text} left"


@dataclass(frozen=True)
class RagGroup:
    rag: RagLevel | None
    overdue: int
    due_today: int


@dataclass(frozen=True)
class Timeliness:
    label: str
    decided: int
    on_time: int

    @property
    def percent(self) -> int | None:
        return round(100 * self.on_time / self.decided) if self.decided else None


@dataclass(frozen=True)
class PractitionerWork:
    name: str
    open: int
    overdue: int
    decided_this_month: int


@dataclass(frozen=True)
class Dashboard:
    now: dt.datetime
    due: list[DueRow]
    due_total: int
    by_rag: list[RagGroup]
    timeliness: list[Timeliness]
    work: list[PractitionerWork]
    unallocated: int


def _end_of_today(now: dt.datetime) -> dt.datetime:
    local = timezone.localtime(now)
    return local.replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(days=1)


def _starts(now: dt.datetime) -> dict[str, dt.datetime]:
    local = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return {
        "This week": local - dt.timedelta(days=local.weekday()),
        "This month": local.replace(day=1),
        "Last 12 months": (local.replace(day=1) - dt.timedelta(days=365)).replace(day=1),
    }


def manager_dashboard(
    *, queryset: QuerySet[Referral], practitioners, now: dt.datetime | None = None
) -> Dashboard:
    """The figures over ``queryset`` (the referrals the manager may open)."""
    now = now or timezone.now()
    end_today = _end_of_today(now)
    due_filter = Q(status__in=Referral.OPEN_STATUSES, decision_due_at__lt=end_today)

    due_qs = (
        queryset.filter(due_filter)
        .select_related("rag", "allocated_to")
        .order_by("decision_due_at", "id")[:DUE_LIST_LIMIT]
    )
    due = [DueRow(referral=r, time_left=r.decision_due_at - now) for r in due_qs]

    # By RAG: one grouped query.
    rows = (
        queryset.filter(due_filter)
        .values("rag")
        .annotate(
            overdue=Count("pk", filter=Q(decision_due_at__lt=now)),
            due_today=Count("pk", filter=Q(decision_due_at__gte=now)),
        )
        .order_by()
    )
    counts = {row["rag"]: row for row in rows}
    levels = {level.pk: level for level in RagLevel.objects.filter(pk__in=[k for k in counts if k])}
    ordered = sorted(
        counts, key=lambda k: (k is None, levels[k].order if k else 0, levels[k].name if k else "")
    )
    by_rag = [
        RagGroup(
            rag=levels.get(k) if k else None, overdue=counts[k]["overdue"], due_today=counts[k]["due_today"]
        )
        for k in ordered
    ]
    due_total = sum(g.overdue + g.due_today for g in by_rag)

    # Timeliness: one query, conditional counts per period.
    starts = _starts(now)
    on_time = Q(decided_at__lte=F("decision_due_at"))
    aggregates = {}
    for index, start in enumerate(starts.values()):
        aggregates[f"decided_{index}"] = Count("pk", filter=Q(decided_at__gte=start))
        aggregates[f"on_time_{index}"] = Count("pk", filter=Q(decided_at__gte=start) & on_time)
    figures = queryset.filter(decided_at__isnull=False, decided_at__lte=now).aggregate(**aggregates)
    timeliness = [
        Timeliness(label=label, decided=figures[f"decided_{i}"], on_time=figures[f"on_time_{i}"])
        for i, label in enumerate(starts)
    ]

    # Work by practitioner: two grouped queries and the team, joined here.
    open_rows = (
        queryset.filter(status__in=Referral.OPEN_STATUSES)
        .values("allocated_to")
        .annotate(open=Count("pk"), overdue=Count("pk", filter=Q(decision_due_at__lt=now)))
        .order_by()
    )
    open_by = {row["allocated_to"]: row for row in open_rows}
    decided_by = dict(
        queryset.filter(decided_at__gte=starts["This month"], decided_by__isnull=False)
        .values("decided_by")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("decided_by", "n")
    )
    work = [
        PractitionerWork(
            name=person.get_full_name() or person.get_username(),
            open=open_by.get(person.pk, {}).get("open", 0),
            overdue=open_by.get(person.pk, {}).get("overdue", 0),
            decided_this_month=decided_by.get(person.pk, 0),
        )
        for person in practitioners
    ]
    unallocated = open_by.get(None, {}).get("open", 0)
    return Dashboard(
        now=now,
        due=due,
        due_total=due_total,
        by_rag=by_rag,
        timeliness=timeliness,
        work=work,
        unallocated=unallocated,
    )


# --- Panels from the apps above --------------------------------------------------------------
# An app above referrals (contextual safeguarding's alerts) adds a panel to the dashboard by
# registering, in its ``ready()``, a callable ``(user) -> dict | None``: the dict names the
# panel's ``template`` and holds what it shows; None shows nothing. Referrals imports no app.

_panels: list = []


def register_panel(panel) -> None:
    if panel not in _panels:
        _panels.append(panel)


def dashboard_panels(*, user) -> list[dict]:
    return [shown for panel in _panels if (shown := panel(user)) is not None]
