"""Reads of the access log."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from core.models import AccessLogEntry, BreakGlassReview


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


@dataclass(frozen=True)
class BreakGlassQueue:
    awaiting: list[AccessLogEntry]
    reviewed: list[BreakGlassReview]
    awaiting_count: int
    reviewed_count: int
    unjustified_count: int


def break_glass_queue(*, recent: int = 50) -> BreakGlassQueue:
    """Emergency accesses awaiting information governance's review (oldest first), the most
    recent reviews, and how many were judged unjustified."""
    pending = AccessLogEntry.objects.filter(break_glass=True, glass_review__isnull=True)
    reviews = BreakGlassReview.objects.all()
    counts = reviews.aggregate(total=Count("id"), unjustified=Count("id", filter=Q(justified=False)))
    return BreakGlassQueue(
        awaiting=list(pending.select_related("user").order_by("at", "id")[:200]),
        reviewed=list(reviews.select_related("entry", "broke_glass_by", "reviewed_by")[:recent]),
        awaiting_count=pending.count(),
        reviewed_count=counts["total"],
        unjustified_count=counts["unjustified"],
    )


def break_glass_entry_for_review(*, entry_id: int) -> AccessLogEntry:
    return AccessLogEntry.objects.select_related("user", "glass_review__reviewed_by").get(
        pk=entry_id, break_glass=True
    )
