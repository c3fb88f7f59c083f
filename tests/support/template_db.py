"""One migrated database that each test process's database is copied from.

Applying the project's migrations to an empty database takes about a minute, most of it
Django working out the state of each model at each step; ``make test`` makes a database in
every pytest process (two or more xdist workers and the runs after them). So the first process
to need one migrates a database named after a digest of every migration file and the locked
dependencies (``mash_tpl_<digest>``), and every process's test database is then made by
PostgreSQL as a copy of it (``CREATE DATABASE ... TEMPLATE``, Django's ``TEST["TEMPLATE"]``),
in about a second. Django still runs ``migrate`` on the copy, which finds nothing to apply,
so a copy can never be behind the code: a changed migration changes the digest and a new
template is built. On SQLite (``make test`` on a laptop) the template is a file in ``var/``
(``test-template-<digest>.sqlite3``), copied over each process's test database file.

Processes starting together take a PostgreSQL advisory lock (on SQLite, a file lock), so one
builds and the others wait for it; a template is built under another name and renamed when
complete, so a build that was killed never leaves a half-migrated template.
``TEST_DB_TEMPLATE=0`` turns it off. Templates of earlier digests stay (a few megabytes each;
``dropdb`` or deleting the file removes them).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "mash_tpl_"
LOCK_KEY = 7_351_002  # pg_advisory_lock's key for "building the test template"


def digest() -> str:
    """A digest of what decides the migrated schema: every migration file, and the pinned
    dependencies (third-party apps' migrations)."""
    sha = hashlib.sha256()
    files = [*sorted(ROOT.glob("*/migrations/*.py")), ROOT / "requirements.lock"]
    for path in files:
        if ".venv" in path.parts or "node_modules" in path.parts:
            continue
        sha.update(str(path.relative_to(ROOT)).encode())
        sha.update(path.read_bytes())
    return sha.hexdigest()[:16]


def url(settings: dict, name: str) -> str:
    host = settings.get("HOST") or "127.0.0.1"
    port = settings.get("PORT") or 5432
    user = settings.get("USER") or "postgres"
    password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{host}:{port}/{name}"


def ensure(settings: dict) -> str:
    """The name of a migrated template for these connection settings, built if missing."""
    import psycopg

    name = PREFIX + digest()
    with psycopg.connect(url(settings, "postgres"), autocommit=True) as admin:
        admin.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
        try:
            exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not exists:
                _build(admin, settings, name)
        finally:
            admin.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])
    return name


def _migrate(database_url: str) -> None:
    """Apply every migration to the database at ``database_url``, in a process of its own (so
    this one's Django is not touched)."""
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    env.pop("PYTEST_XDIST_WORKER", None)
    subprocess.run(  # noqa: S603 - this interpreter, the project's manage.py, fixed arguments
        [sys.executable, str(ROOT / "manage.py"), "migrate", "--no-input", "-v", "0"],
        env=env,
        cwd=ROOT,
        check=True,
    )


def _build(admin, settings: dict, name: str) -> None:
    building = name + "_part"
    admin.execute(f'DROP DATABASE IF EXISTS "{building}"')
    admin.execute(f'CREATE DATABASE "{building}"')
    try:
        _migrate(url(settings, building))
    except BaseException:
        admin.execute(f'DROP DATABASE IF EXISTS "{building}"')
        raise
    admin.execute(f'ALTER DATABASE "{building}" RENAME TO "{name}"')


def ensure_file(folder: Path) -> Path:
    """The path of a migrated SQLite template in ``folder``, built if missing."""
    folder.mkdir(parents=True, exist_ok=True)
    template = folder / f"test-template-{digest()}.sqlite3"
    with (folder / "test-template.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not template.exists():
            building = template.with_suffix(".part")
            building.unlink(missing_ok=True)
            try:
                _migrate(f"sqlite:///{building}")
            except BaseException:
                building.unlink(missing_ok=True)
                raise
            building.rename(template)
    return template


def _copy_over_sqlite_test_database(template: Path) -> None:
    """Django makes an SQLite test database by deleting the file and migrating a new one:
    put the template's copy there first, so the migration finds nothing to do."""
    from django.db import connections

    creation = connections["default"].creation
    create = creation._create_test_db

    def create_from_template(verbosity, autoclobber, keepdb=False):
        name = create(verbosity, autoclobber, keepdb)
        if not keepdb and not creation.is_in_memory_db(name):
            shutil.copyfile(template, name)
        return name

    creation._create_test_db = create_from_template


def use_template() -> None:
    """Make each test database from the template: PostgreSQL copies it (``TEST["TEMPLATE"]``);
    on SQLite the template file is copied where Django makes the test database."""
    from django.conf import settings

    if os.environ.get("TEST_DB_TEMPLATE", "1") == "0":
        return
    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("postgresql"):
        database.setdefault("TEST", {})["TEMPLATE"] = build()
    elif database["ENGINE"].endswith("sqlite3") and database.get("TEST", {}).get("NAME"):
        _copy_over_sqlite_test_database(Path(build()))


def build() -> str:
    """Build (or find) the template for the configured database now, and say which it is: a
    PostgreSQL database's name, or an SQLite file's path.

    ``python -m tests.support.template_db`` (test settings): ``.ci/run`` migrates it while the
    linters run, so the test processes find it made; one started while it is being built
    waits on the same lock.
    """
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("postgresql"):
        return ensure(database)
    return str(ensure_file(Path(settings.VAR_DIR)))


if __name__ == "__main__":
    import django

    django.setup()
    print(f"Test database template: {build()}")
