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
