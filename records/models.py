"""Records lifecycle: legal holds, the disposal review, disposal batches and tombstones.

None of these rows holds exempt data: a candidate names its record by reference, a tombstone
keeps pseudonymous facts only, and a batch's certificate names the rule and the people who
decided and approved (staff, never a child or a referrer).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords


class LegalHold(models.Model):
    """An instruction not to destroy records (a public inquiry's, a claim's, a police request).

    Its scope: named referrals, and/or every referral received in a date range (either end may
    be open) that names any of its forms of abuse (all forms when none is named). A record in
    the scope of any hold in force is never disposed of.
    """

    name = models.CharField(max_length=200)
    reason = models.TextField()
    received_from = models.DateField("received on or after", null=True, blank=True)
    received_to = models.DateField("received on or before", null=True, blank=True)
    forms_of_abuse = models.ManyToManyField("referrals.AbuseForm", blank=True, related_name="+")
    referrals = models.ManyToManyField("referrals.Referral", blank=True, related_name="legal_holds")
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    placed_at = models.DateTimeField()
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lifted_at = models.DateTimeField(null=True, blank=True)
    lift_reason = models.TextField(blank=True)
    history = HistoricalRecords(m2m_fields=[forms_of_abuse, referrals])

    class Meta:
        ordering = ("-placed_at", "-id")
        constraints = [
            models.CheckConstraint(
                condition=Q(received_from__isnull=True)
                | Q(received_to__isnull=True)
                | Q(received_from__lte=F("received_to")),
                name="legal_hold_range_in_order",
            ),
            models.CheckConstraint(
                condition=Q(lifted_at__isnull=True, lifted_by__isnull=True)
                | Q(lifted_at__isnull=False, lifted_by__isnull=False),
                name="legal_hold_lifted_by_someone",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def in_force(self) -> bool:
        return self.lifted_at is None


class DisposalBatch(models.Model):
    """Records an information governance officer decided to dispose of, put to a second one.

    The approver is never the person who made the batch (the database refuses it) nor anyone
    who decided a record in it (the service refuses it). Approval queues the disposal; once done
    the batch is its own certificate (what, when, under which rule, decided and approved by whom).
    """

    class Status(models.TextChoices):
        AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
        APPROVED = "approved", "Approved: being disposed of"
        DISPOSED = "disposed", "Disposed of"
        REJECTED = "rejected", "Not approved"

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.AWAITING_APPROVAL)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    approval_note = models.TextField(blank=True)
    disposed_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name_plural = "disposal batches"
        constraints = [
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True) | ~Q(approved_by=F("created_by")),
                name="disposal_batch_second_person",
            ),
        ]

    def __str__(self) -> str:
        return f"Disposal batch {self.pk}"

    @property
    def certificate_number(self) -> str:
        return f"DC-{self.created_at:%Y}-{self.pk:05d}"


class DisposalCandidate(models.Model):
    """A record at the end of its retention period, listed for a decision."""

    class Status(models.TextChoices):
        AWAITING_DECISION = "awaiting_decision", "Awaiting a decision"
        DISPOSE = "dispose", "To be disposed of"
        EXTENDED = "extended", "Kept longer"
        HELD = "held", "Kept under a legal hold"
        DISPOSED = "disposed", "Disposed of"

    OPEN = (Status.AWAITING_DECISION, Status.DISPOSE)

    record_type = models.CharField(max_length=40)
    record_id = models.BigIntegerField()
    reference = models.CharField(max_length=60)
    rule = models.CharField(max_length=100, help_text="The schedule's rule: record type and outcome.")
    rule_description = models.CharField(max_length=200)
    rule_source = models.TextField()
    trigger_date = models.DateField()
    due_on = models.DateField()
    listed_at = models.DateTimeField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.AWAITING_DECISION)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True)
    extended_to = models.DateField(null=True, blank=True)
    hold = models.ForeignKey(LegalHold, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    batch = models.ForeignKey(
        DisposalBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="candidates"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ("due_on", "id")
        constraints = [
            models.UniqueConstraint(
                fields=["record_type", "record_id"],
                condition=Q(status__in=["awaiting_decision", "dispose"]),
                name="disposal_candidate_open_once",
            ),
            models.CheckConstraint(
                condition=~Q(status="extended") | Q(extended_to__isnull=False),
                name="disposal_candidate_extension_dated",
            ),
        ]
        indexes = [models.Index(fields=["record_type", "record_id"], name="disposal_candidate_record_idx")]

    def __str__(self) -> str:
        return f"{self.reference} ({self.get_status_display()})"


class Tombstone(models.Model):
    """What is left of a disposed record: pseudonymous facts, so statistics still add up."""

    record_type = models.CharField(max_length=40)
    record_id = models.BigIntegerField()
    reference = models.CharField(max_length=60)
    facts = models.JSONField(help_text="Reference, dates, forms of abuse, outcome, children's roles.")
    rule = models.CharField(max_length=100)
    # Empty when the disposal was re-applied after a restore from a backup older than its batch.
    batch = models.ForeignKey(
        DisposalBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="tombstones"
    )
    certificate = models.CharField(max_length=30, help_text="The batch's disposal certificate number.")
    disposed_at = models.DateTimeField()

    class Meta:
        ordering = ("reference",)
        constraints = [
            models.UniqueConstraint(fields=["record_type", "record_id"], name="tombstone_once"),
        ]

    def __str__(self) -> str:
        return f"Tombstone of {self.reference}"
