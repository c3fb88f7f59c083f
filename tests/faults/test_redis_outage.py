"""Redis stopped and started: referral work is unaffected and the queued work completes.

A PRIVATE redis-server on a free port is the broker (the shared one on 6379 is never
touched). With it stopped, a practitioner records, screens and decides a referral: every save
succeeds, and the referrer's feedback e-mail waits as an unsent outbox row instead of being
lost or breaking the save. Once Redis is back, beat's flush (``core.tasks.flush_outbox``)
hands it over and a real Celery worker sends it, exactly once.
"""

from __future__ import annotations

import datetime as dt
import shutil
import socket
import subprocess
import time

import pytest
import redis

from core.models import OutboxMessage
from core.outbox import outbox_flush
from referrals.models import Referral, ReferralDecision
from tests.conftest import require_service
from tests.support.celery_worker import _decide, _wait_for_feedback

pytestmark = [pytest.mark.redis, pytest.mark.timeout(240)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateRedis:
    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        for _ in range(50):
            try:
                client.ping()
                return
            except redis.RedisError:
                time.sleep(0.1)
        pytest.fail("the private redis-server did not start")

    def stop(self):
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=15)
            self.process = None


@pytest.fixture
def private_redis():
    require_service(shutil.which("redis-server") is not None, "needs redis-server (Debian's redis-server)")
    server = PrivateRedis()
    server.start()
    yield server
    server.stop()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_referral_work_survives_redis_down_and_the_feedback_is_sent_once_it_is_back(
    private_redis, publish_to, worker, practitioner
):
    publish_to(private_redis.url, {"visibility_timeout": 3600, "max_retries": 1})
    private_redis.stop()

    started = time.monotonic()
    decision = _decide(practitioner)  # create, screen, decide: three saves, broker down
    assert time.monotonic() - started < 60
    referral = Referral.objects.get(pk=decision.referral_id)
    assert referral.status == Referral.Status.DECIDED
    waiting = OutboxMessage.objects.get(task="referrals.tasks.send_decision_feedback")
    assert waiting.args == [decision.pk]
    assert waiting.sent_at is None
    assert waiting.attempts == 1
    assert outbox_flush(after=dt.timedelta(0)) == 0  # still down: nothing lost, nothing sent
    # The saves also queued the contextual-safeguarding checks (contexts): they wait too.
    held_back = OutboxMessage.objects.filter(sent_at__isnull=True).count()
    assert held_back >= 1

    private_redis.start()
    mail_dir = worker({"REDIS_URL": private_redis.url})
    assert outbox_flush(after=dt.timedelta(0)) == held_back  # what beat does every minute
    decision = _wait_for_feedback(decision.pk)
    waiting.refresh_from_db()
    assert waiting.sent_at is not None
    assert outbox_flush(after=dt.timedelta(0)) == 0
    time.sleep(2)  # a duplicate would have arrived by now
    assert len(list(mail_dir.glob("*.log"))) == 1
    assert ReferralDecision.objects.get(pk=decision.pk).feedback_sent_at == decision.feedback_sent_at
