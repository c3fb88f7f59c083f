"""PostgreSQL restarted under load: clean error pages, recovery without a restart, no partial writes.

A PRIVATE PostgreSQL cluster (initdb into a temporary folder, its own port) serves a gunicorn
running the production settings; the shared server on 5432 is never touched. While four
clients list the work tray and save a referral over and over, the cluster is restarted
(``pg_ctl restart -m fast``, which ends every connection). Then:

- every request that failed got the service's own error page (500, or 400 when the view ran
  but the session could not be saved afterwards; both "Sorry, there is a problem
  with the service"), never a traceback;
- the same gunicorn processes answer again without being restarted (CONN_HEALTH_CHECKS drops
  the dead persistent connections);
- each save is all or nothing: the referral's version moved once per save and the referrer
  narrative was written exactly as many times (a save that bumped the version without writing
  the narrative, or the reverse, would break the count).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import require_service

ROOT = Path(__file__).resolve().parent.parent.parent
PG_BIN = Path("/usr/lib/postgresql/15/bin")
#: The 500 page says "...with the service", the 400 page "...with the request".
ERROR_PAGE = "Sorry, there is a problem with the "

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(420)]

SEED = """
import json
from django.contrib.auth import get_user_model, BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import Group
from django.contrib.sessions.backends.db import SessionStore
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from core.roles import GROUP_NAMES, Role
from referrals import services
from tests.referrals.helpers import referral_input, two_children
user = get_user_model().objects.create_user(username="fault-practitioner", first_name="F", last_name="P")
user.groups.add(Group.objects.get(name=GROUP_NAMES[Role.MASH_PRACTITIONER]))
device = TOTPDevice.objects.create(user=user, name="Fault authenticator", confirmed=True)
referral = services.referral_create(user=user, data=referral_input(), children=two_children())
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session[DEVICE_ID_SESSION_KEY] = device.persistent_id
session.create()
print(json.dumps({"session": session.session_key, "referral": referral.pk, "version": referral.version}))
"""

COUNT = """
import json
from referrals.models import Referral, ReferralDetail
referral = Referral.objects.get(pk={pk})
writes = ReferralDetail.history.filter(referral_id={pk}, narrative__startswith="Fault save ").count()
print(json.dumps({{"version": referral.version, "writes": writes}}))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_postgres(*command: str) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return list(command)


class PrivateCluster:
    def __init__(self, folder: Path):
        self.folder, self.data, self.port = folder, folder / "data", free_port()
        self.log = folder / "postgres.log"

    def pg_ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            as_postgres(
                str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", *args
            ),
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres")
        subprocess.run(
            as_postgres(
                str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync"
            ),
            check=True,
            capture_output=True,
            timeout=120,
        )
        self.pg_ctl("start")

    def stop(self) -> None:
        subprocess.run(
            as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"),
            capture_output=True,
            timeout=60,
        )


@pytest.fixture
def cluster():
    require_service(
        (PG_BIN / "initdb").exists() and (os.geteuid() != 0 or shutil.which("runuser") is not None),
        f"needs PostgreSQL 15's server binaries in {PG_BIN} for a private cluster",
    )
    folder = Path(tempfile.mkdtemp(prefix="mash-fault-pg-"))
    os.chmod(folder, 0o755)
    private = PrivateCluster(folder)
    try:
        private.start()
        yield private
    finally:
        private.stop()
        shutil.rmtree(folder, ignore_errors=True)


def manage(env: dict, *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def field_values(html: str) -> dict[str, str]:
    sys.path.insert(0, str(ROOT / "loadtest"))
    from forms import form_fields

    return dict(form_fields(html))


def load_template(database_url: str) -> None:
    """The suite's migrated template (tests/support/template_db.py) dumped into the private
    cluster's empty database, so ``migrate`` there finds nothing to apply instead of spending a
    minute of CPU on every migration. Where the suite's database is not PostgreSQL (SQLite),
    there is no template to dump and ``migrate`` does it all."""
    from django.conf import settings

    from tests.support import template_db

    default = settings.DATABASES["default"]
    if default["ENGINE"] != "django.db.backends.postgresql":
        return
    name = template_db.ensure(default)
    dump = subprocess.run(
        ["pg_dump", "--no-owner", "--no-privileges", template_db.url(default, name)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    subprocess.run(
        ["psql", "-q", "-v", "ON_ERROR_STOP=1", database_url],
        input=dump.stdout,
        check=True,
        capture_output=True,
        timeout=120,
    )


def test_postgres_restart_under_load(cluster, tmp_path):
    subprocess.run(
        ["createdb", "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres", "mash_load_fault"],
        check=True,
        timeout=60,
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "CONN_"))},
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{cluster.port}/mash_load_fault",
        "CONN_MAX_AGE": "60",
        "REDIS_URL": "redis://127.0.0.1:1/0",  # nothing here queues a task
        "SECRET_KEY": "fault-test-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": "https://127.0.0.1",
        "SECURITY_ALERTS_EMAIL": "ig-team@council.example",
        "DISPOSAL_REGISTER_PATH": str(tmp_path / "register" / "disposals.jsonl"),
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "VAR_DIR": str(tmp_path / "var"),
        "LOG_LEVEL": "CRITICAL",
    }
    load_template(f"postgres://postgres@127.0.0.1:{cluster.port}/mash_load_fault")
    manage(env, "migrate", "--no-input", "-v", "0")  # nothing left to apply after the template
    manage(env, "collectstatic", "--no-input", "-v", "0")
    seeded = json.loads(manage(env, "shell", stdin=SEED).strip().splitlines()[-1])
    port = free_port()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--timeout",
            "30",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    csrf = "c" * 32
    headers = {
        "X-Forwarded-Proto": "https",
        # Production's cookie names (config/settings/production.py).
        "Cookie": f"__Host-sessionid={seeded['session']}; __Host-csrftoken={csrf}",
        "Origin": f"https://127.0.0.1:{port}",
        "Referer": f"https://127.0.0.1:{port}/",
    }

    def request(path: str, data: dict | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(base + path, data=body, headers=headers)  # noqa: S310 - loopback
        try:
            with urllib.request.urlopen(req, timeout=30) as response:  # noqa: S310
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()
        except urllib.error.URLError as error:
            return -1, str(error)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    urllib.request.install_opener(urllib.request.build_opener(NoRedirect))
    pk = seeded["referral"]
    try:
        for _ in range(120):
            if request("/accessibility/")[0] == 200:
                break
            time.sleep(0.5)
        pids_before = set(
            subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True).stdout.split()
        )
        results: list[tuple[str, int, str]] = []
        saves = {"ok": 0}
        stop = threading.Event()
        counter = iter(range(10**6))

        def client():
            while not stop.is_set():
                status, body = request("/referrals/")
                results.append(("tray", status, body))
                status, page = request(f"/referrals/{pk}/edit/")
                results.append(("edit page", status, page))
                if status != 200:
                    continue
                fields = field_values(page)
                fields["narrative"] = f"Fault save {next(counter)}"
                fields["csrfmiddlewaretoken"] = csrf
                status, body = request(f"/referrals/{pk}/edit/", fields)
                results.append(("save", status, body))
                if status == 302:
                    saves["ok"] += 1

        threads = [threading.Thread(target=client) for _ in range(4)]
        for thread in threads:
            thread.start()
        time.sleep(4)
        cluster.pg_ctl("restart", "-m", "fast")
        time.sleep(6)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)

        # Every failure is the service's own error page; nothing else went wrong.
        failures = [(what, status, body) for what, status, body in results if status not in (200, 302, 409)]
        for what, status, body in failures:
            # 500: the view's query failed. 400: the view ran, then saving the session failed
            # (Django's SessionInterrupted); the page then says to check the last change.
            assert status in (400, 500), (what, status, body[:300])
            assert ERROR_PAGE in body, (what, body[:300])
            assert "Traceback" not in body, (what, body[:500])
            assert "psycopg" not in body.lower(), (what, body[:500])
        assert saves["ok"] > 0, "no save went through at all"

        # Recovery without restarting the application: the same workers answer again.
        deadline, good = time.monotonic() + 60, 0
        while good < 10 and time.monotonic() < deadline:
            good = good + 1 if request("/referrals/")[0] == 200 else 0
        assert good == 10, "the application did not recover after the database restart"
        assert server.poll() is None
        pids_after = set(
            subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True).stdout.split()
        )
        assert pids_after == pids_before, "gunicorn workers were replaced"

        # No partial writes: one version step and one narrative write per committed save.
        counts = json.loads(manage(env, "shell", stdin=COUNT.format(pk=pk)).strip().splitlines()[-1])
        assert counts["version"] - seeded["version"] == counts["writes"]
        assert counts["writes"] >= saves["ok"]
        print(
            f"{len(results)} requests, {len(failures)} failed cleanly during the restart, "
            f"{saves['ok']} saves confirmed, {counts['writes']} committed"
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
