"""A worker killed mid-job, again and again: the job completes exactly once.

A real Celery worker (prefork, one child) on Redis runs the decision-feedback job with an
e-mail backend that pauses mid-send (tests/faults/slow_mail.py). Three times, as soon as a
child has started sending, the test SIGKILLs that child: with ``acks_late`` and
``reject_on_worker_lost`` the message goes back to the queue and the next child takes it.
The fourth attempt is left alone. Exactly one e-mail is written and the decision records one
send.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from config.celery import app as celery_app
from referrals.models import ReferralDecision
from tests.support.celery_worker import ROOT, _database_url, _decide, _wait_for_feedback

pytestmark = [pytest.mark.redis, pytest.mark.timeout(300)]
KILLS = 3


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_worker_killed_mid_job_repeatedly_completes_it_exactly_once(publish_to, practitioner, tmp_path):
    url = os.environ["REDIS_URL"]
    queue = f"fault-kill-{os.getpid()}-{time.monotonic_ns()}"  # its own queue on the shared Redis db
    publish_to(url, {"visibility_timeout": 3600})
    celery_app.conf.task_default_queue = queue
    routes = celery_app.conf.task_routes
    celery_app.conf.task_routes = {"*": {"queue": queue}}  # every task to this test's own queue
    _reroute()
    markers, mail_dir = tmp_path / "started", tmp_path / "mail"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": url,
        "EMAIL_BACKEND": "tests.faults.slow_mail.SlowEmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "SLOW_MAIL_DIR": str(markers),
        "SLOW_MAIL_SECONDS": "4",
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=prefork",
            "--concurrency=1",
            "--loglevel=INFO",
            "--without-mingle",
            "--without-gossip",
            "-Q",
            queue,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        decision = _decide(practitioner)  # queues the feedback job on commit (through the outbox)
        killed: list[int] = []
        deadline = time.monotonic() + 180
        while len(killed) < KILLS and time.monotonic() < deadline:
            started = [Path(p) for p in sorted(markers.glob("started-*"))] if markers.exists() else []
            fresh = [int(p.read_text()) for p in started if int(p.read_text()) not in killed]
            if fresh:
                os.kill(fresh[0], signal.SIGKILL)
                killed.append(fresh[0])
            time.sleep(0.1)
        assert len(killed) == KILLS, f"the job was picked up only {len(killed)} times"
        assert not mail_dir.exists() or not list(mail_dir.glob("*.log"))
        assert ReferralDecision.objects.get(pk=decision.pk).feedback_sent_at is None

        decision = _wait_for_feedback(decision.pk, seconds=90)
        time.sleep(6)  # time for a duplicate run to have written a second e-mail
        assert len(list(mail_dir.glob("*.log"))) == 1
        assert len(list(markers.glob("started-*"))) == KILLS + 1
        assert decision.history.filter(history_change_reason="Feedback sent to the referrer").count() == 1
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
        celery_app.conf.task_default_queue = "default"
        celery_app.conf.task_routes = routes
        _reroute()


def _reroute() -> None:
    """Make the publisher use task_routes as they are now.

    flush_routes() re-reads the setting, but the router is built once and keeps the old table,
    so it is rebuilt too (else the job goes to its usual queue, which this worker does not read).
    """
    celery_app.amqp.flush_routes()
    celery_app.amqp.router = celery_app.amqp.Router()
