"""Scrutiny recommendations, executive responses and cabinet reports.

One tracker holds every recommendation the council has to answer for, whatever its source:
a scrutiny committee's (numbered per meeting), a case review's own, an external audit's (the
NSPCC's) or an earlier report's. Each has a response, actions with owners and due dates,
progress updates and evidence links; its RAG status is derived, never typed.

A cabinet report is composed for an agenda item with the sections of the 2020 report, in
order, and its appendices. An appendix is public or exempt (Schedule 12A); the report's
classification follows from its appendices. Exempt appendices are for the holders of a
per-record grant on the report (core/permissions.py) and every read of one is logged.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from core.history import HistoricalRecords
from core.permissions import GroupGrantBase, UserGrantBase

# --- Committees, meetings and agenda items --------------------------------------------------


class Committee(models.Model):
    class Kind(models.TextChoices):
        SCRUTINY = "scrutiny", "Scrutiny committee"
        CABINET = "cabinet", "Cabinet"
        OTHER = "other", "Other"

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    history = HistoricalRecords()

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class Meeting(models.Model):
    committee = models.ForeignKey(Committee, on_delete=models.PROTECT, related_name="meetings")
    date = models.DateField()
    history = HistoricalRecords()

    class Meta:
        ordering = ("date", "id")
        constraints = [models.UniqueConstraint(fields=["committee", "date"], name="one_meeting_a_day")]

    def __str__(self) -> str:
        return f"{self.committee.name}, {self.date:%-d %B %Y}"


class AgendaItem(models.Model):
    """An issue followed across meetings: scrutiny on one date, cabinet on another."""

    title = models.CharField(max_length=250)
    summary = models.TextField(blank=True)
    meetings = models.ManyToManyField(Meeting, through="AgendaEntry", related_name="agenda_items")
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ("title",)

    def __str__(self) -> str:
        return self.title


class AgendaEntry(models.Model):
    """One appearance of an agenda item at a meeting."""

    item = models.ForeignKey(AgendaItem, on_delete=models.CASCADE, related_name="entries")
    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="entries")
    number = models.PositiveSmallIntegerField(help_text="The item's number on that meeting's agenda.")
    outcome = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ("meeting__date", "number")
        verbose_name_plural = "agenda entries"
        constraints = [
            models.UniqueConstraint(fields=["item", "meeting"], name="item_once_per_meeting"),
            models.UniqueConstraint(fields=["meeting", "number"], name="agenda_number_per_meeting"),
        ]

    def __str__(self) -> str:
        return f"{self.meeting}: item {self.number}"


# --- The tracker ----------------------------------------------------------------------------


class Recommendation(models.Model):
    class Source(models.TextChoices):
        SCRUTINY = "scrutiny", "Scrutiny committee"
        CASE_REVIEW = "case_review", "Case review"
        EXTERNAL_AUDIT = "external_audit", "External audit"
        EARLIER_REPORT = "earlier_report", "Earlier report"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETE = "complete", "Complete"
        CLOSED = "closed", "Closed without action"

    source = models.CharField(max_length=20, choices=Source.choices)
    agenda_item = models.ForeignKey(
        AgendaItem, null=True, blank=True, on_delete=models.PROTECT, related_name="recommendations"
    )
    meeting = models.ForeignKey(
        Meeting,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="recommendations",
        help_text="For a scrutiny committee's recommendation: the meeting that made it.",
    )
    number = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="A scrutiny recommendation's number, per meeting."
    )
    review_recommendation = models.OneToOneField(
        "reviews.ReviewRecommendation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tracked",
    )
    source_reference = models.CharField(
        max_length=250,
        blank=True,
        help_text="Where it comes from, for an audit or earlier report (e.g. NSPCC audit 2020).",
    )
    text = models.TextField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    history = HistoricalRecords()

    class Meta:
        ordering = ("source", "meeting__date", "number", "id")
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "number"],
                condition=models.Q(meeting__isnull=False),
                name="recommendation_number_per_meeting",
            )
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        if self.source == self.Source.SCRUTINY and self.number:
            return f"Scrutiny recommendation {self.number}"
        if self.source == self.Source.CASE_REVIEW and self.review_recommendation_id:
            return f"Review recommendation 3.{self.review_recommendation.number}"
        return f"{self.get_source_display()} recommendation {self.pk}"


class Response(models.Model):
    """The executive's (or the responsible body's) response to a recommendation."""

    class Decision(models.TextChoices):
        ACCEPTED = "accepted", "Accepted"
        PARTIALLY_ACCEPTED = "partially_accepted", "Partially accepted"
        NOT_ACCEPTED = "not_accepted", "Not accepted"

    recommendation = models.OneToOneField(Recommendation, on_delete=models.CASCADE, related_name="response")
    decision = models.CharField(max_length=20, choices=Decision.choices)
    text = models.TextField()
    responded_by = models.CharField(
        max_length=200, help_text="For example Cabinet member children and families."
    )
    responded_on = models.DateField()
    history = HistoricalRecords()

    def __str__(self) -> str:
        return f"{self.get_decision_display()}: {self.recommendation}"


class Action(models.Model):
    class Status(models.TextChoices):
        NOT_STARTED = "not_started", "Not started"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"
        DROPPED = "dropped", "Dropped"

    recommendation = models.ForeignKey(Recommendation, on_delete=models.CASCADE, related_name="actions")
    description = models.TextField()
    owner = models.CharField(max_length=200, help_text="A named officer or team.")
    due_date = models.DateField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NOT_STARTED)
    completed_on = models.DateField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    history = HistoricalRecords()

    class Meta:
        ordering = ("due_date", "id")

    def __str__(self) -> str:
        return self.description[:80]


class ProgressUpdate(models.Model):
    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="updates")
    date = models.DateField()
    percent_complete = models.PositiveSmallIntegerField(help_text="0 to 100.")
    text = models.TextField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ("date", "id")
        constraints = [
            models.CheckConstraint(condition=models.Q(percent_complete__lte=100), name="percent_at_most_100")
        ]

    def __str__(self) -> str:
        return f"{self.date}: {self.percent_complete}%"


class EvidenceLink(models.Model):
    """Something in the product that shows progress on a recommendation."""

    class Kind(models.TextChoices):
        REVIEW_FINDINGS = "review_findings", "A case review's findings"
        GUIDANCE = "guidance", "A guidance document or version"
        TRAINING = "training", "Training coverage"
        PAGE = "page", "A page in this service"

    recommendation = models.ForeignKey(Recommendation, on_delete=models.CASCADE, related_name="evidence")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    label = models.CharField(max_length=250)
    review = models.ForeignKey(
        "reviews.Review", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    guidance_document = models.ForeignKey(
        "guidance.GuidanceDocument", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    path = models.CharField(
        max_length=300,
        blank=True,
        help_text="A path in this service, starting with /, for training or a page.",
    )
    note = models.TextField(blank=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ("added_at", "id")

    def __str__(self) -> str:
        return self.label


# --- Cabinet reports --------------------------------------------------------------------------


class CabinetReport(models.Model):
    """A report to a meeting, with the sections of the 2020 cabinet report in order.

    Sections from alternative options onwards are plain text whose paragraphs (blocks
    separated by a blank line) are numbered continuously across sections. A block starting
    "(a)" is a lettered sub-item of the paragraph before; a block starting "> " continues the
    paragraph before without a number.
    """

    class DecisionType(models.TextChoices):
        KEY = "key", "Key"
        NON_KEY = "non_key", "Non-key"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        FINAL = "final", "Final"

    #: The numbered sections, in the order the report prints them.
    NUMBERED_SECTIONS = (
        ("alternative_options", "Alternative options"),
        ("key_considerations", "Key considerations"),
        ("community_impact", "Community impact"),
        ("environmental_impact", "Environmental impact"),
        ("equality_duty", "Equality duty"),
        ("resource_implications", "Resource implications"),
        ("legal_implications", "Legal implications"),
        ("risk_management", "Risk management"),
        ("consultees", "Consultees"),
    )

    agenda_item = models.ForeignKey(AgendaItem, on_delete=models.PROTECT, related_name="reports")
    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="reports")
    title = models.CharField(max_length=250)
    report_by = models.CharField(max_length=200)
    decision_type = models.CharField(max_length=10, choices=DecisionType.choices)
    wards_affected = models.CharField(max_length=250, default="(All Wards);")
    purpose = models.TextField()
    recommendations = models.TextField(help_text="One recommendation a line; they are lettered (a), (b) ...")
    alternative_options = models.TextField(blank=True)
    key_considerations = models.TextField(blank=True)
    community_impact = models.TextField(blank=True)
    environmental_impact = models.TextField(blank=True)
    equality_duty = models.TextField(blank=True)
    resource_implications = models.TextField(blank=True)
    legal_implications = models.TextField(blank=True)
    risk_management = models.TextField(blank=True)
    consultees = models.TextField(blank=True)
    background_papers = models.TextField(default="None")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ("-meeting__date", "title")
        permissions = [("view_exempt_cabinetreport", "Can see the report's exempt appendices")]

    def __str__(self) -> str:
        return self.title


class CabinetReportUserGrant(UserGrantBase):
    content_object = models.ForeignKey(CabinetReport, on_delete=models.CASCADE, related_name="user_grants")
    history = HistoricalRecords()

    class Meta(UserGrantBase.Meta):
        indexes = [
            models.Index(
                fields=["user", "permission", "content_object"],
                include=["expires_at"],
                name="report_user_grant_idx",
            )
        ]


class CabinetReportGroupGrant(GroupGrantBase):
    content_object = models.ForeignKey(CabinetReport, on_delete=models.CASCADE, related_name="group_grants")
    history = HistoricalRecords()

    class Meta(GroupGrantBase.Meta):
        indexes = [
            models.Index(
                fields=["group", "permission", "content_object"],
                include=["expires_at"],
                name="report_group_grant_idx",
            )
        ]


def appendix_upload_to(instance: Appendix, filename: str) -> str:
    # Never the uploaded name: it may say something about a child.
    return f"scrutiny/appendices/{instance.report_id}/{instance.file_sha256}.pdf"


class Appendix(models.Model):
    class Kind(models.TextChoices):
        REVIEW_REPORT = "review_report", "Review report (generated)"
        CASE_DETAILS = "case_details", "Details of cases (generated)"
        EXEMPT_CASE_LIST = "exempt_case_list", "Case list (generated, exempt)"
        RESPONSE_TABLE = "response_table", "Executive response table (generated)"
        MODEL_GUIDANCE = "model_guidance", "Model guidance, the published version (generated)"
        DEFINITIONS = "definitions", "What is peer on peer abuse, from the forms of abuse (generated)"
        UPLOADED_PDF = "uploaded_pdf", "Uploaded PDF"
        TEXT = "text", "Text"

    GENERATED = (
        Kind.REVIEW_REPORT,
        Kind.CASE_DETAILS,
        Kind.EXEMPT_CASE_LIST,
        Kind.RESPONSE_TABLE,
        Kind.MODEL_GUIDANCE,
        Kind.DEFINITIONS,
    )
    FROM_REVIEW = (Kind.REVIEW_REPORT, Kind.CASE_DETAILS, Kind.EXEMPT_CASE_LIST)

    report = models.ForeignKey(CabinetReport, on_delete=models.CASCADE, related_name="appendices")
    number = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=250)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    review = models.ForeignKey(
        "reviews.Review", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField(blank=True)
    file = models.FileField(upload_to=appendix_upload_to, blank=True)
    file_sha256 = models.CharField(max_length=64, blank=True)
    file_size = models.PositiveIntegerField(null=True, blank=True)
    file_pages = models.PositiveIntegerField(null=True, blank=True)
    exempt = models.BooleanField(default=False)
    schedule_12a_paragraph = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Paragraph 1 to 7 of Part 1 of Schedule 12A."
    )
    public_interest = models.TextField(
        blank=True, help_text="Why the public interest in keeping it exempt outweighs disclosure."
    )
    version = models.PositiveIntegerField(default=1)
    history = HistoricalRecords()

    class Meta:
        ordering = ("report", "number")
        verbose_name_plural = "appendices"
        constraints = [
            models.UniqueConstraint(fields=["report", "number"], name="appendix_number_per_report"),
            models.CheckConstraint(
                condition=models.Q(exempt=False)
                | models.Q(schedule_12a_paragraph__gte=1, schedule_12a_paragraph__lte=7),
                name="exempt_appendix_names_paragraph",
            ),
        ]

    def __str__(self) -> str:
        return f"Appendix {self.number} - {self.title}"

    @property
    def is_generated(self) -> bool:
        return self.kind in self.GENERATED


class DecisionRecord(models.Model):
    """What the meeting (or a cabinet member, or an officer under delegation) decided on the
    report, on which published version of it, and when the decision could take effect: after
    the call-in period, never before."""

    class DecisionMaker(models.TextChoices):
        CABINET = "cabinet", "Cabinet"
        CABINET_MEMBER = "cabinet_member", "A cabinet member"
        OFFICER = "officer", "An officer under delegated powers"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        CALLED_IN = "called_in", "Called in"
        EFFECTIVE = "effective", "Effective"

    class CallIn(models.TextChoices):
        NOT_SUBJECT = "not_subject", "Not subject to call-in"
        OPEN = "open", "Call-in period open"
        CALLED_IN = "called_in", "Called in"
        NOT_CALLED_IN = "not_called_in", "Not called in"

    report = models.OneToOneField(CabinetReport, on_delete=models.PROTECT, related_name="decision")
    report_version = models.ForeignKey(
        "ReportVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The published version of the report the decision was made on.",
    )
    decision_maker = models.CharField(
        max_length=20, choices=DecisionMaker.choices, default=DecisionMaker.CABINET
    )
    decision_maker_name = models.CharField(
        max_length=200,
        blank=True,
        help_text="Who decided, as the record names them: Cabinet, or the member's or officer's title.",
    )
    delegation = models.CharField(
        max_length=300,
        blank=True,
        help_text="For an officer's decision: the delegated power they acted under.",
    )
    decided_on = models.DateField(null=True, blank=True)
    call_in_ends_on = models.DateField(
        null=True, blank=True, help_text="The last day of the call-in period (derived)."
    )
    decision_text = models.TextField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    key_decision = models.BooleanField(default=False)
    call_in = models.CharField(max_length=20, choices=CallIn.choices, default=CallIn.OPEN)
    call_in_exemption_reason = models.TextField(
        blank=True,
        help_text="Why a key decision is not subject to call-in: why it is urgent (any delay would "
        "seriously prejudice the council's or the public's interests).",
    )
    call_in_exemption_agreed_by = models.CharField(
        max_length=200,
        blank=True,
        help_text="The chair of the scrutiny committee who agreed the decision is urgent, by name.",
    )
    published_on = models.DateField(null=True, blank=True)
    effective_on = models.DateField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(decision_maker="officer") | ~models.Q(delegation=""),
                name="officer_decision_names_delegation",
            ),
            models.CheckConstraint(
                condition=models.Q(effective_on__isnull=True)
                | models.Q(call_in_ends_on__isnull=True)
                | models.Q(effective_on__gt=models.F("call_in_ends_on")),
                name="decision_effective_after_call_in",
            ),
            models.CheckConstraint(
                condition=~models.Q(key_decision=True, call_in="not_subject")
                | (~models.Q(call_in_exemption_reason="") & ~models.Q(call_in_exemption_agreed_by="")),
                name="key_decision_exempt_from_call_in_says_why",
            ),
        ]

    def __str__(self) -> str:
        when = self.decided_on or self.report.meeting.date
        return f"{self.maker_label}, {when:%-d %B %Y}: {self.report}"

    @property
    def maker_label(self) -> str:
        return self.decision_maker_name or self.get_decision_maker_display()

    @property
    def decision_date(self):
        return self.decided_on or self.report.meeting.date


# --- Published versions of a report (frozen) ---------------------------------------------------


class ReportVersion(models.Model):
    """A report as it was published for a meeting: its text, and every appendix's content as it
    was then (rendered once, stored, never re-queried). Packs are made only from a version, so
    one version always gives the same pack. A change after publication is a new version (a
    supplement or a correction) with a reason; earlier versions and their packs stay.

    Written once by ``scrutiny.services.report_version_publish``; nothing changes a row after.
    """

    class Kind(models.TextChoices):
        ORIGINAL = "original", "Published for the meeting"
        SUPPLEMENT = "supplement", "Supplement"
        CORRECTION = "correction", "Correction"

    report = models.ForeignKey(CabinetReport, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    reason = models.TextField(blank=True, help_text="Why a supplement or correction was published.")
    title = models.CharField(max_length=300, help_text="The pack's title.")
    meeting_date = models.DateField()
    published_on = models.DateField(help_text="The day it was published: the day of publishing, never typed.")
    deadline = models.DateField(help_text="The last day to publish with five clear days before the meeting.")
    urgency_reasons = models.TextField(
        blank=True,
        help_text="For papers published later than five clear days before the meeting: the special "
        "circumstances for which the chair agreed they be considered as a matter of urgency.",
    )
    urgency_agreed_by = models.CharField(
        max_length=200, blank=True, help_text="The chair of the meeting who agreed, by name."
    )
    classification = models.CharField(max_length=20)
    report_fields = models.JSONField(help_text="The report's text as published.")
    report_html = models.TextField(help_text="The report as published (rendered once).")
    digest = models.CharField(max_length=64, help_text="sha256 over everything frozen.")
    published_at = models.DateTimeField()
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ("report", "number")
        constraints = [
            models.UniqueConstraint(fields=["report", "number"], name="report_version_number"),
            models.CheckConstraint(
                condition=models.Q(number=1, kind="original")
                | (models.Q(number__gt=1) & ~models.Q(kind="original") & ~models.Q(reason="")),
                name="report_version_later_has_reason",
            ),
            models.CheckConstraint(
                condition=models.Q(published_on__lte=models.F("deadline"))
                | (~models.Q(urgency_reasons="") & ~models.Q(urgency_agreed_by="")),
                name="report_version_late_has_chairs_urgency",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.report}: version {self.number}"

    @property
    def late(self) -> bool:
        return self.published_on > self.deadline

    @property
    def after_meeting(self) -> bool:
        """Published after its meeting (refused since; older rows may be): the meeting never had it."""
        return self.published_on > self.meeting_date


class ReportVersionAppendix(models.Model):
    """One appendix of a published version. A public one's content is here; an exempt one's is
    in ``ExemptAppendixSnapshot`` (read only through the exempt-appendix checks)."""

    report_version = models.ForeignKey(ReportVersion, on_delete=models.PROTECT, related_name="appendices")
    number = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=250)
    kind = models.CharField(max_length=20, choices=Appendix.Kind.choices)
    exempt = models.BooleanField(default=False)
    schedule_12a_paragraph = models.PositiveSmallIntegerField(null=True, blank=True)
    public_interest = models.TextField(blank=True)
    body_html = models.TextField(blank=True, help_text="A public appendix's content as published.")
    file = models.CharField(max_length=300, blank=True, help_text="An uploaded PDF's storage name.")
    file_sha256 = models.CharField(max_length=64, blank=True)
    content_sha256 = models.CharField(max_length=64, help_text="sha256 of the content, whatever it is.")
    exempt_records = models.JSONField(
        default=list, blank=True, help_text="[referral id, reference] of the cases an exempt one shows."
    )

    class Meta:
        ordering = ("report_version", "number")
        constraints = [
            models.UniqueConstraint(fields=["report_version", "number"], name="version_appendix_number"),
            models.CheckConstraint(
                condition=models.Q(exempt=False) | models.Q(body_html=""),
                name="version_appendix_exempt_content_apart",
            ),
        ]

    def __str__(self) -> str:
        return f"Appendix {self.number} - {self.title}"


class ExemptAppendixSnapshot(models.Model):
    """An exempt appendix's content as published. No history, no admin, no form: read only by
    ``scrutiny.snapshots`` for a grant holder (logged) or the exempt pack."""

    appendix = models.OneToOneField(
        ReportVersionAppendix, on_delete=models.PROTECT, related_name="exempt_snapshot"
    )
    body_html = models.TextField()

    def __str__(self) -> str:
        return f"Exempt content of {self.appendix_id}"
