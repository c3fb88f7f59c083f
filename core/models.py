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
