"""Records lifecycle: legal holds, the disposal review, disposal batches and tombstones.

None of these rows holds exempt data: a candidate names its record by reference, a tombstone
keeps pseudonymous facts only, and a batch's certificate names the rule and the people who
decided and approved (staff, never a child or a referrer).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from core.history import HistoricalRecords


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


class LegalHoldLift(models.Model):
    """A proposal to lift a legal hold: one information governance officer proposes it with a
    reason, a different one approves or declines it. The hold stays in force until it is
    approved. The database refuses a decision by the proposer, as it refuses a self-grant."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Awaiting a second officer"
        APPROVED = "approved", "Approved: the hold is lifted"
        DECLINED = "declined", "Declined: the hold stays"

    hold = models.ForeignKey(LegalHold, on_delete=models.PROTECT, related_name="lifts")
    reason = models.TextField()
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROPOSED)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ("-proposed_at", "-id")
        constraints = [
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("proposed_by")),
                name="legal_hold_lift_second_officer",
            ),
            models.CheckConstraint(
                condition=Q(status="proposed", decided_by__isnull=True, decided_at__isnull=True)
                | (~Q(status="proposed") & Q(decided_by__isnull=False, decided_at__isnull=False)),
                name="legal_hold_lift_decided_by_someone",
            ),
            models.UniqueConstraint(
                fields=["hold"], condition=Q(status="proposed"), name="legal_hold_lift_one_pending"
            ),
        ]

    def __str__(self) -> str:
        return f"Lift of {self.hold}: {self.get_status_display()}"


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


# --- Subject access requests ---------------------------------------------------------------------


class SubjectAccessRequest(models.Model):
    """A request by or for a child to see the records about them (UK GDPR Article 15).

    Due one calendar month after receipt (the ICO's rule: the same day next month, or the
    month's last day when there is no such day), extendable by up to two further months with a
    reason. Who asked and how their identity was checked are exempt.
    """

    class Relation(models.TextChoices):
        CHILD = "child", "The child"
        PARENT = "parent", "A parent with parental responsibility"
        REPRESENTATIVE = "representative", "A representative (for example a solicitor)"

    class Status(models.TextChoices):
        OPEN = "open", "Being prepared"
        SIGNED_OFF = "signed_off", "Signed off"

    subject = models.ForeignKey(
        "referrals.Child", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    #: The referral and label the subject was identified by (pseudonymous: "MASH-2026-00012, Child A").
    subject_label = models.CharField(max_length=60)
    requester_name = models.CharField(max_length=200)
    relation = models.CharField(max_length=20, choices=Relation.choices)
    identity_verified = models.TextField("how identity was verified")
    received_on = models.DateField()
    due_on = models.DateField()
    extended_to = models.DateField(null=True, blank=True)
    extension_reason = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    logged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    logged_at = models.DateTimeField()
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_off_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    history = HistoricalRecords()

    class Meta:
        ordering = ("-received_on", "-id")
        constraints = [
            models.CheckConstraint(
                condition=Q(extended_to__isnull=True) | Q(extended_to__gt=F("due_on")),
                name="sar_extension_after_due",
            ),
        ]

    def __str__(self) -> str:
        return f"SAR-{self.pk:05d}"

    @property
    def reference(self) -> str:
        return str(self)

    @property
    def deadline(self):
        return self.extended_to or self.due_on


class Redaction(models.Model):
    """A piece of text withheld from a subject access pack, wherever it appears in it."""

    class Code(models.TextChoices):
        THIRD_PARTY = "third_party", "Third-party information (DPA 2018, Schedule 2, paragraph 16)"
        SERIOUS_HARM = "serious_harm", "Serious harm (DPA 2018, Schedule 3, Part 5)"
        CRIME = "crime", "Crime and taxation (DPA 2018, Schedule 2, paragraph 2)"
        LEGAL_PRIVILEGE = (
            "legal_privilege",
            "Legal professional privilege (DPA 2018, Schedule 2, paragraph 19)",
        )

    class Origin(models.TextChoices):
        PROPOSED = "proposed", "Proposed automatically"
        ADDED = "added", "Added by the reviewer"

    request = models.ForeignKey(SubjectAccessRequest, on_delete=models.CASCADE, related_name="redactions")
    text = models.CharField(max_length=500)
    about = models.CharField(max_length=200, help_text="What it is, by label: never the text itself.")
    code = models.CharField(max_length=20, choices=Code.choices)
    origin = models.CharField(max_length=10, choices=Origin.choices)
    reason = models.TextField(blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    removed_at = models.DateTimeField(null=True, blank=True)
    removal_reason = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return f"Redaction {self.pk}: {self.about}"

    @property
    def active(self) -> bool:
        return self.removed_at is None


class DisclosureLogEntry(models.Model):
    """What was disclosed to whom under which request, and what was withheld (counts by code)."""

    request = models.ForeignKey(SubjectAccessRequest, on_delete=models.PROTECT, related_name="disclosures")
    disclosed_at = models.DateTimeField()
    disclosed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    export_job_id = models.BigIntegerField(null=True, blank=True)
    references = models.JSONField(default=list, help_text="The referrals the pack covers.")
    exemptions = models.JSONField(default=dict, help_text="Exemption code: how many redactions.")

    class Meta:
        ordering = ("-disclosed_at", "-id")
        verbose_name_plural = "disclosure log"

    def __str__(self) -> str:
        return f"Disclosure under {self.request}"
