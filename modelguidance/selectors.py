"""Reads for the model guidance: the published version, DSL training coverage, acknowledgements."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q

# --- model guidance ---------------------------------------------------------------------------


def published_version():
    """The one version schools may read, or None. Nothing else is ever served without sign-in."""
    from modelguidance.models import ModelGuidanceVersion

    return (
        ModelGuidanceVersion.objects.filter(status=ModelGuidanceVersion.Status.PUBLISHED)
        .select_related("decision__report__meeting")
        .prefetch_related("sections")
        .first()
    )


def guidance_versions():
    from modelguidance.models import ModelGuidanceVersion

    return ModelGuidanceVersion.objects.select_related("created_by").order_by("-number")


# --- DSL training coverage (KCSIE: DSL training at least every two years) ----------------------

TRAINING_YEARS = 2


def training_due(completed_on: dt.date) -> dt.date:
    """The last day training done on ``completed_on`` counts as current: its second
    anniversary (28 February when it was done on 29 February)."""
    try:
        return completed_on.replace(year=completed_on.year + TRAINING_YEARS)
    except ValueError:  # 29 February, two years on, is not a date
        return completed_on.replace(year=completed_on.year + TRAINING_YEARS, day=28)


def training_cutoff(on: dt.date) -> dt.date:
    """The earliest completion date still current on ``on``: ``training_due(d) >= on``
    exactly when ``d >= training_cutoff(on)``."""
    try:
        return on.replace(year=on.year - TRAINING_YEARS)
    except ValueError:  # on 29 February, training done on 28 February two years before lapsed
        return dt.date(on.year - TRAINING_YEARS, 3, 1)


@dataclass
class SchoolCoverage:
    school: object
    dsl: object | None
    last_trained: dt.date | None
    deputies: list
    on: dt.date

    @property
    def due(self) -> dt.date | None:
        return training_due(self.last_trained) if self.last_trained else None

    @property
    def current(self) -> bool:
        return self.due is not None and self.due >= self.on

    @property
    def gap(self) -> str:
        if self.dsl is None:
            return "No designated safeguarding lead recorded"
        if self.last_trained is None:
            return "No DSL training recorded"
        if not self.current:
            return f"DSL training was due by {self.due:%-d %B %Y}"
        return ""


@dataclass
class Coverage:
    on: dt.date
    schools: list[SchoolCoverage]

    @property
    def total(self) -> int:
        return len(self.schools)

    @property
    def covered(self) -> int:
        return sum(1 for s in self.schools if s.current)

    @property
    def gaps(self) -> list[SchoolCoverage]:
        return [s for s in self.schools if not s.current]

    @property
    def percent(self) -> int:
        return round(100 * self.covered / self.total) if self.total else 0


def training_coverage(*, on: dt.date, school_id: int | None = None) -> Coverage:
    """Per active school: its DSL and whether their latest training is within two years of ``on``.

    Three queries whatever the number of schools: schools, DSLs with their latest training
    (an aggregate), deputies.
    """
    from django.db.models import Max

    from modelguidance.models import SafeguardingLead
    from referrals.models import School

    schools = School.objects.filter(active=True).order_by("name")
    if school_id is not None:
        schools = schools.filter(pk=school_id)
    leads = (
        SafeguardingLead.objects.filter(active=True, school__in=schools)
        .annotate(last_trained=Max("training__completed_on", filter=Q(training__completed_on__lte=on)))
        .order_by("school_id", "role", "name")
    )
    dsl_by_school, deputies = {}, {}
    for lead in leads:
        if lead.role == SafeguardingLead.Role.DSL:
            dsl_by_school[lead.school_id] = lead
        else:
            deputies.setdefault(lead.school_id, []).append(lead)
    rows = []
    for school in schools:
        dsl = dsl_by_school.get(school.pk)
        row = SchoolCoverage(
            school=school,
            dsl=dsl,
            last_trained=dsl.last_trained if dsl else None,
            deputies=deputies.get(school.pk, []),
            on=on,
        )
        rows.append(row)
    return Coverage(on=on, schools=rows)


def schools_with_current_dsl_training(*, on: dt.date):
    """The same answer in SQL: active schools whose active DSL trained since the cutoff."""
    from modelguidance.models import TrainingRecord
    from referrals.models import School

    current = TrainingRecord.objects.filter(
        lead__school=OuterRef("pk"),
        lead__role="dsl",
        lead__active=True,
        completed_on__gte=training_cutoff(on),
        completed_on__lte=on,
    )
    return School.objects.filter(active=True).filter(Exists(current))


# --- acknowledgements -------------------------------------------------------------------------


@dataclass
class AcknowledgementStatus:
    acknowledged: list
    waiting: list
    no_dsl: list

    @property
    def asked(self) -> int:
        return len(self.acknowledged) + len(self.waiting)


def acknowledgement_status(*, guidance_version) -> AcknowledgementStatus:
    from modelguidance.models import Acknowledgement
    from referrals.models import School

    acks = list(
        Acknowledgement.objects.filter(guidance_version=guidance_version).select_related("school", "lead")
    )
    asked = {a.school_id for a in acks}
    return AcknowledgementStatus(
        acknowledged=[a for a in acks if a.acknowledged_at],
        waiting=[a for a in acks if not a.acknowledged_at],
        no_dsl=list(School.objects.filter(active=True).exclude(pk__in=asked).order_by("name"))
        if guidance_version.published_at
        else [],
    )


# --- DSL training reminders -------------------------------------------------------------------


@dataclass
class ReminderPlan:
    due: list  # SchoolCoverage rows to remind now
    recent: list  # (SchoolCoverage, the last reminder) reminded within the interval
    no_dsl: list  # SchoolCoverage rows with nobody to e-mail

    def __len__(self) -> int:
        return len(self.due)


def last_training_reminders() -> dict:
    """Each school's latest reminder (school id -> TrainingReminder), in one query."""
    from modelguidance.models import TrainingReminder

    latest = {}
    for reminder in TrainingReminder.objects.select_related("requested_by").order_by(
        "school_id", "-requested_at"
    ):
        latest.setdefault(reminder.school_id, reminder)
    return latest


def training_reminder_plan(*, on: dt.date) -> ReminderPlan:
    """Who a reminder would go to now: each school whose DSL training is out of date on ``on``,
    apart from those reminded in the last ``REMINDER_INTERVAL_DAYS`` and those with no DSL."""
    from django.utils import timezone

    from modelguidance.services import REMINDER_INTERVAL_DAYS

    since = timezone.now() - dt.timedelta(days=REMINDER_INTERVAL_DAYS)
    latest = last_training_reminders()
    plan = ReminderPlan(due=[], recent=[], no_dsl=[])
    for row in training_coverage(on=on).gaps:
        last = latest.get(row.school.pk)
        if row.dsl is None:
            plan.no_dsl.append(row)
        elif last is not None and last.requested_at >= since:
            plan.recent.append((row, last))
        else:
            plan.due.append(row)
    return plan
