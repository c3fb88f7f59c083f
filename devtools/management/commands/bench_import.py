"""Time importing 10,000 historic referrals on PostgreSQL (``make bench``).

The issue's target: a 10,000-row file is checked and imported in under a minute. The
command makes a synthetic file (devtools/synthetic.py), then times the two
service calls a manager's two clicks make: ``referral_import_preview`` (read, check,
compare, store) and ``referral_import_apply`` (check again, write in one transaction). It
then times the same file again (nothing to change) and a file with 1,000 rows changed.

Scratch database: like ``bench``, it wipes only ``<name>_import_bench`` (or the DATABASE_URL
database itself when its name already ends in ``_import_bench``): dropped, recreated,
migrated, and dropped again at the end unless ``--keep`` is given. No other database is
touched. Uploaded files go to a temporary folder that is removed afterwards.
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test.utils import override_settings
from simple_history.utils import bulk_create_with_history

from core.roles import GROUP_NAMES, Role
from devtools.synthetic import synthetic_rows, to_csv
from referrals.imports import services as imports
from referrals.models import ImportBatch, Referral, ReferralChild, School

ROWS = 10_000
TARGET_SECONDS = 60.0
SCHOOLS = 60
CHANGED = 1_000


class Command(BaseCommand):
    help = (
        "Time checking and importing a synthetic file of 10,000 historic referrals (PostgreSQL only). "
        "WIPES the scratch database '<name>_import_bench' (dropped, recreated, migrated, dropped "
        "again unless --keep). Exits non-zero if check and import together take a minute or more."
    )

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=ROWS, help="Rows in the file (default 10,000).")
        parser.add_argument("--keep", action="store_true", help="Keep the scratch database afterwards.")

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError(
                f"The import benchmark needs PostgreSQL, not {connection.vendor}: set DATABASE_URL, for "
                "example DATABASE_URL=postgres://postgres@127.0.0.1:5432/mash make bench"
            )
        configured = connection.settings_dict["NAME"]
        scratch = configured if configured.endswith("_import_bench") else f"{configured}_import_bench"
        self.stdout.write(f"Scratch database: {scratch} (dropped and recreated; {configured} is not touched)")
        connection.settings_dict["TEST"]["NAME"] = scratch
        connection.close()
        with connection._nodb_cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {connection.ops.quote_name(scratch)}")
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=False)
        try:
            with (
                tempfile.TemporaryDirectory(prefix="import-bench-") as media,
                override_settings(MEDIA_ROOT=media),
            ):
                total = self.run(options["rows"])
        finally:
            if not options["keep"]:
                connection.creation.destroy_test_db(configured, verbosity=0)
                self.stdout.write(f"Dropped {scratch}")
        if total >= TARGET_SECONDS:
            raise CommandError(f"Checking and importing took {total:.1f} s, not under {TARGET_SECONDS:.0f} s")

    def run(self, count: int) -> float:
        manager = get_user_model().objects.create_user(username="bench-import-manager")
        manager.groups.add(Group.objects.get(name=GROUP_NAMES[Role.MASH_MANAGER]))
        schools = bulk_create_with_history(
            [
                School(
                    urn=f"99{n:04d}", name=f"Bench School {n} (demo)", phase="secondary", local_authority="X"
                )
                for n in range(1, SCHOOLS + 1)
            ],
            School,
            default_change_reason="Import bench",
        )
        urns = [school.urn for school in schools]
        rows = synthetic_rows(count, urns=urns)
        data = to_csv(rows)
        self.stdout.write(f"File: {count:,} rows, {len(data) / 1024 / 1024:.1f} MB")

        results = []
        check, apply, batch = self.time_import(manager, data, "bench.csv")
        results.append(("First import (all new)", batch, check, apply))
        referrals = Referral.objects.filter(external_id__isnull=False).count()
        links = ReferralChild.objects.count()
        if referrals != count:
            raise CommandError(f"Expected {count:,} imported referrals, found {referrals:,}")

        check2, apply2, again = self.time_import(manager, data, "bench.csv")
        if again.status != ImportBatch.Status.NOTHING:
            raise CommandError("Importing the same file again would have changed something")
        results.append(("Same file again (nothing to do)", again, check2, apply2))

        for row in rows[:CHANGED]:
            row["narrative"] += " Corrected."
            row["outcomes"] = "advice"
        check3, apply3, updated = self.time_import(manager, to_csv(rows), "bench-corrected.csv")
        results.append((f"{CHANGED:,} rows changed", updated, check3, apply3))

        self.report(results, links)
        return check + apply

    @staticmethod
    def time_import(manager, data: bytes, name: str) -> tuple[float, float, ImportBatch]:
        started = time.perf_counter()
        batch = imports.referral_import_preview(
            user=manager, upload=SimpleUploadedFile(name, data, content_type="text/csv")
        )
        checked = time.perf_counter() - started
        if batch.status == ImportBatch.Status.INVALID:
            raise CommandError(f"The synthetic file has problems: {batch.errors[:3]}")
        batch.to_report = batch.new_count + batch.changed_count
        if batch.status == ImportBatch.Status.NOTHING:  # no import button to press
            return checked, 0.0, batch
        started = time.perf_counter()
        applied_batch = imports.referral_import_apply(user=manager, batch_id=batch.pk)
        applied = time.perf_counter() - started
        applied_batch.to_report = batch.to_report
        return checked, applied, applied_batch

    def report(self, results, links: int) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
        self.stdout.write("")
        self.stdout.write(f"Command: {sys.executable} {' '.join(sys.argv)}")
        self.stdout.write(
            f"Machine: nproc={os.cpu_count()}, {platform.machine()}, PostgreSQL {version}, "
            f"Python {platform.python_version()}"
        )
        self.stdout.write(f"Children linked on the first import: {links:,}")
        self.stdout.write("")
        columns = ("Run", "rows", "written", "check s", "import s", "total s", "rows/s")
        widths = (31, 6, 7, 7, 8, 7, 7)
        line = " | ".join(f"{{:{'<' if i == 0 else '>'}{w}}}" for i, w in enumerate(widths))
        heading = line.format(*columns)
        self.stdout.write(heading)
        self.stdout.write("-" * len(heading))
        for label, batch, check, apply in results:
            total = check + apply
            cells = (label, f"{batch.row_count:,}", f"{batch.to_report:,}", f"{check:.1f}")
            cells += (f"{apply:.1f}" if apply else "-", f"{total:.1f}", f"{batch.row_count / total:,.0f}")
            self.stdout.write(line.format(*cells))
        label, batch, check, apply = results[0]
        total = check + apply
        verdict = "PASS" if total < TARGET_SECONDS else "FAIL"
        line = (
            f"{verdict}: {batch.row_count:,} rows checked and imported in {total:.1f} s "
            f"({batch.row_count / total:,.0f} rows/s; target under {TARGET_SECONDS:.0f} s)"
        )
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(line) if verdict == "PASS" else self.style.ERROR(line))
