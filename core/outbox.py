"""Queue background jobs through an outbox, so a broker outage never breaks or loses work.

``enqueue_on_commit`` writes an ``OutboxMessage`` in the caller's transaction and, once that
commits, publishes it. If the broker cannot be reached the save has still happened, the
request still succeeds, and the row waits: ``outbox_flush`` (Celery beat, every minute)
publishes what is left once the broker answers again. A job may so be published twice (a
publish that succeeded but whose ``sent_at`` was not recorded); every task queued this way is
idempotent, as house style requires.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging

from celery import current_app
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from core.models import OutboxMessage

logger = logging.getLogger(__name__)

#: Rows younger than this are left to the on-commit publish (which normally just ran).
FLUSH_AFTER = dt.timedelta(seconds=30)


def enqueue_on_commit(task: str, *args: int) -> OutboxMessage:
    """Queue ``task(*args)`` after the current transaction commits; never lost, never raising."""
    if not all(isinstance(arg, int) for arg in args):
        raise TypeError("outbox jobs take primary keys only")
    message = OutboxMessage.objects.create(task=task, args=list(args))
    transaction.on_commit(lambda: outbox_publish(message_id=message.pk))
    return message


def outbox_publish(*, message_id: int) -> bool:
    """Hand one unsent message to the broker. Returns whether it was handed over."""
    message = OutboxMessage.objects.filter(pk=message_id, sent_at__isnull=True).first()
    if message is None:
        return False
    try:
        _task(message.task).apply_async(args=message.args)
    except (OperationalError, OSError) as error:
        OutboxMessage.objects.filter(pk=message.pk).update(
            attempts=message.attempts + 1, last_error=type(error).__name__[:200]
        )
        logger.warning(
            "outbox %s: broker unavailable (%s); beat will retry", message.pk, type(error).__name__
        )
        return False
    OutboxMessage.objects.filter(pk=message.pk, sent_at__isnull=True).update(sent_at=timezone.now())
    return True


def broker_available(*, timeout: float = 3) -> bool:
    """Whether the broker answers now (a connect of at most ``timeout`` seconds).

    For a page that would rather say "not now" than queue work nobody can start yet (exports:
    the officer is waiting for the pack). Queueing itself never needs it: ``enqueue_on_commit``
    keeps the job until the broker is back."""
    if current_app.conf.task_always_eager:
        return True
    try:
        with current_app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, timeout=timeout)
    except (OperationalError, OSError) as error:
        logger.warning("outbox: the broker is not answering (%s)", type(error).__name__)
        return False
    return True


def _task(name: str):
    """The registered task: its module (``app.tasks``) is imported first, as the worker would."""
    importlib.import_module(name.rsplit(".", 1)[0])
    return current_app.tasks[name]


def outbox_flush(*, limit: int = 500, after: dt.timedelta = FLUSH_AFTER) -> int:
    """Publish messages still unsent (Celery beat). Returns how many went."""
    waiting = (
        OutboxMessage.objects.filter(sent_at__isnull=True, created_at__lte=timezone.now() - after)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    sent = 0
    for message_id in list(waiting):
        if not outbox_publish(message_id=message_id):
            break  # the broker is still down: the rest wait for the next run
        sent += 1
    return sent


def outbox_discard_sent(*, older_than: dt.timedelta = dt.timedelta(days=7)) -> int:
    deleted, _ = OutboxMessage.objects.filter(sent_at__lte=timezone.now() - older_than).delete()
    return deleted
