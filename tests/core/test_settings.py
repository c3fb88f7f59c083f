import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


PRODUCTION_VARIABLES = {
    "SECRET_KEY": "x" * 60 + "-a-long-random-production-secret",
    "ALLOWED_HOSTS": "mash.council.example",
    "DATABASE_URL": "postgres://mash@db.invalid:5432/mash",
    "REDIS_URL": "redis://redis.invalid:6379/0",
    "SITE_URL": "https://mash.council.example",
    "SECURITY_ALERTS_EMAIL": "ig-team@council.example",
    "DISPOSAL_REGISTER_PATH": "/records/disposal-register.jsonl",
}


def run_python(env_overrides: dict[str, str], *argv: str) -> subprocess.CompletedProcess:
    """This interpreter with ``argv`` in the project, under production settings (and none of
    production's variables) unless ``env_overrides`` says otherwise."""
    env = {k: v for k, v in os.environ.items() if k not in PRODUCTION_VARIABLES}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings.production", **env_overrides})
    return subprocess.run(  # noqa: S603 - this interpreter with this file's own arguments
        [sys.executable, *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def run_check(env_overrides: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return run_python(env_overrides, "manage.py", *(args or ("check", "--deploy", "--fail-level", "WARNING")))


def test_production_refuses_to_start_without_its_variables():
    result = run_check({})
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_information_governances_mailbox():
    variables = {k: v for k, v in PRODUCTION_VARIABLES.items() if k != "SECURITY_ALERTS_EMAIL"}
    result = run_check(variables)
    assert result.returncode != 0
    assert "SECURITY_ALERTS_EMAIL" in result.stderr


def test_production_refuses_to_start_without_the_disposal_register():
    """Without it a restore could not dispose again of what was disposed of after the backup."""
    variables = {k: v for k, v in PRODUCTION_VARIABLES.items() if k != "DISPOSAL_REGISTER_PATH"}
    result = run_check(variables)
    assert result.returncode != 0
    assert "DISPOSAL_REGISTER_PATH" in result.stderr


def test_production_settings_pass_the_deploy_check():
    result = run_check(PRODUCTION_VARIABLES)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_deploy_check_bites_when_a_production_guard_is_turned_off():
    """The clean result above means something: switching off the HTTPS redirect fails it."""
    result = run_check(
        {
            "SECRET_KEY": "x" * 60 + "-a-long-random-production-secret",
            "ALLOWED_HOSTS": "mash.council.example",
            "DATABASE_URL": "postgres://mash@db.invalid:5432/mash",
            "REDIS_URL": "redis://redis.invalid:6379/0",
            "SITE_URL": "https://mash.council.example",
            "SECURITY_ALERTS_EMAIL": "ig-team@council.example",
            "DISPOSAL_REGISTER_PATH": "/records/disposal-register.jsonl",
            "SECURE_SSL_REDIRECT": "false",
        }
    )
    assert result.returncode != 0
    assert "security.W008" in result.stdout + result.stderr


def test_csp_settings_use_the_django_csp_4_api():
    from django.conf import settings

    assert "csp.middleware.CSPMiddleware" in settings.MIDDLEWARE
    assert not [name for name in dir(settings) if name.startswith("CSP_")]  # the 3.x settings
    directives = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    assert all("'unsafe-inline'" not in values for values in directives.values())


DEVTOOLS_COMMANDS = {
    "seed_demo", "demo_code", "loadtest_prepare", "bench", "bench_grants", "bench_import", "bench_packs"
}  # fmt: skip


def test_production_installs_no_development_tooling():
    """Demo data, benchmarks and the load test's verified sessions are devtools commands: the
    local and test settings install them, production's do not (and the image leaves them out)."""
    from django.conf import settings

    assert "devtools" in settings.INSTALLED_APPS  # test settings: the tests below are not vacuous
    result = run_check(PRODUCTION_VARIABLES, "help", "--commands")
    assert result.returncode == 0, result.stdout + result.stderr
    commands = set(result.stdout.split())
    assert "migrate" in commands
    assert not commands & DEVTOOLS_COMMANDS, commands & DEVTOOLS_COMMANDS
    assert "devtools" in (ROOT / ".dockerignore").read_text().split()


def test_local_settings_install_the_development_tooling():
    """``make run`` seeds the demo data with local settings."""
    result = run_check({"DJANGO_SETTINGS_MODULE": "config.settings.local"}, "help", "--commands")
    assert result.returncode == 0, result.stdout + result.stderr
    assert set(result.stdout.split()) >= DEVTOOLS_COMMANDS


_TWO_WRITERS = """
import sys, threading
import django
from django.conf import settings

settings.DATABASES["other"] = dict(settings.DATABASES["default"])  # a second process's connection
if sys.argv[1] == "deferred":  # what SQLite does without the setting
    for alias in ("default", "other"):
        settings.DATABASES[alias]["OPTIONS"] = {"timeout": 20}
django.setup()
from django.db import connections, transaction

connections["default"].cursor().execute("CREATE TABLE t (x integer)")
read, wrote, errors = threading.Event(), threading.Event(), []

def other_writer():
    read.wait()
    try:
        with transaction.atomic(using="other"):
            connections["other"].cursor().execute("INSERT INTO t VALUES (2)")
            wrote.set()
    except Exception as error:
        errors.append(type(error).__name__ + ": " + str(error))
    finally:
        wrote.set()
        connections["other"].close()

thread = threading.Thread(target=other_writer)
thread.start()
try:
    with transaction.atomic(using="default"):  # a job claim: read the row, then write it
        connections["default"].cursor().execute("SELECT count(*) FROM t").fetchone()
        read.set()
        wrote.wait(2)
        connections["default"].cursor().execute("INSERT INTO t VALUES (1)")
except Exception as error:
    errors.append(type(error).__name__ + ": " + str(error))
thread.join()
print(errors, connections["default"].cursor().execute("SELECT count(*) FROM t").fetchone()[0])
"""


def test_on_the_embedded_sqlite_database_a_second_writer_waits_instead_of_failing(tmp_path):
    """``make run`` has two writers on one SQLite file (the web process and the Celery worker).
    A transaction that has read and then writes while another holds the write lock fails at
    once in SQLite's default (deferred) mode, which its timeout cannot wait out; the settings
    begin every transaction IMMEDIATE, so the second writer waits and both writes land."""

    def run(mode: str) -> str:
        local = {
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DATABASE_URL": f"sqlite:///{tmp_path / mode}.sqlite3",
        }
        result = run_python(local, "-c", _TWO_WRITERS, mode)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout.strip()

    assert run("settings") == "[] 2"
    assert run("deferred") == "['OperationalError: database is locked'] 1"  # the failure it avoids
