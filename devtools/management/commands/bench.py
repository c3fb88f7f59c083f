"""Measure the work tray and search at 1,000 and at 100,000 referrals (``make bench``).

The issue's targets: for each page, the SQL query count is the same at both sizes, and the
median time at 100,000 referrals is within 2x of the median at 1,000.

Scratch databases: the command wipes only ``<name>_bench``, where ``<name>`` is the database
DATABASE_URL names (or that database itself when its name already ends in ``_bench``, so
``DATABASE_URL=.../mash_bench`` benchmarks in ``mash_bench``), and ``<that>_small``. It drops
and recreates ``<name>_bench``, migrates it, seeds 1,000 referrals, copies that state to
``<that>_small``, grows ``<name>_bench`` to 100,000 and times the two turn about, so load from
elsewhere on the machine falls on both sizes alike. The copy is dropped at the end; the big
database is kept for poking at with psql unless ``--drop`` is given. No other database is
touched.
"""

from __future__ import annotations

import datetime as dt
import functools
import gc
import itertools
import os
import platform
import random
import statistics
import sys
import time
from collections import Counter
from urllib.parse import quote, urlsplit, urlunsplit

import django
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import OperationalError, connection, transaction
from django.http import QueryDict
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from core.roles import GROUP_NAMES, MASH_ROLES, Role
from core.timescales import add_opening_hours, decision_due_at, local_zone
from devtools.management.commands.seed_demo import FIRST_NAMES as DEMO_FIRST_NAMES
from referrals import selectors
from referrals.filters import ReferralFilter
from referrals.models import (
    AbuseForm,
    Child,
    RagLevel,
    ReferenceSequence,
    Referral,
    ReferralChild,
    ReferralDetail,
    ReferralSource,
    School,
)

SEED = 20261128
SMALL, LARGE = 1_000, 100_000
OPEN_SHARE = 0.03  # received or screening; the rest are decided or closed
HISTORIC_START = dt.date(2019, 9, 2)  # so MASH-2019-... references exist to search for
REUSE_CHILD = 0.08  # a child already known from an earlier referral
SCHOOLS = 60
PRACTITIONERS = 6
DEEP_PAGES = 5
LATE_PAGE = 0.9
MAX_RATIO = 2.0
NAME_SEARCH = "Search: child name"
# A page whose work does not depend on how many referrals there are: its ratio shows how
# much the machine itself drifted between the two measurements. Reported, not judged.
CONTROL = "Control: new referral form"

# The demo seed's first names, and twenty more so the bench's children vary more.
FIRST_NAMES = [
    *DEMO_FIRST_NAMES,
    "Ellis",
    "Finley",
    "Georgie",
    "Hayden",
    "Iris",
    "Jesse",
    "Kit",
    "Lennon",
    "Max",
    "Noel",
    "Orla",
    "Peyton",
    "Remy",
    "Sasha",
    "Toni",
    "Val",
    "Winnie",
    "Arlo",
    "Bo",
    "Cass",
]
# Plainly made-up surnames: 20 stems x 15 endings, drawn with a Zipf-like weight so the
# commonest is about 1.35% of children, as Smith is about 1.3% of people in England and Wales.
_STEMS = [
    "Ashen",
    "Brack",
    "Corrow",
    "Dunnet",
    "Elvers",
    "Farrant",
    "Glossop",
    "Hebble",
    "Inchley",
    "Jorrock",
    "Kettering",
    "Lummas",
    "Marsh",
    "Nettle",
    "Orrell",
    "Pember",
    "Quarry",
    "Rudd",
    "Sallow",
    "Tunstall",
]
_ENDINGS = [
    "ford",
    "well",
    "ton",
    "ley",
    "ridge",
    "holm",
    "by",
    "worth",
    "field",
    "wick",
    "son",
    "ham",
    "more",
    "dale",
    "croft",
]
SURNAMES = [stem + ending for stem in _STEMS for ending in _ENDINGS]
SURNAME_CUM_WEIGHTS = list(itertools.accumulate(1 / (rank + 30) for rank in range(len(SURNAMES))))


def _masked(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{quote(parts.password, safe='')}@", ":***@")
        netloc = netloc.replace(f":{parts.password}@", ":***@")
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts)


class Seeder:
    """Deterministic synthetic referrals, written with bulk_create_with_history in batches."""

    def __init__(self, *, rnd: random.Random, now: dt.datetime, batch_size: int, users, schools):
        self.rnd = rnd
        self.now = now
        self.batch_size = batch_size
        self.users = users
        self.schools = schools
        self.zone = local_zone()
        self.sources = list(ReferralSource.objects.order_by("order"))
        self.school_source = next(s for s in self.sources if s.code == "school")
        self.forms = list(AbuseForm.objects.order_by("order"))
        self.rags = list(RagLevel.objects.order_by("order"))
        self.last_number: Counter[int] = Counter(
            dict(ReferenceSequence.objects.values_list("year", "last_number"))
        )
        self.known_children: list[int] = []
        self._due: dict[dt.date, dt.datetime] = {}
        self.grants = DefaultGrants()
        self.historic_days = (
            (now.astimezone(self.zone).date() - dt.timedelta(days=21)) - HISTORIC_START
        ).days

    def decision_due(self, received_at: dt.datetime) -> dt.datetime:
        # decision_due_at depends only on the local day of receipt: work it out once per day.
        day = received_at.astimezone(self.zone).date()
        if day not in self._due:
            self._due[day] = decision_due_at(received_at)
        return self._due[day]

    def seed(self, count: int) -> None:
        done = 0
        while done < count:
            size = min(self.batch_size, count - done)
            with transaction.atomic():
                self._batch(size)
            done += size
        ReferenceSequence.objects.bulk_create(
            [ReferenceSequence(year=y, last_number=n) for y, n in sorted(self.last_number.items())],
            update_conflicts=True,
            unique_fields=["year"],
            update_fields=["last_number"],
        )

    # --- one batch ------------------------------------------------------------------------

    def _received_at(self, is_open: bool) -> dt.datetime:
        rnd = self.rnd
        if is_open:  # recent: most still inside their working day, some overdue
            hours = min(rnd.expovariate(1 / 30), 24 * 20)
            return self.now - dt.timedelta(hours=hours, minutes=rnd.randrange(60))
        day = HISTORIC_START + dt.timedelta(days=rnd.randrange(self.historic_days))
        if day.weekday() >= 5:
            day -= dt.timedelta(days=day.weekday() - 4)
        return dt.datetime.combine(day, dt.time(8 + rnd.randrange(10), rnd.randrange(60)), tzinfo=self.zone)

    def _referral(self, is_open: bool) -> Referral:
        rnd = self.rnd
        received_at = self._received_at(is_open)
        user = rnd.choice(self.users)
        local_day = received_at.astimezone(self.zone).date()
        referral = Referral(
            received_at=received_at,
            source=self.school_source if rnd.random() < 0.6 else rnd.choice(self.sources),
            is_peer_on_peer=rnd.random() < 0.9,
            incident_date=local_day - dt.timedelta(days=rnd.randrange(10)),
            location=rnd.choice(("school", "school", "online", "community", "transport", "home")),
            consent_sought=rnd.random() < 0.85,
            decision_due_at=self.decision_due(received_at),
            created_by=user,
            status=Referral.Status.RECEIVED,
        )
        stage = rnd.choice((0, 1)) if is_open else (3 if rnd.random() < 0.9 else 2)
        if stage >= 1:
            rag = rnd.choice(self.rags)
            referral.status = Referral.Status.SCREENING
            referral.rag = rag
            referral.rag_due_at = add_opening_hours(received_at, rag.response_hours)
            referral.screening_started_at = received_at + dt.timedelta(minutes=rnd.randrange(30, 120))
            referral.screening_started_by = rnd.choice(self.users)
            referral.version = 2
        if stage >= 2:
            referral.status = Referral.Status.DECIDED
            referral.decided_at = received_at + dt.timedelta(hours=rnd.choice((3, 5, 20, 30, 60)))
            referral.decided_by = referral.screening_started_by
            referral.version = 3
        if stage >= 3:
            referral.status = Referral.Status.CLOSED
            referral.closed_at = referral.decided_at + dt.timedelta(days=2)
            referral.closed_by = referral.decided_by
            referral.version = 4
        referral._history_user = user
        referral._history_date = received_at
        return referral

    def _batch(self, size: int) -> None:
        rnd = self.rnd
        referrals = [self._referral(rnd.random() < OPEN_SHARE) for _ in range(size)]
        # References in order of receipt within the batch, continuing each year's sequence.
        referrals.sort(key=lambda r: r.received_at)
        for referral in referrals:
            year = referral.received_at.astimezone(self.zone).year
            self.last_number[year] += 1
            referral.reference = f"MASH-{year}-{self.last_number[year]:04d}"
        referrals = bulk_create_with_history(
            referrals, Referral, batch_size=self.batch_size, default_change_reason="Referral recorded"
        )

        details = []
        for referral in referrals:
            detail = ReferralDetail(
                referral=referral,
                referrer_name=f"{rnd.choice(FIRST_NAMES)} {rnd.choice(SURNAMES)} (bench referrer)",
                referrer_role="Designated safeguarding lead",
                referrer_organisation="Bench organisation",
                referrer_contact=f"referrer{rnd.randrange(1000)}@school.example",
                narrative="BENCH NARRATIVE (synthetic). Child A disclosed an incident at school.",
                consent_not_sought_reason=""
                if referral.consent_sought
                else "BENCH: seeking consent would have increased the risk.",
            )
            detail._history_user = referral.created_by
            detail._history_date = referral.received_at
            details.append(detail)
        bulk_create_with_history(
            details, ReferralDetail, batch_size=self.batch_size, default_change_reason="Referral recorded"
        )

        # Many-to-many rows straight into the through table. The bulk seed writes no
        # many-to-many history (HistoricalReferral_forms_of_abuse stays empty): nothing the
        # tray or the search reads depends on it.
        through = Referral.forms_of_abuse.through
        through.objects.bulk_create(
            [
                through(referral_id=referral.pk, abuseform_id=form.pk)
                for referral in referrals
                for form in rnd.sample(self.forms, rnd.choice((1, 1, 1, 2)))
            ],
            batch_size=self.batch_size,
        )

        # Children: two or three per referral, a few of them already known from earlier ones.
        new_children: list[Child] = []
        slots: list[tuple[Referral, str, str, Child | int]] = []
        for referral in referrals:
            count = rnd.choice((2, 2, 2, 3))
            used: set[int] = set()
            for index in range(count):
                label = "ABC"[index]
                role = ("victim", "alleged_perpetrator", "other")[index]
                if self.known_children and rnd.random() < REUSE_CHILD:
                    known = rnd.choice(self.known_children)
                    if known not in used:
                        used.add(known)
                        slots.append((referral, label, role, known))
                        continue
                child = self._child(referral)
                new_children.append(child)
                slots.append((referral, label, role, child))
        bulk_create_with_history(
            new_children, Child, batch_size=self.batch_size, default_change_reason="Recorded on a referral"
        )
        links = []
        for referral, label, role, child in slots:
            link = ReferralChild(
                referral=referral,
                child_id=child if isinstance(child, int) else child.pk,
                role=role,
                label=label,
            )
            link._history_user = referral.created_by
            link._history_date = referral.received_at
            links.append(link)
        bulk_create_with_history(
            links, ReferralChild, batch_size=self.batch_size, default_change_reason="Child added"
        )
        self.known_children.extend(child.pk for child in new_children)
        self.grants.write([r for r in referrals if r.status != Referral.Status.CLOSED], self.batch_size)

    def _child(self, referral: Referral) -> Child:
        rnd = self.rnd
        first = rnd.choice(FIRST_NAMES)
        last = rnd.choices(SURNAMES, cum_weights=SURNAME_CUM_WEIGHTS)[0]
        age = rnd.randrange(11, 17)
        child = Child(
            first_name=first,
            last_name=last,
            first_name_key=first.lower(),
            last_name_key=last.lower(),
            date_of_birth=referral.incident_date - dt.timedelta(days=age * 365 + rnd.randrange(300)),
            gender=rnd.choice(("female", "male", "female", "male", "not_known")),
            school=rnd.choice(self.schools),
            year_group=str(min(13, max(7, age - 4))),
            send=rnd.random() < 0.12,
            address=f"{rnd.randrange(1, 120)} Bench Street",
            postcode=f"ZZ{rnd.randrange(1, 99)} {rnd.randrange(1, 9)}BN",
            created_by=referral.created_by,
        )
        child._history_user = referral.created_by
        child._history_date = referral.received_at
        return child


class DefaultGrants:
    """Per-referral grants as referral_create gives them, where the project has grant tables.

    With django-guardian direct-foreign-key grant tables (core.permissions), a live referral
    (not closed) carries default grants to its creator and the MASH groups, and a name only
    matches referrals the searcher holds a grant on. Without those tables this does nothing.
    """

    def __init__(self):
        self.tables: list[tuple[type, str]] = []
        # Grant tables: models whose content_object is a Referral and that name a permission
        # and a user or a group (guardian's direct-foreign-key shape; guardian itself is only
        # imported by core/permissions.py).
        for relation in Referral._meta.related_objects:
            table, names = relation.related_model, {f.name for f in relation.related_model._meta.get_fields()}
            if relation.field.name != "content_object" or "permission" not in names:
                continue
            holder = "user" if "user" in names else "group" if "group" in names else None
            if holder and not table._meta.auto_created and not table.__name__.startswith("Historical"):
                self.tables.append((table, holder))
        if not self.tables:
            return
        from core import permissions

        self.field_names = {f.name for table, _ in self.tables for f in table._meta.get_fields()}
        actions = [
            getattr(permissions, "VIEW_EXEMPT", "view_exempt"),
            getattr(permissions, "CHANGE", "change"),
        ]
        content_type = ContentType.objects.get_for_model(Referral)
        self.permissions = list(
            Permission.objects.filter(
                content_type=content_type, codename__in=[f"{a}_referral" for a in actions]
            )
        )
        self.kind = str(getattr(getattr(permissions, "GrantKind", None), "DEFAULT", "default"))
        self.groups = list(Group.objects.filter(name__in=[GROUP_NAMES[r] for r in MASH_ROLES]))

    def write(self, referrals: list[Referral], batch_size: int) -> None:
        for table, holder in self.tables:
            rows = []
            for referral in referrals:
                holders = [referral.created_by] if holder == "user" else self.groups
                for permission in self.permissions:
                    for who in holders:
                        extra = {
                            "kind": self.kind,
                            "granted_by": None,  # given by rule (core.permissions)
                            "reason": "Live referral: the referring practitioner and the MASH team",
                            "granted_at": referral.received_at,
                        }
                        row = table(
                            content_object=referral,
                            permission=permission,
                            **{holder: who},
                            **{k: v for k, v in extra.items() if k in self.field_names},
                        )
                        row._history_user = referral.created_by
                        row._history_date = referral.received_at
                        rows.append(row)
            if hasattr(table, "history"):
                bulk_create_with_history(
                    rows, table, batch_size=batch_size, default_change_reason="Bench seed"
                )
            else:
                table.objects.bulk_create(rows, batch_size=batch_size)


class Command(BaseCommand):
    help = (
        "Benchmark the work tray and search at 1,000 and 100,000 referrals (PostgreSQL only). "
        "The databases it WIPES: '<name>_bench', where <name> is the DATABASE_URL database (or "
        "that database itself if its name already ends in '_bench': DATABASE_URL=.../mash_bench "
        "uses mash_bench), and '<that>_small', a copy of the 1,000 state dropped at the end. "
        "It drops and recreates them, migrates, seeds, measures, and keeps '<name>_bench' "
        "unless --drop is given; no other database is touched. Exits non-zero if a target "
        "fails: same query count at both sizes, 100k median within 2x of 1k."
    )

    def add_arguments(self, parser):
        parser.add_argument("--small", type=int, default=SMALL, help="First size (default 1,000).")
        parser.add_argument("--large", type=int, default=LARGE, help="Second size (default 100,000).")
        parser.add_argument("--runs", type=int, default=15, help="Timed requests per page.")
        parser.add_argument("--warmups", type=int, default=2, help="Untimed requests first.")
        parser.add_argument("--batch-size", type=int, default=5_000)
        parser.add_argument("--drop", action="store_true", help="Drop the scratch database at the end.")
        parser.add_argument(
            "--keep",
            action="store_true",
            help="Keep the copy of the small state too (<scratch>_small), so --reuse can measure again.",
        )
        parser.add_argument(
            "--reuse",
            action="store_true",
            help="Measure again in the two databases an earlier --keep run seeded: migrate them to "
            "the code and VACUUM ANALYZE, without reseeding.",
        )

    # --- set-up -------------------------------------------------------------------------

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError(
                "The benchmark needs PostgreSQL, not "
                f"{connection.vendor}: set DATABASE_URL, for example "
                "DATABASE_URL=postgres://postgres@127.0.0.1:5432/mash_bench make bench"
            )
        if options["large"] <= options["small"]:
            raise CommandError("--large must be bigger than --small")
        if options["keep"] and options["drop"]:
            raise CommandError("--keep and --drop contradict each other")
        configured = connection.settings_dict["NAME"]
        scratch = configured if configured.endswith("_bench") else f"{configured}_bench"
        self.scratch, self.snapshot = scratch, f"{scratch}_small"
        if options["reuse"]:
            failed = self.reuse(options)
            if failed:
                raise CommandError(f"Targets failed: {', '.join(failed)}")
            return
        untouched = "" if scratch == configured else f"; {configured} itself is not touched"
        self.stdout.write(
            f"Scratch databases: {scratch} and {self.snapshot} (dropped and recreated{untouched})"
        )
        connection.settings_dict["TEST"]["NAME"] = scratch
        connection.close()
        self.drop_database(scratch)  # a leftover from the last run goes first
        self.drop_database(self.snapshot)
        started = time.perf_counter()
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=False)
        self.stdout.write(f"Created and migrated {scratch} in {time.perf_counter() - started:.1f} s")
        try:
            failed = self.run(options)
        finally:
            self.use_database(scratch)
            if options["keep"]:
                self.stdout.write(f"Kept {scratch} and {self.snapshot} for --reuse")
            else:
                self.drop_database(self.snapshot)
            if options["drop"]:
                connection.creation.destroy_test_db(configured, verbosity=0)
                self.stdout.write(f"Dropped {scratch}")
        if failed:
            raise CommandError(f"Targets failed: {', '.join(failed)}")

    # --- the databases ------------------------------------------------------------------

    @staticmethod
    def drop_database(name: str) -> None:
        connection.close()
        with connection._nodb_cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {connection.ops.quote_name(name)}")

    @staticmethod
    def use_database(name: str) -> None:
        """Point the default connection at another of the scratch databases."""
        if connection.settings_dict["NAME"] != name:
            connection.close()
            connection.settings_dict["NAME"] = name

    def copy_database(self, source: str, target: str) -> None:
        """A copy of the database as it stands (CREATE DATABASE ... TEMPLATE)."""
        connection.close()
        quote = connection.ops.quote_name
        for attempt in range(20):  # the template must have no other sessions (autovacuum)
            try:
                with connection._nodb_cursor() as cursor:
                    cursor.execute(f"CREATE DATABASE {quote(target)} TEMPLATE {quote(source)}")
                return
            except OperationalError:
                if attempt == 19:
                    raise
                time.sleep(0.5)

    def run(self, options) -> list[str]:
        rnd = random.Random(SEED)
        now = timezone.now()
        users = self.make_users()
        schools = self.make_schools(rnd)
        seeder = Seeder(rnd=rnd, now=now, batch_size=options["batch_size"], users=users, schools=schools)
        viewer = users[0]
        client = Client()
        self.sign_in(client, viewer)

        small, large = options["small"], options["large"]
        results: dict[int, dict[str, dict]] = {}
        pages: dict[int, list[tuple[str, str]]] = {}
        seeding: dict[int, float] = {}
        term = self.name_term()
        captured: dict[int, dict[str, list[dict]]] = {}
        total = 0
        for size in (small, large):
            started = time.perf_counter()
            seeder.seed(size - total)
            seeded = time.perf_counter() - started
            started = time.perf_counter()
            self.vacuum_analyze()
            seeding[size] = seeded
            self.stdout.write(
                f"Seeded {size:,} referrals (+{size - total:,}) "
                f"in {seeded:.1f} s; VACUUM ANALYZE {time.perf_counter() - started:.1f} s; "
                + self.row_counts()
            )
            total = size
            pages[size] = self.pages(viewer, term)
            captured[size] = self.capture(client, pages[size], options["warmups"])
            self.check_name_search(term, captured[size])
            results[size] = {
                label: {
                    "queries": len(captured[size][label]),
                    "matches": None if label == CONTROL else self.matches(viewer, url),
                }
                for label, url in pages[size]
            }
            if size == small:
                # Keep the small state as a copy, so both sizes can be timed in the same minutes.
                self.copy_database(self.scratch, self.snapshot)

        clients = {small: client, large: client}
        return self.measure(options, pages, clients, results, captured, seeding)

    def reuse(self, options) -> list[str]:
        """Measure again in the databases an earlier ``--keep`` run seeded (migrated to the code).

        Each database gets its own signed-in client: sessions live in the database.
        """
        with connection._nodb_cursor() as cursor:
            cursor.execute(
                "SELECT datname FROM pg_database WHERE datname IN (%s, %s)", [self.scratch, self.snapshot]
            )
            found = {row[0] for row in cursor.fetchall()}
        if found != {self.scratch, self.snapshot}:
            raise CommandError(
                f"--reuse needs {self.scratch} and {self.snapshot}: run once with --keep first"
            )
        self.stdout.write(
            f"Scratch databases: {self.snapshot} and {self.scratch} (reused as an earlier --keep run "
            "seeded them; migrated to the code, not reseeded)"
        )
        term = self.name_term()
        User = get_user_model()
        pages, captured, results, clients, sizes = {}, {}, {}, {}, []
        for name in (self.snapshot, self.scratch):
            self.use_database(name)
            call_command("migrate", verbosity=0, interactive=False)
            started = time.perf_counter()
            self.vacuum_analyze()
            size = Referral.objects.count()
            self.stdout.write(
                f"{name}: {size:,} referrals; VACUUM ANALYZE {time.perf_counter() - started:.1f} s; "
                + self.row_counts()
            )
            try:
                viewer = User.objects.get(username="bench-practitioner-1")
            except User.DoesNotExist as error:
                raise CommandError(f"--reuse: {name} was not seeded by this command") from error
            # Seeding looks the referral content type up, and Django caches it for the process;
            # without a seed, look it up now so the captured queries are the same as a full run's.
            ContentType.objects.get_for_model(Referral)
            clients[size] = Client()
            self.sign_in(clients[size], viewer)
            pages[size] = self.pages(viewer, term)
            captured[size] = self.capture(clients[size], pages[size], options["warmups"])
            self.check_name_search(term, captured[size])
            results[size] = {
                label: {
                    "queries": len(captured[size][label]),
                    "matches": None if label == CONTROL else self.matches(viewer, url),
                }
                for label, url in pages[size]
            }
            sizes.append(size)
        options["small"], options["large"] = sizes
        return self.measure(options, pages, clients, results, captured, None)

    def measure(self, options, pages, clients, results, captured, seeding) -> list[str]:
        small, large = options["small"], options["large"]
        databases = {small: self.snapshot, large: self.scratch}
        medians = self.time_pages(clients, pages, databases, options["runs"])
        for size in (small, large):
            for label, median in medians[size].items():
                results[size][label]["median"] = median
        self.use_database(self.scratch)
        failed = self.report(results, options, seeding)
        self.explain(captured[large])
        return failed

    @staticmethod
    def sign_in(client: Client, user) -> None:
        """Sign in; where two-factor sign-in exists, with a verified session, as the tests do."""
        client.force_login(user)
        if not apps.is_installed("django_otp.plugins.otp_totp"):
            return
        from django_otp import DEVICE_ID_SESSION_KEY
        from django_otp.middleware import is_verified
        from django_otp.plugins.otp_totp.models import TOTPDevice

        device = TOTPDevice.objects.create(user=user, name="Bench authenticator", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        # The same user object also answers the untimed look-ups (cursors, row counts): give
        # it what OTPMiddleware gives request.user in a verified session.
        user.otp_device = device
        user.is_verified = functools.partial(is_verified, user)

    def make_users(self) -> list:
        User = get_user_model()
        group = Group.objects.get(name=GROUP_NAMES[Role.MASH_PRACTITIONER])
        users = []
        for number in range(1, PRACTITIONERS + 1):
            user = User.objects.create_user(
                username=f"bench-practitioner-{number}",
                first_name="Bench",
                last_name=f"Practitioner {number}",
                email=f"bench{number}@council.example",
            )
            user.groups.add(group)
            users.append(user)
        return users

    def make_schools(self, rnd: random.Random) -> list[School]:
        phases = [School.Phase.SECONDARY] * 40 + [School.Phase.ALL_THROUGH] * 8 + [School.Phase.SPECIAL] * 6
        phases += [School.Phase.ALTERNATIVE_PROVISION] * 3 + [School.Phase.COLLEGE] * 3
        schools = [
            School(
                urn=f"98{index + 1:04d}",
                name=f"Bench School {index + 1} ({phase.label})",
                phase=phase,
                local_authority="Benchshire",
            )
            for index, phase in enumerate(phases[:SCHOOLS])
        ]
        return bulk_create_with_history(schools, School, default_change_reason="Bench seed")

    @staticmethod
    def name_term() -> str:
        """A prefix of the commonest surname: the broadest realistic name search."""
        top = SURNAMES[0]
        return top[: len(_STEMS[0]) + 2].lower()

    @staticmethod
    def vacuum_analyze() -> None:
        # Autovacuum would get round to it; doing it now keeps it out of the timings.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")

    @staticmethod
    def row_counts() -> str:
        with connection.cursor() as cursor:
            counts = []
            for model in (Referral, Child, ReferralChild, Referral.forms_of_abuse.through):
                cursor.execute(f'SELECT count(*) FROM "{model._meta.db_table}"')  # noqa: S608
                counts.append(f"{model._meta.db_table}={cursor.fetchone()[0]:,}")
            cursor.execute(f'SELECT count(*) FROM "{Referral.history.model._meta.db_table}"')  # noqa: S608
            counts.append(f"historical referrals={cursor.fetchone()[0]:,}")
        return ", ".join(counts)

    # --- measuring ----------------------------------------------------------------------

    def pages(self, viewer, term: str) -> list[tuple[str, str]]:
        """The pages to time. The deep page's cursor comes from the tray's own selector."""
        cursor = None
        visible = selectors.referrals_visible_to(user=viewer)
        for _ in range(DEEP_PAGES):
            page = selectors.referral_tray(user=viewer, view="all", queryset=visible, cursor=cursor)
            cursor = page.next_cursor
        # A page far down the list, where a keyset that only filters (not bounds) the index
        # scan would walk past every newer referral. The cursor is the tray's own encoding.
        ordered = visible.order_by("-received_at", "-pk")
        row = ordered[int(ordered.count() * LATE_PAGE)]
        late = selectors._encode_cursor(row.received_at, row.pk, False)
        return [
            ("Tray: awaiting (default)", "/referrals/"),
            ("Tray: all referrals", "/referrals/?view=all"),
            ("Search: reference MASH-2019-00", "/referrals/?view=all&q=MASH-2019-00"),
            (f"{NAME_SEARCH} '{term}'", f"/referrals/?view=all&q={term}"),
            (f"Tray: all, page {DEEP_PAGES + 1} (cursor)", f"/referrals/?view=all&cursor={cursor}"),
            (f"Tray: all, {LATE_PAGE:.0%} of the way (cursor)", f"/referrals/?view=all&cursor={late}"),
            (CONTROL, "/referrals/new/"),
        ]

    @staticmethod
    def capture(client: Client, pages, warmups: int) -> dict[str, list[dict]]:
        """The queries of one request to each page (its first warm-up), then the other warm-ups."""
        captured: dict[str, list[dict]] = {}
        for label, url in pages:
            with CaptureQueriesContext(connection) as context:
                response = client.get(url)
            # Copy now: captured_queries reads the connection's log, which the next request clears.
            captured[label] = list(context.captured_queries)
            if response.status_code != 200:
                raise CommandError(f"GET {url} answered {response.status_code}, not 200")
            for _ in range(max(warmups - 1, 0)):
                client.get(url)
        return captured

    def time_pages(
        self, clients: dict[int, Client], pages, databases, runs: int
    ) -> dict[int, dict[str, float]]:
        """Median milliseconds per page and size, the two sizes timed turn about.

        Each round times every page against one database and then the other (the order
        alternating), so load from elsewhere on the machine lands on both sizes alike.
        """
        times = {size: {label: [] for label, _ in pages[size]} for size in databases}
        sizes = list(databases)
        gc.collect()
        for run in range(runs):
            for size in sizes if run % 2 == 0 else reversed(sizes):
                self.use_database(databases[size])
                client = clients[size]
                client.get(pages[size][0][1])  # reconnect, untimed
                for label, url in pages[size]:
                    started = time.perf_counter()
                    client.get(url)
                    times[size][label].append(time.perf_counter() - started)
        return {
            size: {label: statistics.median(values) * 1000 for label, values in by_label.items()}
            for size, by_label in times.items()
        }

    @staticmethod
    def check_name_search(term: str, captured: dict[str, list[dict]]) -> None:
        """Fail loudly if the name search did not search names (it would time something else)."""
        queries = next(q for label, q in captured.items() if label.startswith(NAME_SEARCH))
        child_table = f'"{Child._meta.db_table}"'
        if not any(child_table in q["sql"] for q in queries):
            raise CommandError(
                f"The search for {term!r} did not look at children's names (no query on {child_table}): "
                "the benchmark user cannot search by name, so the page would not measure it."
            )

    @staticmethod
    def matches(viewer, url: str) -> int:
        """How many referrals the page's view and filters select (for the report, not timed)."""
        params = QueryDict(url.partition("?")[2])
        visible = selectors.referrals_visible_to(user=viewer)
        data = params.copy()
        data.pop("cursor", None)
        filterset = ReferralFilter(data or None, queryset=visible, user=viewer)
        queryset = filterset.qs if filterset.is_bound and filterset.is_valid() else visible
        if params.get("view", "awaiting") == "awaiting":
            queryset = queryset.filter(status__in=Referral.OPEN_STATUSES)
        return queryset.count()

    # --- reporting ----------------------------------------------------------------------

    def report(self, results, options, seeding) -> list[str]:
        small, large = options["small"], options["large"]
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            pg_version = cursor.fetchone()[0]
            cursor.execute("SHOW shared_buffers")
            shared_buffers = cursor.fetchone()[0]
        env = os.environ.get("DJANGO_SETTINGS_MODULE", "")
        url = _masked(os.environ.get("DATABASE_URL", ""))
        via_make = " (run by make bench)" if os.environ.get("MAKELEVEL") else ""
        self.stdout.write("")
        self.stdout.write(
            f"Command: DATABASE_URL={url} DJANGO_SETTINGS_MODULE={env} "
            f"{sys.executable} {' '.join(sys.argv)}{via_make}"
        )
        self.stdout.write(
            f"Machine: nproc={os.cpu_count()}, {platform.machine()}, PostgreSQL {pg_version} "
            f"(shared_buffers {shared_buffers}), Python {platform.python_version()}, "
            f"Django {django.get_version()}"
        )
        if seeding is None:
            seeded = "Seeding: none (--reuse: the data an earlier --keep run seeded)."
        else:
            seeded = (
                f"Seeding: {small:,} in {seeding[small]:.1f} s, then +{large - small:,} in "
                f"{seeding[large]:.1f} s."
            )
        self.stdout.write(
            f"{seeded} Timing: median of {options['runs']} requests after "
            f"{options['warmups']} warm-ups, through the test Client (middleware, view, template); "
            f"the {small:,} state is kept as a copy ({self.snapshot}) and the two sizes are "
            "timed turn about, so load from elsewhere on the machine falls on both alike."
        )
        self.stdout.write("")
        k_small, k_large = _short(small), _short(large)
        headings = (
            "Page",
            f"rows@{k_small}",
            f"rows@{k_large}",
            f"queries@{k_small}",
            f"queries@{k_large}",
            f"ms@{k_small}",
            f"ms@{k_large}",
            "ratio",
            "ratio/control",
            "result",
        )
        table = []
        failed = []
        judged = 0
        drift = results[large][CONTROL]["median"] / results[small][CONTROL]["median"]
        for label in results[small]:
            a, b = results[small][label], results[large][label]
            ratio = b["median"] / a["median"]
            problems = []
            if a["queries"] != b["queries"]:
                problems.append("query count differs")
            if ratio > MAX_RATIO:
                problems.append(f"ratio > {MAX_RATIO:g}")
            if label == CONTROL:
                result = "(not judged)"
            else:
                judged += 1
                result = "PASS" if not problems else "FAIL: " + "; ".join(problems)
                if problems:
                    failed.append(f"{label} ({'; '.join(problems)})")
            table.append(
                (
                    label,
                    "-" if a["matches"] is None else f"{a['matches']:,}",
                    "-" if b["matches"] is None else f"{b['matches']:,}",
                    str(a["queries"]),
                    str(b["queries"]),
                    f"{a['median']:.1f}",
                    f"{b['median']:.1f}",
                    f"{ratio:.2f}",
                    f"{ratio / drift:.2f}",
                    result,
                )
            )
        widths = [max(len(row[i]) for row in [headings, *table]) for i in range(len(headings))]
        line = " | ".join(f"{{:{'<' if i == 0 else '>'}{w}}}" for i, w in enumerate(widths))
        self.stdout.write(line.format(*headings))
        self.stdout.write("-+-".join("-" * w for w in widths))
        for row in table:
            self.stdout.write(line.format(*row))
        self.stdout.write("")
        self.stdout.write(
            "rows = referrals the view and filters select; targets: same query count, ratio <= 2.0. "
            "The control page does no referral work: its ratio is the machine's own drift, and "
            "ratio/control (not judged) takes that drift out."
        )
        if failed:
            self.stdout.write(self.style.ERROR(f"FAIL: {len(failed)} of {judged} pages"))
        else:
            self.stdout.write(self.style.SUCCESS(f"PASS: all {judged} pages meet both targets"))
        return failed

    def explain(self, captured: dict[str, list[dict]]) -> None:
        """EXPLAIN (ANALYZE, BUFFERS) of the referral queries behind two pages at the large size."""
        for label, queries in captured.items():
            if not (label.startswith(NAME_SEARCH) or label == "Tray: all referrals"):
                continue
            table = Referral._meta.db_table
            wanted = [
                q["sql"]
                for q in queries
                if f'FROM "{table}"' in q["sql"] and ("LIMIT 26" in q["sql"] or "LIMIT 1001" in q["sql"])
            ]
            for sql in wanted:
                kind = "count query" if "LIMIT 1001" in sql else "page query"
                self.stdout.write("")
                self.stdout.write(f"EXPLAIN (ANALYZE, BUFFERS) {label}: {kind}")
                with connection.cursor() as cursor:
                    cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
                    plan = [row[0] for row in cursor.fetchall()]
                # A summary: every plan node, its index condition or filter, the buffers the
                # whole query touched (the line under the top node) and the timings.
                keep = ("->", "Index Cond", "Filter", "Rows Removed", "Execution Time", "Planning Time")
                shown = [
                    *plan[:2],
                    *(row for row in plan[2:] if any(k in row for k in keep)),
                ]
                for row in shown[:40]:
                    self.stdout.write(f"  {row}")
                if len(shown) > 40:
                    self.stdout.write(f"  ... ({len(shown) - 40} more lines)")
                    self.stdout.write(f"  {plan[-1]}")


def _short(number: int) -> str:
    return f"{number // 1000}k" if number % 1000 == 0 else str(number)
