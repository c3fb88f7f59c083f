"""Prepare the database a ``make loadtest`` run serves: seeded once, kept, re-used.

- Seeds (only when the database does not hold them yet) 100,000 referrals with the issue-2
  bench's ``Seeder`` and about a million grant rows with ``bench_grants``' ``GrantSeeder``
  (both imported, not copied), then the demo data (``seed_demo``: the demo accounts and the
  cabinet report's case review, which gives the reviewers something to rate).
- Writes a JSON file for the load generator: for each load user group, signed-in sessions
  that are already verified with two-factor sign-in, made here the way the tests make them
  (a confirmed authenticator and the session key django-otp sets when a code is accepted).
  Authentication itself is not weakened: the server runs production settings and every
  request still goes through the session, two-factor and grant checks. The file also lists
  the referrals the practitioners work on (live ones, which the MASH groups hold grants on),
  the assessments the reviewers rate, and the cabinet report the officers revise and export
  (public and exempt packs: the officer is given a grant on the report for the exempt one).

The sessions file holds live session keys: it is written with mode 0600 under ``VAR_DIR``
and the sessions expire like any other (30 minutes idle).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from core import permissions
from core.documents.registry import object_for
from core.models import ExportJob
from devtools.management.commands import bench as issue2
from devtools.management.commands import bench_grants
from referrals.models import Referral
from reviews.models import CaseAssessment, Review
from scrutiny import services as scrutiny_services
from scrutiny.models import CabinetReport

SEED = 20261129
#: The load user groups and the demo accounts that play them.
GROUPS = {
    "practitioner": ["practitioner", "practitioner2"],
    "reviewer": ["reviewer"],
    "officer": ["officer"],
}
MARKER_USER = bench_grants.USERNAMES[bench_grants.MANY]


class Command(BaseCommand):
    help = (
        "Seed (once) the load-test database DATABASE_URL names with 100,000 referrals and about a "
        "million grant rows plus the demo data, and write verified sessions for the load users. "
        "PostgreSQL only; the database name must start with mash_load."
    )

    def add_arguments(self, parser):
        parser.add_argument("--referrals", type=int, default=bench_grants.REFERRALS)
        parser.add_argument("--grant-rows", type=int, default=bench_grants.GRANT_ROWS)
        parser.add_argument("--visible", type=int, default=bench_grants.VISIBLE)
        parser.add_argument("--batch-size", type=int, default=5_000)
        parser.add_argument("--sessions", type=int, default=10, help="Sessions per load user group.")
        parser.add_argument("--work", type=int, default=2_000, help="Referrals the practitioners work on.")
        parser.add_argument(
            "--out", default=str(Path(settings.VAR_DIR) / "loadtest" / "sessions.json"), help="Sessions file."
        )
        # This command runs with local settings (production settings do not install devtools);
        # the server runs production's, whose cookie names differ (__Host-): loadtest/run.sh
        # reads them from the production settings and passes them here.
        parser.add_argument("--session-cookie", default=settings.SESSION_COOKIE_NAME)
        parser.add_argument("--csrf-cookie", default=settings.CSRF_COOKIE_NAME)

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError("The load test needs PostgreSQL: set DATABASE_URL=postgres://…/mash_load")
        name = connection.settings_dict["NAME"]
        if not name.startswith("mash_load"):
            raise CommandError(
                f"Refusing to seed {name!r}: the load-test database's name starts with mash_load"
            )
        call_command("migrate", verbosity=0, interactive=False)
        User = get_user_model()
        if User.objects.filter(username=MARKER_USER).exists():
            self.stdout.write(f"{name} is already seeded: {Referral.objects.count():,} referrals")
        else:
            self.seed(options)
        call_command("seed_demo", allow_non_debug=True, stdout=self.stdout)
        self.write_sessions(options)

    def seed(self, options) -> None:
        started = time.perf_counter()
        rnd = random.Random(SEED)
        helper = issue2.Command(stdout=self.stdout, stderr=self.stderr)
        seeder = issue2.Seeder(
            rnd=rnd,
            now=timezone.now(),
            batch_size=options["batch_size"],
            users=helper.make_users(),
            schools=helper.make_schools(rnd),
        )
        seeder.seed(options["referrals"])
        self.stdout.write(
            f"Seeded {options['referrals']:,} referrals in {time.perf_counter() - started:.0f} s"
        )
        grants = bench_grants.GrantSeeder(rnd=random.Random(SEED + 1), options=options)
        grants.seed()
        helper.vacuum_analyze()
        self.stdout.write(
            f"Seeded {grants.written:,} grant rows; {bench_grants.grant_counts()}; "
            f"{time.perf_counter() - started:.0f} s in all"
        )

    def write_sessions(self, options) -> None:
        User = get_user_model()
        rnd = random.Random(SEED + 2)
        # The cookies the server reads them from (production's are __Host- names).
        out: dict = {
            "groups": {},
            "cookies": {"session": options["session_cookie"], "csrf": options["csrf_cookie"]},
        }
        for group, usernames in GROUPS.items():
            sessions = []
            for number in range(options["sessions"]):
                user = User.objects.get(username=usernames[number % len(usernames)])
                sessions.append(self.verified_session(user))
            out["groups"][group] = sessions
        live = list(
            Referral.objects.exclude(status=Referral.Status.CLOSED)
            .filter(reference__startswith="MASH-")
            .order_by("-received_at")
            .values_list("pk", flat=True)[: options["work"] * 5]
        )
        out["referrals"] = sorted(rnd.sample(live, min(options["work"], len(live))))
        out["assessments"] = list(
            CaseAssessment.objects.filter(
                reviewer__username="reviewer",
                status__in=[CaseAssessment.Status.ASSIGNED, CaseAssessment.Status.RETURNED],
            )
            .order_by("pk")
            .values_list("pk", flat=True)
        )

        out["reviews"] = list(Review.objects.order_by("pk").values_list("pk", flat=True))
        # The officers' pack exports: the demo cabinet report, in the variants they may take.
        report = CabinetReport.objects.order_by("pk").first()
        if report is None:
            raise CommandError("The demo data has no cabinet report: the officers have nothing to export")
        officer = User.objects.get(username=GROUPS["officer"][0])
        # Packs are made from a published version of the report (the papers as frozen).
        version = report.versions.order_by("-number").first()
        if version is None:
            raise CommandError("The demo cabinet report has no published version: nothing to export")
        entry, version = object_for("cabinet_report_version", version.pk)
        if not permissions.has_grant(officer, report, permissions.VIEW_EXEMPT):
            # Officers exporting the exempt pack hold a grant, given as information governance
            # gives one: through the service, with a reason and an expiry.
            scrutiny_services.report_grant(
                granted_by=User.objects.get(username="infogov"),
                report_id=report.pk,
                user=officer,
                reason="Load test: the report officer exports the exempt pack",
                expires_on=timezone.localdate() + dt.timedelta(days=7),
            )
        out["report"] = version.pk
        # The sessions are verified with two-factor sign-in, so the grant is all the exempt
        # pack asks for (this command's own user object is not a verified session).
        if not entry.may_view(officer, version):
            raise CommandError(f"{officer} may not read cabinet report {report.pk}: no exports to load")
        out["variants"] = [ExportJob.Variant.PUBLIC.value, ExportJob.Variant.EXEMPT.value]
        path = Path(options["out"])
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(out, handle, indent=1)
        self.stdout.write(
            f"Wrote {sum(len(s) for s in out['groups'].values())} verified sessions, "
            f"{len(out['referrals'])} referrals, {len(out['assessments'])} assessments and cabinet report "
            f"{out['report']} ({', '.join(out['variants'])} packs) to {path}"
        )

    @staticmethod
    def verified_session(user) -> str:
        """A signed-in session verified with the user's authenticator, as a code would leave it."""
        device, _ = TOTPDevice.objects.get_or_create(
            user=user, name="Demo authenticator", defaults={"confirmed": True}
        )
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.create()
        return session.session_key
