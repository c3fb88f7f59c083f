"""Reads for case reviews: the screening funnel, moderation agreement and the findings."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from copy import copy
from dataclasses import dataclass, field
from typing import NamedTuple

from django.db.models import Count, Prefetch, QuerySet
from django.utils import timezone

from core import permissions
from core.exempt import MASK, mask_all
from core.exempt import shown_fields as exempt_shown_fields
from core.timescales import age_on
from guidance.models import GuidanceDocument
from guidance.selectors import documents_in_force
from referrals.models import CaseNote, Child, Referral, ReferralChild, ReferralDecision, ReferralDetail
from referrals.selectors import referral_view, referrals_visible_to
from reviews.models import (
    CaseAssessment,
    CriterionRating,
    Moderation,
    Review,
    ReviewPeriod,
    ScreeningDecision,
)
from reviews.permissions import reads_every_review
from reviews.statistics import KappaEstimate, kappa_estimate


def reviews_visible_to(*, user) -> QuerySet[Review]:
    if reads_every_review(user):
        return Review.objects.all()
    return Review.objects.filter(reviewers=user).distinct()


@dataclass
class Funnel:
    received: int
    candidates: int
    included: int
    pending: int
    excluded_by_rules: dict[str, int]
    excluded_at_screening: dict[str, int]


def review_funnel(*, review: Review) -> Funnel:
    """Every referral received in the periods -> candidates by the rules -> included."""
    rows = (
        ScreeningDecision.objects.filter(review_id=review.pk)
        .values("candidate", "decision", "reason")
        .annotate(n=Count("id"))
    )
    received = candidates = included = pending = 0
    by_rules: Counter[str] = Counter()
    at_screening: Counter[str] = Counter()
    labels = dict(ScreeningDecision.Reason.choices)
    for row in rows:
        received += row["n"]
        if not row["candidate"]:
            by_rules[labels.get(row["reason"], row["reason"])] += row["n"]
            continue
        candidates += row["n"]
        if row["decision"] == ScreeningDecision.Decision.INCLUDE:
            included += row["n"]
        elif row["decision"] == ScreeningDecision.Decision.PENDING:
            pending += row["n"]
        else:
            at_screening[labels.get(row["reason"], row["reason"])] += row["n"]
    return Funnel(received, candidates, included, pending, dict(by_rules), dict(at_screening))


def natural_key(code: str) -> tuple:
    """A criterion code as people sort it: K18.2 before K18.10, K9 before K10."""
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part.lower())
        for part in re.findall(r"\d+|\D+", code)
    )


class Disagreement(NamedTuple):
    """A criterion the first and the blind second reviewer rated differently."""

    first: CriterionRating
    second: CriterionRating
    resolution: Moderation | None

    @property
    def anchor(self) -> str:
        return f"disagreement-{self.first.pk}"

    @property
    def resolved(self) -> bool:
        return bool(self.resolution and self.resolution.resolved_rating)


@dataclass
class Agreement:
    by_criterion: dict[str, tuple[int, int]]  # code -> (agreed, compared), codes sorted naturally
    kappa: float | None
    disagreements: list[Disagreement] = field(default_factory=list)
    estimate: KappaEstimate | None = None

    @property
    def unresolved(self) -> list[Disagreement]:
        return [d for d in self.disagreements if not d.resolved]

    @property
    def resolved(self) -> list[Disagreement]:
        return [d for d in self.disagreements if d.resolved]

    def next_unresolved_after(self, primary_id: int) -> Disagreement | None:
        """The first unresolved disagreement after this one in the page's order, or else the
        first before it: where the page goes after a resolution."""
        ids = [d.first.pk for d in self.disagreements]
        start = ids.index(primary_id) + 1 if primary_id in ids else 0
        ordered = self.disagreements[start:] + self.disagreements[:start]
        return next((d for d in ordered if not d.resolved and d.first.pk != primary_id), None)


def moderation_agreement(*, review: Review) -> Agreement:
    """Per-criterion agreement and Cohen's kappa (with its interval) between first and blind
    second ratings. Disagreements come in the order of their case (received first), then of
    the criterion's code, sorted naturally."""
    ratings = (
        CriterionRating.objects.filter(assessment__review=review)
        .exclude(rating="")
        .select_related("criterion", "assessment__referral")
    )
    by_key: dict[tuple[int, int], dict[str, CriterionRating]] = defaultdict(dict)
    for rating in ratings:
        by_key[(rating.assessment.referral_id, rating.criterion_id)][rating.assessment.kind] = rating
    resolutions = {m.primary_id: m for m in Moderation.objects.filter(primary__assessment__review=review)}
    first, second = [], []
    by_criterion: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    disagreements = []
    for pair in by_key.values():
        a, b = pair.get(CaseAssessment.Kind.PRIMARY), pair.get(CaseAssessment.Kind.MODERATION)
        if a is None or b is None:
            continue
        first.append(a.rating)
        second.append(b.rating)
        tally = by_criterion[a.criterion.code]
        tally[1] += 1
        if a.rating == b.rating:
            tally[0] += 1
        else:
            disagreements.append(Disagreement(a, b, resolutions.get(a.pk)))
    disagreements.sort(
        key=lambda d: (
            d.first.assessment.referral.received_at,
            d.first.assessment.referral_id,
            natural_key(d.first.criterion.code),
        )
    )
    estimate = kappa_estimate(first, second)
    return Agreement(
        by_criterion={
            code: (t[0], t[1]) for code, t in sorted(by_criterion.items(), key=lambda kv: natural_key(kv[0]))
        },
        kappa=estimate.kappa,
        disagreements=disagreements,
        estimate=estimate,
    )


def moderation_blocker(*, review: Review) -> str:
    """Why moderation cannot start now, as a sentence; empty when it can. The same rule as
    ``services.review_start_moderation``, which refuses with this sentence."""
    if review.status != Review.Status.REVIEWING:
        status = review.get_status_display().lower()
        return f"Moderation can start only while the review is in reviewing; it is in {status}."
    statuses = list(
        review.assessments.filter(kind=CaseAssessment.Kind.PRIMARY).values_list("status", flat=True)
    )
    if not statuses:
        return "Moderation can start when cases have been assigned and their assessments accepted."
    waiting = sum(s != CaseAssessment.Status.ACCEPTED for s in statuses)
    if waiting:
        noun = "assessment is" if waiting == 1 else "assessments are"
        return f"Moderation can start when every assessment is accepted: {waiting} {noun} not accepted yet."
    people = {*review.reviewers.values_list("pk", flat=True), review.lead_reviewer_id}
    if review.moderation_share and len(people) < 2:
        return "Moderation needs a second reviewer: add one to the review."
    return ""


@dataclass
class Findings:
    periods: list[str]
    criteria: list[tuple[str, str]]  # (code, text)
    # (criterion code, period name) -> Counter of ratings
    counts: dict[tuple[str, str], Counter]
    referrals: dict[tuple[str, str, str], list[int]]  # (code, period, rating) -> referral ids
    documents: dict[str, str] = field(default_factory=dict)  # criterion code -> its guidance's title


def review_findings(*, review: Review) -> Findings:
    """Compliance by criterion and period, from accepted assessments with moderation applied."""
    period_of = dict(
        ScreeningDecision.objects.filter(review_id=review.pk).values_list("referral_id", "period__name")
    )
    resolutions = dict(
        Moderation.objects.filter(primary__assessment__review=review)
        .exclude(resolved_rating="")
        .values_list("primary_id", "resolved_rating")
    )
    ratings = (
        CriterionRating.objects.filter(
            assessment__review=review,
            assessment__kind=CaseAssessment.Kind.PRIMARY,
            assessment__status=CaseAssessment.Status.ACCEPTED,
        )
        .select_related("criterion__document", "assessment")
        .order_by("criterion__document__in_force_from", "criterion__order")
    )
    counts: dict[tuple[str, str], Counter] = defaultdict(Counter)
    referrals: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    criteria: dict[str, str] = {}
    documents: dict[str, str] = {}
    for rating in ratings:
        value = resolutions.get(rating.pk, rating.rating)
        period = period_of.get(rating.assessment.referral_id, "")
        criteria.setdefault(rating.criterion.code, rating.criterion.text)
        documents.setdefault(rating.criterion.code, rating.criterion.document.title)
        counts[(rating.criterion.code, period)][value] += 1
        referrals[(rating.criterion.code, period, value)].append(rating.assessment.referral_id)
    in_force = {}
    for rating in ratings:
        in_force.setdefault(rating.criterion.code, rating.criterion.document.in_force_from)
    return Findings(
        periods=list(ReviewPeriod.objects.filter(review_id=review.pk).values_list("name", flat=True)),
        criteria=sorted(criteria.items(), key=lambda item: (in_force[item[0]], natural_key(item[0]))),
        counts=dict(counts),
        referrals=dict(referrals),
        documents=documents,
    )


def can_see_all_cases(*, user, referral_ids) -> bool:
    """Whether a figure may be shown unsuppressed: the user may see every case behind it."""
    ids = set(referral_ids)
    return ids <= permissions.exempt_ids(Referral, user=user, ids=ids)


def review_cell_referrals(*, findings: Findings, criterion: str, period: str, rating: str) -> list[int]:
    """The cases behind one count of the findings (empty when there is no such count)."""
    return list(findings.referrals.get((criterion, period, rating), []))


def referrals_for_list(*, ids) -> QuerySet[Referral]:
    """Referrals by id, with what a list of them shows (reference, date, forms of abuse)."""
    return (
        Referral.objects.filter(pk__in=list(ids))
        .prefetch_related("forms_of_abuse")
        .order_by("received_at", "pk")
    )


@dataclass
class PeriodGuidance:
    period: ReviewPeriod
    documents: list[GuidanceDocument]


def review_guidance(*, review: Review) -> list[PeriodGuidance]:
    """For each period, every guidance document in force on any day of it (the review assessed
    each case against those in force on the day it was received)."""
    rows = []
    for period in review.periods.all():
        at_start = list(documents_in_force(on=period.start))
        later = GuidanceDocument.objects.filter(in_force_from__gt=period.start, in_force_from__lte=period.end)
        documents = sorted({*at_start, *later}, key=lambda d: (d.in_force_from, d.series))
        rows.append(PeriodGuidance(period, documents))
    return rows


AGE_BANDS = ((10, "10 or under"), (13, "11 to 13"), (15, "14 to 15"), (17, "16 to 17"))


def age_band(age: int) -> str:
    for top, label in AGE_BANDS:
        if age <= top:
            return label
    return "18 or over"


@dataclass(frozen=True)
class CaseDetail:
    """One included case as cabinet Appendix 3 describes it: pseudonymised, nothing exempt.

    Dates of birth and schools are read to work out age bands, phases and the same-school
    flag, and go no further: no field here holds a name, a date of birth, a school, a day of
    the month or any free text.
    """

    number: int
    period: str
    received: str  # month and year only
    forms_of_abuse: list[str]
    victim_ages: list[str]
    alleged_ages: list[str]
    school_phases: list[str]
    same_school: bool | None
    outcomes: list[str]
    within_timescale: bool | None
    judgement: str


def review_case_details(*, review: Review) -> list[CaseDetail]:
    """Every case included in the review, numbered in the order received (case 1, 2, ...)."""
    included = (
        ScreeningDecision.objects.filter(review_id=review.pk, decision=ScreeningDecision.Decision.INCLUDE)
        .select_related("referral", "period")
        .prefetch_related(
            "referral__forms_of_abuse",
            Prefetch("referral__children", queryset=ReferralChild.objects.select_related("child__school")),
            Prefetch(
                "referral__decisions",
                queryset=ReferralDecision.objects.prefetch_related("outcomes").order_by("decided_at", "id"),
            ),
        )
        .order_by("referral__received_at", "referral_id")
    )
    judgements = dict(
        CaseAssessment.objects.filter(
            review_id=review.pk, kind=CaseAssessment.Kind.PRIMARY, status=CaseAssessment.Status.ACCEPTED
        ).values_list("referral_id", "overall_judgement")
    )
    labels = dict(CaseAssessment.Judgement.choices)
    rows = []
    for number, screening in enumerate(included, start=1):
        referral = screening.referral
        children = list(referral.children.all())
        victims = [c for c in children if c.role == ReferralChild.Role.VICTIM]
        alleged = [c for c in children if c.role == ReferralChild.Role.ALLEGED_PERPETRATOR]

        def bands(links, referral=referral):
            return [age_band(age_on(c.child.date_of_birth, referral.incident_date)) for c in links]

        victim_schools = {c.child.school_id for c in victims} - {None}
        alleged_schools = {c.child.school_id for c in alleged} - {None}
        phases = sorted({c.child.school.get_phase_display() for c in victims + alleged if c.child.school})
        decisions = list(referral.decisions.all())  # first decided first
        judgement = judgements.get(referral.pk, "")
        rows.append(
            CaseDetail(
                number=number,
                period=screening.period.name,
                received=timezone.localtime(referral.received_at).strftime("%B %Y"),
                forms_of_abuse=[f.name for f in referral.forms_of_abuse.all()],
                victim_ages=bands(victims),
                alleged_ages=bands(alleged),
                school_phases=phases or ["Not known"],
                same_school=bool(victim_schools & alleged_schools)
                if victim_schools and alleged_schools
                else None,
                # The latest decision stands; the timescale is the first decision's, from receipt.
                outcomes=[o.name for o in decisions[-1].outcomes.all()] if decisions else [],
                within_timescale=decisions[0].within_timescale if decisions else None,
                judgement=labels.get(judgement, "Not yet accepted"),
            )
        )
    return rows


# --- One assessment ---------------------------------------------------------------------------


@dataclass
class AssessmentPage:
    """An assessment as its page shows it. For a viewer who may not see the case's exempt
    information (core.exempt), every exempt value here is already the mask: the assessment's
    free text, each rating's evidence, the children's names and what was written about the
    case. The page and its form can only show what they are given."""

    assessment: CaseAssessment
    ratings: list[CriterionRating]
    case: object | None  # referrals.selectors.ReferralView, if the viewer may open the referral
    children: list[tuple[object, str]]  # (the child's facts, name or mask)
    exempt_visible: bool
    #: The exempt fields the page shows (``Model.field``), for the access log.
    shown_fields: list[str] = field(default_factory=list)


#: The exempt fields the assessment page prints.
ASSESSMENT_SHOWS = {
    CaseAssessment: ["good_practice", "areas_for_improvement", "lead_comments"],
    CriterionRating: ["evidence"],
    Child: ["first_name", "last_name"],
    ReferralDecision: ["rationale", "advice_notes"],
    ReferralDetail: ["narrative"],
    CaseNote: ["text"],
}


def assessment_page(*, user, assessment: CaseAssessment) -> AssessmentPage:
    """The assessment, its ratings and the case, masked for a viewer who may not see them.

    ``assessment`` is the view's (already checked to be the viewer's to open); the page gets a
    copy, so the caller's instance keeps its values."""
    may_open = referrals_visible_to(user=user).filter(pk=assessment.referral_id).exists()
    case = referral_view(user=user, pk=assessment.referral_id) if may_open else None
    visible = bool(case and case.exempt_visible)
    shown = copy(assessment)
    ratings = list(
        CriterionRating.objects.filter(assessment_id=assessment.pk)
        .select_related("criterion__document")
        .prefetch_related("criterion__forms_of_abuse")
    )
    ratings.sort(key=lambda r: (r.criterion.document.in_force_from, natural_key(r.criterion.code)))
    if not visible:
        mask_all([shown, *ratings])
    children = [
        (facts, f"{facts.child.first_name} {facts.child.last_name}" if visible else MASK)
        for facts in (case.children if case else [])
    ]
    shown_fields = []
    if visible:
        shown_fields = exempt_shown_fields(
            [
                shown,
                *ratings,
                case.detail,
                *case.decisions,
                *case.notes,
                *(note.corrects for note in case.notes),
                *(facts.child for facts in case.children),
            ],
            displayed=ASSESSMENT_SHOWS,
        )
    return AssessmentPage(
        assessment=shown,
        ratings=ratings,
        case=case,
        children=children,
        exempt_visible=visible,
        shown_fields=shown_fields,
    )
