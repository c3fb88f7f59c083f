"""A real Celery worker for tests: start one against a broker, point this process at the same
broker, and the helpers the worker and fault tests share."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from kombu import pools as kombu_pools

from config.celery import app as celery_app
from referrals import services
from referrals.models import Outcome, RagLevel, ReferralDecision
from tests.nplusone import set_up
from tests.referrals.helpers import referral_input, two_children

ROOT = Path(__file__).resolve().parents[2]


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
                "-Q",
                "packs,notifications,default",
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
