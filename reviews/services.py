"""Writes for case reviews: set up, screen, assign, assess, accept, moderate, close."""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from core import permissions
from core.permissions import VIEW_EXEMPT, GrantKind
from core.records import delete_with_history, save_with_history
from guidance.selectors import criteria_in_force
from referrals.models import AbuseForm, Referral, ReferralChild
from reviews.models import (
    CaseAssessment,
    CriterionRating,
    Moderation,
    Review,
    ReviewPeriod,
    ReviewRecommendation,
    ReviewTheme,
    ScreeningDecision,
)
from reviews.permissions import (
    ADMINISTRATORS_ASSESS_NOTHING,
    LEAD_ASSESSES_NOTHING,
    any_administrator,
    is_administrator,
    may_set_up_review,
    possible_assessors,
)
from reviews.selectors import moderation_blocker

Reason = ScreeningDecision.Reason


class IllegalReviewStep(ValidationError):
    pass


#: Reviewers' grants on a review's cases end at most this far ahead: longer than a referral grant
#: (90 days) because a case review runs for months, but never open-ended (docs/security.md).
REVIEW_GRANT_MAX_DAYS = 365


def _require_status(review: Review, *statuses: str) -> None:
    if review.status not in statuses:
        allowed = " or ".join(Review.Status(s).label.lower() for s in statuses)
        raise IllegalReviewStep(
            f"The review is {review.get_status_display().lower()}; this needs it to be {allowed}"
        )


def _require_lead(user, review: Review) -> None:
    if review.lead_reviewer_id != user.pk:
        raise ValidationError("Only the review's lead reviewer can do this")


# --- Set-up --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodInput:
    name: str
    start: dt.date
    end: dt.date


@transaction.atomic
def review_create(
    *,
    user,
    title: str,
    terms_of_reference: str,
    lead_reviewer,
    reviewers: Sequence,
    periods: Sequence[PeriodInput],
    grants_end_on: dt.date,
    include_forms: Sequence[AbuseForm] = (),
    require_peer_on_peer: bool = True,
    require_same_school: bool = True,
    moderation_share: int = 20,
) -> Review:
    if not may_set_up_review(user):
        raise ValidationError("Only a lead reviewer can set up a review")
    errors: dict[str, str] = {}
    if not title.strip():
        errors["title"] = "Enter the title of the review"
    if not terms_of_reference.strip():
        errors["terms_of_reference"] = "Enter the terms of reference"
    if not periods:
        errors["periods"] = "Add at least one period"
    for period in periods:
        if period.end < period.start:
            errors["periods"] = f"The period '{period.name}' must end on or after the day it starts"
    if not 0 <= moderation_share <= 100:
        errors["moderation_share"] = "The share moderated must be between 0 and 100 per cent"
    if grants_end_on <= timezone.localdate():
        errors["grants_end_on"] = "The date reviewers' access ends must be in the future"
    elif grants_end_on > timezone.localdate() + dt.timedelta(days=REVIEW_GRANT_MAX_DAYS):
        errors["grants_end_on"] = (
            f"The date reviewers' access ends must be at most {REVIEW_GRANT_MAX_DAYS} days from today"
        )
    if any(reviewer.pk == lead_reviewer.pk for reviewer in reviewers):
        errors["reviewers"] = LEAD_ASSESSES_NOTHING
    elif any_administrator(reviewers):
        errors["reviewers"] = ADMINISTRATORS_ASSESS_NOTHING
    if errors:
        raise ValidationError(errors)
    review = Review(
        title=title.strip(),
        terms_of_reference=terms_of_reference,
        lead_reviewer=lead_reviewer,
        require_peer_on_peer=require_peer_on_peer,
        require_same_school=require_same_school,
        moderation_share=moderation_share,
        grants_end_on=grants_end_on,
        created_by=user,
    )
    save_with_history(review, user=user, reason="Review set up")
    review.reviewers.set(reviewers)
    review.include_forms.set(include_forms)
    for period in periods:
        row = ReviewPeriod(review=review, name=period.name, start=period.start, end=period.end)
        save_with_history(row, user=user, reason="Review set up")
    return review


# --- Screening -----------------------------------------------------------------------------------


def _rule_reason(review: Review, referral: Referral, forms_in_scope: set[int], children: list[ReferralChild]):
    """Why the review's rules leave a referral out (empty when they take it in)."""
    if review.require_peer_on_peer and not referral.is_peer_on_peer:
        return Reason.NOT_PEER_ON_PEER
    if forms_in_scope and not ({f.pk for f in referral.forms_of_abuse.all()} & forms_in_scope):
        return Reason.NOT_IN_SCOPE_FORM
    if review.require_same_school:
        victims = {c.child.school_id for c in children if c.role == ReferralChild.Role.VICTIM} - {None}
        alleged = {
            c.child.school_id for c in children if c.role == ReferralChild.Role.ALLEGED_PERPETRATOR
        } - {None}
        if not victims & alleged:
            return Reason.DIFFERENT_SCHOOLS
    return ""


@transaction.atomic
def review_start_screening(*, user, review_id: int) -> int:
    """Take every referral received in the periods and apply the rules; returns how many."""
    review = Review.objects.select_for_update().get(pk=review_id)
    _require_lead(user, review)
    _require_status(review, Review.Status.PLANNING)
    forms_in_scope = set(review.include_forms.values_list("pk", flat=True))
    zone = timezone.get_current_timezone()
    rows = []
    seen: set[int] = set()
    for period in review.periods.all():
        start = dt.datetime.combine(period.start, dt.time(0), tzinfo=zone)
        end = dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
        referrals = (
            Referral.objects.filter(received_at__gte=start, received_at__lt=end)
            .exclude(pk__in=seen)
            .prefetch_related(
                "forms_of_abuse",
                Prefetch("children", queryset=ReferralChild.objects.select_related("child")),
            )
            .order_by("received_at", "pk")
        )
        for referral in referrals:
            seen.add(referral.pk)
            reason = _rule_reason(review, referral, forms_in_scope, list(referral.children.all()))
            rows.append(
                ScreeningDecision(
                    review=review,
                    referral=referral,
                    period=period,
                    candidate=not reason,
                    rule_reason=reason,
                    decision=ScreeningDecision.Decision.EXCLUDE
                    if reason
                    else ScreeningDecision.Decision.PENDING,
                    reason=reason,
                )
            )
    bulk_create_with_history(
        rows,
        ScreeningDecision,
        batch_size=2000,
        default_user=user,
        default_change_reason="Screened by the review's rules",
    )
    review.status = Review.Status.SCREENING
    save_with_history(review, user=user, reason="Screening started")
    return len(rows)


@transaction.atomic
def screening_decide(*, user, decision_id: int, include: bool, reason: str = "") -> ScreeningDecision:
    decision = ScreeningDecision.objects.select_for_update().select_related("review").get(pk=decision_id)
    review = decision.review
    if not (review.lead_reviewer_id == user.pk or review.reviewers.filter(pk=user.pk).exists()):
        raise ValidationError("Only the review's reviewers can screen its cases")
    _require_status(review, Review.Status.SCREENING)
    if not decision.candidate:
        raise ValidationError("The review's rules already leave this referral out")
    if not include and reason not in Reason.values:
        raise ValidationError({"reason": "Select why the case is excluded"})
    decision.decision = ScreeningDecision.Decision.INCLUDE if include else ScreeningDecision.Decision.EXCLUDE
    decision.reason = "" if include else reason
    decision.decided_by = user
    decision.decided_at = timezone.now()
    save_with_history(
        decision, user=user, reason="Included" if include else f"Excluded: {Reason(reason).label}"
    )
    return decision


@transaction.atomic
def review_start_reviewing(*, user, review_id: int) -> Review:
    review = Review.objects.select_for_update().get(pk=review_id)
    _require_lead(user, review)
    _require_status(review, Review.Status.SCREENING)
    pending = review.screening.filter(decision=ScreeningDecision.Decision.PENDING).count()
    if pending:
        raise ValidationError(f"{pending} candidate cases have not been screened yet")
    review.status = Review.Status.REVIEWING
    save_with_history(review, user=user, reason="Reviewing started")
    return review


# --- Assignment and assessment ---------------------------------------------------------------------


def _grant_for_case(review: Review, referral: Referral, reviewer, *, by) -> None:
    ends = dt.datetime.combine(
        review.grants_end_on + dt.timedelta(days=1), dt.time(0), tzinfo=timezone.get_current_timezone()
    )
    permissions.grant(
        referral,
        action=VIEW_EXEMPT,
        user=reviewer,
        kind=GrantKind.REVIEW,
        reason=f"Case review: {review.title}",
        granted_by=by,
        expires_at=ends,
    )


def _new_assessment(review: Review, referral: Referral, reviewer, kind: str, *, by) -> CaseAssessment:
    assessment = CaseAssessment(
        review=review, referral=referral, reviewer=reviewer, kind=kind, assigned_by=by
    )
    save_with_history(assessment, user=by, reason=f"Assigned to {reviewer.get_username()}")
    received = timezone.localtime(referral.received_at).date()
    criteria = criteria_in_force(
        on=received, forms_of_abuse=[form.pk for form in referral.forms_of_abuse.all()]
    )
    bulk_create_with_history(
        [CriterionRating(assessment=assessment, criterion=c) for c in criteria],
        CriterionRating,
        default_user=by,
        default_change_reason="Criteria in force on the day the referral was received",
    )
    _grant_for_case(review, referral, reviewer, by=by)
    return assessment


@transaction.atomic
def assessment_assign(*, user, review_id: int, referral_id: int, reviewer) -> CaseAssessment:
    review = Review.objects.select_for_update().get(pk=review_id)
    _require_lead(user, review)
    _require_status(review, Review.Status.REVIEWING)
    if reviewer.pk in (user.pk, review.lead_reviewer_id):
        raise ValidationError({"reviewer": LEAD_ASSESSES_NOTHING})
    if not review.reviewers.filter(pk=reviewer.pk).exists():
        raise ValidationError({"reviewer": "Choose one of the review's reviewers"})
    if is_administrator(reviewer):  # they hold no grant on case data
        raise ValidationError({"reviewer": ADMINISTRATORS_ASSESS_NOTHING})
    screening = review.screening.filter(referral_id=referral_id, decision=ScreeningDecision.Decision.INCLUDE)
    if not screening.exists():
        raise ValidationError("Only cases included at screening can be assigned")
    existing = review.assessments.filter(referral_id=referral_id, kind=CaseAssessment.Kind.PRIMARY).first()
    if existing:
        raise ValidationError(f"This case is already assigned to {existing.reviewer.get_username()}")
    return _new_assessment(
        review, Referral.objects.get(pk=referral_id), reviewer, CaseAssessment.Kind.PRIMARY, by=user
    )


def _lock_assessment(assessment_id: int, expected_version: int | None = None) -> CaseAssessment:
    assessment = CaseAssessment.objects.select_for_update().select_related("review").get(pk=assessment_id)
    if expected_version is not None and assessment.version != expected_version:
        raise ValidationError("Someone else saved this assessment after you opened it. Open it again.")
    return assessment


@dataclass(frozen=True)
class RatingInput:
    rating: str
    evidence: str | None = ""  # None: keep the stored evidence (a reviewer who may not see it)


@transaction.atomic
def assessment_save(
    *,
    user,
    assessment_id: int,
    expected_version: int,
    ratings: Mapping[int, RatingInput],
    advice_matched: str = "",
    overall_judgement: str = "",
    good_practice: str | None = "",
    areas_for_improvement: str | None = "",
) -> CaseAssessment:
    """Save a reviewer's work in progress (all of it or part). A text given as ``None`` is kept
    as stored: the reviewer saved from a page that did not show it (core.exempt)."""
    assessment = _lock_assessment(assessment_id, expected_version)
    if assessment.reviewer_id != user.pk:
        raise ValidationError("Only the assigned reviewer can change this assessment")
    if assessment.status not in (CaseAssessment.Status.ASSIGNED, CaseAssessment.Status.RETURNED):
        raise IllegalReviewStep("A submitted assessment cannot be changed")
    rows = {r.criterion_id: r for r in assessment.ratings.select_for_update()}
    for criterion_id, value in ratings.items():
        row = rows.get(criterion_id)
        if row is None:
            raise ValidationError("That criterion does not apply to this case")
        if value.rating and value.rating not in CriterionRating.Rating.values:
            raise ValidationError({f"rating_{criterion_id}": "Select a rating"})
        evidence = row.evidence if value.evidence is None else value.evidence
        if (row.rating, row.evidence) != (value.rating, evidence):
            row.rating, row.evidence = value.rating, evidence
            save_with_history(row, user=user, reason="Rated")
    assessment.advice_matched = advice_matched
    assessment.overall_judgement = overall_judgement
    if good_practice is not None:
        assessment.good_practice = good_practice
    if areas_for_improvement is not None:
        assessment.areas_for_improvement = areas_for_improvement
    assessment.version += 1
    save_with_history(assessment, user=user, reason="Saved")
    return assessment


@transaction.atomic
def assessment_submit(*, user, assessment_id: int, expected_version: int) -> CaseAssessment:
    assessment = _lock_assessment(assessment_id, expected_version)
    if assessment.reviewer_id != user.pk:
        raise ValidationError("Only the assigned reviewer can submit this assessment")
    if assessment.status not in (CaseAssessment.Status.ASSIGNED, CaseAssessment.Status.RETURNED):
        raise IllegalReviewStep("This assessment has been submitted already")
    errors = {}
    unrated = assessment.ratings.filter(rating="").count()
    if unrated:
        errors["ratings"] = f"Rate every criterion: {unrated} still to rate"
    if not assessment.advice_matched:
        errors["advice_matched"] = "Select whether the advice MASH recorded matched the guidance"
    if not assessment.overall_judgement:
        errors["overall_judgement"] = "Select an overall judgement"
    if errors:
        raise ValidationError(errors)
    assessment.status = CaseAssessment.Status.SUBMITTED
    assessment.submitted_at = timezone.now()
    assessment.version += 1
    save_with_history(assessment, user=user, reason="Submitted")
    return assessment


@transaction.atomic
def assessment_decide(*, user, assessment_id: int, accept: bool, comments: str = "") -> CaseAssessment:
    """The lead reviewer accepts a submitted assessment, or returns it with comments."""
    assessment = _lock_assessment(assessment_id)
    _require_lead(user, assessment.review)
    if assessment.reviewer_id == user.pk:
        raise ValidationError("Nobody accepts or returns their own assessment")
    if assessment.status != CaseAssessment.Status.SUBMITTED:
        raise IllegalReviewStep("Only a submitted assessment can be accepted or returned")
    if not accept and not comments.strip():
        raise ValidationError({"comments": "Enter what the reviewer needs to change"})
    assessment.status = CaseAssessment.Status.ACCEPTED if accept else CaseAssessment.Status.RETURNED
    assessment.lead_comments = comments
    if accept:
        assessment.accepted_at = timezone.now()
    assessment.version += 1
    save_with_history(assessment, user=user, reason="Accepted" if accept else "Returned with comments")
    return assessment


# --- Moderation and closing -------------------------------------------------------------------------


@transaction.atomic
def review_start_moderation(*, user, review_id: int) -> list[CaseAssessment]:
    """Sample the review's share of accepted cases and assign each, blind, to a second reviewer."""
    review = Review.objects.select_for_update().get(pk=review_id)
    _require_lead(user, review)
    _require_status(review, Review.Status.REVIEWING)
    blocker = moderation_blocker(review=review)
    if blocker:
        raise ValidationError(blocker)
    primaries = list(
        review.assessments.filter(kind=CaseAssessment.Kind.PRIMARY)
        .select_related("referral")
        .prefetch_related("referral__forms_of_abuse")
        .order_by("referral_id")
    )
    size = math.ceil(len(primaries) * review.moderation_share / 100)
    sample = random.Random(review.pk).sample(primaries, size)  # noqa: S311 - a sample, not a secret
    # The lead accepts each assessment and resolves each disagreement, so never makes one.
    people = sorted(
        possible_assessors(review.reviewers.exclude(pk=review.lead_reviewer_id)), key=lambda u: u.pk
    )
    made = []
    for index, primary in enumerate(sorted(sample, key=lambda a: a.referral_id)):
        others = [p for p in people if p.pk != primary.reviewer_id]
        if not others:
            raise ValidationError(
                "Moderation needs a second reviewer besides the lead: add one to the review."
            )
        second = others[index % len(others)]
        made.append(
            _new_assessment(review, primary.referral, second, CaseAssessment.Kind.MODERATION, by=user)
        )
    review.status = Review.Status.MODERATION
    save_with_history(review, user=user, reason=f"Moderation started: {size} of {len(primaries)} cases")
    return made


@transaction.atomic
def moderation_resolve(
    *, user, primary_rating_id: int, second_rating_id: int, resolved_rating: str
) -> Moderation:
    primary = CriterionRating.objects.select_related("assessment__review").get(pk=primary_rating_id)
    _require_lead(user, primary.assessment.review)
    second = CriterionRating.objects.select_related("assessment").filter(pk=second_rating_id).first()
    if (
        primary.assessment.kind != CaseAssessment.Kind.PRIMARY
        or second is None
        or second.assessment.kind != CaseAssessment.Kind.MODERATION
        or second.assessment.review_id != primary.assessment.review_id
        or second.assessment.referral_id != primary.assessment.referral_id
        or second.criterion_id != primary.criterion_id
    ):
        raise ValidationError("These two ratings are not a first and second rating of the same criterion.")
    if resolved_rating not in CriterionRating.Rating.values:
        raise ValidationError({"resolved_rating": "Select the rating that stands"})
    moderation = Moderation.objects.filter(primary=primary).first() or Moderation(
        primary=primary, second=second
    )
    moderation.resolved_rating = resolved_rating
    moderation.resolved_by = user
    moderation.resolved_at = timezone.now()
    save_with_history(moderation, user=user, reason="Disagreement resolved")
    return moderation


@transaction.atomic
def review_advance(*, user, review_id: int, to: str) -> Review:
    """Moderation -> reporting -> closed. Closing ends every reviewer's grant on the cases."""
    review = Review.objects.select_for_update().get(pk=review_id)
    _require_lead(user, review)
    order = [Review.Status.MODERATION, Review.Status.REPORTING, Review.Status.CLOSED]
    if to not in order[1:] or review.status != order[order.index(Review.Status(to)) - 1]:
        raise IllegalReviewStep(f"The review cannot move from {review.get_status_display().lower()} to {to}")
    review.status = to
    if to == Review.Status.CLOSED:
        review.closed_at = timezone.now()
        for assessment in review.assessments.select_related("referral", "reviewer"):
            permissions.revoke_user_kind(
                assessment.referral,
                user=assessment.reviewer,
                kind=GrantKind.REVIEW,
                revoked_by=user,
                reason=f"Case review closed: {review.title}",
            )
    save_with_history(review, user=user, reason=f"Moved to {review.get_status_display().lower()}")
    return review


# --- Themes and recommendations (the report's sections 2 and 3) -------------------------------------


def _report_editable(user, review: Review) -> None:
    _require_lead(user, review)
    if review.status == Review.Status.CLOSED:
        raise IllegalReviewStep("The review is closed; its report can no longer be changed")


@transaction.atomic
def review_theme_save(
    *, user, review_id: int, title: str, text: str, theme_id: int | None = None
) -> ReviewTheme:
    """Add a theme (at the end) or change one."""
    review = Review.objects.select_for_update().get(pk=review_id)
    _report_editable(user, review)
    errors = {}
    if not title.strip():
        errors["title"] = "Enter the title of the theme"
    if not text.strip():
        errors["text"] = "Enter what the review found under this theme"
    if errors:
        raise ValidationError(errors)
    if theme_id is None:
        last = review.themes.order_by("-order").values_list("order", flat=True).first()
        theme = ReviewTheme(review=review, order=(last or 0) + 1)
        reason = "Theme added"
    else:
        theme = review.themes.select_for_update().get(pk=theme_id)
        reason = "Theme changed"
    theme.title, theme.text = title.strip(), text.strip()
    save_with_history(theme, user=user, reason=reason)
    return theme


@transaction.atomic
def review_theme_delete(*, user, review_id: int, theme_id: int) -> None:
    review = Review.objects.select_for_update().get(pk=review_id)
    _report_editable(user, review)
    theme = review.themes.get(pk=theme_id)
    delete_with_history(theme, user=user, reason="Theme removed")


@transaction.atomic
def review_recommendation_save(
    *, user, review_id: int, text: str, number: int | None = None, recommendation_id: int | None = None
) -> ReviewRecommendation:
    """Add a recommendation (numbered next unless a number is given) or change one."""
    review = Review.objects.select_for_update().get(pk=review_id)
    _report_editable(user, review)
    if recommendation_id is None:
        recommendation = ReviewRecommendation(review=review)
        reason = "Recommendation added"
    else:
        recommendation = review.recommendations.select_for_update().get(pk=recommendation_id)
        reason = "Recommendation changed"
    if number is None:
        number = recommendation.number or (
            (review.recommendations.order_by("-number").values_list("number", flat=True).first() or 0) + 1
        )
    errors = {}
    if not text.strip():
        errors["text"] = "Enter the recommendation"
    if number < 1:
        errors["number"] = "The number must be 1 or more"
    elif review.recommendations.filter(number=number).exclude(pk=recommendation.pk).exists():
        errors["number"] = f"Recommendation {number} already exists: choose another number"
    if errors:
        raise ValidationError(errors)
    recommendation.number, recommendation.text = number, text.strip()
    save_with_history(recommendation, user=user, reason=reason)
    return recommendation


@transaction.atomic
def review_recommendation_delete(*, user, review_id: int, recommendation_id: int) -> None:
    review = Review.objects.select_for_update().get(pk=review_id)
    _report_editable(user, review)
    recommendation = review.recommendations.get(pk=recommendation_id)
    delete_with_history(recommendation, user=user, reason="Recommendation removed")
