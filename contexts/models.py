"""Contextual safeguarding: pattern rules, the alerts they raise, what was done, and contexts.

A *context* is a school or a place that referrals share (docs/adr/0024-contextual-safeguarding.md).
Rules are configuration (a MASH manager changes the threshold and window, with a reason kept
in the history); alerts are raised by the product (``contexts.evaluation``), never by hand, and
never closed without an action saying what was done. Nothing here is deleted.

Exempt here (registered in ``ContextsConfig.ready``): a place's name and key (they come from
what referrers wrote) and what a manager wrote about an action. The school of a school context
is not: the list of schools is public; which child attends one stays on the child's record.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from core.history import HistoricalRecords
from referrals.models import Referral, School


class PatternRule(models.Model):
    """One rule: a pattern of ``threshold`` or more referrals within ``window_months``."""

    class Kind(models.TextChoices):
        SCHOOL = "school_referrals", "Repeated referrals about a school"
        SAME_SCHOOL = "same_school", "Victim and alleged perpetrator at the same school"
        CHILD = "child", "A child named in more than one referral, at least once as alleged perpetrator"
        PLACE = "place", "Several referrals naming the same place"
        GROUP = "group", "Repeated referrals about the same group of children"

    #: What each kind counts, for the rules page.
    DESCRIPTIONS = {
        Kind.SCHOOL: "Referrals in which a victim or an alleged perpetrator attends the school.",
        Kind.SAME_SCHOOL: "Referrals whose victim and alleged perpetrator attend the same school.",
        Kind.CHILD: (
            "Referrals naming the same child as victim or alleged perpetrator, at least once as "
            "alleged perpetrator: alleged perpetrator twice, or victim in one and alleged "
            "perpetrator in another."
        ),
        Kind.PLACE: "Referrals naming the same place where it happened, matched after normalising.",
        Kind.GROUP: "Referrals naming the same two or more children.",
    }

    kind = models.CharField(max_length=30, choices=Kind.choices, unique=True, editable=False)
    threshold = models.PositiveSmallIntegerField(
        "number of referrals",
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="An alert is raised when this many referrals form the pattern.",
    )
    window_months = models.PositiveSmallIntegerField(
        "within (months)",
        validators=[MinValueValidator(1), MaxValueValidator(120)],
        help_text="The referrals are received within this many months of each other.",
    )
    sexual_only = models.BooleanField(
        "sexual abuse only", default=False, help_text="Count only referrals naming a sexual form of abuse."
    )
    active = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=1)
    changed_at = models.DateTimeField(null=True, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ("id",)
        verbose_name = "pattern rule"

    def __str__(self) -> str:
        return self.get_kind_display()

    @property
    def description(self) -> str:
        return self.DESCRIPTIONS[self.kind]

    @property
    def is_school(self) -> bool:
        return self.kind in (self.Kind.SCHOOL, self.Kind.SAME_SCHOOL)


class Context(models.Model):
    """A school or a place that referrals share: work on the context itself is recorded here."""

    class Kind(models.TextChoices):
        SCHOOL = "school", "School"
        PLACE = "place", "Place"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    school = models.ForeignKey(School, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    #: The place's normalised name (referrals.places.place_key). Its name as written is not
    #: copied here: pages read it from a referral their viewer may identify.
    place_key = models.CharField(max_length=200, blank=True)
    #: When the last referral naming the place was disposed of and the key blanked with it
    #: (contexts.retention): nothing from which the place can be recovered outlives them.
    place_key_erased_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ("id",)
        constraints = [
            models.UniqueConstraint(
                fields=["school"], condition=Q(kind="school"), name="context_school_once"
            ),
            models.UniqueConstraint(
                fields=["place_key"], condition=Q(kind="place") & ~Q(place_key=""), name="context_place_once"
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="school", school__isnull=False, place_key="", place_key_erased_at__isnull=True)
                )
                | (Q(kind="place", school__isnull=True, place_key_erased_at__isnull=True) & ~Q(place_key=""))
                | Q(kind="place", school__isnull=True, place_key="", place_key_erased_at__isnull=False),
                name="context_school_or_place",
            ),
        ]

    def __str__(self) -> str:
        return f"Context {self.pk}"


class Alert(models.Model):
    """A pattern the rules found. Raised by the product; acted on by a manager, never dropped."""

    class Status(models.TextChoices):
        OPEN = "open", "Awaiting action"
        ACTED_ON = "acted_on", "Acted on"

    rule = models.ForeignKey(PatternRule, on_delete=models.PROTECT, related_name="alerts")
    #: What the pattern is about, pseudonymously: "context:12", "child:345", "group:3-5-9".
    subject_key = models.CharField(max_length=200)
    context = models.ForeignKey(
        Context, null=True, blank=True, on_delete=models.PROTECT, related_name="alerts"
    )
    referrals = models.ManyToManyField(Referral, through="AlertEvidence", related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    raised_at = models.DateTimeField()
    #: The run that raised it: a referral saved (its id) or the nightly run (null).
    raised_by_referral = models.ForeignKey(
        Referral, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acted_on_at = models.DateTimeField(null=True, blank=True)
    acted_on_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)
    history = HistoricalRecords()

    class Meta:
        ordering = ("-raised_at", "-id")
        indexes = [
            models.Index(fields=["rule", "subject_key"], name="alert_subject_idx"),
            models.Index(fields=["status", "raised_at"], name="alert_status_idx"),
        ]

    def __str__(self) -> str:
        return f"Alert {self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class AlertEvidence(models.Model):
    """A referral that forms the pattern of an alert."""

    alert = models.ForeignKey(Alert, on_delete=models.PROTECT, related_name="evidence")
    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField()
    history = HistoricalRecords()

    class Meta:
        ordering = ("added_at", "id")
        constraints = [models.UniqueConstraint(fields=["alert", "referral"], name="alert_evidence_once")]
        indexes = [models.Index(fields=["referral", "alert"], name="alert_evidence_referral_idx")]

    def __str__(self) -> str:
        return f"Evidence {self.referral_id} of alert {self.alert_id}"


class AlertAction(models.Model):
    """What a manager did about an alert. Recorded once; a later action follows it."""

    class Kind(models.TextChoices):
        STRATEGY = "strategy_discussion", "Strategy discussion about the context"
        SCHOOL_ADVICE = "school_advice", "Advice or training for the school"
        POLICE = "police_problem_solving", "Referral to the police's problem-solving team"
        NO_ACTION = "no_action", "No action"

    alert = models.ForeignKey(Alert, on_delete=models.PROTECT, related_name="actions")
    kind = models.CharField("what was done", max_length=30, choices=Kind.choices)
    taken_on = models.DateField("date")
    #: What was done, or (no action) why not. Free text about the case: exempt.
    note = models.TextField()
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    history = HistoricalRecords()

    class Meta:
        ordering = ("taken_on", "recorded_at", "id")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on alert {self.alert_id}"


class SchoolReferral(models.Model):
    """A referral under a school: one row for each school a victim or an alleged perpetrator of
    the referral attends, with the referral's date (``contexts.school_index``).

    Derived, never edited: the per-referral check reads the school rules' window from it by
    school and date, where the referrals' own tables reach a school's referrals only through
    every child the school ever had. A save refreshes its referrals' rows (and those of
    referrals sharing a child with them, whose school may have been corrected) in its
    transaction; the nightly run rebuilds the difference; a disposal erases the referral's rows
    (which school a child attends is exempt). Not registered with the admin, no history: it is
    an index.
    """

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+", db_index=False)
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="+")
    received_at = models.DateTimeField()
    #: A victim and an alleged perpetrator of the referral both attend the school.
    same_school = models.BooleanField()

    class Meta:
        indexes = [
            models.Index(fields=["school", "received_at", "referral"], name="school_referral_window_idx"),
        ]

    def __str__(self) -> str:
        return f"Referral {self.referral_id} under school {self.school_id}"
