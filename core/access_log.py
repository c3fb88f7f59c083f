"""Writing to the access log. Views call ``record_access`` whenever they show exempt data."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import models

from core.client_address import client_ip
from core.models import AccessLogEntry


def _client(request) -> tuple[str | None, str]:
    if request is None:
        return None, ""
    # The same rule as sign-in throttling and security events (TRUSTED_PROXY_COUNT).
    address = client_ip(request)
    agent = request.META.get("HTTP_USER_AGENT", "")[:300]
    return address, agent


def record_access(
    *,
    request,
    user,
    record: models.Model,
    label: str,
    fields: Sequence[str],
    channel: str,
    reason: str = "",
    break_glass: bool = False,
) -> AccessLogEntry:
    address, agent = _client(request)
    return AccessLogEntry.objects.create(
        user=user,
        record_type=record._meta.label_lower,
        record_id=record.pk,
        record_label=label,
        fields=list(fields),
        channel=channel,
        path=(request.path[:300] if request is not None else ""),
        ip_address=address,
        user_agent=agent,
        reason=reason,
        break_glass=break_glass,
    )


def record_access_many(
    *,
    request,
    user,
    records: Iterable[tuple[models.Model, str]],
    fields: Sequence[str],
    channel: str,
    reason: str = "",
) -> int:
    """One row per record (an export of 40 referrals with identities writes 40 rows)."""
    address, agent = _client(request)
    rows = [
        AccessLogEntry(
            user=user,
            record_type=record._meta.label_lower,
            record_id=record.pk,
            record_label=label,
            fields=list(fields),
            channel=channel,
            path=(request.path[:300] if request is not None else ""),
            ip_address=address,
            user_agent=agent,
            reason=reason,
        )
        for record, label in records
    ]
    AccessLogEntry.objects.bulk_create(rows)
    return len(rows)
