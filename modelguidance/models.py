"""The council's model guidance for schools: its versions, the schools' designated
safeguarding leads and their training, and the schools' acknowledgements.

It sits above scrutiny (a version is approved by a cabinet decision, ``scrutiny.DecisionRecord``)
and was split out of ``guidance/``, which keeps the DfE guidance library below reviews
(docs/adr/0019-layers.md). The tables keep the names they had in ``guidance`` (``Meta.db_table``
and the history's ``table_name``): the move changed Django's state, not the database.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.history import HistoricalRecords
from referrals.models import School

# --- The council's model guidance for schools (Appendix 6 of the cabinet report) -------------


class ModelGuidanceVersion(models.Model):
    """One version of the council's model guidance for handling peer-on-peer abuse in schools.

    Only the services in ``modelguidance/services.py`` move a version along its lifecycle. The
    database backs the rule that matters most (no draft ever published): a version with a
    publication date must carry an approval, the cabinet decision and an equality impact
    assessment, whatever wrote the row.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted for approval"
        APPROVED = "approved", "Approved"
        PUBLISHED = "published", "Published"
        SUPERSEDED = "superseded", "Superseded"

    number = models.PositiveIntegerField(unique=True, editable=False)
    title = models.CharField(max_length=250)
    change_summary = models.TextField(blank=True, help_text="What changed since the previous version.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False, help_text="Edit counter.")

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    submitted_at = models.DateTimeField(null=True, blank=True, editable=False)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    eqia_file = models.FileField(
        "equality impact assessment", upload_to="guidance/eqia/", blank=True, editable=False
    )
    eqia_summary = models.TextField("equality impact assessment summary", blank=True, editable=False)
    eqia_attached_at = models.DateTimeField(null=True, blank=True, editable=False)
    eqia_attached_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    decision = models.ForeignKey(
        "scrutiny.DecisionRecord",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="guidance_versions",
        editable=False,
        help_text="The cabinet decision that approved this version.",
    )
    approved_at = models.DateTimeField(null=True, blank=True, editable=False)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    superseded_at = models.DateTimeField(null=True, blank=True, editable=False)
    history = HistoricalRecords(table_name="guidance_historicalmodelguidanceversion")

    class Meta:
        db_table = "guidance_modelguidanceversion"
        ordering = ("-number",)
        verbose_name = "model guidance version"
        constraints = [
            # The rule the 2020 incident broke, held by the database itself.
            models.CheckConstraint(
                condition=Q(published_at__isnull=True)
                | (
                    Q(approved_at__isnull=False)
                    & Q(decision__isnull=False)
                    & Q(eqia_attached_at__isnull=False)
                    & ~Q(eqia_file="")
                ),
                name="guidance_published_only_when_approved",
            ),
            models.CheckConstraint(
                condition=Q(approved_at__isnull=True)
                | (Q(decision__isnull=False) & Q(eqia_attached_at__isnull=False) & ~Q(eqia_file="")),
                name="guidance_approved_only_with_decision_and_eqia",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["approved", "published", "superseded"])
                | Q(approved_at__isnull=False),
                name="guidance_status_approved_has_approval",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["published", "superseded"]) | Q(published_at__isnull=False),
                name="guidance_status_published_has_date",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["draft", "submitted", "approved"]) | Q(published_at__isnull=True),
                name="guidance_unpublished_has_no_date",
            ),
            models.UniqueConstraint(
                fields=["status"], condition=Q(status="published"), name="guidance_one_published_version"
            ),
            # Separation of duties: whoever drafts or submits a version neither approves nor
            # publishes it (modelguidance.services checks every editor of the draft, too).
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True) | ~Q(approved_by=models.F("created_by")),
                name="guidance_drafter_does_not_approve",
            ),
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True)
                | Q(submitted_by__isnull=True)
                | ~Q(approved_by=models.F("submitted_by")),
                name="guidance_submitter_does_not_approve",
            ),
            models.CheckConstraint(
                condition=Q(published_by__isnull=True) | ~Q(published_by=models.F("created_by")),
                name="guidance_drafter_does_not_publish",
            ),
            models.CheckConstraint(
                condition=Q(published_by__isnull=True)
                | Q(submitted_by__isnull=True)
                | ~Q(published_by=models.F("submitted_by")),
                name="guidance_submitter_does_not_publish",
            ),
        ]

    def __str__(self) -> str:
        return f"Version {self.number}: {self.title}"

    @property
    def has_eqia(self) -> bool:
        return bool(self.eqia_file) and self.eqia_attached_at is not None


class GuidanceSection(models.Model):
    """One section of a version, in order. The body is Markdown, rendered through a sanitiser."""

    guidance_version = models.ForeignKey(
        ModelGuidanceVersion, on_delete=models.CASCADE, related_name="sections"
    )
    order = models.PositiveSmallIntegerField()
    heading = models.CharField(max_length=200)
    body = models.TextField(help_text="Markdown: paragraphs, lists, links, emphasis.")
    history = HistoricalRecords(table_name="guidance_historicalguidancesection")

    class Meta:
        db_table = "guidance_guidancesection"
        ordering = ("guidance_version", "order")
        constraints = [
            models.UniqueConstraint(fields=["guidance_version", "order"], name="guidance_section_order")
        ]

    def __str__(self) -> str:
        return f"{self.order}. {self.heading}"


# --- Schools' designated safeguarding leads and their training -----------------------------


class SafeguardingLead(models.Model):
    """A school's designated safeguarding lead (DSL) or deputy: a professional contact."""

    class Role(models.TextChoices):
        DSL = "dsl", "Designated safeguarding lead"
        DEPUTY = "deputy", "Deputy designated safeguarding lead"

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="safeguarding_leads")
    role = models.CharField(max_length=10, choices=Role.choices)
    name = models.CharField(max_length=200)
    email = models.EmailField()
    active = models.BooleanField(default=True, help_text="Untick when they leave the role.")
    history = HistoricalRecords(table_name="guidance_historicalsafeguardinglead")

    class Meta:
        db_table = "guidance_safeguardinglead"
        ordering = ("school__name", "role", "name")
        verbose_name = "designated safeguarding lead"
        constraints = [
            models.UniqueConstraint(
                fields=["school"],
                condition=Q(role="dsl", active=True),
                name="guidance_one_active_dsl_per_school",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_role_display()}, {self.school.name})"


class TrainingRecord(models.Model):
    lead = models.ForeignKey(SafeguardingLead, on_delete=models.CASCADE, related_name="training")
    course = models.CharField(max_length=200)
    provider = models.CharField(max_length=200)
    completed_on = models.DateField()
    history = HistoricalRecords(table_name="guidance_historicaltrainingrecord")

    class Meta:
        db_table = "guidance_trainingrecord"
        ordering = ("-completed_on",)

    def __str__(self) -> str:
        return f"{self.course} ({self.completed_on:%d %b %Y})"


class TrainingReminder(models.Model):
    """An e-mail asking a school's DSL to renew their training, and who asked for it when.

    Written by ``modelguidance.services.training_reminders_request`` (one per school whose DSL
    training is out of date, none within ``REMINDER_INTERVAL_DAYS`` of the last) and sent by a
    task through the outbox. The e-mail names the school and the training only: never a case.
    """

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    lead = models.ForeignKey(SafeguardingLead, on_delete=models.PROTECT, related_name="training_reminders")
    gap = models.CharField(max_length=200, help_text="Why it was sent, as the coverage page said it.")
    requested_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    sent_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ("-requested_at",)
        verbose_name = "DSL training reminder"

    def __str__(self) -> str:
        return f"{self.school.name}: training reminder {self.requested_at:%d %b %Y}"


class Acknowledgement(models.Model):
    """A school's acknowledgement of a published version, requested from its DSL by e-mail.

    The link carries a random token; only its SHA-256 is stored. A link works once, until
    ``expires_at``, and only for the school it was sent to.
    """

    guidance_version = models.ForeignKey(
        ModelGuidanceVersion, on_delete=models.PROTECT, related_name="acknowledgements"
    )
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    lead = models.ForeignKey(SafeguardingLead, on_delete=models.PROTECT, related_name="+")
    token_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    requested_at = models.DateTimeField(default=timezone.now, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    remind_requested_at = models.DateTimeField(null=True, blank=True, editable=False)
    reminded_at = models.DateTimeField(null=True, blank=True, editable=False)
    reminders = models.PositiveSmallIntegerField(default=0, editable=False)
    acknowledged_at = models.DateTimeField(null=True, blank=True, editable=False)
    acknowledged_name = models.CharField(max_length=200, blank=True, editable=False)
    history = HistoricalRecords(table_name="guidance_historicalacknowledgement")

    class Meta:
        db_table = "guidance_acknowledgement"
        ordering = ("school__name",)
        constraints = [
            models.UniqueConstraint(fields=["guidance_version", "school"], name="guidance_one_ack_per_school")
        ]

    def __str__(self) -> str:
        return f"{self.school.name}: version {self.guidance_version.number}"


# --- The version a cabinet report's appendix carries (Appendix 6) ------------------------------
# Scrutiny sits below this app, so the link is kept here, pointing down at scrutiny's rows, and
# scrutiny reads and writes it through its registry (``scrutiny.extensions``), filled in by
# ``modelguidance.appendix`` (docs/adr/0019-layers.md).


class AppendixGuidanceVersion(models.Model):
    """The model guidance version a report's model guidance appendix puts to the meeting (a
    version submitted for approval, say). No row: the appendix prints the published version.

    Written only through ``scrutiny.services`` (the appendix form), with history as the
    appendix has; keyed by the appendix, so the history of one appendix's choice reads as one
    record. A version an appendix names cannot be deleted.
    """

    appendix = models.OneToOneField(
        "scrutiny.Appendix", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    guidance_version = models.ForeignKey(
        ModelGuidanceVersion,
        on_delete=models.PROTECT,
        related_name="appendix_links",
        help_text="The version put to the meeting (no row: the published one).",
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = "cabinet report appendix's model guidance version"

    def __str__(self) -> str:
        return f"Appendix {self.appendix_id}: model guidance version {self.guidance_version.number}"


class ReportVersionGuidanceVersion(models.Model):
    """The model guidance version a published version of a cabinet report carried in its
    appendix, recorded once when the version is published (``scrutiny.services.
    report_version_publish``) and never changed: ``save`` refuses an update. The appendix's
    content, which names the version, is in the published version's digest. A version a
    published report carried cannot be deleted.
    """

    report_version = models.OneToOneField(
        "scrutiny.ReportVersion", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    guidance_version = models.ForeignKey(
        ModelGuidanceVersion,
        on_delete=models.PROTECT,
        related_name="report_version_links",
        help_text="The model guidance version its appendix carries.",
    )

    class Meta:
        verbose_name = "published cabinet report's model guidance version"

    def __str__(self) -> str:
        number = self.guidance_version.number
        return f"Report version {self.report_version_id}: model guidance version {number}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError("A published report's model guidance version is recorded once")
        super().save(*args, **kwargs)
