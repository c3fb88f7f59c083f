"""The production image never logs a query string (a name search is one).

gunicorn is started exactly as the Dockerfile's CMD starts it (the CMD is read from the
Dockerfile, so this test follows it), with the production settings, against the test
database. Requests carry a canary name in their query string, their Referer and a malformed
request line; the canary must appear nowhere in what the server writes (stdout and stderr),
while the app's own request lines (without query strings) do appear. The access log is
switched on from outside (``GUNICORN_CMD_ARGS``, what an operator might set) to show that
even then no request line is printed.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings

from tests.conftest import sign_in_verified
from tests.support.celery_worker import _database_url

ROOT = Path(__file__).resolve().parents[2]
CANARY_FIRST = "Qzcnrylogfirst"
CANARY_LAST = "Qzcnryloglast"
CANARIES = (CANARY_FIRST, CANARY_LAST)


def dockerfile_cmd() -> list[str]:
    """The exec-form CMD of the production image (the last CMD, as Docker takes it)."""
    text = (ROOT / "Dockerfile").read_text()
    commands = re.findall(r"^CMD\s+(\[.*\])\s*$", text, flags=re.MULTILINE)
    assert commands, "the Dockerfile should have an exec-form CMD"
    return json.loads(commands[-1])


def compose_service(name: str) -> list[str]:
    """The lines of one service in docker-compose.yml (no YAML library in the venv)."""
    lines = (ROOT / "docker-compose.yml").read_text().splitlines()
    start = lines.index(f"  {name}:")
    block = []
    for line in lines[start + 1 :]:
        if line.strip() and not line.startswith("    ") and not line.lstrip().startswith("#"):
            break
        block.append(line)
    return block


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_image_turns_no_access_log_on_and_compose_runs_the_image_command():
    cmd = dockerfile_cmd()
    assert cmd[:2] == ["gunicorn", "config.wsgi"]
    assert not {"--access-logfile", "--access-log"} & set(cmd)
    assert not any(arg.startswith("--access-log") for arg in cmd)
    # docker-compose's web service runs the image's CMD (no command of its own to drift).
    web = compose_service("web")
    assert not [line for line in web if line.strip().startswith("command:")], web
    compose = (ROOT / "docker-compose.yml").read_text()
    assert "access-log" not in compose
    assert "GUNICORN_CMD_ARGS" not in compose


def _collect_static(env: dict[str, str]) -> None:
    """The image collects static files when it is built; do the same once (pages need the
    manifest), again only when a static file is newer than the manifest."""
    manifest = ROOT / "staticfiles" / "staticfiles.json"
    sources = [p for p in (ROOT / "static").rglob("*") if p.is_file()]
    if manifest.exists() and all(p.stat().st_mtime <= manifest.stat().st_mtime for p in sources):
        return
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=600,
    )


@pytest.fixture
def production_server(tmp_path):
    """gunicorn started with the Dockerfile's CMD and production settings; yields (port, logs)."""
    port = free_port()
    cmd = dockerfile_cmd()
    cmd[0] = str(Path(sys.executable).parent / cmd[0])  # the venv's gunicorn
    for i, arg in enumerate(cmd[:-1]):  # a local free port instead of the image's address
        if arg in {"--bind", "-b"}:
            cmd[i + 1] = f"127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "GUNICORN_", "LOG_"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            # The test's key, so the session the test signs in with is valid there too.
            "SECRET_KEY": settings.SECRET_KEY,
            "ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": _database_url(),
            "REDIS_URL": os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15",
            "SITE_URL": "https://mash.council.example",
            "SECURITY_ALERTS_EMAIL": "ig-team@council.example",
            "DISPOSAL_REGISTER_PATH": "/records/disposal-register.jsonl",
            "WEB_CONCURRENCY": "1",
            # What an operator might add: another address, and the access log switched on.
            "GUNICORN_CMD_ARGS": (
                f"--bind 127.0.0.1:{port} --access-logfile - --control-socket {tmp_path / 'gunicorn.ctl'}"
            ),
        }
    )
    _collect_static(env)
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        server = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=stdout, stderr=stderr)  # noqa: S603 - the Dockerfile's own CMD
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert server.poll() is None, err.read_text()
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)

        def logs() -> str:
            return out.read_text(errors="replace") + err.read_text(errors="replace")

        yield port, logs
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _get(port: int, target: str, headers: dict[str, str]) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", target, headers={"X-Forwarded-Proto": "https", **headers})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def _raw(port: int, request_line: str) -> bytes:
    """Send a request line as typed (an unencoded space in a name) and read the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(f"{request_line}\r\nHost: 127.0.0.1\r\n\r\n".encode())
        return conn.recv(1024)


# gunicorn is another process: the test's rows must be committed (a transactional database), and
# the migrated rows (roles, reference data) are put back afterwards for the tests that follow.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_gunicorn_started_as_the_image_starts_it_logs_no_searched_for_name(
    client, practitioner, production_server
):
    port, logs = production_server
    sign_in_verified(client, practitioner)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    signed_in = {"Cookie": f"__Host-sessionid={session}"}  # production's cookie name
    search = f"/referrals/?view=all&q={quote(CANARY_FIRST + ' ' + CANARY_LAST)}"
    referer = {"Referer": f"https://mash.council.example{search}"}

    assert _get(port, search, signed_in | referer) == 200  # the name search ran
    assert _get(port, search, {}) == 302  # signed out: sent to sign in, with the search as next
    assert _get(port, f"/no-such-page/?q={CANARY_FIRST}", signed_in | referer) == 404
    # A typed space: gunicorn refuses the request line (and would quote it in its error log).
    assert b"400" in _raw(port, f"GET /referrals/?q={CANARY_FIRST} {CANARY_LAST} HTTP/1.1")
    assert b"400" in _raw(port, f"GET /referrals/?q={CANARY_FIRST} {CANARY_LAST}")

    time.sleep(0.5)  # the worker's last lines
    output = logs()
    request_lines = [
        json.loads(line) for line in output.splitlines() if line.startswith("{") and '"mash.request"' in line
    ]
    # The app's request line was written for each request Django saw, without the query.
    assert [(r["path"], r["status"]) for r in request_lines] == [
        ("/referrals/", 200),
        ("/referrals/", 302),
        ("/no-such-page/", 404),
    ], output
    assert "Invalid request from ip=127.0.0.1" in output  # gunicorn did log the refusals
    for canary in CANARIES:
        assert canary not in output, output
        assert canary.lower() not in output.lower(), output
