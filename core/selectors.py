"""Reads of the access log."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from core.models import AccessLogEntry


def access_log_for(*, record) -> list[AccessLogEntry]:
    return list(
        AccessLogEntry.objects.filter(record_type=record._meta.label_lower, record_id=record.pk)
        .select_related("user")
        .order_by("-at", "-id")[:500]
    )


def access_log_search(
    *,
    username: str = "",
    record_label: str = "",
    channel: str = "",
    break_glass_only: bool = False,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> QuerySet[AccessLogEntry]:
    entries = AccessLogEntry.objects.select_related("user").order_by("-at", "-id")
    if username:
        entries = entries.filter(user__username__istartswith=username.strip())
    if record_label:
        entries = entries.filter(record_label__istartswith=record_label.strip())
    if channel:
        entries = entries.filter(channel=channel)
    if break_glass_only:
        entries = entries.filter(break_glass=True)
    if start:
        entries = entries.filter(at__date__gte=start)
    if end:
        entries = entries.filter(at__date__lte=end)
    return entries
