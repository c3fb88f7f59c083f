"""A real Celery worker process runs the decision-feedback job end to end.

Once on the embedded filesystem broker (what `make run` uses: no server to install) and
once on Redis (production and CI). The worker is a separate process reading the same
database, so the test data is committed (transactional_db).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from kombu import pools as kombu_pools

from config.celery import app as celery_app
from referrals import services
from referrals.models import Outcome, RagLevel, ReferralDecision
from tests.nplusone import set_up
from tests.referrals.helpers import referral_input, two_children

ROOT = Path(__file__).resolve().parent.parent


def _database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


@pytest.fixture
def worker(tmp_path):
    """Start `celery worker` against the broker the test chooses; stop it afterwards."""
    processes = []

    def start(broker_env: dict[str, str]) -> Path:
        mail_dir = tmp_path / "mail"
        env = {
            **os.environ,
            **broker_env,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "DATABASE_URL": _database_url(),
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(mail_dir),
        }
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool=solo",
                "--loglevel=INFO",
                "--without-mingle",
                "--without-gossip",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        processes.append(process)
        return mail_dir

    yield start
    for process in processes:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def publish_to(request):
    """Point this process's Celery app at a broker for the test, then put it back."""
    saved = {
        "task_always_eager": celery_app.conf.task_always_eager,
        "broker_url": celery_app.conf.broker_url,
        "broker_transport_options": celery_app.conf.broker_transport_options,
    }

    def reset_pools():
        kombu_pools.reset()  # kombu keeps producer pools per connection, process-wide
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    def configure(url: str, options: dict):
        celery_app.conf.update(task_always_eager=False, broker_url=url, broker_transport_options=options)
        reset_pools()

    yield configure
    celery_app.conf.update(**saved)
    reset_pools()


def _decide(user) -> ReferralDecision:
    referral = services.referral_create(user=user, data=referral_input(), children=two_children())
    services.referral_start_screening(
        user=user, referral_id=referral.pk, expected_version=1, rag=RagLevel.objects.get(code="red")
    )
    return services.referral_record_decision(
        user=user,
        referral_id=referral.pk,
        expected_version=2,
        decision=services.DecisionInput(
            outcomes=[Outcome.objects.get(code="early-help")], rationale="r", guidance_departure_reason="g"
        ),
    )


@set_up
def _wait_for_feedback(decision_id: int, seconds: float = 60) -> ReferralDecision:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        decision = ReferralDecision.objects.get(pk=decision_id)
        if decision.feedback_sent_at:
            return decision
        time.sleep(0.3)
    pytest.fail(f"the worker did not send feedback for decision {decision_id} within {seconds} s")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_worker_on_embedded_filesystem_broker(worker, publish_to, tmp_path, practitioner):
    broker_dir = tmp_path / "broker"
    for folder in ("out", "processed"):
        (broker_dir / folder).mkdir(parents=True)
    options = {
        "data_folder_in": str(broker_dir / "out"),
        "data_folder_out": str(broker_dir / "out"),
        "processed_folder": str(broker_dir / "processed"),
        "store_processed": False,
    }
    publish_to("filesystem://", options)
    mail_dir = worker({"REDIS_URL": "", "CELERY_BROKER_DIR": str(broker_dir)})
    decision = _decide(practitioner)  # queued on commit, with the decision's id only
    decision = _wait_for_feedback(decision.pk)
    sent = list(mail_dir.glob("*.log"))
    assert len(sent) == 1
    body = sent[0].read_text()
    assert decision.referral.reference in body
    assert "Rita Referrer" not in body


@pytest.mark.redis
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_worker_on_redis(worker, publish_to, practitioner):
    url = os.environ["REDIS_URL"]
    publish_to(url, {"visibility_timeout": 3600})
    mail_dir = worker({"REDIS_URL": url})
    decision = _decide(practitioner)
    decision = _wait_for_feedback(decision.pk)
    assert len(list(mail_dir.glob("*.log"))) == 1
    assert settings.CELERY_TASK_ACKS_LATE is True
