"""Reads for contextual safeguarding: the dashboard panel, alerts with their evidence, context
records and the figures.

Evidence obeys the referral's access rules. Whether the viewer may identify a referral is
asked of ``referrals.selectors.referrals_identifiable_by`` (a live grant and a verified
session), never decided here: a referral they may not identify shows its reference, date and
forms of abuse only; one they may shows its children too, and the view logs that read
(``core.access_log``) with the fields in ``shown_fields``.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from contexts.evaluation import ROLES, months_before
from contexts.models import Alert, AlertAction, AlertEvidence, Context, PatternRule
from contexts.permissions import may_see_alerts
from core import disclosure
from referrals.models import Child, Referral, ReferralChild
from referrals.selectors import referrals_identifiable_by

DASHBOARD_ALERTS = 5
#: What an alert page shows of a referral its viewer may identify.
EVIDENCE_SHOWS = ["Child.first_name", "Child.last_name"]
PLACE_SHOWS = ["Context.place_name"]
ACTION_SHOWS = ["AlertAction.note"]
WITHHELD_PLACE = "A place (its name is withheld: you cannot identify any of its referrals)"


def rules():
    return PatternRule.objects.select_related("changed_by").order_by("id")


def rule_get(*, pk: int) -> PatternRule:
    return PatternRule.objects.get(pk=pk)


def dashboard_panel(user) -> dict | None:
    """The manager dashboard's panel: alerts awaiting action (referrals.dashboard registry)."""
    if not may_see_alerts(user):
        return None
    waiting = Alert.objects.filter(status=Alert.Status.OPEN)
    return {
        "template": "contexts/includes/dashboard_panel.html",
        "open_count": waiting.count(),
        "alerts": list(
            waiting.select_related("rule")
            .annotate(referral_count=Count("evidence"))
            .order_by("-raised_at", "-id")[:DASHBOARD_ALERTS]
        ),
    }


def alerts_list(*, status: str = ""):
    alerts = Alert.objects.select_related("rule", "context__school").annotate(
        referral_count=Count("evidence")
    )
    if status in Alert.Status.values:
        alerts = alerts.filter(status=status)
    return alerts.order_by("status", "-raised_at", "-id")


# --- evidence under the access rules ---------------------------------------------------------------


@dataclass
class EvidenceChild:
    label: str
    role: str
    name: str


@dataclass
class EvidenceRow:
    referral: Referral
    identifiable: bool
    forms_of_abuse: list[str]
    children: list[EvidenceChild] = field(default_factory=list)


def evidence_rows(*, user, referral_ids: list[int]) -> list[EvidenceRow]:
    """The referrals, oldest first: every one with its reference, date and forms of abuse; the
    children's names and roles only on those the viewer may identify. Three queries."""
    referrals = list(
        Referral.objects.filter(pk__in=referral_ids)
        .prefetch_related("forms_of_abuse")
        .order_by("received_at", "id")
    )
    identifiable = set(
        referrals_identifiable_by(user=user).filter(pk__in=referral_ids).values_list("pk", flat=True)
    )
    children: dict[int, list[EvidenceChild]] = defaultdict(list)
    if identifiable:
        links = (
            ReferralChild.objects.filter(referral_id__in=identifiable)
            .select_related("child")
            .only("referral_id", "label", "role", "child__first_name", "child__last_name")
            .order_by("referral_id", "label")
        )
        for link in links:
            children[link.referral_id].append(
                EvidenceChild(
                    label=link.label,
                    role=link.get_role_display(),
                    name=f"{link.child.first_name} {link.child.last_name}",
                )
            )
    return [
        EvidenceRow(
            referral=r,
            identifiable=r.pk in identifiable,
            forms_of_abuse=[f.name for f in r.forms_of_abuse.all()],
            children=children.get(r.pk, []),
        )
        for r in referrals
    ]


@dataclass
class ContextName:
    text: str
    #: The place's name, which is exempt, is shown (the page logs it).
    exempt_shown: bool = False


def context_name(*, user, context: Context | None, referral_ids: list[int]) -> ContextName:
    """A school by its name; a place by its name only to someone who may identify one of its
    referrals (the name is what referrers wrote)."""
    if context is None:
        return ContextName("")
    if context.kind == Context.Kind.SCHOOL:
        return ContextName(context.school.name)
    if referral_ids and referrals_identifiable_by(user=user).filter(pk__in=referral_ids).exists():
        return ContextName(context.place_name, exempt_shown=True)
    return ContextName(WITHHELD_PLACE)


@dataclass
class AlertView:
    alert: Alert
    evidence: list[EvidenceRow]
    actions: list[AlertAction]
    name: ContextName
    subject: str

    @property
    def identifiable(self) -> list[Referral]:
        return [row.referral for row in self.evidence if row.identifiable]


def _subject(alert: Alert, name: ContextName) -> str:
    if alert.context_id:
        return name.text
    if alert.subject_key.startswith("child:"):
        return "One child"
    if alert.subject_key.startswith("group:"):
        size = len(alert.subject_key.split(":", 1)[1].split("-"))
        return f"A group of {size} children"
    return ""


def alert_view(*, user, pk: int) -> AlertView:
    alert = Alert.objects.select_related("rule", "context__school", "acted_on_by").get(pk=pk)
    ids = list(AlertEvidence.objects.filter(alert=alert).values_list("referral_id", flat=True))
    name = context_name(user=user, context=alert.context, referral_ids=ids)
    return AlertView(
        alert=alert,
        evidence=evidence_rows(user=user, referral_ids=ids),
        actions=list(alert.actions.select_related("recorded_by").order_by("taken_on", "recorded_at", "id")),
        name=name,
        subject=_subject(alert, name),
    )


# --- context records ---------------------------------------------------------------------------------


@dataclass
class TimelineEntry:
    on: dt.datetime
    kind: str  # "referral", "alert", "action"
    referral: EvidenceRow | None = None
    alert: Alert | None = None
    action: AlertAction | None = None


@dataclass
class ReviewFinding:
    review_id: int
    title: str
    cases: int


@dataclass
class ContextView:
    context: Context
    name: ContextName
    alerts: list[Alert]
    timeline: list[TimelineEntry]
    evidence: list[EvidenceRow]
    actions: list[AlertAction]
    coverage: object | None = None  # modelguidance SchoolCoverage
    acknowledgement: object | None = None  # modelguidance Acknowledgement of the published version
    guidance_published: bool = False
    reviews: list[ReviewFinding] = field(default_factory=list)

    @property
    def identifiable(self) -> list[Referral]:
        return [row.referral for row in self.evidence if row.identifiable]

    @property
    def open_alerts(self) -> list[Alert]:
        return [a for a in self.alerts if a.is_open]


def _local_midday(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), tzinfo=timezone.get_current_timezone())


def same_school_reviews(*, school_id: int) -> list[ReviewFinding]:
    """Case reviews of same-school cases that included a referral whose victim or alleged
    perpetrator attends this school: the review's same-school findings concern this context."""
    from reviews.models import ScreeningDecision

    rows = (
        ScreeningDecision.objects.filter(
            decision=ScreeningDecision.Decision.INCLUDE,
            review__require_same_school=True,
            referral__children__role__in=ROLES,
            referral__children__child__school_id=school_id,
        )
        .values("review_id", "review__title")
        .annotate(cases=Count("referral_id", distinct=True))
        .order_by("review_id")
    )
    return [ReviewFinding(r["review_id"], r["review__title"], r["cases"]) for r in rows]


def context_view(*, user, pk: int) -> ContextView:
    from modelguidance.models import Acknowledgement
    from modelguidance.selectors import published_version, training_coverage

    context = Context.objects.select_related("school").get(pk=pk)
    alerts = list(
        context.alerts.select_related("rule")
        .annotate(referral_count=Count("evidence"))
        .order_by("-raised_at", "-id")
    )
    ids = sorted(
        set(AlertEvidence.objects.filter(alert__context=context).values_list("referral_id", flat=True))
    )
    evidence = evidence_rows(user=user, referral_ids=ids)
    actions = list(
        AlertAction.objects.filter(alert__context=context)
        .select_related("recorded_by", "alert__rule")
        .order_by("taken_on", "recorded_at", "id")
    )
    timeline = [TimelineEntry(row.referral.received_at, "referral", referral=row) for row in evidence]
    timeline += [TimelineEntry(a.raised_at, "alert", alert=a) for a in alerts]
    timeline += [TimelineEntry(_local_midday(a.taken_on), "action", action=a) for a in actions]
    timeline.sort(key=lambda e: e.on, reverse=True)
    view = ContextView(
        context=context,
        name=context_name(user=user, context=context, referral_ids=ids),
        alerts=alerts,
        timeline=timeline,
        evidence=evidence,
        actions=actions,
    )
    if context.kind == Context.Kind.SCHOOL:
        coverage = training_coverage(on=timezone.localdate(), school_id=context.school_id).schools
        view.coverage = coverage[0] if coverage else None
        version = published_version()
        view.guidance_published = version is not None
        if version is not None:
            view.acknowledgement = (
                Acknowledgement.objects.filter(guidance_version=version, school_id=context.school_id)
                .order_by("-acknowledged_at", "-requested_at")
                .first()
            )
        view.reviews = same_school_reviews(school_id=context.school_id)
    return view


def contexts_list():
    return (
        Context.objects.select_related("school")
        .annotate(alert_count=Count("alerts", distinct=True))
        .order_by("kind", "school__name", "id")
    )


# --- figures --------------------------------------------------------------------------------------------

FIGURE_MONTHS = 12
#: A school with this many referrals within the last 12 months is listed as repeated.
REPEATED = 2


def _month_starts(today: dt.date, months: int) -> list[dt.date]:
    first = today.replace(day=1)
    return [months_before(first, n) for n in range(months - 1, -1, -1)]


@dataclass
class MonthRow:
    month: dt.date
    raised: int | None
    acted_on: int | None


@dataclass
class SchoolRow:
    school: object
    referrals: int
    context_id: int | None


@dataclass
class Figures:
    months: list[MonthRow]
    total_raised: int | None
    total_acted_on: int | None
    most: int
    schools: list[SchoolRow] = field(default_factory=list)
    phases: list[tuple[str, int | None]] = field(default_factory=list)
    suppressed: bool = False
    threshold: int = 0


def _month_counts(*, today: dt.date) -> tuple[list[dt.date], Counter, Counter]:
    months = _month_starts(today, FIGURE_MONTHS)
    zone = timezone.get_current_timezone()
    since = dt.datetime.combine(months[0], dt.time.min, tzinfo=zone)
    raised = Counter(
        timezone.localtime(at).date().replace(day=1)
        for at in Alert.objects.filter(raised_at__gte=since).values_list("raised_at", flat=True)
    )
    acted = Counter(
        timezone.localtime(at).date().replace(day=1)
        for at in Alert.objects.filter(acted_on_at__gte=since).values_list("acted_on_at", flat=True)
    )
    return months, raised, acted


def _repeated_schools(*, today: dt.date, user=None) -> list[SchoolRow]:
    """Schools with ``REPEATED`` or more peer-on-peer referrals naming a pupil as victim or
    alleged perpetrator in the last 12 months. Which school a child attends is exempt, so for
    a page (``user``) only the referrals the viewer may identify are counted: a count must not
    hint at a referral they may not identify (the differential test). Without a user (the
    public-safe figures, which name no school) every referral counts."""
    zone = timezone.get_current_timezone()
    since = dt.datetime.combine(months_before(today, 12), dt.time.min, tzinfo=zone)
    links = ReferralChild.objects.all()
    if user is not None:
        links = links.filter(referral__in=referrals_identifiable_by(user=user).values("pk"))
    counts = (
        links.filter(
            role__in=ROLES,
            child__school__isnull=False,
            referral__is_peer_on_peer=True,
            referral__disposed_at__isnull=True,
            referral__received_at__gte=since,
        )
        .values("child__school_id")
        .annotate(n=Count("referral_id", distinct=True))
        .filter(n__gte=REPEATED)
        .order_by("-n", "child__school_id")
    )
    counts = {row["child__school_id"]: row["n"] for row in counts}
    schools = {s.pk: s for s in Child._meta.get_field("school").related_model.objects.filter(pk__in=counts)}
    contexts = dict(
        Context.objects.filter(kind=Context.Kind.SCHOOL, school_id__in=counts).values_list("school_id", "pk")
    )
    rows = [SchoolRow(schools[pk], n, contexts.get(pk)) for pk, n in counts.items()]
    rows.sort(key=lambda r: (-r.referrals, r.school.name))
    return rows


def figures_internal(*, user, today: dt.date | None = None) -> Figures:
    """For managers: alerts raised and acted on by month, and schools with repeated referrals
    in the last 12 months, by name and unsuppressed (of the referrals the viewer may identify)."""
    today = today or timezone.localdate()
    months, raised, acted = _month_counts(today=today)
    rows = [MonthRow(m, raised[m], acted[m]) for m in months]
    return Figures(
        months=rows,
        total_raised=sum(raised[m] for m in months),
        total_acted_on=sum(acted[m] for m in months),
        most=max([1, *(r.raised for r in rows), *(r.acted_on for r in rows)]),
        schools=_repeated_schools(today=today, user=user),
    )


def figures_public(*, today: dt.date | None = None) -> Figures:
    """The same figures fit to leave the team: through the disclosure policy (counts of 1 to
    the threshold suppressed, and what would give them away), and schools by phase, not name."""
    today = today or timezone.localdate()
    threshold = settings.CONTEXT_SUPPRESSION_THRESHOLD
    months, raised, acted = _month_counts(today=today)
    labels = [f"{m:%B %Y}" for m in months]
    month_table = disclosure.Table(
        key="months",
        title="Alerts raised and acted on, by month",
        rows=labels,
        columns=["Raised", "Acted on"],
        counts=[[raised[m], acted[m]] for m in months],
    )
    by_phase = Counter(row.school.get_phase_display() for row in _repeated_schools(today=today))
    phases = sorted(by_phase)
    tables = [month_table]
    if phases:
        tables.append(
            disclosure.Table(
                key="phases",
                title="Schools with repeated referrals, by phase",
                rows=phases,
                columns=["Schools"],
                counts=[[by_phase[p]] for p in phases],
            )
        )
    result = disclosure.protect(tables, threshold=threshold)
    grid = result.grid("months")
    rows = [MonthRow(m, grid[i][0], grid[i][1]) for i, m in enumerate(months)]
    phase_rows: list[tuple[str, int | None]] = []
    if phases:
        phase_grid = result.grid("phases")
        phase_rows = [(p, phase_grid[i][0]) for i, p in enumerate(phases)]
        phase_rows.append(("Total", phase_grid[len(phases)][0]))
    return Figures(
        months=rows,
        total_raised=grid[len(months)][0],
        total_acted_on=grid[len(months)][1],
        most=max([1, *(r.raised or 0 for r in rows), *(r.acted_on or 0 for r in rows)]),
        phases=phase_rows,
        suppressed=True,
        threshold=threshold,
    )
