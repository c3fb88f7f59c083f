"""Load clearly synthetic demo data: accounts, schools, historic and current referrals.

Deterministic (a fixed random seed, dates relative to a fixed window or to today) and
idempotent: a second run finds the data loaded and changes nothing. Refuses to run
unless DEBUG is on or --allow-non-debug is given, so it cannot reach production by accident.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.roles import GROUP_NAMES, Role
from core.timescales import local_zone
from referrals import changes, services
from referrals.models import AbuseForm, Outcome, RagLevel, Referral, ReferralSource, School

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - local demo only, documented in the README


def demo_totp_key(username: str) -> str:
    """A fixed authenticator key per demo account, so `manage.py demo_code` can print codes."""
    return hashlib.sha1(f"mash-demo-totp:{username}".encode(), usedforsecurity=False).hexdigest()


DEMO_USERS = [
    ("practitioner", "Pat", "Practitioner (demo)", Role.MASH_PRACTITIONER),
    ("practitioner2", "Priya", "Practitioner (demo)", Role.MASH_PRACTITIONER),
    ("manager", "Morgan", "Manager (demo)", Role.MASH_MANAGER),
    ("reviewer", "Robin", "Reviewer (demo)", Role.REVIEWER),
    ("reviewer2", "Sam", "Reviewer (demo)", Role.REVIEWER),
    ("leadreviewer", "Lee", "Lead Reviewer (demo)", Role.LEAD_REVIEWER),
    ("officer", "Olu", "Report Officer (demo)", Role.REPORT_OFFICER),
    ("infogov", "Ira", "Information Governance (demo)", Role.INFORMATION_GOVERNANCE),
    ("admin", "Ada", "Administrator (demo)", Role.ADMINISTRATOR),
]

FIRST_NAMES = [
    "Alex",
    "Bailey",
    "Casey",
    "Devon",
    "Eden",
    "Frankie",
    "Gray",
    "Harper",
    "Indy",
    "Jordan",
    "Kai",
    "Logan",
    "Morgan",
    "Nico",
    "Oakley",
    "Parker",
    "Quinn",
    "Riley",
    "Sam",
    "Taylor",
    "Umi",
    "Vic",
    "Wren",
    "Xan",
    "Yael",
    "Zuri",
    "Ash",
    "Billie",
    "Charlie",
    "Dani",
]
# Surnames that are plainly made up, so nobody mistakes demo data for a real child.
SURNAMES = [
    "Demoford",
    "Testwell",
    "Sampleton",
    "Fictley",
    "Mockridge",
    "Placeholm",
    "Dummersby",
    "Examplar",
    "Specimen",
    "Pretendle",
    "Notreal",
    "Synthwick",
    "Madeupson",
    "Fakenham-Demo",
    "Imaginby",
    "Trialworth",
    "Proxley",
    "Seedling",
    "Fixturby",
    "Stubbington-Demo",
]
TOWNS = [
    "Ashcombe",
    "Brookvale",
    "Castlemere",
    "Dunmore",
    "Elmhurst",
    "Foxley",
    "Greystone",
    "Hollowbrook",
    "Ivybridge Vale",
    "Juniper Hill",
    "Kingsmead",
    "Larkfield",
    "Millbrook",
    "Northwold",
    "Oakhampton Cross",
    "Pennyford",
    "Queensbury Green",
    "Riverside",
    "Stonebridge",
    "Thornbury Vale",
]
HISTORIC_START = dt.date(2017, 1, 3)
HISTORIC_END = dt.date(2019, 11, 29)
HISTORIC_COUNT = 320
SAME_SCHOOL_SEXUAL = 30
CURRENT_COUNT = 24
SEED = 20201126


class Command(BaseCommand):
    help = "Load deterministic, clearly synthetic demo data (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--allow-non-debug", action="store_true")

    def handle(self, *args, **options):
        if not settings.DEBUG and not options["allow_non_debug"]:
            raise CommandError("Demo data is for local use: run with DEBUG on, or pass --allow-non-debug.")
        users = self.ensure_users()
        if Referral.objects.filter(reference="MASH-2017-0001").exists():
            if self.cabinet_report(users):
                self.stdout.write(self.style.SUCCESS("Demo cabinet report loaded."))
            else:
                self.stdout.write("Demo data already loaded; nothing changed.")
        else:
            # Hundreds of referrals: the apps listening for saved referrals hear of them once
            # (contexts queues one full run, as for an import), not a job for each.
            with transaction.atomic(), changes.batched():
                self.load(users)
                self.review(users)
                self.cabinet_report(users)
                self.emergency_access(users)
            self.stdout.write(self.style.SUCCESS(f"Demo data loaded: {Referral.objects.count()} referrals."))
        from devtools.demo.guidance import seed_model_guidance

        if seed_model_guidance(users=users, first_names=FIRST_NAMES, surnames=SURNAMES):
            self.stdout.write(
                self.style.SUCCESS("Model guidance demo loaded: three versions, DSLs, training.")
            )
        from devtools.demo.children import seed_second_referral

        if seed_second_referral(users=users):
            self.stdout.write(self.style.SUCCESS("A child named in a second referral loaded."))
        from devtools.demo.contexts import seed_context_patterns

        if seed_context_patterns(users=users):
            self.stdout.write(
                self.style.SUCCESS(
                    "Contextual safeguarding demo loaded: a place, a group, and every rule run."
                )
            )
        from devtools.demo.records import seed_records

        if seed_records(users=users):
            self.stdout.write(
                self.style.SUCCESS(
                    "Records demo loaded: a legal hold, a disposal review, a subject access request."
                )
            )

    def cabinet_report(self, users) -> bool:
        """The 26 November 2020 cabinet report, rebuilt from the demo review (devtools.demo.scrutiny).
        Added to a database loaded before it existed; False when it is already there."""
        from devtools.demo.scrutiny import REPORT_TITLE, seed_cabinet_report
        from reviews.models import Review
        from scrutiny.models import CabinetReport

        review = Review.objects.filter(title__startswith="Review of peer on peer abuse cases").first()
        if review is None or CabinetReport.objects.filter(title=REPORT_TITLE).exists():
            return False
        report = seed_cabinet_report(
            officer=users["officer"],
            lead=users["leadreviewer"],
            review=review,
            reviewer=users["reviewer"],
            admin=users["admin"],
        )
        # The presenting officer's access to exempt Appendix 2 is given by information
        # governance (nobody grants to themselves), for a reason and for 30 days.
        from scrutiny.services import report_grant

        report_grant(
            granted_by=users["infogov"],
            report_id=report.pk,
            user=users["officer"],
            reason="Presenting officer: checks exempt Appendix 2 before the cabinet meeting",
        )
        return True

    # --- accounts ---------------------------------------------------------------------

    def ensure_users(self) -> dict[str, object]:
        User = get_user_model()
        usernames = [username for username, *_ in DEMO_USERS]
        existing = User.objects.in_bulk(usernames, field_name="username")
        groups = {group.name: group for group in Group.objects.filter(name__in=GROUP_NAMES.values())}
        with_device = set(
            TOTPDevice.objects.filter(user__username__in=usernames, name="Demo authenticator").values_list(
                "user__username", flat=True
            )
        )
        users = {}
        for username, first, last, role in DEMO_USERS:
            user = existing.get(username)
            if user is None:
                user = User(
                    username=username,
                    first_name=first,
                    last_name=last,
                    email=f"{username}@council.example",
                    # The Administrator works in the admin with the group's permissions only:
                    # no demo account is a superuser (docs/operations.md, "Break-fix superuser").
                    is_staff=role == Role.ADMINISTRATOR,
                )
                user.set_password(DEMO_PASSWORD)
                user.save()
                user.groups.add(groups[GROUP_NAMES[role]])
            if username not in with_device:
                TOTPDevice.objects.create(
                    user=user, name="Demo authenticator", key=demo_totp_key(username), confirmed=True
                )
            users[username] = user
        return users

    # --- data ---------------------------------------------------------------------------

    def load(self, users) -> None:
        rnd = random.Random(SEED)
        schools = self.schools(rnd)
        sources = {s.code: s for s in ReferralSource.objects.all()}
        forms = {f.code: f for f in AbuseForm.objects.all()}
        outcomes = {o.code: o for o in Outcome.objects.all()}
        rags = {r.code: r for r in RagLevel.objects.all()}
        sexual = [
            forms[c]
            for c in ("rape", "assault-by-penetration", "sexual-assault", "sexual-harassment", "sexting")
        ]
        other = [forms[c] for c in ("bullying", "physical", "initiation-hazing")]
        staff = [users["practitioner"], users["practitioner2"], users["manager"]]

        span = (HISTORIC_END - HISTORIC_START).days
        days = sorted(HISTORIC_START + dt.timedelta(days=rnd.randrange(span)) for _ in range(HISTORIC_COUNT))
        same_school_slots = set(rnd.sample(range(HISTORIC_COUNT), SAME_SCHOOL_SEXUAL))
        for index, day in enumerate(days):
            if day.weekday() >= 5:
                day -= dt.timedelta(days=day.weekday() - 4)
            received_at = dt.datetime.combine(
                day, dt.time(8 + rnd.randrange(9), rnd.choice((0, 15, 30, 45))), tzinfo=local_zone()
            )
            if index in same_school_slots:
                chosen_forms = rnd.sample(sexual, rnd.choice((1, 1, 2)))
                peer, same_school = True, True
            else:
                kind = rnd.random()
                if kind < 0.35:  # sexual, but different schools or not in school
                    chosen_forms, peer, same_school = rnd.sample(sexual, 1), True, False
                elif kind < 0.7:
                    chosen_forms, peer, same_school = rnd.sample(other, 1), True, rnd.random() < 0.5
                else:  # not peer-on-peer: the MASH front door sees every kind of referral
                    chosen_forms, peer, same_school = rnd.sample(other, 1), False, False
            referral = self.referral(
                rnd,
                users=staff,
                received_at=received_at,
                forms=chosen_forms,
                peer=peer,
                same_school=same_school,
                schools=schools,
                sources=sources,
            )
            self.work(rnd, referral, staff, outcomes, rags, historic=True)

        now = timezone.localtime()
        for index in range(CURRENT_COUNT):
            received_at = now - dt.timedelta(hours=2 + index * 7 + rnd.randrange(5))
            chosen = rnd.sample(sexual + other, rnd.choice((1, 2)))
            referral = self.referral(
                rnd,
                users=staff,
                received_at=received_at,
                forms=chosen,
                peer=True,
                same_school=rnd.random() < 0.6,
                schools=schools,
                sources=sources,
            )
            self.work(rnd, referral, staff, outcomes, rags, historic=False, stage=index % 4)

    def review(self, users) -> None:
        """The cabinet report's review: two periods, screened, assigned and mostly assessed."""
        from reviews import services as reviews
        from reviews.models import CriterionRating

        rnd = random.Random(SEED + 1)
        lead, reviewer = users["leadreviewer"], users["reviewer"]
        review = reviews.review_create(
            user=lead,
            title="Review of peer on peer abuse cases referred to MASH (demo)",
            terms_of_reference=(
                "Review historic referrals of peer-on-peer sexual abuse between pupils of the same school, "
                "and assess the advice MASH gave against the DfE guidance in force at the time."
            ),
            lead_reviewer=lead,
            reviewers=[reviewer, users["reviewer2"]],
            periods=[
                reviews.PeriodInput(
                    "January 2017 to October 2018", dt.date(2017, 1, 1), dt.date(2018, 10, 31)
                ),
                reviews.PeriodInput(
                    "November 2018 to November 2019", dt.date(2018, 11, 1), dt.date(2019, 11, 30)
                ),
            ],
            grants_end_on=timezone.localdate() + dt.timedelta(days=365),
            include_forms=list(AbuseForm.objects.filter(is_sexual=True)),
        )
        reviews.review_start_screening(user=lead, review_id=review.pk)
        for index, decision in enumerate(
            review.screening.filter(candidate=True).order_by("referral__received_at")
        ):
            excluded = index % 9 == 4
            reviews.screening_decide(
                user=lead,
                decision_id=decision.pk,
                include=not excluded,
                reason="insufficient_record" if excluded else "",
            )
        reviews.review_start_reviewing(user=lead, review_id=review.pk)
        ratings = [c for c, _ in CriterionRating.Rating.choices]
        weights = [5, 2, 3, 2, 1]
        for index, decision in enumerate(
            review.screening.filter(decision="include").order_by("referral__received_at")
        ):
            assessment = reviews.assessment_assign(
                user=lead, review_id=review.pk, referral_id=decision.referral_id, reviewer=reviewer
            )
            if index % 6 == 5:
                continue  # some still to do
            given = {
                r.criterion_id: reviews.RatingInput(
                    rnd.choices(ratings, weights)[0], "DEMO: see the MASH record."
                )
                for r in assessment.ratings.all()
            }
            assessment = reviews.assessment_save(
                user=reviewer,
                assessment_id=assessment.pk,
                expected_version=assessment.version,
                ratings=given,
                advice_matched=rnd.choice(["yes", "partly", "no", "not_recorded"]),
                overall_judgement=rnd.choice(
                    ["good", "requires_improvement", "requires_improvement", "inadequate"]
                ),
                good_practice="DEMO: decision made within a working day.",
                areas_for_improvement="DEMO: record the victim's wishes and the risk assessment.",
            )
            assessment = reviews.assessment_submit(
                user=reviewer, assessment_id=assessment.pk, expected_version=assessment.version
            )
            if index % 6 != 4:
                reviews.assessment_decide(user=lead, assessment_id=assessment.pk, accept=True)

    def emergency_access(self, users) -> None:
        """One emergency (break-glass) access by the manager, for information governance to review."""
        referral = Referral.objects.filter(status=Referral.Status.CLOSED).order_by("-received_at").first()
        services.referral_break_glass(
            request=None,
            user=users["manager"],
            referral_id=referral.pk,
            reason="DEMO: police asked tonight whether the alleged perpetrator has been referred before",
        )

    def schools(self, rnd) -> list[School]:
        phases = (
            [School.Phase.PRIMARY] * 34
            + [School.Phase.SECONDARY] * 16
            + [
                School.Phase.ALL_THROUGH,
                School.Phase.ALL_THROUGH,
                School.Phase.SPECIAL,
                School.Phase.SPECIAL,
                School.Phase.SPECIAL,
                School.Phase.ALTERNATIVE_PROVISION,
                School.Phase.ALTERNATIVE_PROVISION,
                School.Phase.COLLEGE,
                School.Phase.COLLEGE,
                School.Phase.COLLEGE,
            ]
        )
        suffix = {
            School.Phase.PRIMARY: "Primary School (demo)",
            School.Phase.SECONDARY: "Academy (demo)",
            School.Phase.ALL_THROUGH: "All-through School (demo)",
            School.Phase.SPECIAL: "Special School (demo)",
            School.Phase.ALTERNATIVE_PROVISION: "Pupil Referral Unit (demo)",
            School.Phase.COLLEGE: "College (demo)",
        }
        result = []
        for index, phase in enumerate(phases):
            town = TOWNS[index % len(TOWNS)]
            qualifier = ["", "St Demo's ", "North ", "South "][index // len(TOWNS)]
            school, _ = School.objects.get_or_create(
                urn=f"99{index + 1:04d}",
                defaults={
                    "name": f"{qualifier}{town} {suffix[phase]}",
                    "phase": phase,
                    "local_authority": "Exampleshire (demo)",
                },
            )
            result.append(school)
        return result

    def referral(self, rnd, *, users, received_at, forms, peer, same_school, schools, sources):
        user = rnd.choice(users)
        secondary = [
            s
            for s in schools
            if s.phase in (School.Phase.SECONDARY, School.Phase.ALL_THROUGH, School.Phase.SPECIAL)
        ]
        first_school = rnd.choice(secondary)
        incident = received_at.date() - dt.timedelta(days=rnd.randrange(0, 10))
        count = rnd.choice((2, 2, 2, 3)) if peer else 1
        children = []
        for position in range(count):
            age = rnd.randrange(11, 17)
            dob = incident - dt.timedelta(days=age * 365 + rnd.randrange(300))
            if position == 0:
                role, school = "victim", first_school
            elif position == 1 and peer:
                role = "alleged_perpetrator"
                school = (
                    first_school if same_school else rnd.choice([s for s in secondary if s != first_school])
                )
            else:
                role, school = "other", rnd.choice(secondary)
            children.append(
                services.ChildInput(
                    role=role,
                    first_name=rnd.choice(FIRST_NAMES),
                    last_name=rnd.choice(SURNAMES),
                    date_of_birth=dob,
                    gender=rnd.choice(("female", "male", "female", "male", "not_known")),
                    school=school,
                    year_group=str(min(13, max(7, age - 4))),
                    send=rnd.random() < 0.12,
                    address=f"{rnd.randrange(1, 120)} Demo Street, {rnd.choice(TOWNS)}",
                    postcode=f"ZZ{rnd.randrange(1, 99)} {rnd.randrange(1, 9)}DM",
                )
            )
        source_code = "school" if rnd.random() < 0.6 else rnd.choice(list(sources))
        consent = rnd.random() < 0.85
        names = ", ".join(f.name.lower() for f in forms)
        data = services.ReferralInput(
            received_at=received_at,
            source=sources[source_code],
            forms_of_abuse=forms,
            is_peer_on_peer=peer,
            incident_date=incident,
            location=rnd.choice(("school", "school", "online", "community", "transport", "home")),
            consent_sought=consent,
            consent_not_sought_reason=""
            if consent
            else "DEMO: seeking consent would have increased the risk to the child.",
            referrer_name=f"{rnd.choice(FIRST_NAMES)} {rnd.choice(SURNAMES)} (demo referrer)",
            referrer_role="Designated safeguarding lead" if source_code == "school" else "Caseworker",
            referrer_organisation="Demo organisation",
            referrer_contact=f"referrer{rnd.randrange(1000)}@school.example",
            narrative=(
                f"DEMO NARRATIVE (synthetic). Child A disclosed {names} by another pupil. "
                "The referrer recorded the account in the child's own words and "
                "informed the designated safeguarding lead."
            ),
        )
        return services.referral_create(user=user, data=data, children=children)

    def work(self, rnd, referral, staff, outcomes, rags, *, historic: bool, stage: int = 3) -> None:
        """Move a referral through screening, decision and closure as far as ``stage``."""
        user = rnd.choice(staff)
        if stage == 0:
            return
        screened_at = referral.received_at + dt.timedelta(hours=1) if historic else None
        referral = services.referral_start_screening(
            user=user,
            referral_id=referral.pk,
            expected_version=referral.version,
            rag=rnd.choice(list(rags.values())),
            at=screened_at,
        )
        if stage == 1:
            return
        sexual = referral.forms_of_abuse.filter(is_sexual=True).exists()
        chosen = (
            [outcomes["strategy-s47"], outcomes["police"]]
            if sexual and rnd.random() < 0.6
            else [rnd.choice([outcomes["advice"], outcomes["early-help"], outcomes["s17"], outcomes["nfa"]])]
        )
        lateness = dt.timedelta(hours=rnd.choice((3, 5, 20, 30, 60)))
        decided_at = referral.received_at + lateness if historic else None
        # Staff are practitioners then the manager: a decision a manager must authorise is
        # recorded by a practitioner and authorised by the manager (never one's own).
        needs_manager = bool(services.authorisation_rules_for(referral=referral, outcomes=chosen))
        if needs_manager:
            user = staff[0]
        decision = services.referral_record_decision(
            user=user,
            referral_id=referral.pk,
            expected_version=referral.version,
            decision=services.DecisionInput(
                outcomes=chosen,
                rationale="DEMO: threshold for statutory intervention considered against what is known.",
                advice={
                    name: rnd.random() < 0.6
                    for name in (
                        "dsl_informed",
                        "risk_assessment_advised",
                        "separation_advised",
                        "police_informed",
                        "parents_informed",
                        "support_advised",
                    )
                },
                advice_notes="DEMO: school advised to review its safeguarding arrangements.",
                guidance_departure_reason="DEMO: the police were already involved through the school.",
            ),
            at=decided_at,
            notify_referrer=False,
        )
        if needs_manager:
            referral.refresh_from_db()
            services.referral_authorise_decision(
                user=staff[-1],
                referral_id=referral.pk,
                expected_version=referral.version,
                decision_id=decision.pk,
                authorise=True,
                note="DEMO: authorised after discussion.",
                notify_referrer=False,
            )
        if stage == 2 or not historic:
            return
        referral.refresh_from_db()
        services.referral_close(
            user=user,
            referral_id=referral.pk,
            expected_version=referral.version,
            reason="DEMO: decision communicated and no further MASH action needed.",
            at=decided_at + dt.timedelta(days=2),
        )
