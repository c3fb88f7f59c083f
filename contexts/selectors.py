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
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from contexts.evaluation import ALLEGED, ROLES, VICTIM, months_before
from contexts.models import Alert, AlertAction, AlertEvidence, Context, PatternRule
from contexts.permissions import REVIEW_TEAM, may_see_alerts
from core import disclosure
from core.roles import CASE_REVIEW_ROLES, has_role
from referrals.models import Child, Referral, ReferralChild, ReferralDetail
from referrals.selectors import referrals_identifiable_by

DASHBOARD_ALERTS = 5
#: The history reason of an alert raised when a referral was saved (contexts.services).
RAISED_WHEN_SAVED = "Raised when a referral was saved"
#: What an alert page shows of a referral its viewer may identify.
EVIDENCE_SHOWS = ["Child.first_name", "Child.last_name"]
PLACE_SHOWS = ["ReferralDetail.incident_place"]
#: What a case review's same-school links show of each case behind them: which school its
#: victim and alleged perpetrator attend.
SCHOOL_SHOWS = ["Child.school"]
ACTION_SHOWS = ["AlertAction.note"]
#: What a referral taken out of an alert shows: that it once named the alert's school or place.
TAKEN_OUT_SHOWS = {
    Context.Kind.SCHOOL: ["Child.school"],
    Context.Kind.PLACE: ["ReferralDetail.incident_place"],
}


def rules():
    return PatternRule.objects.select_related("changed_by").order_by("id")


def rule_get(*, pk: int) -> PatternRule:
    return PatternRule.objects.get(pk=pk)


# --- what a viewer may see at all -------------------------------------------------------------------
#
# An alert or a context ties its referrals to a school (which school a child attends is exempt),
# a place (exempt) or a child. So its membership obeys the referral's access rules, not only its
# names: a viewer sees, and counts, only the referrals they may identify now and that are not
# disposed of. A referral they may not identify is left out entirely (no row, no count, no
# "withheld" placeholder); an alert or context with none is not shown to them at all
# (docs/adr/0024-contextual-safeguarding.md).


def visible_referrals(*, user) -> QuerySet[Referral]:
    """The referrals an alert or context may list for ``user``: identifiable, not disposed."""
    return referrals_identifiable_by(user=user).filter(disposed_at__isnull=True)


def _visible_evidence(user) -> Q:
    """On Alert: the evidence rows of referrals the viewer may see."""
    return Q(evidence__referral__in=visible_referrals(user=user).values("pk"))


def _kept_evidence() -> QuerySet[AlertEvidence]:
    """On Alert (``OuterRef``): its evidence rows of referrals not disposed of."""
    return AlertEvidence.objects.filter(alert_id=OuterRef("pk"), referral__disposed_at__isnull=True)


def alerts_visible_to(*, user) -> QuerySet[Alert]:
    """Alerts with at least one referral the viewer may see, and alerts with no referral left
    at all (every one taken out of the evidence or disposed of: ``emptied``), each with
    ``referral_count`` (of the referrals the viewer may see only).

    An emptied alert is shown to every manager, or it would wait for ever with nobody able to
    act on it (an alert is never silently closed); it ties no referral to its subject, and
    ``alert_view`` withholds its subject (docs/adr/0024)."""
    shown = AlertEvidence.objects.filter(referral__in=visible_referrals(user=user).values("pk"))
    return (
        Alert.objects.annotate(emptied=~Exists(_kept_evidence()))
        .filter(Q(pk__in=shown.values("alert_id")) | Q(emptied=True))
        .annotate(referral_count=Count("evidence", filter=_visible_evidence(user), distinct=True))
    )


def _alerts_with_visible_evidence(*, user) -> QuerySet[Alert]:
    """Alerts with at least one referral the viewer may see (a context is listed only for those:
    an emptied alert's context would name its school)."""
    shown = AlertEvidence.objects.filter(referral__in=visible_referrals(user=user).values("pk"))
    return Alert.objects.filter(pk__in=shown.values("alert_id"))


def dashboard_panel(user) -> dict | None:
    """The manager dashboard's panel: alerts awaiting action (referrals.dashboard registry)."""
    if not may_see_alerts(user):
        return None
    waiting = alerts_visible_to(user=user).filter(status=Alert.Status.OPEN)
    return {
        "template": "contexts/includes/dashboard_panel.html",
        "open_count": waiting.count(),
        "alerts": list(waiting.select_related("rule").order_by("-raised_at", "-id")[:DASHBOARD_ALERTS]),
    }


#: Alerts awaiting action first, whatever the statuses are called.
STATUS_ORDER = {Alert.Status.OPEN: 0, Alert.Status.ACTED_ON: 1}


def alerts_list(*, user, status: str = ""):
    from django.db.models import Case, IntegerField, Value, When

    alerts = alerts_visible_to(user=user).select_related("rule", "context__school")
    if status in Alert.Status.values:
        alerts = alerts.filter(status=status)
    awaiting_first = Case(
        *(When(status=s, then=Value(n)) for s, n in STATUS_ORDER.items()),
        default=Value(len(STATUS_ORDER)),
        output_field=IntegerField(),
    )
    return alerts.order_by(awaiting_first, "-raised_at", "-id")


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
    """Of the referrals, only those the viewer may identify and not disposed of, oldest first,
    with their reference, date, forms of abuse and children. The others are left out entirely:
    listed under a school, a place or a child they would say what is exempt. Three queries."""
    referrals = list(
        visible_referrals(user=user)
        .filter(pk__in=referral_ids)
        .prefetch_related("forms_of_abuse")
        .order_by("received_at", "id")
    )
    identifiable = {r.pk for r in referrals}
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
    """A school by its name; a place by what the referrer wrote on the earliest of its referrals
    that the viewer may see (``referral_ids`` are those already), read now: no copy of a
    referral's text is kept on the context, so a restricted, corrected or disposed referral's
    wording is never shown through it. Without one, "Place N"."""
    if context is None:
        return ContextName("")
    if context.kind == Context.Kind.SCHOOL:
        return ContextName(context.school.name)
    if not context.place_key:  # its referrals were disposed of, and the key with them
        return ContextName(f"Place {context.pk}")
    name = (
        ReferralDetail.objects.filter(
            referral_id__in=referral_ids,
            referral__in=visible_referrals(user=user).values("pk"),
            incident_place_key=context.place_key,
        )
        .exclude(incident_place="")
        .order_by("referral__received_at", "referral_id")
        .values_list("incident_place", flat=True)
        .first()
    )
    if name:
        return ContextName(name, exempt_shown=True)
    return ContextName(f"Place {context.pk}")


@dataclass
class TakenOut:
    """A referral taken out of an alert's evidence (its school or place corrected)."""

    referral: Referral
    on: dt.datetime


@dataclass
class AlertView:
    alert: Alert
    evidence: list[EvidenceRow]
    actions: list[AlertAction]
    name: ContextName
    subject: str
    #: Referrals taken out of the evidence, of those the viewer may identify (the page logs them).
    taken_out: list[TakenOut] = field(default_factory=list)
    #: No referral is left in the evidence (all taken out or disposed of): shown to every
    #: manager so it can be acted on, its subject withheld unless they may identify one of the
    #: referrals taken out of it.
    emptied: bool = False

    @property
    def raised_when_saved(self) -> bool:
        """Raised by a referral's save, not the nightly run (the referral's id goes when it is
        disposed of; the alert's first history row still says how it was raised)."""
        if self.alert.raised_by_referral_id:
            return True
        first = self.alert.history.order_by("history_date", "history_id").first()
        return first is not None and first.history_change_reason == RAISED_WHEN_SAVED

    @property
    def identifiable(self) -> list[Referral]:
        return [row.referral for row in self.evidence if row.identifiable]


def _subject(alert: Alert, name: ContextName, *, sees_all: bool) -> str:
    """What the alert is about. A child by name only to a viewer who may identify every
    referral of the alert (the name is on each of them, and each is logged as read with the
    children's names): with one left out, the name beside the alert would say the child is in
    a referral the viewer may not identify."""
    if alert.context_id:
        return name.text
    if alert.subject_key.startswith("child:"):
        if sees_all:
            child = Child.objects.filter(pk=int(alert.subject_key.split(":", 1)[1])).first()
            if child is not None:
                return f"{child.first_name} {child.last_name}"
        return "One child"
    if alert.subject_key.startswith("group:"):
        size = len(alert.subject_key.split(":", 1)[1].split("-"))
        return f"A group of {size} children"
    return ""


def taken_out(*, user, alert: Alert, current: set[int]) -> list[TakenOut]:
    """The referrals taken out of the alert's evidence (``services.evidence_prune_corrected``)
    and not back in it, latest first, of those the viewer may identify: like the evidence, a
    referral they may not identify is left out entirely. Two queries."""
    gone: dict[int, dt.datetime] = {}
    for referral_id, on in (
        AlertEvidence.history.filter(alert_id=alert.pk, history_type="-")
        .order_by("history_date")
        .values_list("referral_id", "history_date")
    ):
        if referral_id not in current:
            gone[referral_id] = on
    if not gone:
        return []
    shown = visible_referrals(user=user).filter(pk__in=gone).only("pk", "reference")
    return sorted((TakenOut(r, gone[r.pk]) for r in shown), key=lambda t: (t.on, t.referral.pk), reverse=True)


def alert_view(*, user, pk: int) -> AlertView:
    """One alert, as far as the viewer may see it; ``Alert.DoesNotExist`` when they may see
    none of its referrals (the alert itself would say what is exempt)."""
    alert = Alert.objects.select_related("rule", "context__school", "acted_on_by").get(pk=pk)
    ids = list(AlertEvidence.objects.filter(alert=alert).values_list("referral_id", flat=True))
    evidence = evidence_rows(user=user, referral_ids=ids)
    actions = list(alert.actions.select_related("recorded_by").order_by("taken_on", "recorded_at", "id"))
    gone = taken_out(user=user, alert=alert, current=set(ids))
    if not evidence:
        if AlertEvidence.objects.filter(alert=alert, referral__disposed_at__isnull=True).exists():
            # Its referrals are there, restricted from this viewer: the alert would say so.
            raise Alert.DoesNotExist(f"No referral of alert {pk} is visible to this viewer")
        # Emptied: every referral taken out or disposed of. Shown so a manager can act on it;
        # what it was about only to one who may identify a referral taken out of it (listed
        # and logged as such), else withheld: a school's name would tie the others to it.
        name = ContextName("")
        if alert.context is None:
            subject = _subject(alert, name, sees_all=False)  # "One child", "A group of N children"
        elif gone:
            name = context_name(user=user, context=alert.context, referral_ids=[])  # never a place's text
            subject = name.text
        else:
            subject = "Withheld"
        return AlertView(
            alert=alert,
            evidence=[],
            actions=actions,
            name=name,
            subject=subject,
            taken_out=gone,
            emptied=True,
        )
    name = context_name(user=user, context=alert.context, referral_ids=[row.referral.pk for row in evidence])
    return AlertView(
        taken_out=gone,
        alert=alert,
        evidence=evidence,
        actions=actions,
        name=name,
        subject=_subject(alert, name, sees_all=len(evidence) == len(set(ids))),
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
    #: The viewer may open the review (its findings page).
    may_open: bool = False


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
    #: Case reviews are for core.roles.CASE_REVIEW_ROLES only (M1 of the security review).
    show_reviews: bool = False
    #: A MASH manager's view: alerts, actions, the DSL and the model guidance. A case review's
    #: team sees only the referrals they may identify and the case reviews (docs/adr/0024).
    full: bool = True

    @property
    def identifiable(self) -> list[Referral]:
        return [row.referral for row in self.evidence if row.identifiable]

    @property
    def open_alerts(self) -> list[Alert]:
        return [a for a in self.alerts if a.is_open]


def _local_midday(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), tzinfo=timezone.get_current_timezone())


def _pupil(role: str, school_id: int) -> QuerySet[ReferralChild]:
    return ReferralChild.objects.filter(
        referral_id=OuterRef("referral_id"), role=role, child__school_id=school_id
    )


def same_school_reviews(*, user, school_id: int) -> list[ReviewFinding]:
    """Case reviews that included a case whose victim and alleged perpetrator both attend this
    school: the review's same-school findings concern this context (the findings page links
    here, ``review_same_school_links``). Only for the case-review roles
    (core.roles.CASE_REVIEW_ROLES: nobody else sees reviews), only the reviews the viewer may
    read, and counting only the referrals the viewer may identify."""
    from reviews.models import ScreeningDecision
    from reviews.selectors import reviews_visible_to

    if not has_role(user, *CASE_REVIEW_ROLES):
        return []
    rows = (
        ScreeningDecision.objects.filter(
            # Only reviews the viewer may read: a reviewer learns no other review's title.
            review__in=reviews_visible_to(user=user).values("pk"),
            referral__in=visible_referrals(user=user).values("pk"),
            decision=ScreeningDecision.Decision.INCLUDE,
        )
        .filter(
            # A same-school case: its victim and its alleged perpetrator attend this school.
            Exists(_pupil(VICTIM, school_id)),
            Exists(_pupil(ALLEGED, school_id)),
        )
        .values("review_id", "review__title")
        .annotate(cases=Count("referral_id", distinct=True))
        .order_by("review_id")
    )
    return [ReviewFinding(r["review_id"], r["review__title"], r["cases"], may_open=True) for r in rows]


# --- a case review's same-school findings, linked to the schools' contexts (issue 17) ---------------


def review_team_schools(
    *, user, review_id: int | None = None, referral_id: int | None = None
) -> dict[int, set[int]]:
    """The schools a case concerns of a review the user leads or sits on (``review_id``: that
    review only), where the case's victim and alleged perpetrator both attend the school, with
    those cases: {school id: referral ids}. Only for the review team
    (``contexts.permissions.REVIEW_TEAM``) and only of the cases they may identify now
    (``visible_referrals``: which school a child attends is exempt). Two queries."""
    from reviews.models import Review, ScreeningDecision

    if not has_role(user, *REVIEW_TEAM):
        return {}
    reviews = Review.objects.filter(Q(lead_reviewer=user) | Q(reviewers=user))
    if review_id is not None:
        reviews = reviews.filter(pk=review_id)
    cases = ScreeningDecision.objects.filter(
        review__in=reviews.values("pk"),
        decision=ScreeningDecision.Decision.INCLUDE,
        referral__in=visible_referrals(user=user).values("pk"),
    )
    if referral_id is not None:
        cases = cases.filter(referral_id=referral_id)
    cases = cases.values("referral_id")
    links = ReferralChild.objects.filter(
        referral_id__in=cases, role__in=ROLES, child__school__isnull=False
    ).values_list("referral_id", "role", "child__school_id")
    victims: dict[int, set[int]] = defaultdict(set)
    alleged: dict[int, set[int]] = defaultdict(set)
    for referral_id, role, school_id in links:
        (victims if role == VICTIM else alleged)[referral_id].add(school_id)
    found: dict[int, set[int]] = defaultdict(set)
    for referral_id, schools in victims.items():
        for school_id in schools & alleged.get(referral_id, set()):
            found[school_id].add(referral_id)
    return dict(found)


def _contexts_with_visible_referrals(user) -> QuerySet:
    """Context ids with a referral of their alerts the viewer may see (else the page is 404)."""
    return AlertEvidence.objects.filter(
        referral__in=visible_referrals(user=user).values("pk"), alert__context__isnull=False
    ).values("alert__context_id")


@dataclass
class SameSchoolLink:
    context_id: int
    school: str
    #: The review's cases behind the link (the page logs that it showed their school).
    referrals: list[Referral]


def review_same_school_links(*, user, review_id: int, referral_id: int | None = None) -> list[SameSchoolLink]:
    """For a case review's findings: the context record of each school where the victim and
    the alleged perpetrator of one of the review's cases attend the same school, for the
    review's lead reviewer and reviewers, of the cases they may identify, and only where they
    may open the context (``referral_id``: that case only). Four queries."""
    schools = review_team_schools(user=user, review_id=review_id, referral_id=referral_id)
    if not schools:
        return []
    contexts = list(
        Context.objects.filter(
            kind=Context.Kind.SCHOOL,
            school_id__in=schools,
            pk__in=_contexts_with_visible_referrals(user),
        )
        .select_related("school")
        .order_by("school__name", "id")
    )
    wanted = {pk for c in contexts for pk in schools[c.school_id]}
    referrals = {r.pk: r for r in Referral.objects.filter(pk__in=wanted).only("pk", "reference")}
    return [
        SameSchoolLink(
            context_id=c.pk,
            school=c.school.name,
            referrals=[referrals[pk] for pk in sorted(schools[c.school_id]) if pk in referrals],
        )
        for c in contexts
    ]


def context_view(*, user, pk: int) -> ContextView:
    from modelguidance.models import Acknowledgement
    from modelguidance.selectors import published_version, training_coverage

    context = Context.objects.select_related("school").get(pk=pk)
    full = may_see_alerts(user)
    if not full and (
        context.kind != Context.Kind.SCHOOL or context.school_id not in review_team_schools(user=user)
    ):
        # The review team opens only the schools their reviews' same-school cases concern.
        raise Context.DoesNotExist(f"Context {pk} is not one of this viewer's reviews")
    ids = sorted(
        set(AlertEvidence.objects.filter(alert__context=context).values_list("referral_id", flat=True))
    )
    evidence = evidence_rows(user=user, referral_ids=ids)
    if not evidence:
        # Not even that the school or place has a context is shown to this viewer.
        raise Context.DoesNotExist(f"No referral of context {pk} is visible to this viewer")
    alerts: list[Alert] = []
    actions: list[AlertAction] = []
    if full:  # the alerts and what managers did about them are the managers'
        alerts = list(
            alerts_visible_to(user=user)
            .filter(context=context, emptied=False)  # an emptied alert ties nothing to the context
            .select_related("rule")
            .order_by("-raised_at", "-id")
        )
        actions = list(
            AlertAction.objects.filter(alert__in=[a.pk for a in alerts])
            .select_related("recorded_by", "alert__rule")
            .order_by("taken_on", "recorded_at", "id")
        )
    timeline = [TimelineEntry(row.referral.received_at, "referral", referral=row) for row in evidence]
    timeline += [TimelineEntry(a.raised_at, "alert", alert=a) for a in alerts]
    timeline += [TimelineEntry(_local_midday(a.taken_on), "action", action=a) for a in actions]
    timeline.sort(key=lambda e: e.on, reverse=True)
    view = ContextView(
        context=context,
        name=context_name(user=user, context=context, referral_ids=[row.referral.pk for row in evidence]),
        alerts=alerts,
        timeline=timeline,
        evidence=evidence,
        actions=actions,
        full=full,
    )
    if context.kind == Context.Kind.SCHOOL and full:
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
    if context.kind == Context.Kind.SCHOOL:
        view.show_reviews = has_role(user, *CASE_REVIEW_ROLES)
        view.reviews = same_school_reviews(user=user, school_id=context.school_id)
    return view


def contexts_list(*, user):
    """The contexts with a referral the viewer may see, with how many of their alerts do."""
    shown = _alerts_with_visible_evidence(user=user).filter(context__isnull=False)
    return (
        Context.objects.filter(pk__in=shown.values("context_id"))
        .select_related("school")
        .annotate(alert_count=Count("alerts", filter=Q(alerts__in=shown.values("pk")), distinct=True))
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
