"""Time contextual safeguarding's pattern rules at 1,000 and 100,000 referrals (``make bench``).

The issue's targets: the nightly full run (every rule over the whole record) under 60 s at
100,000 referrals, and the check after one referral is saved under 50 ms, with the same query
count at 1,000 and 100,000.

The referrals are ``bench``'s (its ``Seeder``: the same synthetic referrals, children reused
from earlier referrals at 8%), with a place named on one referral in twenty (one of 300
places). At each size the command:

1. runs the nightly run twice: the first raises every alert the record holds, the second finds
   nothing new (the steady state, what a real night costs);
2. adds a *probe*: two referrals and then a third about a new school, a new place and the same
   children, every rule in scope. The probe's world is its own, so its check makes the same
   writes at both sizes; it is timed the first time (it raises the alerts) and again (nothing
   new), with its query count;
3. checks 50 sampled referrals (the steady state), for the median and worst time and query
   count.

Scratch database: it wipes only ``<name>_contexts_bench`` (or the DATABASE_URL database itself
when its name already ends in ``_contexts_bench``): dropped, recreated, migrated, and dropped
again at the end unless ``--keep``. No other database is touched.
"""

from __future__ import annotations

import datetime as dt
import platform
import random
import statistics
import sys
import time

import django
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from contexts import evaluation, school_index
from contexts.models import Alert, AlertEvidence, PatternRule
from contexts.services import patterns_check_all, patterns_check_referral
from core.records import save_with_history
from devtools.management.commands.bench import Command as TrayBench
from devtools.management.commands.bench import Seeder
from referrals.models import AbuseForm, Child, Referral, ReferralChild, ReferralDetail, School
from referrals.places import place_key

SEED = 20261204
SMALL, LARGE = 1_000, 100_000
PLACE_SHARE = 0.05
PLACES = 300
SAMPLE = 50
NIGHTLY_TARGET = 60.0
CHECK_TARGET_MS = 50.0
PROBE_RUNS = 15


class Command(BaseCommand):
    help = (
        "Time the contextual safeguarding rules at 1,000 and 100,000 referrals (PostgreSQL only): "
        "the nightly run and the check after a referral is saved. WIPES the scratch database "
        "'<name>_contexts_bench' (dropped, recreated, migrated, dropped again unless --keep). "
        "Exits non-zero if a target fails."
    )

    def add_arguments(self, parser):
        parser.add_argument("--small", type=int, default=SMALL)
        parser.add_argument("--large", type=int, default=LARGE)
        parser.add_argument("--batch-size", type=int, default=5_000)
        parser.add_argument("--keep", action="store_true", help="Keep the scratch database afterwards.")

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError(
                f"The benchmark needs PostgreSQL, not {connection.vendor}: set DATABASE_URL, for example "
                "DATABASE_URL=postgres://postgres@127.0.0.1:5432/mash make bench"
            )
        configured = connection.settings_dict["NAME"]
        suffix = "_contexts_bench"
        scratch = configured if configured.endswith(suffix) else f"{configured}{suffix}"
        self.stdout.write(f"Scratch database: {scratch} (dropped and recreated)")
        connection.settings_dict["TEST"]["NAME"] = scratch
        connection.close()
        TrayBench.drop_database(scratch)
        started = time.perf_counter()
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=False)
        self.stdout.write(f"Created and migrated {scratch} in {time.perf_counter() - started:.1f} s")
        try:
            failed = self.run(options)
        finally:
            if not options["keep"]:
                connection.creation.destroy_test_db(configured, verbosity=0)
                self.stdout.write(f"Dropped {scratch}")
        if failed:
            raise CommandError(f"Targets failed: {', '.join(failed)}")

    # --- seeding -----------------------------------------------------------------------------

    def run(self, options) -> list[str]:
        rnd = random.Random(SEED)
        tray = TrayBench()
        users = tray.make_users()
        schools = tray.make_schools(rnd)
        seeder = Seeder(
            rnd=rnd, now=timezone.now(), batch_size=options["batch_size"], users=users, schools=schools
        )
        places = [f"Bench place {n} Rd" for n in range(PLACES)]
        results = {}
        total = 0
        for size in (options["small"], options["large"]):
            started = time.perf_counter()
            seeder.seed(size - total)
            self.add_places(rnd, places, after=total)
            total = size
            tray.vacuum_analyze()
            self.stdout.write(f"Seeded {size:,} referrals in {time.perf_counter() - started:.1f} s")
            results[size] = self.measure(rnd, users[0], size)
        return self.report(results, options)

    @staticmethod
    def add_places(rnd: random.Random, places: list[str], *, after: int) -> None:
        """A place on one referral in twenty of those just seeded. The bench's scratch rows have
        no history worth keeping, so the place is set in bulk (the product sets it on save)."""
        ids = list(Referral.objects.order_by("id").values_list("id", flat=True)[after:])
        chosen = [pk for pk in ids if rnd.random() < PLACE_SHARE]
        details = list(ReferralDetail.objects.filter(referral_id__in=chosen))
        for detail in details:
            detail.incident_place = rnd.choice(places)
            detail.incident_place_key = place_key(detail.incident_place)
        ReferralDetail.objects.bulk_update(
            details, ["incident_place", "incident_place_key"], batch_size=5_000
        )

    def probe(self, user, size: int) -> Referral:
        """Two referrals about a new school, place and pair of children, then a third: the third
        is in every rule's scope and makes every rule's pattern, whatever else the record holds."""
        school = School.objects.create(
            urn=f"97{size % 10000:04d}", name=f"Probe school {size}", phase="secondary"
        )
        form = AbuseForm.objects.get(code="sexual-assault")
        today = timezone.localdate()
        children = [
            Child.objects.create(
                first_name="Probe",
                last_name=f"Child{n}",
                date_of_birth=today - dt.timedelta(days=14 * 365),
                gender="female",
                school=school,
                created_by=user,
            )
            for n in range(2)
        ]
        made = []
        for n in range(3):
            received = timezone.now() - dt.timedelta(days=30 * (3 - n))
            referral = Referral(
                reference=f"MASH-PROBE-{size}-{n}",
                received_at=received,
                source_id=1,
                is_peer_on_peer=True,
                incident_date=timezone.localdate(received),
                location="community",
                consent_sought=True,
                decision_due_at=received + dt.timedelta(days=1),
                created_by=user,
                status=Referral.Status.CLOSED,
            )
            save_with_history(referral, user=user, reason="Bench probe", m2m={"forms_of_abuse": [form]})
            ReferralDetail(
                referral=referral,
                referrer_name="Bench",
                narrative="Bench probe",
                incident_place=f"Probe place {size}",
            ).save()
            victim, alleged = children if n % 2 == 0 else children[::-1]
            ReferralChild.objects.create(referral=referral, child=victim, role="victim", label="A")
            ReferralChild.objects.create(
                referral=referral, child=alleged, role="alleged_perpetrator", label="B"
            )
            # What the save's listener does in its transaction (referrals.changes): the index.
            school_index.refresh_saved(referral_ids=[referral.pk])
            made.append(referral)
            if n < 2:
                patterns_check_referral(referral_id=referral.pk)
        return made[-1]

    # --- measuring -----------------------------------------------------------------------------

    @staticmethod
    def timed(function, **kwargs) -> tuple[float, int, object]:
        """Seconds, queries (counted as they run: Django's query log keeps only 9,000) and result."""
        count = [0]

        def counting(execute, sql, params, many, context):
            count[0] += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counting), transaction.atomic():
            started = time.perf_counter()
            result = function(**kwargs)
            elapsed = time.perf_counter() - started
        return elapsed, count[0], result

    def per_rule(self, referral_id: int, size: int) -> None:
        """How long each rule's query takes for one referral (what the check spends where)."""
        target = evaluation.target_get(referral_id)
        parts = []
        for rule in PatternRule.objects.filter(active=True).order_by("id"):
            if not evaluation.in_scope(rule, target):
                continue
            runs = []
            for _ in range(5):
                started = time.perf_counter()
                evaluation.patterns_for_referral(rule, target)
                runs.append((time.perf_counter() - started) * 1000)
            parts.append(f"{rule.kind} {statistics.median(runs):.1f} ms")
        self.stdout.write(f"  {size:,}: per rule, probe: " + ", ".join(parts))

    def measure(self, rnd: random.Random, user, size: int) -> dict:
        found = {}
        seconds, queries, run = self.timed(patterns_check_all)
        found["nightly_first"] = (seconds, queries, run.raised)
        self.stdout.write(
            f"  {size:,}: first nightly run {seconds:.1f} s, {queries:,} queries, "
            f"{run.raised:,} alerts raised"
        )
        # The first run wrote every alert, its evidence and history, and the school index: as
        # autovacuum would soon after in production, the tables are vacuumed and analysed before
        # the steady state is measured (a real night, and the checks of saved referrals).
        TrayBench.vacuum_analyze()
        seconds, queries, run = self.timed(patterns_check_all)
        found["nightly"] = (seconds, queries, run.raised)
        self.stdout.write(f"  {size:,}: nightly run (nothing new) {seconds:.2f} s, {queries} queries")

        probe = self.probe(user, size)
        seconds, queries, run = self.timed(patterns_check_referral, referral_id=probe.pk)
        found["probe_first"] = (seconds * 1000, queries, run.raised + run.extended)
        again = [self.timed(patterns_check_referral, referral_id=probe.pk) for _ in range(PROBE_RUNS)]
        found["probe"] = (
            statistics.median(t for t, _q, _r in again) * 1000,
            max(q for _t, q, _r in again),
            min(q for _t, q, _r in again),
        )
        first_ms, first_queries, touched = found["probe_first"]
        self.stdout.write(
            f"  {size:,}: probe check {first_ms:.1f} ms first ({first_queries} queries, {touched} alerts "
            f"raised or extended), then median {found['probe'][0]:.1f} ms ({found['probe'][1]} queries)"
        )
        self.per_rule(probe.pk, size)
        ids = list(Referral.objects.order_by("id").values_list("id", flat=True))
        sample = rnd.sample(ids, min(SAMPLE, len(ids)))
        checks = [self.timed(patterns_check_referral, referral_id=pk) for pk in sample]
        times = sorted(t * 1000 for t, _q, _r in checks)
        found["sample"] = (statistics.median(times), times[-1], max(q for _t, q, _r in checks))
        self.stdout.write(
            f"  {size:,}: {len(sample)} sampled referrals: median {found['sample'][0]:.1f} ms, "
            f"worst {found['sample'][1]:.1f} ms, at most {found['sample'][2]} queries"
        )
        found["alerts"] = (Alert.objects.count(), AlertEvidence.objects.count())
        return found

    def report(self, results: dict, options) -> list[str]:
        small, large = options["small"], options["large"]
        big, little = results[large], results[small]
        failed = []
        if big["nightly"][0] >= NIGHTLY_TARGET:
            failed.append("nightly run under 60 s")
        if big["nightly_first"][0] >= NIGHTLY_TARGET:
            failed.append("first nightly run (raising every alert) under 60 s")
        if big["probe"][0] >= CHECK_TARGET_MS:
            failed.append("per-referral check under 50 ms (probe)")
        if big["sample"][0] >= CHECK_TARGET_MS:
            # The probe's subjects are its own; a typical referral's school has many referrals.
            failed.append("per-referral check under 50 ms (median of the sampled referrals)")
        if big["probe"][1] != little["probe"][1] or big["probe_first"][1] != little["probe_first"][1]:
            failed.append("same query count at both sizes")
        rules = ", ".join(
            f"{r.kind} {r.threshold}/{r.window_months}m" for r in PatternRule.objects.order_by("id")
        )
        self.stdout.write("")
        self.stdout.write(
            f"Contextual safeguarding bench ({platform.node()}, Python {sys.version.split()[0]}, "
            f"Django {django.get_version()}, PostgreSQL {connection.pg_version // 10000}); rules: {rules}"
        )
        header = f"{'':44}{small:>14,}{large:>14,}"
        self.stdout.write(header)
        rows = [
            ("Nightly run, first (raises every alert), s", "nightly_first", 0, "{:.1f}"),
            ("Nightly run, nothing new, s", "nightly", 0, "{:.2f}"),
            ("Nightly run, nothing new, queries", "nightly", 1, "{}"),
            ("Probe check, first (raises), ms", "probe_first", 0, "{:.1f}"),
            ("Probe check, first, queries", "probe_first", 1, "{}"),
            ("Probe check, again (median), ms", "probe", 0, "{:.1f}"),
            ("Probe check, again, queries", "probe", 1, "{}"),
            ("Sampled checks, median, ms", "sample", 0, "{:.1f}"),
            ("Sampled checks, worst, ms", "sample", 1, "{:.1f}"),
            ("Sampled checks, most queries", "sample", 2, "{}"),
            ("Alerts raised", "alerts", 0, "{:,}"),
        ]
        for label, key, index, shape in rows:
            cells = "".join(f"{shape.format(results[size][key][index]):>14}" for size in (small, large))
            self.stdout.write(f"{label:44}{cells}")
        self.stdout.write("Targets: " + ("all met" if not failed else "FAILED: " + ", ".join(failed)))
        return failed
