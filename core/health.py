"""The health check: can this instance reach its database, its Redis, and is a worker alive?

Each check answers "ok" or a one-word reason; nothing else (no host, no version, no error
text) leaves the process, because the endpoint needs no sign-in.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone

from core.models import WorkerHeartbeat

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 2


def heartbeat_record(*, name: str = "worker") -> None:
    WorkerHeartbeat.objects.update_or_create(name=name, defaults={"beat_at": timezone.now()})


def check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        log.warning("health: database unavailable", exc_info=True)
        return "unavailable"
    return "ok"


def check_redis() -> str:
    if not settings.REDIS_URL:
        return "not configured"
    import redis

    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS
    )
    try:
        client.ping()
    except redis.RedisError:
        log.warning("health: redis unavailable", exc_info=True)
        return "unavailable"
    finally:
        client.close()
    return "ok"


def check_worker() -> str:
    try:
        beat = WorkerHeartbeat.objects.filter(name="worker").values_list("beat_at", flat=True).first()
    except DatabaseError:
        return "unknown"
    if beat is None:
        return "never seen"
    if timezone.now() - beat > dt.timedelta(seconds=settings.WORKER_STALE_SECONDS):
        return "stale"
    return "ok"


def health() -> tuple[bool, dict[str, str]]:
    """(all well, {check: "ok" or the reason}). Redis "not configured" is well: local runs."""
    database = check_database()
    checks = {
        "database": database,
        "redis": check_redis(),
        "worker": check_worker() if database == "ok" else "unknown",
    }
    healthy = all(value in ("ok", "not configured") for value in checks.values())
    return healthy, checks
