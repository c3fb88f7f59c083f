"""bin/backup and bin/restore: a seeded database and its stored packs, restored intact.

The seeded test database is dumped with pg_dump (custom format), restored with pg_restore
into a fresh database, and compared table by table - referrals, children, grants, the
access log and every history table - and the media files byte for byte.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import subprocess
from pathlib import Path

import psycopg
import pytest
from django.db import connection
from django.utils import timezone
from psycopg import sql

from core import permissions
from core.access_log import record_access
from core.models import AccessLogEntry
from core.roles import Role
from referrals import services
from referrals.models import (
    CaseNote,
    Child,
    Referral,
    ReferralChild,
    ReferralDetail,
    ReferralGroupGrant,
    ReferralUserGrant,
)
from tests.referrals.helpers import child_input, referral_input

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
ROOT = Path(__file__).resolve().parents[2]
RESTORED = "mash_posture_restore_test"


def database_url(name: str) -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{name}"


def admin_sql(sql: str) -> None:
    with psycopg.connect(database_url("postgres"), autocommit=True) as conn:
        conn.execute(sql)


def run(script: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 (the project's own scripts)
        [str(ROOT / "bin" / script), *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def fingerprints(url: str, tables: list[str]) -> dict[str, tuple[int, str]]:
    """Each table's row count and an md5 of all its rows in a fixed order."""
    out = {}
    with psycopg.connect(url) as conn:
        for table in tables:
            query = sql.SQL(
                "SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {} t"
            ).format(sql.Identifier(table))
            count, digest = conn.execute(query).fetchone()
            out[table] = (count, digest)
    return out


@pytest.fixture
def restored_database():
    admin_sql(f'DROP DATABASE IF EXISTS "{RESTORED}"')
    admin_sql(f'CREATE DATABASE "{RESTORED}"')
    yield database_url(RESTORED)
    admin_sql(f'DROP DATABASE IF EXISTS "{RESTORED}" WITH (FORCE)')


def seed(role_user) -> Referral:
    manager = role_user(Role.MASH_MANAGER, username="backup-manager")
    reader = role_user(Role.MASH_PRACTITIONER, username="backup-reader")
    referral = services.referral_create(
        user=manager,
        data=referral_input(narrative="Backed-up narrative"),
        children=[
            child_input("victim", first_name="Vera", date_of_birth=dt.date(2012, 5, 1)),
            child_input("alleged_perpetrator", first_name="Alan", date_of_birth=dt.date(2011, 9, 9)),
        ],
    )
    services.case_note_add(
        user=manager, referral_id=referral.pk, occurred_on=timezone.localdate(), text="A note"
    )
    services.referral_grant(
        granted_by=manager,
        referral_id=referral.pk,
        user=reader,
        actions=[permissions.VIEW_EXEMPT],
        reason="Allocated to the reader for follow-up",
        expires_on=timezone.localdate() + dt.timedelta(days=7),
    )
    record_access(
        request=None,
        user=reader,
        record=referral,
        label=referral.reference,
        fields=["Child.first_name"],
        channel="page",
    )
    return referral


def test_backup_and_restore_keep_every_record_and_every_media_byte(role_user, tmp_path, restored_database):
    referral = seed(role_user)
    media = tmp_path / "media"
    (media / "packs" / "2026").mkdir(parents=True)
    files = {
        "packs/2026/cabinet-pack.pdf": os.urandom(200_000),
        "packs/2026/appendix a (exempt).pdf": b"%PDF-1.7\n" + os.urandom(5000),
        "imports/referrals.csv": "reference,name\nR-1,Émilie\n".encode(),
    }
    for name, content in files.items():
        (media / name).parent.mkdir(parents=True, exist_ok=True)
        (media / name).write_bytes(content)

    backup = run(
        "backup",
        str(tmp_path / "backups"),
        DATABASE_URL=database_url(connection.settings_dict["NAME"]),
        MEDIA_ROOT=str(media),
    )
    assert backup.returncode == 0, backup.stderr
    folder = Path(backup.stdout.strip().splitlines()[-1])
    assert sorted(p.name for p in folder.iterdir()) == ["SHA256SUMS", "database.dump", "media.tar"]
    assert (folder / "database.dump").read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
    assert oct((folder / "database.dump").stat().st_mode & 0o777) == "0o600"  # owner only

    restored_media = tmp_path / "restored-media"
    restore = run("restore", str(folder), DATABASE_URL=restored_database, MEDIA_ROOT=str(restored_media))
    assert restore.returncode == 0, restore.stderr

    models = [
        Referral,
        ReferralDetail,
        Child,
        ReferralChild,
        CaseNote,
        ReferralUserGrant,
        ReferralGroupGrant,
        AccessLogEntry,
    ]
    tables = [m._meta.db_table for m in models]
    tables += [m.history.model._meta.db_table for m in models if hasattr(m, "history")]
    tables += ["auth_user", "auth_group", "django_migrations", "otp_totp_totpdevice"]
    original = fingerprints(database_url(connection.settings_dict["NAME"]), tables)
    copy = fingerprints(restored_database, tables)
    assert copy == original
    assert original[Referral._meta.db_table][0] == 1
    assert original[Child._meta.db_table][0] == 2
    assert original[ReferralUserGrant._meta.db_table][0] >= 1
    assert original[AccessLogEntry._meta.db_table][0] == 1
    for model in (Referral, Child, ReferralDetail, CaseNote, ReferralUserGrant):
        assert original[model.history.model._meta.db_table][0] >= 1, model
    with psycopg.connect(restored_database) as conn:
        table = sql.Identifier(Referral._meta.db_table)
        query = sql.SQL("SELECT reference FROM {} WHERE id = %s").format(table)
        reference = conn.execute(query, [referral.pk]).fetchone()[0]
        assert reference == referral.reference
        # The access log is still append-only in the copy (the trigger came back with it).
        with pytest.raises(psycopg.errors.RaiseException):
            conn.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(AccessLogEntry._meta.db_table)))

    for name, content in files.items():
        assert (restored_media / name).read_bytes() == content, name
    assert hashlib.sha256((restored_media / "packs/2026/cabinet-pack.pdf").read_bytes()).digest() == (
        hashlib.sha256(files["packs/2026/cabinet-pack.pdf"]).digest()
    )

    # A restore never overwrites: the same database and folder are now refused.
    again = run("restore", str(folder), DATABASE_URL=restored_database, MEDIA_ROOT=str(tmp_path / "empty"))
    assert again.returncode != 0
    assert "already has" in again.stderr


def test_a_tampered_backup_is_refused(role_user, tmp_path, restored_database):
    seed(role_user)
    backup = run(
        "backup",
        str(tmp_path / "backups"),
        DATABASE_URL=database_url(connection.settings_dict["NAME"]),
        MEDIA_ROOT=str(tmp_path / "none"),
    )
    assert backup.returncode == 0, backup.stderr
    folder = Path(backup.stdout.strip().splitlines()[-1])
    with (folder / "database.dump").open("ab") as dump:
        dump.write(b"tampered")
    restore = run("restore", str(folder), DATABASE_URL=restored_database, MEDIA_ROOT=str(tmp_path / "m"))
    assert restore.returncode != 0
    with psycopg.connect(restored_database) as conn:
        assert conn.execute("select count(*) from pg_tables where schemaname = 'public'").fetchone()[0] == 0
