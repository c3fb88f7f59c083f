"""Which guidance applied when. One place answers it for every part of the product."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet

from guidance.models import Criterion, GuidanceDocument


def documents_in_force(*, on: dt.date) -> QuerySet[GuidanceDocument]:
    """Documents in force on a date: started on or before it, and no later edition of the
    same series had taken over by then."""
    newer = GuidanceDocument.objects.filter(
        series=OuterRef("series"), in_force_from__gt=OuterRef("in_force_from"), in_force_from__lte=on
    )
    return GuidanceDocument.objects.filter(in_force_from__lte=on).exclude(Exists(newer)).order_by("series")


def criteria_in_force(*, on: dt.date, forms_of_abuse: Iterable[int] | None = None) -> QuerySet[Criterion]:
    """The criteria to assess a referral received on ``on`` against (optionally for its forms)."""
    criteria = Criterion.objects.filter(document__in=documents_in_force(on=on)).select_related("document")
    if forms_of_abuse is not None:
        forms = list(forms_of_abuse)
        criteria = criteria.filter(Q(forms_of_abuse__isnull=True) | Q(forms_of_abuse__in=forms)).distinct()
    return criteria.order_by("document__in_force_from", "document__series", "order")


@dataclass
class TimelineRow:
    document: GuidanceDocument
    until: dt.date | None  # the last day in force, or None while current


def guidance_timeline() -> list[TimelineRow]:
    documents = list(GuidanceDocument.objects.order_by("in_force_from", "series"))
    rows = []
    for document in documents:
        later = [
            d.in_force_from
            for d in documents
            if d.series == document.series and d.in_force_from > document.in_force_from
        ]
        rows.append(
            TimelineRow(document=document, until=min(later) - dt.timedelta(days=1) if later else None)
        )
    return rows


# --- model guidance ---------------------------------------------------------------------------


def published_version():
    """The one version schools may read, or None. Nothing else is ever served without sign-in."""
    from guidance.models import ModelGuidanceVersion

    return (
        ModelGuidanceVersion.objects.filter(status=ModelGuidanceVersion.Status.PUBLISHED)
        .select_related("decision__report__meeting")
        .prefetch_related("sections")
        .first()
    )


def guidance_versions():
    from guidance.models import ModelGuidanceVersion

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

    from guidance.models import SafeguardingLead
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
    from guidance.models import TrainingRecord
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
    from guidance.models import Acknowledgement
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


# --- definitions (Appendix 7) ----------------------------------------------------------------


def abuse_forms_with_guidance():
    """The forms-of-abuse taxonomy with the edition that first named each, for Appendix 7."""
    from referrals.models import AbuseForm

    return AbuseForm.objects.filter(active=True).order_by("order", "name")


def decision_expectations(on: dt.date, forms_of_abuse: list[int]):
    """The criteria in force on ``on`` (for these forms) that a MASH decision is checked
    against: those that say which outcomes or advice meet them. Registered with
    ``referrals.expectations`` by the guidance app."""
    from referrals.expectations import Expectation

    criteria = (
        criteria_in_force(on=on, forms_of_abuse=forms_of_abuse)
        .filter(Q(met_by_outcomes__isnull=False) | ~Q(met_by_advice=""))
        .distinct()
        .prefetch_related("met_by_outcomes")
    )
    return [
        Expectation(
            document=f"{c.document.title}",
            code=c.code,
            text=c.text,
            outcome_codes=frozenset(o.code for o in c.met_by_outcomes.all()),
            advice=c.met_by_advice,
        )
        for c in criteria
    ]
