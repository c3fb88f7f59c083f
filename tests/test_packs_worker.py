"""PDF packs made by a real Celery worker process on real Redis.

- a pack job runs end to end;
- the worker's child is killed with SIGKILL mid-render: the task is requeued
  (reject_on_worker_lost) and the job completes exactly once;
- the whole worker is killed with SIGKILL mid-render: once a worker is back, Redis hands the
  unacknowledged task out again (visibility timeout) and the job completes exactly once;
- a job whose message Redis lost (its data flushed) is published again by the sweep and
  completes once;
- with Redis down (a private redis-server this test starts and stops) asking for an export
  gets a clear message, no server error, and nothing half-made; if Redis goes down between
  that check and the publish, the job waits in the outbox (ADR 0013) instead of being lost.

The worker imports tests/documents_kind.py (``--include``) for the test-only document kind.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
from django.urls import reverse
from zeal import zeal_ignore

from config.settings.base import redis_transport_options
from core.documents import services
from core.models import ExportJob
from core.roles import Role
from tests.conftest import require_service, sign_in_verified
from tests.core.pdf_helpers import pdf_text
from tests.documents_kind import KIND, PUBLIC_MARK
from tests.factories import ReferralFactory

Status = ExportJob.Status

transactional = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _wait_for(job_id: int, statuses, seconds: float = 90, worker=None) -> ExportJob:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with zeal_ignore():  # the test's own polling, not the product's queries
            job = ExportJob.objects.get(pk=job_id)
        if job.status in statuses:
            return job
        time.sleep(0.2)
    log = Path(worker.log_path).read_text()[-3000:] if worker is not None else ""
    pytest.fail(f"export {job_id} did not reach {statuses} within {seconds} s:\n{log}")


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _ask(user, referral, variant="public") -> ExportJob:
    job, created = services.export_job_request(user=user, kind=KIND, object_id=referral.pk, variant=variant)
    assert created
    return job


def _events(job) -> list[str]:
    return list(job.events.values_list("event", flat=True))


def _events_with_details(job) -> list[tuple[str, str]]:
    """For a failure's message: a retry's detail names the error that caused it."""
    return list(job.events.values_list("event", "detail"))


def _one_file(media: Path, job: ExportJob) -> None:
    files = [p for p in (media / "packs").rglob("*") if p.is_file()]
    assert files == [media / job.file.name]


@pytest.mark.redis
@transactional
def test_a_pack_job_runs_end_to_end_on_a_real_worker(pack_worker, publish_to, role_user, media):
    url = os.environ["REDIS_URL"]
    publish_to(url, redis_transport_options(3600))
    worker = pack_worker({"REDIS_URL": url})
    officer = role_user(Role.REPORT_OFFICER)
    job = _ask(officer, ReferralFactory())  # queued on commit with the job's id only
    job = _wait_for(job.pk, {Status.DONE, Status.FAILED}, worker=worker)
    assert job.status == Status.DONE, job.message
    assert job.progress == 100
    assert PUBLIC_MARK in pdf_text((media / job.file.name).read_bytes())
    assert _events(job) == ["requested", "started", "done"]


@pytest.mark.redis
@transactional
def test_a_worker_child_killed_mid_render_is_replaced_and_the_job_completes_once(
    pack_worker,
    publish_to,
    role_user,
    media,
):
    url = os.environ["REDIS_URL"]
    publish_to(url, redis_transport_options(3600))
    worker = pack_worker({"REDIS_URL": url, "TEST_PACK_SLEEP": "3"}, pool="prefork")
    officer = role_user(Role.REPORT_OFFICER)
    job = _ask(officer, ReferralFactory())
    _wait_for(job.pk, {Status.RUNNING}, worker=worker)
    children = _children(worker.pid)
    assert len(children) == 1
    os.kill(children[0], signal.SIGKILL)  # mid-render: the test kind reads its parts for 3 s
    job = _wait_for(job.pk, {Status.DONE, Status.FAILED}, worker=worker)
    assert job.status == Status.DONE, job.message
    assert job.attempts == 2
    assert _events(job) == ["requested", "started", "restarted", "done"]
    _one_file(media, job)
    time.sleep(2)  # nothing runs it a third time
    assert ExportJob.objects.get(pk=job.pk).attempts == 2


@pytest.mark.redis
@transactional
def test_a_worker_killed_mid_render_is_redelivered_once_a_worker_is_back(
    pack_worker,
    publish_to,
    role_user,
    media,
):
    url = os.environ["REDIS_URL"]
    # A short visibility timeout so the test need not wait an hour; the time limits stay below it.
    limits = {
        "CELERY_VISIBILITY_TIMEOUT": "8",
        "CELERY_TASK_TIME_LIMIT": "7",
        "CELERY_TASK_SOFT_TIME_LIMIT": "6",
    }
    publish_to(url, redis_transport_options(8))
    first = pack_worker({"REDIS_URL": url, "TEST_PACK_SLEEP": "4", **limits})
    officer = role_user(Role.REPORT_OFFICER)
    job = _ask(officer, ReferralFactory())
    _wait_for(job.pk, {Status.RUNNING}, worker=first)
    os.killpg(first.pid, signal.SIGKILL)  # the whole worker, mid-render: the task is unacknowledged
    first.wait(timeout=10)
    killed_at = time.monotonic()
    assert ExportJob.objects.get(pk=job.pk).status == Status.RUNNING
    time.sleep(max(0.0, 9 - (time.monotonic() - killed_at)))  # past the visibility timeout
    second = pack_worker({"REDIS_URL": url, **limits})
    job = _wait_for(job.pk, {Status.DONE, Status.FAILED}, seconds=120, worker=second)
    assert job.status == Status.DONE, job.message
    assert job.attempts == 2
    assert _events(job) == ["requested", "started", "restarted", "done"]
    _one_file(media, job)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def private_redis(tmp_path):
    """A redis-server of this test's own on a free port (the shared one is never touched)."""
    binary = shutil.which("redis-server")
    require_service(bool(binary), "needs redis-server installed (apt-get install redis-server)")
    port = _free_port()
    process = subprocess.Popen(  # noqa: S603 - the installed redis-server, fixed arguments
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import redis

    client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1)
    for _ in range(50):
        try:
            client.ping()
            break
        except redis.RedisError:
            time.sleep(0.1)
    yield process, f"redis://127.0.0.1:{port}/0"
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=10)


@transactional
def test_with_redis_down_asking_for_an_export_says_so_and_makes_nothing(
    client,
    publish_to,
    private_redis,
    role_user,
    media,
):
    process, url = private_redis
    publish_to(url, redis_transport_options(3600))
    officer = role_user(Role.REPORT_OFFICER)
    sign_in_verified(client, officer)
    referral = ReferralFactory()
    exports = reverse("documents:exports", args=[KIND, referral.pk])
    # Redis up: the job is made and queued (no worker here, so it waits).
    response = client.post(exports, {"variant": "public"})
    assert response.status_code == 302
    assert ExportJob.objects.count() == 1
    process.terminate()
    process.wait(timeout=10)
    type(referral).objects.filter(pk=referral.pk).update(version=referral.version + 1)  # new inputs
    started = time.monotonic()
    response = client.post(exports, {"variant": "public"})
    assert time.monotonic() - started < 10
    assert response.status_code == 200
    body = response.content.decode()
    assert "There is a problem" in body
    assert "Exports are unavailable at the moment" in body
    assert ExportJob.objects.count() == 1  # nothing half-made


@transactional
def test_if_redis_goes_away_between_the_check_and_the_publish_the_job_waits_in_the_outbox(
    publish_to,
    private_redis,
    role_user,
    monkeypatch,
):
    """The job is queued through the outbox (ADR 0013): the request succeeds, and the job's
    message is kept, unsent, for Celery beat's flush to publish once Redis answers again."""
    from core.models import OutboxMessage

    process, url = private_redis
    publish_to(url, redis_transport_options(3600))
    process.terminate()
    process.wait(timeout=10)
    monkeypatch.setattr(services, "_broker_ready", lambda: None)  # as if Redis died just after the check
    officer = role_user(Role.REPORT_OFFICER)
    job, created = services.export_job_request(
        user=officer, kind=KIND, object_id=ReferralFactory().pk, variant="public"
    )
    assert created
    assert ExportJob.objects.get(pk=job.pk).status == Status.QUEUED
    message = OutboxMessage.objects.get(task="core.tasks.render_export_job")
    assert message.args == [job.pk]
    assert message.sent_at is None  # not lost: waiting for the broker
    assert message.attempts == 1
    assert message.last_error


@transactional
def test_a_job_whose_message_redis_lost_is_published_again_and_completes_once(
    pack_worker,
    publish_to,
    private_redis,
    role_user,
    media,
    settings,
):
    import datetime as dt

    import redis
    from django.utils import timezone

    _, url = private_redis
    publish_to(url, redis_transport_options(3600))
    officer = role_user(Role.REPORT_OFFICER)
    job = _ask(officer, ReferralFactory())  # published to Redis; no worker has taken it yet
    client = redis.Redis.from_url(url)
    assert client.dbsize() > 0
    client.flushall()  # Redis loses its data (a crash between appends, a replaced instance)
    worker = pack_worker({"REDIS_URL": url})
    time.sleep(4)
    assert ExportJob.objects.get(pk=job.pk).status == Status.QUEUED  # nothing left to deliver it
    later = timezone.now() + dt.timedelta(seconds=settings.EXPORT_REQUEUE_AFTER + 1)
    assert services.export_jobs_requeue(now=later) == [job.pk]  # what Celery beat does each minute
    job = _wait_for(job.pk, {Status.DONE, Status.FAILED}, worker=worker)
    assert job.status == Status.DONE, job.message
    assert _events(job) == ["requested", "republished", "started", "done"], _events_with_details(job)
    _one_file(media, job)
    assert services.export_jobs_requeue(now=later) == []
