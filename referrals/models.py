"""Referrals: the MASH front door.

Identity-revealing data (children's names, dates of birth, addresses, school identity,
referrer identity, narrative, notes and any other free text about the case) lives in its
own models or fields, registered exempt in ``ReferralsConfig.ready`` (``core.exempt``). The
``Referral`` row itself
holds only pseudonymous case data.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from core.history import HistoricalRecords
from core.permissions import GroupGrantBase, UserGrantBase

# --- Reference data (admin-editable, seeded by a data migration) ------------------------


class ReferenceDataModel(models.Model):
    code = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=200)
    order = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True, help_text="Inactive entries stay on old records.")

    class Meta:
        abstract = True
        ordering = ("order", "name")

    def __str__(self) -> str:
        return self.name


class ReferralSource(ReferenceDataModel):
    history = HistoricalRecords()

    class Meta(ReferenceDataModel.Meta):
        verbose_name = "referral source"


class AbuseForm(ReferenceDataModel):
    """A form of peer-on-peer abuse, tagged with the first guidance edition that names it."""

    first_named_in = models.CharField(max_length=60, help_text="For example KCSIE 2016.")
    is_sexual = models.BooleanField(
        default=False, help_text="Sexual violence, harassment or imagery (review inclusion)."
    )
    guidance_summary = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta(ReferenceDataModel.Meta):
        verbose_name = "form of abuse"
        verbose_name_plural = "forms of abuse"


class Outcome(ReferenceDataModel):
    history = HistoricalRecords()

    class Meta(ReferenceDataModel.Meta):
        verbose_name = "MASH outcome"


class RagLevel(ReferenceDataModel):
    """Local practice, not statute: levels and response targets are configuration."""

    response_hours = models.PositiveSmallIntegerField(
        help_text="Hours to respond, counted on working days only."
    )
    history = HistoricalRecords()

    class Meta(ReferenceDataModel.Meta):
        verbose_name = "RAG level"


class School(models.Model):
    class Phase(models.TextChoices):
        PRIMARY = "primary", "Primary"
        SECONDARY = "secondary", "Secondary"
        ALL_THROUGH = "all_through", "All-through"
        SPECIAL = "special", "Special"
        ALTERNATIVE_PROVISION = "alternative_provision", "Alternative provision"
        COLLEGE = "college", "College"

    urn = models.CharField("URN", max_length=8, unique=True)
    name = models.CharField(max_length=200)
    phase = models.CharField(max_length=30, choices=Phase.choices)
    local_authority = models.CharField(max_length=120)
    active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return f"{self.name} ({self.urn})"


class ReferenceSequence(models.Model):
    """Hands out referral numbers per year; a number is never handed out twice."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


# --- People -----------------------------------------------------------------------------


class Child(models.Model):
    """A person record. Every field here identifies the child: all of it is exempt."""

    class Gender(models.TextChoices):
        FEMALE = "female", "Female"
        MALE = "male", "Male"
        OTHER = "other", "Other"
        NOT_KNOWN = "not_known", "Not known"

    class YearGroup(models.TextChoices):
        NURSERY = "N", "Nursery"
        RECEPTION = "R", "Reception"
        Y1 = "1", "Year 1"
        Y2 = "2", "Year 2"
        Y3 = "3", "Year 3"
        Y4 = "4", "Year 4"
        Y5 = "5", "Year 5"
        Y6 = "6", "Year 6"
        Y7 = "7", "Year 7"
        Y8 = "8", "Year 8"
        Y9 = "9", "Year 9"
        Y10 = "10", "Year 10"
        Y11 = "11", "Year 11"
        Y12 = "12", "Year 12"
        Y13 = "13", "Year 13"
        NOT_APPLICABLE = "na", "Not in school"

    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    # Lower-cased copies for prefix search, indexed by child_last_first_idx and
    # child_first_last_idx below.
    first_name_key = models.CharField(max_length=100, editable=False)
    last_name_key = models.CharField(max_length=100, editable=False)
    date_of_birth = models.DateField()
    gender = models.CharField(max_length=20, choices=Gender.choices)
    school = models.ForeignKey(
        School, null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    year_group = models.CharField(max_length=3, choices=YearGroup.choices, blank=True)
    send = models.BooleanField("special educational needs or disability", default=False)
    address = models.TextField(blank=True)
    postcode = models.CharField(max_length=10, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "children"
        indexes = [
            models.Index(Lower("last_name"), Lower("first_name"), "date_of_birth", name="child_match_idx"),
            # The name search (selectors._identifiable_referrals_named) reads a range of one
            # of these and nothing else: pattern ops so PostgreSQL can use them for a prefix
            # LIKE whatever the collation, the other name to check further words on the
            # index entry, and the id so no table row is read (an index-only scan).
            # SQLite ignores the operator classes and INCLUDE.
            models.Index(
                fields=["last_name_key", "first_name_key"],
                opclasses=["varchar_pattern_ops", "varchar_pattern_ops"],
                include=["id"],
                name="child_last_first_idx",
            ),
            models.Index(
                fields=["first_name_key", "last_name_key"],
                opclasses=["varchar_pattern_ops", "varchar_pattern_ops"],
                include=["id"],
                name="child_first_last_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Child {self.pk}"

    def save(self, *args, **kwargs):
        self.first_name_key = self.first_name.strip().lower()
        self.last_name_key = self.last_name.strip().lower()
        super().save(*args, **kwargs)


# --- Referrals ----------------------------------------------------------------------------


class Referral(models.Model):
    """The pseudonymous case record. Nothing on this row identifies a child or referrer."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        SCREENING = "screening", "Screening"
        DECIDED = "decided", "Decided"
        CLOSED = "closed", "Closed"

    class Location(models.TextChoices):
        SCHOOL = "school", "School"
        ONLINE = "online", "Online"
        COMMUNITY = "community", "Community"
        HOME = "home", "Home"
        TRANSPORT = "transport", "Transport"
        OTHER = "other", "Other"

    OPEN_STATUSES = (Status.RECEIVED, Status.SCREENING)

    reference = models.CharField(max_length=20, unique=True, editable=False)
    # The case system's own id, for referrals brought in by an import (referrals/imports):
    # a second import of the same record finds it by this and updates it, never duplicates it.
    external_id = models.CharField(
        "case system id", max_length=64, unique=True, null=True, blank=True, editable=False
    )
    received_at = models.DateTimeField()
    source = models.ForeignKey(ReferralSource, on_delete=models.PROTECT)
    forms_of_abuse = models.ManyToManyField(AbuseForm, related_name="referrals")
    is_peer_on_peer = models.BooleanField("peer-on-peer", default=True)
    incident_date = models.DateField()
    location = models.CharField(max_length=20, choices=Location.choices)
    consent_sought = models.BooleanField()
    rag = models.ForeignKey(
        RagLevel, null=True, blank=True, on_delete=models.PROTECT, verbose_name="RAG rating"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RECEIVED)
    decision_due_at = models.DateTimeField()
    rag_due_at = models.DateTimeField("RAG response due", null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="referrals_created"
    )
    screening_started_at = models.DateTimeField(null=True, blank=True)
    screening_started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reopened_at = models.DateTimeField(null=True, blank=True)
    reopened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The practitioner a MASH manager gave the referral to (referral_allocate); notified of it,
    # and of the referral passing its due time undecided (referrals_notify_overdue).
    allocated_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="referrals_allocated",
        verbose_name="allocated to",
    )
    allocated_at = models.DateTimeField(null=True, blank=True)
    allocated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Restricted by a MASH manager: only named grants see its identities (the MASH team's
    # default and standing access stop). The reason is a case note; lifting clears both fields.
    restricted_at = models.DateTimeField(null=True, blank=True)
    restricted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Disposed of under the retention schedule (referrals.retention): identities and narrative
    # are gone, what is left is pseudonymous, and nothing more may be added, granted or reopened.
    disposed_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords(m2m_fields=[forms_of_abuse])

    class Meta:
        permissions = [("view_exempt_referral", "Can see the exempt (identifying) information")]
        indexes = [
            models.Index(fields=["received_at", "id"], name="referral_received_idx"),
            models.Index(fields=["status", "decision_due_at", "id"], name="referral_tray_idx"),
            models.Index(fields=["created_by", "received_at", "id"], name="referral_mine_idx"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def is_restricted(self) -> bool:
        return self.restricted_at is not None

    @staticmethod
    def readable_for_history_checks() -> Q:
        """Closed and not restricted: the MASH team reads these without a grant (history checks)."""
        return Q(status=Referral.Status.CLOSED, restricted_at__isnull=True)


class ReferralUserGrant(UserGrantBase):
    """A user's grant on one referral (guardian direct-foreign-key table)."""

    content_object = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="user_grants")
    history = HistoricalRecords()

    class Meta(UserGrantBase.Meta):
        # The holder's live grants are read from this index alone (an index-only scan): the
        # expiry rides along, so checking it needs no visit to the table's scattered rows.
        indexes = [
            models.Index(
                fields=["user", "permission", "content_object"],
                include=["expires_at"],
                name="referral_user_grant_idx",
            )
        ]


class ReferralGroupGrant(GroupGrantBase):
    """A group's grant on one referral (guardian direct-foreign-key table)."""

    content_object = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="group_grants")
    history = HistoricalRecords()

    class Meta(GroupGrantBase.Meta):
        indexes = [
            models.Index(
                fields=["group", "permission", "content_object"],
                include=["expires_at"],
                name="referral_group_grant_idx",
            )
        ]


class ReferralDetail(models.Model):
    """Exempt: who referred and what they said."""

    referral = models.OneToOneField(
        Referral, primary_key=True, on_delete=models.CASCADE, related_name="detail"
    )
    referrer_name = models.CharField(max_length=200)
    referrer_role = models.CharField(max_length=200, blank=True)
    referrer_organisation = models.CharField(max_length=200, blank=True)
    referrer_contact = models.CharField(
        max_length=200, blank=True, help_text="Telephone number or email address."
    )
    narrative = models.TextField()
    consent_not_sought_reason = models.TextField(blank=True)
    #: Where it happened, as the referrer named it (a park, a shopping centre, a bus route):
    #: free text about the case, so exempt. The key is its normalised form (referrals.places),
    #: which the contextual-safeguarding place rule matches on.
    incident_place = models.CharField(
        "place where it happened",
        max_length=200,
        blank=True,
        help_text="For example the name of a park, a shopping centre or a bus route.",
    )
    incident_place_key = models.CharField(max_length=200, blank=True, editable=False)
    history = HistoricalRecords()

    class Meta:
        indexes = [
            models.Index(
                fields=["incident_place_key", "referral"],
                condition=~Q(incident_place_key=""),
                name="referral_detail_place_idx",
            )
        ]

    def __str__(self) -> str:
        return f"Details of referral {self.referral_id}"

    def save(self, *args, **kwargs):
        from referrals.places import place_key

        self.incident_place_key = place_key(self.incident_place)
        super().save(*args, **kwargs)


class ReferralChild(models.Model):
    class Role(models.TextChoices):
        VICTIM = "victim", "Victim"
        ALLEGED_PERPETRATOR = "alleged_perpetrator", "Alleged perpetrator"
        OTHER = "other", "Other child involved"

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="children")
    # Indexed by referral_child_by_child_idx, which also answers "which referrals" on its own.
    child = models.ForeignKey(Child, on_delete=models.PROTECT, related_name="involvements", db_index=False)
    role = models.CharField(max_length=30, choices=Role.choices)
    label = models.CharField(max_length=3, help_text="Pseudonym within the referral: Child A, Child B, ...")
    history = HistoricalRecords()

    class Meta:
        ordering = ("label",)
        constraints = [
            models.UniqueConstraint(fields=["referral", "child"], name="referral_child_once"),
            models.UniqueConstraint(fields=["referral", "label"], name="referral_child_label"),
        ]
        indexes = [
            # A child's referrals, read from the index alone by the name search.
            models.Index(fields=["child", "referral"], name="referral_child_by_child_idx"),
        ]

    def __str__(self) -> str:
        return f"Child {self.label} ({self.get_role_display()})"


class DecisionQuerySet(models.QuerySet):
    def in_force(self):
        return self.filter(status=ReferralDecision.Status.IN_FORCE)


class ReferralDecision(models.Model):
    """A MASH decision. A reopened referral can have several; the latest one in force stands.

    A decision some rule says a manager must authorise waits (``awaiting_authorisation``)
    until a manager other than its author authorises it; only then is it in force and the
    referrer told. An amendment is a new decision that ``amends`` the one in force, which is
    kept (``superseded``) so both versions stay on the record.
    """

    class Status(models.TextChoices):
        AWAITING_AUTHORISATION = "awaiting_authorisation", "Awaiting a manager's authorisation"
        IN_FORCE = "in_force", "In force"
        NOT_AUTHORISED = "not_authorised", "Not authorised"
        SUPERSEDED = "superseded", "Amended"

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="decisions")
    outcomes = models.ManyToManyField(Outcome, related_name="decisions")
    rationale = models.TextField()
    dsl_informed = models.BooleanField("designated safeguarding lead informed")
    risk_assessment_advised = models.BooleanField("risk assessment advised")
    separation_advised = models.BooleanField("separation advised")
    police_informed = models.BooleanField("police informed")
    parents_informed = models.BooleanField("parents of both children informed")
    support_advised = models.BooleanField("support for both children advised")
    advice_notes = models.TextField(blank=True)
    decided_at = models.DateTimeField()
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    within_timescale = models.BooleanField()
    feedback_sent_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=30, choices=Status.choices, default=Status.IN_FORCE)
    #: Which guidance in force on the received date expected something the decision does not do
    #: (document and criterion, not case facts) and, exempt, why the practitioner departed from it.
    guidance_expected = models.TextField(blank=True)
    guidance_departure_reason = models.TextField("why the decision departs from the guidance", blank=True)
    amends = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="amendments"
    )
    amendment_reason = models.TextField(blank=True)
    authorisation_required = models.BooleanField(default=False)
    authorised_at = models.DateTimeField(null=True, blank=True)
    authorised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    authorisation_note = models.TextField(blank=True)
    history = HistoricalRecords(m2m_fields=[outcomes])
    objects = DecisionQuerySet.as_manager()

    ADVICE_FIELDS = (
        "dsl_informed",
        "risk_assessment_advised",
        "separation_advised",
        "police_informed",
        "parents_informed",
        "support_advised",
    )

    class Meta:
        ordering = ("-decided_at", "-id")

    def __str__(self) -> str:
        return f"Decision on referral {self.referral_id}"


class DecisionAuthorisationRule(models.Model):
    """Which decisions a manager must authorise before they take effect (configuration).

    A rule matches a decision that includes ``outcome`` on a referral that names
    ``abuse_form`` (any form when empty), or, with ``sexual_abuse_only``, any sexual form.
    """

    outcome = models.ForeignKey(Outcome, on_delete=models.PROTECT, related_name="+")
    abuse_form = models.ForeignKey(
        AbuseForm,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Leave empty to match every form of abuse.",
    )
    sexual_abuse_only = models.BooleanField(
        default=False, help_text="Match only referrals that name a sexual form of abuse."
    )
    active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "decision needing a manager's authorisation"
        verbose_name_plural = "decisions needing a manager's authorisation"

    def __str__(self) -> str:
        scope = self.abuse_form.name if self.abuse_form_id else "any form of abuse"
        if self.sexual_abuse_only and not self.abuse_form_id:
            scope = "any sexual form of abuse"
        return f"{self.outcome} on {scope}"


class CaseNote(models.Model):
    """A dated chronology entry. Once recorded it is never edited: a correction follows it."""

    class Kind(models.TextChoices):
        CONTACT = "contact", "Contact"
        DISCUSSION = "discussion", "Discussion"
        STRATEGY = "strategy_discussion", "Strategy discussion"
        OVERSIGHT = "management_oversight", "Management oversight"
        OTHER = "other", "Other"

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="notes")
    kind = models.CharField("Type of note", max_length=30, choices=Kind.choices, default=Kind.OTHER)
    occurred_on = models.DateField()
    #: When the event happened, if known (recorded_at is when the note was typed).
    occurred_time = models.TimeField("Time of the event", null=True, blank=True)
    text = models.TextField()
    corrects = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    history = HistoricalRecords()

    class Meta:
        ordering = ("occurred_on", "occurred_time", "recorded_at", "id")

    def __str__(self) -> str:
        return f"Note {self.pk} on referral {self.referral_id}"


class ReferralDraft(models.Model):
    """A new referral saved part-way by its author, to finish later.

    Not a referral: it has no reference, starts no clock, and nobody but its author sees it.
    It holds what was typed (exempt) as the form's own fields and nothing more, keeps no
    history, is not in the admin, and is deleted when it expires (a beat task), when the
    referral is recorded, or when its author deletes it.
    """

    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    #: {field name: [values]} exactly as the new referral form posts them (known fields only).
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ("-updated_at", "-id")
        indexes = [models.Index(fields=["author", "expires_at"], name="referral_draft_author_idx")]

    def __str__(self) -> str:
        return f"Draft {self.pk}"


# --- Imports ------------------------------------------------------------------------------------


def _import_upload_to(instance: ImportBatch, filename: str) -> str:
    # A random name: the uploaded file's own name may say whose case it is.
    return f"referral-imports/{uuid.uuid4().hex}.csv"


class ImportBatch(models.Model):
    """One uploaded CSV of historic referrals, from its check to its import.

    The stored file holds exempt information: it is kept only while a checked file waits to
    be imported, and deleted once it is imported, discarded or left too long. The batch row
    itself holds no case data: counts, and error messages that never quote a cell.
    """

    class Status(models.TextChoices):
        INVALID = "invalid", "Has errors"
        NOTHING = "nothing", "Nothing to import"
        READY = "ready", "Ready to import"
        APPLIED = "applied", "Imported"
        DISCARDED = "discarded", "Discarded"

    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    filename = models.CharField(max_length=255)
    file = models.FileField(upload_to=_import_upload_to, blank=True)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    status = models.CharField(max_length=20, choices=Status.choices)
    row_count = models.PositiveIntegerField(default=0)
    new_count = models.PositiveIntegerField(default=0)
    changed_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    kept_count = models.PositiveIntegerField(default=0, help_text="Changed in this service since imported.")
    error_count = models.PositiveIntegerField(default=0)
    #: [{"row": 12, "column": "incident_date", "message": "Row 12: ..."}] (capped, never a cell value)
    errors = models.JSONField(default=list, blank=True)
    #: [{"row": 12, "source_id": "...", "action": "changed", "fields": ["Narrative"], "reference": "..."}]:
    #: changed, kept and new rows (a new row has "received": "2015-01-14", its reference once imported)
    rows = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    discarded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name = "referral import"

    def __str__(self) -> str:
        return f"Import {self.pk} ({self.get_status_display()})"

    @property
    def to_import(self) -> int:
        return self.new_count + self.changed_count
