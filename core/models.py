"""The access log: every look at exempt information, append-only."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class AppendOnlyError(RuntimeError):
    pass


class AccessLogQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("The access log is append-only")

    def delete(self):
        raise AppendOnlyError("The access log is append-only")


class AccessLogEntry(models.Model):
    """Who saw which exempt information, when, from where, through which channel, and why.

    The application has no path that changes or removes a row: ``save`` refuses an update,
    ``delete`` refuses, the queryset refuses bulk changes, the admin is read-only, and on
    PostgreSQL a trigger refuses UPDATE and DELETE (migration 0003).
    """

    class Channel(models.TextChoices):
        PAGE = "page", "Page"
        HISTORY = "history", "History page"
        EXPORT = "export", "CSV export"
        PDF = "pdf", "PDF"
        BREAK_GLASS = "break_glass", "Break-glass"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    record_type = models.CharField(max_length=40)
    record_id = models.BigIntegerField()
    record_label = models.CharField(max_length=60, help_text="For example the referral reference.")
    fields = models.JSONField(default=list, help_text="The exempt fields or document shown.")
    channel = models.CharField(max_length=20, choices=Channel.choices)
    path = models.CharField(max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    reason = models.TextField(blank=True)
    break_glass = models.BooleanField(default=False)

    objects = AccessLogQuerySet.as_manager()

    class Meta:
        verbose_name = "access log entry"
        verbose_name_plural = "access log"
        ordering = ("-at", "-id")
        indexes = [models.Index(fields=["record_type", "record_id", "at"], name="access_log_record_idx")]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.user_id} {self.record_label} ({self.channel})"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("The access log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("The access log is append-only")


class WorkerHeartbeat(models.Model):
    """When a Celery worker last ran the heartbeat Celery beat sends every minute (one row).

    The health check reads it: an old beat means no beat, no broker or no worker.
    """

    name = models.CharField(max_length=40, unique=True, default="worker")
    beat_at = models.DateTimeField()

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.name} at {self.beat_at:%Y-%m-%d %H:%M:%S}"


class ExportJob(models.Model):
    """One rendering of a document pack (public or exempt) and the file it made.

    The same kind, object, variant and source digest reuse a finished pack; a changed source
    makes a new job. At most one job per inputs is queued or running (a partial unique
    constraint), so asking twice returns the same job. Status changes only in
    ``core.documents.services``; each one appends an ``ExportJobEvent``.
    """

    class Variant(models.TextChoices):
        PUBLIC = "public", "Public pack"
        EXEMPT = "exempt", "Exempt pack"

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to start"
        RUNNING = "running", "Being made"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"
        REMOVED = "removed", "Removed"

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    kind = models.CharField(max_length=40)
    object_id = models.BigIntegerField()
    variant = models.CharField(max_length=10, choices=Variant.choices)
    source_digest = models.CharField(max_length=64, help_text="sha256 of every input to the pack.")
    title = models.CharField(max_length=300, help_text="The document's title (never exempt).")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    message = models.TextField(blank=True, help_text="Why it failed, in words a person understands.")
    file = models.FileField(max_length=300, blank=True)
    checksum = models.CharField(max_length=64, blank=True, help_text="sha256 of the file.")
    size = models.PositiveBigIntegerField(null=True, blank=True)
    pages = models.PositiveIntegerField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    exempt_records = models.JSONField(
        default=list,
        blank=True,
        help_text=(
            "For an exempt pack: the records whose exempt data it holds, as rendered "
            "([type, id, label], labels never exempt). Each download is logged against them."
        ),
    )
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-requested_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "object_id", "variant", "source_digest"],
                condition=models.Q(status__in=["queued", "running"]),
                name="export_job_one_active_per_inputs",
            ),
            models.CheckConstraint(condition=models.Q(progress__lte=100), name="export_job_progress_0_100"),
        ]
        indexes = [
            models.Index(fields=["kind", "object_id", "variant", "status"], name="export_job_lookup_idx"),
            models.Index(fields=["status", "finished_at"], name="export_job_cleanup_idx"),
        ]

    def __str__(self) -> str:
        return f"Export {self.pk}: {self.kind} {self.object_id} ({self.variant}, {self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def progress_words(self) -> str:
        """Where the job is, as a person would say it (the page and its script show this)."""
        if self.status == self.Status.QUEUED:
            return "Waiting its turn: it starts as soon as the packs asked for before it are made."
        if not self.is_active:
            return self.get_status_display()
        if self.progress < 25:
            return "Started: gathering the papers."
        if self.progress < 50:
            return "About a quarter made."
        if self.progress < 75:
            return "About half made."
        return "Nearly ready: putting the pages together."

    @property
    def is_exempt(self) -> bool:
        return self.variant == self.Variant.EXEMPT

    @property
    def filename(self) -> str:
        from django.utils.text import slugify

        return f"{slugify(self.title)[:80] or 'pack'}-{self.variant}.pdf"


class ExportJobEvent(models.Model):
    """The append-only trail of an export job: requested, started, retried, done, failed, downloaded."""

    class Event(models.TextChoices):
        REQUESTED = "requested", "Requested"
        STARTED = "started", "Started"
        RESTARTED = "restarted", "Started again after a worker stopped"
        RETRYING = "retrying", "Will try again"
        REPUBLISHED = "republished", "Queued again: no worker had finished it"
        DONE = "done", "Finished"
        FAILED = "failed", "Failed"
        DOWNLOADED = "downloaded", "Downloaded"
        REMOVED = "removed", "File removed"

    job = models.ForeignKey(ExportJob, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    event = models.CharField(max_length=20, choices=Event.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    detail = models.TextField(blank=True)

    objects = AccessLogQuerySet.as_manager()

    class Meta:
        ordering = ("at", "id")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} job {self.job_id} {self.event}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("The export trail is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("The export trail is append-only")


class OutboxMessage(models.Model):
    """A background job to queue, written in the same transaction as the change it follows.

    If the broker (Redis) is down when the transaction commits, the change still stands and
    this row stays unsent; Celery beat's ``core.tasks.flush_outbox`` queues it once the broker
    is back. Rows hold a task name and primary keys only, never case data.
    """

    task = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["created_at"], name="outbox_unsent_idx", condition=models.Q(sent_at__isnull=True)
            )
        ]

    def __str__(self) -> str:
        return f"{self.task}{tuple(self.args)}"


class SecurityEvent(models.Model):
    """A change to how someone signs in or what they may do, append-only, searchable by IG.

    Enrolling, replacing or resetting a second factor, using a recovery code, repeated wrong
    codes, a role change, a grant: each writes one row here (``core.security_events``) and
    e-mails the account holder and, where the kind says so, information governance. Nothing in
    a row identifies a case: ``detail`` is written by the service, never typed by a user.
    """

    class Kind(models.TextChoices):
        TWO_FACTOR_ENROLLED = "2fa_enrolled", "Second factor set up"
        TWO_FACTOR_REPLACED = "2fa_replaced", "Second factor replaced"
        TWO_FACTOR_RESET = "2fa_reset", "Second factor reset by an administrator"
        SECURITY_KEY_ADDED = "key_added", "Security key added"
        SECURITY_KEY_REMOVED = "key_removed", "Security key removed"
        RECOVERY_CODE_USED = "recovery_used", "Recovery code used"
        TWO_FACTOR_FAILURES = "2fa_failures", "Repeated wrong second-factor codes"
        ROLE_CHANGED = "role_changed", "Roles changed"
        ROLE_REQUESTED = "role_requested", "Role change requested"
        ROLE_REFUSED = "role_refused", "Role change refused"
        ACCOUNT_CREATED = "account_created", "Account created by an administrator"
        EMAIL_CHANGED = "email_changed", "E-mail address changed"
        ACCOUNT_CHANGED = "account_changed", "Account changed by an administrator"
        PASSWORD_LINK_SENT = "password_link", "Link to set a password sent"
        PASSWORD_SET = "password_set", "Password set by its holder"
        GRANT_GIVEN = "grant_given", "Access granted"
        RESTRICTED = "restricted", "Record restricted"
        LEGAL_HOLD_LIFT = "legal_hold_lift", "Lifting a legal hold"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The account the event is about.",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Who did it (the account holder, or the second person who did it to them).",
    )
    detail = models.CharField(max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    previous_email = models.EmailField(
        blank=True,
        help_text="EMAIL_CHANGED only: the address before the change, which is told of it too.",
    )

    objects = AccessLogQuerySet.as_manager()

    class Meta:
        ordering = ("-at", "-id")
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.user_id} {self.kind}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("Security events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Security events are append-only")


class BreakGlassReview(models.Model):
    """Information governance's judgement of one emergency (break-glass) access, append-only.

    Every break-glass access-log row waits for one of these. The reviewer is never the
    person who broke the glass (checked by the service and by the database, which is why that
    person is copied here from the access-log row).
    """

    entry = models.OneToOneField(AccessLogEntry, on_delete=models.PROTECT, related_name="glass_review")
    broke_glass_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    justified = models.BooleanField()
    note = models.TextField()
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(default=timezone.now)

    objects = AccessLogQuerySet.as_manager()

    class Meta:
        ordering = ("-reviewed_at", "-id")
        default_permissions = ("view",)
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(reviewed_by=models.F("broke_glass_by")),
                name="break_glass_review_not_own",
            )
        ]

    def __str__(self) -> str:
        return f"Review of break-glass access {self.entry_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("Break-glass reviews are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Break-glass reviews are append-only")


class RoleRequest(models.Model):
    """A change to someone's account that needs a second administrator: roles that give a role
    in ``core.roles.ROLES_NEEDING_APPROVAL`` or remove an oversight role, and a new e-mail
    address for, or the deactivation of, an oversight role's holder. It takes effect only when
    another administrator, outside the requester's and the account's chain, approves it
    (``core.services``).

    The database refuses a request for one's own account and a decision by the requester or
    by the account being changed, whatever the application does.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for approval"
        APPROVED = "approved", "Approved"
        REFUSED = "refused", "Refused"
        WITHDRAWN = "withdrawn", "Replaced by a later request"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The account to change.",
    )
    roles = models.JSONField(help_text="Every role the account would hold (core.roles.Role values).")
    roles_before = models.JSONField(default=list, help_text="The roles it held when this was asked.")
    email = models.EmailField(
        blank=True,
        help_text="A new e-mail address for an oversight role's holder (blank: unchanged). Where "
        "security e-mails and password links go, so it waits for a second administrator too.",
    )
    deactivate = models.BooleanField(
        default=False, help_text="Deactivate the account of an oversight role's holder."
    )
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-requested_at", "-id")
        default_permissions = ("view",)
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(requested_by=models.F("user")), name="role_request_not_own"
            ),
            models.CheckConstraint(
                condition=models.Q(decided_by__isnull=True)
                | (~models.Q(decided_by=models.F("requested_by")) & ~models.Q(decided_by=models.F("user"))),
                name="role_request_decided_by_a_second_person",
            ),
        ]

    def __str__(self) -> str:
        return f"Role request {self.pk} for {self.user_id}"


class Notification(models.Model):
    """One message in the service for one user (core.notifications).

    The text names records by reference only, never a child, a referrer or any other exempt
    value: it is shown in lists and e-mailed. ``key`` makes a notification once-only (for
    example one per referral per breach of its due time): a second ``notify`` with the same
    key for the same user adds nothing.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=40)
    text = models.CharField(max_length=200)
    url = models.CharField(max_length=200, blank=True)
    key = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(fields=["user", "read_at"], name="notification_unread_idx"),
            models.Index(fields=["emailed_at", "user"], name="notification_unsent_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "key"], condition=~models.Q(key=""), name="notification_once_per_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} for user {self.user_id}"


class NotificationPreference(models.Model):
    """How a user hears of notifications by e-mail: at once, or once a day in a digest."""

    class Delivery(models.TextChoices):
        IMMEDIATE = "immediate", "An e-mail for each notification, as it happens"
        DIGEST = "digest", "One e-mail a day listing the day's notifications"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    delivery = models.CharField(max_length=20, choices=Delivery.choices, default=Delivery.IMMEDIATE)

    def __str__(self) -> str:
        return f"{self.get_delivery_display()} for user {self.user_id}"
