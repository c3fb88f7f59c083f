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
