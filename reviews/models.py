"""Case reviews: historic referrals assessed against the DfE guidance in force at the time.

A review screens every referral received in its periods down to the cases its rules take
in, assigns them to reviewers (who get time-limited grants on exactly those cases), and
records each reviewer's rating of every criterion that applied when the referral came in.
Free text written about a case (evidence, good practice, areas for improvement, comments)
is exempt information, registered in ``ReviewsConfig.ready`` (``core.exempt``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from core.history import HistoricalRecords
from guidance.models import Criterion
from referrals.models import AbuseForm, Referral


class Review(models.Model):
    class Status(models.TextChoices):
        PLANNING = "planning", "Planning"
        SCREENING = "screening", "Screening"
        REVIEWING = "reviewing", "Reviewing"
        MODERATION = "moderation", "Moderation"
        REPORTING = "reporting", "Reporting"
        CLOSED = "closed", "Closed"

    title = models.CharField(max_length=200)
    terms_of_reference = models.TextField()
    lead_reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reviewers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="reviews")
    include_forms = models.ManyToManyField(
        AbuseForm, blank=True, related_name="+", help_text="Forms of abuse in scope; none means any."
    )
    require_peer_on_peer = models.BooleanField(default=True)
    require_same_school = models.BooleanField(default=True)
    moderation_share = models.PositiveSmallIntegerField(
        default=20, help_text="Percentage of accepted cases reviewed again, blind, by a second reviewer."
    )
    grants_end_on = models.DateField(
        help_text="Reviewers' grants on their cases end on this date at the latest."
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PLANNING)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords(m2m_fields=[reviewers, include_forms])

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return self.title


class ReviewPeriod(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="periods")
    name = models.CharField(max_length=100)
    start = models.DateField()
    end = models.DateField(help_text="Inclusive.")
    history = HistoricalRecords()

    class Meta:
        ordering = ("start",)
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gte=models.F("start")), name="period_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.start:%-d %b %Y} to {self.end:%-d %b %Y})"


class ScreeningDecision(models.Model):
    """One referral received in the review's periods: did the rules take it in, and did a
    reviewer confirm it?"""

    class Decision(models.TextChoices):
        PENDING = "pending", "Not yet screened"
        INCLUDE = "include", "Include"
        EXCLUDE = "exclude", "Exclude"

    class Reason(models.TextChoices):
        NOT_PEER_ON_PEER = "not_peer_on_peer", "Not peer-on-peer abuse"
        NOT_IN_SCOPE_FORM = "not_in_scope_form", "Form of abuse not in scope"
        DIFFERENT_SCHOOLS = "different_schools", "Children not at the same school"
        INSUFFICIENT_RECORD = "insufficient_record", "Too little recorded to review"
        DUPLICATE = "duplicate", "Duplicate of another referral"
        OTHER = "other", "Other"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="screening")
    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="screenings")
    period = models.ForeignKey(ReviewPeriod, on_delete=models.PROTECT, related_name="+")
    candidate = models.BooleanField(help_text="Whether the review's rules take the referral in.")
    rule_reason = models.CharField(max_length=30, choices=Reason.choices, blank=True)
    decision = models.CharField(max_length=10, choices=Decision.choices, default=Decision.PENDING)
    reason = models.CharField(max_length=30, choices=Reason.choices, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["review", "referral"], name="screen_referral_once")]
        indexes = [models.Index(fields=["review", "candidate", "decision"], name="screening_funnel_idx")]

    def __str__(self) -> str:
        return f"{self.review_id}/{self.referral_id}: {self.decision}"


class CaseAssessment(models.Model):
    """A reviewer's assessment of one included case (a second, blind one for moderation)."""

    class Kind(models.TextChoices):
        PRIMARY = "primary", "Review"
        MODERATION = "moderation", "Moderation"

    class Status(models.TextChoices):
        ASSIGNED = "assigned", "Assigned"
        SUBMITTED = "submitted", "Submitted"
        RETURNED = "returned", "Returned"
        ACCEPTED = "accepted", "Accepted"

    class AdviceMatch(models.TextChoices):
        YES = "yes", "Yes"
        PARTLY = "partly", "Partly"
        NO = "no", "No"
        NOT_RECORDED = "not_recorded", "No advice recorded"

    class Judgement(models.TextChoices):
        GOOD = "good", "Good"
        REQUIRES_IMPROVEMENT = "requires_improvement", "Requires improvement"
        INADEQUATE = "inadequate", "Inadequate"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="assessments")
    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="assessments")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.PRIMARY)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assessments"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ASSIGNED)
    advice_matched = models.CharField(max_length=15, choices=AdviceMatch.choices, blank=True)
    overall_judgement = models.CharField(max_length=25, choices=Judgement.choices, blank=True)
    good_practice = models.TextField(blank=True)
    areas_for_improvement = models.TextField(blank=True)
    lead_comments = models.TextField(blank=True)
    assigned_at = models.DateTimeField(auto_now_add=True)
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["review", "referral", "kind"], name="assess_case_once_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of referral {self.referral_id} in review {self.review_id}"


class CriterionRating(models.Model):
    class Rating(models.TextChoices):
        MET = "met", "Met"
        PARTLY_MET = "partly_met", "Partly met"
        NOT_MET = "not_met", "Not met"
        NOT_RECORDED = "not_recorded", "Not recorded"
        NOT_APPLICABLE = "not_applicable", "Not applicable"

    assessment = models.ForeignKey(CaseAssessment, on_delete=models.CASCADE, related_name="ratings")
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="ratings")
    rating = models.CharField(max_length=15, choices=Rating.choices, blank=True)
    evidence = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ("criterion__document__in_force_from", "criterion__order")
        constraints = [
            models.UniqueConstraint(fields=["assessment", "criterion"], name="rate_criterion_once")
        ]

    def __str__(self) -> str:
        return f"{self.criterion.code}: {self.rating or 'unrated'}"


class Moderation(models.Model):
    """Where the blind second rating differed: the lead reviewer's resolution."""

    primary = models.ForeignKey(CriterionRating, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(CriterionRating, on_delete=models.CASCADE, related_name="+")
    resolved_rating = models.CharField(max_length=15, choices=CriterionRating.Rating.choices, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["primary"], name="moderate_rating_once")]

    def __str__(self) -> str:
        return f"Moderation of rating {self.primary_id}"


class ReviewTheme(models.Model):
    """A theme the review found across its cases, written for the report. Published text: it
    describes practice, never a child, a family or a school."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="themes")
    order = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(max_length=200)
    text = models.TextField()
    history = HistoricalRecords()

    class Meta:
        ordering = ("order", "id")

    def __str__(self) -> str:
        return self.title


class ReviewRecommendation(models.Model):
    """One of the review's numbered recommendations (section 3 of the report: 3.1, 3.2 ...)."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="recommendations")
    number = models.PositiveSmallIntegerField()
    text = models.TextField()
    history = HistoricalRecords()

    class Meta:
        ordering = ("number",)
        constraints = [
            models.UniqueConstraint(fields=["review", "number"], name="recommendation_number_per_review")
        ]

    def __str__(self) -> str:
        return f"Recommendation {self.number}"
