"""Grants at scale (``make bench``): the work tray of a reviewer among a million grant rows.

The issue's targets:

- a reviewer holding grants on 10,000 of 100,000 referrals (about a million permission rows
  in all) lists the work tray within 1.5x the time of the same list with no permission
  filter; EXPLAIN shows index scans on the permission tables and no text casts of primary
  keys;
- the permission-filtered work tray and search use the same number of queries at 10 and at
  10,000 visible rows, and the filtering happens in SQL (no Python loops over permission
  checks).

The unfiltered baseline is a MASH manager, who opens every referral. The issue says "an
administrator"; in this product administrators are given no case access at all (they
manage users and reference data), so the list with no permission filter is a manager's.

Seeding: the referrals come from the issue-2 bench's ``Seeder`` (bench.py, imported, not
copied), which writes 100,000 referrals with children and history, and the default grants of
live referrals. On top of that ~1,000 users (reviewers and practitioners) and 50 review
panel groups get ``view_exempt`` and ``change`` grants on random referrals, some expired and
some expiring later, written straight into the direct-foreign-key grant tables with
PostgreSQL COPY (no history rows for those: nothing measured here reads grant history). One
reviewer ends up holding live grants on exactly 10,000 referrals (most as a user, some
through a panel group, plus expired grants that must not count) and another on exactly 10.

Scratch database: the command wipes only ``<name>_grants_bench``, where ``<name>`` is the
database DATABASE_URL names (or that database itself when its name already ends in
``_grants_bench``): dropped, recreated, migrated, seeded, measured and dropped again at the
end unless ``--keep`` is given. No other database is touched.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import json
import os
import platform
import random
import re
import statistics
import sys
import time
from collections import Counter

import django
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core import permissions
from core.roles import GROUP_NAMES, Role
from devtools.management.commands import bench as issue2
from referrals import selectors
from referrals.models import Child, Referral, ReferralChild, ReferralGroupGrant, ReferralUserGrant

SEED = 20261129
REFERRALS = 100_000
VISIBLE = 10_000
FEW = 10
GRANT_ROWS = 1_000_000
BACKGROUND_USERS = 990  # plus the issue-2 seeder's practitioners, a manager and two reviewers
BACKGROUND_REVIEWERS = 400  # of the background users; the rest are MASH practitioners
PANEL_GROUPS = 48
GROUP_SHARE = 0.1  # of the grant rows, held by the panel groups
EXPIRED_SHARE = 0.15
EXPIRING_SHARE = 0.10
CHANGE_SHARE = 0.3
MAX_RATIO = 1.5
REFERENCE_TERM = "MASH-2019-00"

TRAY = "Tray: all referrals"
REFERENCE = "Search: reference"
NAME = "Search: child name"

MANAGER = "manager"
MANY = "reviewer-10k"
FEW_VIEWER = "reviewer-10"
USERNAMES = {MANAGER: "bench-manager", MANY: "bench-reviewer-10k", FEW_VIEWER: "bench-reviewer-10"}

# A row of the tray links to the referral: one link per row.
ROW_LINK = re.compile(
    r'<td class="govuk-table__cell app-nowrap"><a class="govuk-link" href="/referrals/\d+/"'
)
# A cast of a key column to text: what guardian's generic tables need (object_pk is text).
KEY_CAST = re.compile(r'(\b(?:id|object_pk|content_object_id|referral_id)"?\)?)::text')


class Command(BaseCommand):
    help = (
        "Benchmark the work tray and search of a reviewer holding grants on 10,000 of 100,000 "
        "referrals among about a million grant rows (PostgreSQL only). WIPES the scratch "
        "database '<name>_grants_bench' (<name> being the DATABASE_URL database): dropped, "
        "recreated, migrated, seeded, and dropped at the end unless --keep. No other database is "
        "touched. Exits non-zero if a target fails."
    )

    def add_arguments(self, parser):
        parser.add_argument("--referrals", type=int, default=REFERRALS, help="Referrals (default 100,000).")
        parser.add_argument("--visible", type=int, default=VISIBLE, help="The big reviewer's (10,000).")
        parser.add_argument("--grant-rows", type=int, default=GRANT_ROWS, help="Grant rows in all (1M).")
        parser.add_argument("--runs", type=int, default=15, help="Timed requests per page and user.")
        parser.add_argument("--warmups", type=int, default=3, help="Untimed requests first.")
        parser.add_argument("--batch-size", type=int, default=5_000)
        parser.add_argument("--keep", action="store_true", help="Keep the scratch database afterwards.")
        parser.add_argument(
            "--reuse",
            action="store_true",
            help="Measure again in the scratch database an earlier --keep run seeded (no reseeding).",
        )

    # --- set-up -------------------------------------------------------------------------

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError(
                f"The grants benchmark needs PostgreSQL, not {connection.vendor}: set DATABASE_URL, "
                "for example DATABASE_URL=postgres://postgres@127.0.0.1:5432/mash make bench"
            )
        if not FEW < options["visible"] < options["referrals"]:
            raise CommandError(f"--visible must be between {FEW} and --referrals")
        configured = connection.settings_dict["NAME"]
        scratch = configured if configured.endswith("_grants_bench") else f"{configured}_grants_bench"
        untouched = "" if scratch == configured else f"; {configured} itself is not touched"
        if options["reuse"]:
            return self.reuse(scratch, options)
        self.stdout.write(f"Scratch database: {scratch} (dropped and recreated{untouched})")
        connection.settings_dict["TEST"]["NAME"] = scratch
        connection.close()
        with connection._nodb_cursor() as cursor:  # a leftover from an earlier run goes first
            cursor.execute(f"DROP DATABASE IF EXISTS {connection.ops.quote_name(scratch)}")
        started = time.perf_counter()
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=False)
        self.stdout.write(f"Created and migrated {scratch} in {time.perf_counter() - started:.1f} s")
        try:
            people, timings = self.seed(options)
            failed = self.run(options, people, timings)
        finally:
            if not options["keep"]:
                connection.creation.destroy_test_db(configured, verbosity=0)
                self.stdout.write(f"Dropped {scratch}")
        if failed:
            raise CommandError(f"Targets failed: {', '.join(failed)}")

    def reuse(self, scratch: str, options) -> None:
        """Measure again in a database an earlier ``--keep`` run seeded (migrated to the code)."""
        with connection._nodb_cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [scratch])
            exists = cursor.fetchone() is not None
        if not exists:
            raise CommandError(f"--reuse: there is no {scratch}; run once with --keep first")
        self.stdout.write(f"Scratch database: {scratch} (reused as an earlier --keep run seeded it)")
        connection.close()
        connection.settings_dict["NAME"] = scratch
        call_command("migrate", verbosity=0, interactive=False)
        User = get_user_model()
        try:
            people = {key: User.objects.get(username=username) for key, username in USERNAMES.items()}
        except User.DoesNotExist as error:
            raise CommandError(f"--reuse: {scratch} was not seeded by this command") from error
        people["reference_term"] = reference_term(people[FEW_VIEWER])
        failed = self.run(options, people, None)
        if failed:
            raise CommandError(f"Targets failed: {', '.join(failed)}")

    def seed(self, options):
        rnd = random.Random(SEED)
        helper = issue2.Command(stdout=self.stdout, stderr=self.stderr)
        timings: dict[str, float] = {}

        started = time.perf_counter()
        seeder = issue2.Seeder(
            rnd=rnd,
            now=timezone.now(),
            batch_size=options["batch_size"],
            users=helper.make_users(),
            schools=helper.make_schools(rnd),
        )
        seeder.seed(options["referrals"])
        timings["referrals"] = time.perf_counter() - started
        self.stdout.write(
            f"Seeded {options['referrals']:,} referrals (issue-2 Seeder) in {timings['referrals']:.1f} s"
        )

        started = time.perf_counter()
        grants = GrantSeeder(rnd=random.Random(SEED + 1), options=options)
        people = grants.seed()
        timings["grants"] = time.perf_counter() - started
        started = time.perf_counter()
        helper.vacuum_analyze()
        timings["analyze"] = time.perf_counter() - started
        self.stdout.write(
            f"Seeded {grants.written:,} grant rows by COPY (and {len(people['background']):,} users, "
            f"{PANEL_GROUPS + 2} panel groups) in {timings['grants']:.1f} s; "
            f"VACUUM ANALYZE {timings['analyze']:.1f} s; {grant_counts()}"
        )
        return people, timings

    def run(self, options, people, timings) -> list[str]:
        helper = issue2.Command(stdout=self.stdout, stderr=self.stderr)
        clients = {}
        for key in (MANAGER, MANY, FEW_VIEWER):
            clients[key] = Client()
            helper.sign_in(clients[key], people[key])
        expected = {MANY: options["visible"], FEW_VIEWER: FEW}
        for key, count in expected.items():
            seen = selectors.referrals_visible_to(user=people[key]).count()
            if seen != count:
                raise CommandError(f"{key} sees {seen:,} referrals, not {count:,}: the seed is wrong")

        name_term = helper.name_term()
        pages = [
            (TRAY, "/referrals/?view=all"),
            (f"{REFERENCE} {people['reference_term']}", f"/referrals/?view=all&q={people['reference_term']}"),
            (f"{NAME} '{name_term}'", f"/referrals/?view=all&q={name_term}"),
        ]
        results = self.measure(clients, people, pages, options["runs"], options["warmups"])
        failed = self.report(results, pages, options, timings)
        failed += self.explain(results[(MANY, TRAY)]["queries"])
        self.explain_few(results[(FEW_VIEWER, TRAY)]["queries"], results)
        self.stdout.write("")
        if failed:
            self.stdout.write(self.style.ERROR(f"FAIL: {', '.join(failed)}"))
        else:
            self.stdout.write(self.style.SUCCESS("PASS: every target met"))
        return failed

    # --- measuring ----------------------------------------------------------------------

    def measure(self, clients, people, pages, runs: int, warmups: int) -> dict:
        """One counted request per page and user, then ``runs`` timed rounds of all of them.

        The timed requests go round every (user, page) in turn, so a burst of load from
        elsewhere on the machine lands on the manager's and the reviewers' pages alike.
        """
        results = {}
        for who, client in clients.items():
            for label, url in pages:
                with count_permission_checks() as calls, CaptureQueriesContext(connection) as context:
                    response = client.get(url)
                if response.status_code != 200:
                    raise CommandError(f"GET {url} as {who} answered {response.status_code}, not 200")
                html = response.content.decode()
                results[(who, label)] = {
                    "queries": list(context.captured_queries),
                    "calls": dict(calls),
                    "shown": len(ROW_LINK.findall(html)),
                    "matches": helper_matches(people[who], url),
                    "times": [],
                }
                for _ in range(max(warmups - 1, 0)):
                    client.get(url)
        gc.collect()
        for _ in range(runs):
            for who, client in clients.items():
                for label, url in pages:
                    started = time.perf_counter()
                    client.get(url)
                    results[(who, label)]["times"].append(time.perf_counter() - started)
        for result in results.values():
            result["median"] = statistics.median(result["times"]) * 1000
        return results

    # --- reporting ----------------------------------------------------------------------

    def report(self, results, pages, options, timings) -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            pg_version = cursor.fetchone()[0]
            cursor.execute("SHOW shared_buffers")
            shared_buffers = cursor.fetchone()[0]
        env = os.environ.get("DJANGO_SETTINGS_MODULE", "")
        url = issue2._masked(os.environ.get("DATABASE_URL", ""))
        via_make = " (run by make bench)" if os.environ.get("MAKELEVEL") else ""
        out = self.stdout.write
        out("")
        command = f"{sys.executable} {' '.join(sys.argv)}"
        out(f"Command: DATABASE_URL={url} DJANGO_SETTINGS_MODULE={env} {command}{via_make}")
        out(
            f"Machine: nproc={os.cpu_count()}, {platform.machine()}, PostgreSQL {pg_version} "
            f"(shared_buffers {shared_buffers}), Python {platform.python_version()}, "
            f"Django {django.get_version()}"
        )
        if timings:
            out(
                f"Seeding: referrals {timings['referrals']:.1f} s (issue-2 Seeder), grants "
                f"{timings['grants']:.1f} s (COPY), VACUUM ANALYZE {timings['analyze']:.1f} s: "
                f"{sum(timings.values()):.1f} s in all."
            )
        else:
            out("Seeding: none (--reuse: the data an earlier --keep run seeded).")
        out(f"Data: referrals={Referral.objects.count():,}, {grant_counts()}.")
        out(
            f"Timing: median of {options['runs']} requests after {options['warmups']} warm-ups, "
            "through the test Client (middleware, view, template), requests interleaved across "
            "users and pages."
        )
        out(
            "Baseline: a MASH manager, who opens every referral (no permission filter). The issue "
            "says 'an administrator'; administrators here are given no case access, so the "
            "unfiltered list is a manager's."
        )
        out("")
        headings = (
            "Page",
            "user",
            "visible",
            "matches",
            "shown",
            "queries",
            "perm calls",
            "median ms",
            "vs manager",
        )
        table = []
        total = Referral.objects.count()
        for label, _ in pages:
            base = results[(MANAGER, label)]["median"]
            for who in (MANAGER, MANY, FEW_VIEWER):
                r = results[(who, label)]
                visible = {MANAGER: total, MANY: options["visible"], FEW_VIEWER: FEW}[who]
                calls = sum(r["calls"].values())
                table.append(
                    (
                        label,
                        who,
                        f"{visible:,}",
                        f"{r['matches']:,}",
                        str(r["shown"]),
                        str(len(r["queries"])),
                        str(calls),
                        f"{r['median']:.1f}",
                        "-" if who == MANAGER else f"{r['median'] / base:.2f}",
                    )
                )
        widths = [max(len(row[i]) for row in [headings, *table]) for i in range(len(headings))]
        line = " | ".join(f"{{:{'<' if i < 2 else '>'}{w}}}" for i, w in enumerate(widths))
        out(line.format(*headings))
        out("-+-".join("-" * w for w in widths))
        for row in table:
            out(line.format(*row))
        out("")
        out(
            "visible = referrals the user may open; matches = what the page selects; shown = rows "
            "on the page; perm calls = calls of has_grant, granted_ids, can_see_exempt, exempt_ids "
            "and User.has_perm during the request (SQL filtering needs none per row)."
        )
        out("")

        failed = []
        reviewer, manager = results[(MANY, TRAY)]["median"], results[(MANAGER, TRAY)]["median"]
        ratio = reviewer / manager
        ok = ratio <= MAX_RATIO
        out(
            f"{'PASS' if ok else 'FAIL'}: tray time, reviewer with {options['visible']:,} visible / manager "
            f"(unfiltered) = {reviewer:.1f} / {manager:.1f} ms "
            f"= {ratio:.2f} (target <= {MAX_RATIO:g})"
        )
        if not ok:
            failed.append(f"tray ratio {ratio:.2f} > {MAX_RATIO:g}")
        for label, _ in pages:
            few, many = results[(FEW_VIEWER, label)], results[(MANY, label)]
            same = len(few["queries"]) == len(many["queries"])
            rows = few["shown"] > 0 and many["shown"] > 0
            ok = same and rows
            detail = "" if rows else " (a page shows no rows, so the comparison proves nothing)"
            out(
                f"{'PASS' if ok else 'FAIL'}: {label}: queries at {FEW} visible = {len(few['queries'])}, "
                f"at {options['visible']:,} visible = {len(many['queries'])} (target equal){detail}"
            )
            if not ok:
                failed.append(f"{label} query count")
        calls = {key: sum(r["calls"].values()) for key, r in results.items() if key[0] != MANAGER}
        ok = all(calls[(MANY, label)] == calls[(FEW_VIEWER, label)] for label, _ in pages)
        ok = ok and all(
            permissions_filtered_in_sql(results[(who, label)]["queries"])
            for who in (MANY, FEW_VIEWER)
            for label, _ in pages
        )
        out(
            f"{'PASS' if ok else 'FAIL'}: filtering in SQL: the reviewers' page queries name the grant "
            f"tables, and permission checks per request are {sorted(set(calls.values()))} whether "
            f"{FEW} or {options['visible']:,} referrals are visible (no Python loop over has_perm)"
        )
        if not ok:
            failed.append("filtering in SQL")
        return failed

    def explain_few(self, queries: list[dict], results) -> None:
        """Why the reviewer with 10 visible is not faster (reported, not judged)."""
        page = next((q["sql"] for q in queries if "LIMIT 26" in q["sql"] and "grant" in q["sql"]), None)
        if page is None:
            return
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {page}")
            plan = [row[0] for row in cursor.fetchall()]
        ratio = results[(FEW_VIEWER, TRAY)]["median"] / results[(MANAGER, TRAY)]["median"]
        out = self.stdout.write
        out("")
        out(
            f"Not judged: the reviewer with {FEW} visible lists the tray at {ratio:.2f}x the manager's "
            "time. The grant filter is a hashed subplan checked while walking the received-at "
            "index, so with few grants the walk covers every referral to find them. Their page query:"
        )
        # The nodes above the grant subplans: the scan of referrals and what its filter removed.
        top = plan[: next((i for i, row in enumerate(plan) if row.strip().startswith("SubPlan")), len(plan))]
        keep = ("Limit", "Scan", "Filter", "Rows Removed")
        for row in [*(row for row in top if any(k in row for k in keep)), plan[-1]]:
            out(f"  {row.strip()}")

    def explain(self, queries: list[dict]) -> list[str]:
        """EXPLAIN (ANALYZE, BUFFERS) the big reviewer's tray queries that read the grant tables."""
        tables = (ReferralUserGrant._meta.db_table, ReferralGroupGrant._meta.db_table)
        index_table = grant_indexes(tables)
        granted = [q["sql"] for q in queries if any(f'"{t}"' in q["sql"] for t in tables)]
        main = max(
            (sql for sql in granted if "LIMIT 26" in sql),
            key=len,
            default=max(granted, key=len, default=""),
        )
        out = self.stdout.write
        out("")
        out(f"The reviewer's tray request ran {len(queries)} queries; {len(granted)} read the grant tables.")
        out("")
        out("Main tray query (the page of rows), as the view ran it:")
        out(f"  {main}")
        failed = []
        for sql in granted:
            kind = (
                "page query" if sql == main else "row count (capped)" if "LIMIT 1001" in sql else "tab counts"
            )
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
                plan = [row[0] for row in cursor.fetchall()]
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}")
                tree = cursor.fetchone()[0]
            if isinstance(tree, str):
                tree = json.loads(tree)
            access = grant_access(tree[0]["Plan"], tables, index_table)
            casts = sorted(set(KEY_CAST.findall(sql)) | set(KEY_CAST.findall("\n".join(plan))))
            indexed = all(
                access[t]
                and all(
                    a.startswith(("Index Scan", "Index Only Scan", "Bitmap Index Scan")) for a in access[t]
                )
                for t in tables
            )
            out("")
            if sql == main:
                out(f"EXPLAIN (ANALYZE, BUFFERS) of the {kind}:")
                for row in plan:
                    out(f"  {row}")
            else:
                execution = next((row for row in plan if row.startswith("Execution Time")), "")
                out(f"EXPLAIN of a {kind} ({execution.strip()}):")
                out(f"  {sql[:160]}...")
            for t in tables:
                out(f"  {t}: {', '.join(access[t]) or 'not read'}")
            out(
                f"  {'PASS' if indexed else 'FAIL'}: index scans on both grant tables; "
                f"{'PASS' if not casts else 'FAIL'}: text casts of keys: {', '.join(casts) or 'none'}"
            )
            if not indexed:
                failed.append(f"EXPLAIN {kind}: no index scan on a grant table")
            if casts:
                failed.append(f"EXPLAIN {kind}: text cast of a key")
        if not granted:
            failed.append("EXPLAIN: the tray read no grant table")
        return failed


class GrantSeeder:
    """About a million grant rows, COPY'd into the direct-foreign-key tables.

    ``seed`` returns the people it made: the manager, the two measured reviewers (one with
    live grants on exactly ``visible`` referrals, one on exactly 10), the background users,
    and a reference-search term that finds referrals both reviewers see.
    """

    def __init__(self, *, rnd: random.Random, options):
        self.rnd = rnd
        self.visible = options["visible"]
        self.target = options["grant_rows"]
        self.now = timezone.now()
        content_type = ContentType.objects.get_for_model(Referral)
        self.view = Permission.objects.get(
            content_type=content_type, codename=f"{permissions.VIEW_EXEMPT}_referral"
        )
        self.change = Permission.objects.get(
            content_type=content_type, codename=f"{permissions.CHANGE}_referral"
        )
        self.ids = list(Referral.objects.order_by("pk").values_list("pk", flat=True))
        self.written = 0

    # --- people -------------------------------------------------------------------------

    def seed(self) -> dict:
        rnd = self.rnd
        User = get_user_model()
        roles = {role: Group.objects.get(name=GROUP_NAMES[role]) for role in Role}
        specs = [
            (USERNAMES[MANAGER], Role.MASH_MANAGER),
            (USERNAMES[MANY], Role.REVIEWER),
            (USERNAMES[FEW_VIEWER], Role.REVIEWER),
        ]
        specs += [
            (f"bench-user-{n:04d}", Role.REVIEWER if n <= BACKGROUND_REVIEWERS else Role.MASH_PRACTITIONER)
            for n in range(1, BACKGROUND_USERS + 1)
        ]
        users = User.objects.bulk_create(
            [
                User(
                    username=name,
                    first_name="Bench",
                    last_name=name.removeprefix("bench-").replace("-", " ").capitalize(),
                    email=f"{name}@council.example",
                    password=make_password(None),  # unusable: the bench signs in with force_login
                )
                for name, _ in specs
            ]
        )
        panels = Group.objects.bulk_create(
            [Group(name=f"Bench review panel {n}") for n in range(PANEL_GROUPS + 2)]
        )
        big_panel, small_panel, background_panels = panels[0], panels[1], panels[2:]
        manager, many, few, background = users[0], users[1], users[2], users[3:]
        memberships = [(user.pk, roles[role].pk) for user, (_, role) in zip(users, specs, strict=True)]
        memberships += [(many.pk, big_panel.pk), (few.pk, small_panel.pk)]
        # A few background reviewers share the big reviewer's panel; the rest sit on 0-2 others.
        memberships += [(user.pk, big_panel.pk) for user in background[:20]]
        for user in background:
            for panel in rnd.sample(background_panels, rnd.choice((0, 1, 1, 2))):
                memberships.append((user.pk, panel.pk))
        through = User.groups.through
        through.objects.bulk_create([through(user_id=u, group_id=g) for u, g in memberships])

        # --- the two measured reviewers: exact visible sets ---------------------------------
        shuffled = self.ids[:]
        rnd.shuffle(shuffled)
        visible, outside = shuffled[: self.visible], shuffled[self.visible :]
        user_part = visible[: self.visible * 9 // 10]  # 90% as the reviewer's own grants
        panel_part = visible[self.visible * 85 // 100 :]  # 15% through the panel (5% overlap)
        few_ids = self.few_ids(visible, rnd)
        expired = outside[: self.visible // 5]
        panel_expired = outside[self.visible // 5 : self.visible // 5 + self.visible // 10]
        few_expired = outside[-3:]

        user_rows: list[tuple] = []
        group_rows: list[tuple] = []
        for pk in user_part:
            user_rows.append(self.row(many, self.view, pk, expires=self.live_expiry()))
        for pk in user_part[: self.visible * 3 // 10]:
            user_rows.append(self.row(many, self.change, pk, expires=None))
        for pk in expired:
            user_rows.append(self.row(many, self.view, pk, expires=self.past()))
        for pk in panel_part:
            group_rows.append(self.row(big_panel, self.view, pk, expires=self.live_expiry()))
        for pk in panel_expired:
            group_rows.append(self.row(big_panel, self.view, pk, expires=self.past()))
        for pk in few_ids[:7]:
            user_rows.append(self.row(few, self.view, pk, expires=None))
        for pk in few_expired:
            user_rows.append(self.row(few, self.view, pk, expires=self.past()))
        for pk in few_ids[7:]:
            group_rows.append(self.row(small_panel, self.view, pk, expires=None))
        for pk in outside[: self.visible // 20]:
            group_rows.append(self.row(small_panel, self.view, pk, expires=self.past()))

        # --- the background: panels first, then users share what is left of the target -------
        per_panel = int(self.target * GROUP_SHARE / PANEL_GROUPS / (1 + CHANGE_SHARE))
        per_panel = min(max(per_panel, 1), len(self.ids))
        for panel in background_panels:
            chosen = rnd.sample(self.ids, per_panel)
            for pk in chosen:
                group_rows.append(self.row(panel, self.view, pk, expires=self.any_expiry()))
            for pk in chosen[: int(per_panel * CHANGE_SHARE)]:
                group_rows.append(self.row(panel, self.change, pk, expires=self.any_expiry()))
        existing = ReferralUserGrant.objects.count() + ReferralGroupGrant.objects.count()
        left = max(self.target - existing - len(user_rows) - len(group_rows), 0)
        per_user = left / len(background) / (1 + CHANGE_SHARE)
        for user in background:
            size = min(max(int(rnd.uniform(0.5, 1.5) * per_user), 1), len(self.ids))
            chosen = rnd.sample(self.ids, size)
            for pk in chosen:
                user_rows.append(self.row(user, self.view, pk, expires=self.any_expiry()))
            for pk in chosen[: int(size * CHANGE_SHARE)]:
                user_rows.append(self.row(user, self.change, pk, expires=self.any_expiry()))

        self.copy(ReferralUserGrant, "user_id", user_rows)
        self.copy(ReferralGroupGrant, "group_id", group_rows)
        return {
            MANAGER: manager,
            MANY: many,
            FEW_VIEWER: few,
            "background": background,
            "reference_term": reference_term(few),
        }

    def few_ids(self, visible: list[int], rnd: random.Random) -> list[int]:
        """Ten of the big reviewer's referrals, including one each search finds.

        So both reviewers' search pages have rows, and their query counts compare like with like.
        """
        referenced = list(
            Referral.objects.filter(pk__in=visible, reference__startswith=REFERENCE_TERM).values_list(
                "pk", flat=True
            )
        )
        if not referenced:  # a small --referrals may have no 2019 references among them
            referenced = [min(visible)]
        name = issue2.Command.name_term()
        named = list(
            ReferralChild.objects.filter(
                referral_id__in=visible,
                child__in=Child.objects.filter(last_name_key__startswith=name),
            ).values_list("referral_id", flat=True)[:50]
        )
        if not named:
            raise CommandError(
                f"No referral the reviewer sees has a child named {name}...: seed more referrals"
            )
        chosen = list(dict.fromkeys([min(referenced), min(named)]))
        rest = [pk for pk in visible if pk not in chosen]
        chosen += rnd.sample(rest, FEW - len(chosen))
        return chosen

    # --- rows -----------------------------------------------------------------------------

    def row(self, holder, permission, pk: int, *, expires) -> tuple:
        granted_at = self.now - dt_days(self.rnd.uniform(1, 700))
        return (
            holder.pk,
            permission.pk,
            pk,
            permissions.GrantKind.REVIEW if holder.pk % 2 else permissions.GrantKind.EXPLICIT,
            None,
            "Bench grant",
            granted_at,
            expires,
        )

    def past(self):
        return self.now - dt_days(self.rnd.uniform(1, 300))

    def future(self):
        return self.now + dt_days(self.rnd.uniform(1, 300))

    def live_expiry(self):
        return self.future() if self.rnd.random() < EXPIRING_SHARE else None

    def any_expiry(self):
        draw = self.rnd.random()
        if draw < EXPIRED_SHARE:
            return self.past()
        if draw < EXPIRED_SHARE + EXPIRING_SHARE:
            return self.future()
        return None

    def copy(self, model, holder_column: str, rows: list[tuple]) -> None:
        columns = (
            holder_column,
            "permission_id",
            "content_object_id",
            "kind",
            "granted_by_id",
            "reason",
            "granted_at",
            "expires_at",
        )
        # Grants accumulate over years from many managers, so one holder's rows lie scattered
        # through the table, not side by side as a per-holder loop would write them.
        self.rnd.shuffle(rows)
        sql = f'COPY "{model._meta.db_table}" ({", ".join(columns)}) FROM STDIN'
        null = "\\N"
        with connection.cursor() as cursor, cursor.copy(sql) as copy:
            for start in range(0, len(rows), 50_000):
                lines = [
                    "\t".join(null if value is None else str(value) for value in row) + "\n"
                    for row in rows[start : start + 50_000]
                ]
                copy.write("".join(lines))
        self.written += len(rows)


# --- helpers ----------------------------------------------------------------------------------


def dt_days(days: float) -> dt.timedelta:
    return dt.timedelta(days=days)


def reference_term(few) -> str:
    """A reference prefix that finds referrals both reviewers see (see GrantSeeder.few_ids)."""
    visible = selectors.referrals_visible_to(user=few)
    if visible.filter(reference__startswith=REFERENCE_TERM).exists():
        return REFERENCE_TERM
    return visible.order_by("pk").first().reference[:-2]


def helper_matches(user, url: str) -> int:
    return issue2.Command.matches(user, url)


def grant_counts() -> str:
    parts = []
    with connection.cursor() as cursor:
        for model in (ReferralUserGrant, ReferralGroupGrant):
            table = model._meta.db_table
            cursor.execute(
                f'SELECT count(*), count(*) FILTER (WHERE expires_at <= now()) FROM "{table}"'  # noqa: S608
            )
            total, expired = cursor.fetchone()
            parts.append(f"{table}={total:,} ({expired:,} expired)")
    return ", ".join(parts)


def grant_indexes(tables) -> dict[str, str]:
    """Index name -> table, for the grant tables (to read Bitmap Index Scan nodes)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, tablename FROM pg_indexes WHERE tablename = ANY(%s)", [list(tables)]
        )
        return dict(cursor.fetchall())


def grant_access(node: dict, tables, index_table: dict[str, str]) -> dict[str, list[str]]:
    """How each grant table is read in a JSON plan: ["Index Scan using ...", ...]."""
    found: dict[str, list[str]] = {t: [] for t in tables}

    def walk(n: dict) -> None:
        kind = n.get("Node Type", "")
        relation = n.get("Relation Name")
        index = n.get("Index Name")
        table = relation if relation in found else index_table.get(index or "")
        if table in found and kind != "Bitmap Heap Scan":
            loops = n.get("Actual Loops", 0)
            what = f"{kind} using {index}" if index else kind
            found[table].append(f"{what} (loops={loops})")
        for child in n.get("Plans", []):
            walk(child)

    walk(node)
    return found


def permissions_filtered_in_sql(queries: list[dict]) -> bool:
    tables = (ReferralUserGrant._meta.db_table, ReferralGroupGrant._meta.db_table)
    return any(all(f'"{t}"' in q["sql"] for t in tables) and "LIMIT 26" in q["sql"] for q in queries)


@contextlib.contextmanager
def count_permission_checks():
    """Count the per-object permission checks a request makes (core.permissions and has_perm)."""
    calls: Counter[str] = Counter()
    names = ("has_grant", "granted_ids", "can_see_exempt", "exempt_ids")
    originals = {name: getattr(permissions, name) for name in names}

    def counting(name, original):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return original(*args, **kwargs)

        return wrapper

    User = get_user_model()
    original_has_perm = User.has_perm

    def has_perm(self, *args, **kwargs):
        calls["has_perm"] += 1
        return original_has_perm(self, *args, **kwargs)

    for name, original in originals.items():
        setattr(permissions, name, counting(name, original))
    User.has_perm = has_perm
    try:
        yield calls
    finally:
        for name, original in originals.items():
            setattr(permissions, name, original)
        User.has_perm = original_has_perm
