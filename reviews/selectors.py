"""Reads for case reviews: the screening funnel, moderation agreement and the findings."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, QuerySet

from core import permissions
from core.roles import Role, has_role
from referrals.models import Referral
from reviews.models import CaseAssessment, CriterionRating, Moderation, Review, ScreeningDecision
from reviews.statistics import cohens_kappa


def reviews_visible_to(*, user) -> QuerySet[Review]:
    if has_role(user, Role.LEAD_REVIEWER, Role.INFORMATION_GOVERNANCE, Role.REPORT_OFFICER):
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
    rows = review.screening.values("candidate", "decision", "reason").annotate(n=Count("id"))
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


@dataclass
class Agreement:
    by_criterion: dict[str, tuple[int, int]]  # code -> (agreed, compared)
    kappa: float | None
    disagreements: list[tuple[CriterionRating, CriterionRating, Moderation | None]] = field(
        default_factory=list
    )


def moderation_agreement(*, review: Review) -> Agreement:
    """Per-criterion agreement and Cohen's kappa between first and blind second ratings."""
    ratings = (
        CriterionRating.objects.filter(assessment__review=review)
        .exclude(rating="")
        .select_related("criterion", "assessment")
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
            disagreements.append((a, b, resolutions.get(a.pk)))
    return Agreement(
        by_criterion={code: (t[0], t[1]) for code, t in sorted(by_criterion.items())},
        kappa=cohens_kappa(first, second),
        disagreements=disagreements,
    )


@dataclass
class Findings:
    periods: list[str]
    criteria: list[tuple[str, str]]  # (code, text)
    # (criterion code, period name) -> Counter of ratings
    counts: dict[tuple[str, str], Counter]
    referrals: dict[tuple[str, str, str], list[int]]  # (code, period, rating) -> referral ids


def review_findings(*, review: Review) -> Findings:
    """Compliance by criterion and period, from accepted assessments with moderation applied."""
    period_of = dict(review.screening.values_list("referral_id", "period__name"))
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
        .select_related("criterion", "assessment")
        .order_by("criterion__document__in_force_from", "criterion__order")
    )
    counts: dict[tuple[str, str], Counter] = defaultdict(Counter)
    referrals: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    criteria: dict[str, str] = {}
    for rating in ratings:
        value = resolutions.get(rating.pk, rating.rating)
        period = period_of.get(rating.assessment.referral_id, "")
        criteria.setdefault(rating.criterion.code, rating.criterion.text)
        counts[(rating.criterion.code, period)][value] += 1
        referrals[(rating.criterion.code, period, value)].append(rating.assessment.referral_id)
    return Findings(
        periods=list(review.periods.values_list("name", flat=True)),
        criteria=list(criteria.items()),
        counts=dict(counts),
        referrals=dict(referrals),
    )


def can_see_all_cases(*, user, referral_ids) -> bool:
    """Whether a figure may be shown unsuppressed: the user may see every case behind it."""
    ids = set(referral_ids)
    return ids <= permissions.exempt_ids(Referral, user=user, ids=ids)
