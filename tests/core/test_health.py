"""/healthz/: the database, Redis and the worker, as 200 or 503 JSON that reveals nothing else.

Redis going down is real: a private redis-server on a free port, started and stopped here
(the shared Redis is never touched).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest
import redis
import time_machine
from django.conf import settings
from django.db import DatabaseError
from django.urls import reverse

from core import health
from core.models import WorkerHeartbeat
from core.tasks import worker_heartbeat
from tests.conftest import require_service

pytestmark = pytest.mark.django_db


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def private_redis(tmp_path):
    """A redis-server of our own: (url, the process). Stopped at the end if still running."""
    binary = shutil.which("redis-server")
    require_service(bool(binary), "needs redis-server on the PATH (apt-get install redis-server)")
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 (a fixed binary and arguments)
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url, socket_connect_timeout=0.2)
    for _ in range(50):
        try:
            client.ping()
            break
        except redis.RedisError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("the private redis-server did not start")
    yield url, process
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=10)


def get_health(client):
    response = client.get(reverse("healthz"))
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    assert not response.cookies  # no session, no CSRF cookie
    return response.status_code, response.json()


def test_healthy_with_database_redis_and_a_fresh_heartbeat(client, settings, private_redis):
    settings.REDIS_URL = private_redis[0]
    worker_heartbeat.delay()  # as beat sends it; eager in tests
    status, body = get_health(client)
    assert status == 200
    assert body == {"status": "ok", "checks": {"database": "ok", "redis": "ok", "worker": "ok"}}


def test_redis_down_is_503_and_back_up_is_200(client, settings, private_redis):
    url, process = private_redis
    settings.REDIS_URL = url
    worker_heartbeat.delay()
    assert get_health(client)[0] == 200
    process.terminate()
    process.wait(timeout=10)
    started = time.monotonic()
    status, body = get_health(client)
    assert time.monotonic() - started < health.TIMEOUT_SECONDS + 2  # answers promptly
    assert status == 503
    assert body == {
        "status": "unavailable",
        "checks": {"database": "ok", "redis": "unavailable", "worker": "ok"},
    }
    raw = client.get(reverse("healthz")).content.decode()
    assert str(url.split(":")[-1].split("/")[0]) not in raw  # neither the port...
    assert "127.0.0.1" not in raw  # ...nor the host, nor any error text


def test_a_stale_or_missing_heartbeat_is_503(client, settings):
    settings.REDIS_URL = ""  # local runs: no Redis to check
    status, body = get_health(client)
    assert status == 503
    assert body["checks"] == {"database": "ok", "redis": "not configured", "worker": "never seen"}
    with time_machine.travel("2026-06-01 09:00 +0000", tick=False) as traveller:
        worker_heartbeat.delay()
        assert get_health(client)[0] == 200
        traveller.shift(settings.WORKER_STALE_SECONDS - 1)
        assert get_health(client)[0] == 200
        traveller.shift(2)
        status, body = get_health(client)
        assert status == 503
        assert body["checks"]["worker"] == "stale"
        worker_heartbeat.delay()  # the worker comes back
        assert get_health(client)[0] == 200
    assert WorkerHeartbeat.objects.count() == 1  # one row, updated


def test_database_down_is_503(client, settings, monkeypatch):
    settings.REDIS_URL = ""

    class Broken:
        def cursor(self):
            raise DatabaseError("connection to server at db.internal (10.0.0.5) failed: secret")

    monkeypatch.setattr(health, "connection", Broken())
    status, body = get_health(client)
    assert status == 503
    assert body["checks"] == {"database": "unavailable", "redis": "not configured", "worker": "unknown"}
    raw = client.get(reverse("healthz")).content.decode()
    assert "10.0.0.5" not in raw
    assert "secret" not in raw


def test_the_health_check_needs_no_sign_in_and_shows_nothing_else(client):
    response = client.get(reverse("healthz"))
    assert response.status_code in (200, 503)
    assert set(response.json()) == {"status", "checks"}
    assert set(response.json()["checks"]) == {"database", "redis", "worker"}


def test_beat_sends_the_heartbeat_more_often_than_it_goes_stale():
    entry = settings.CELERY_BEAT_SCHEDULE["worker-heartbeat"]
    assert entry["task"] == "core.tasks.worker_heartbeat"
    assert entry["schedule"] * 2 < settings.WORKER_STALE_SECONDS
