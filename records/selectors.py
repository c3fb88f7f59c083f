"""Reads for the records lifecycle. Nothing here returns exempt data: references, dates, rules."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from core import retention
from records import subject_access
from records.models import (
    DisposalBatch,
    DisposalCandidate,
    LegalHold,
    LegalHoldLift,
    SubjectAccessRequest,
    Tombstone,
)
from referrals.models import Outcome, Referral


def holds_in_force() -> QuerySet[LegalHold]:
    return LegalHold.objects.filter(lifted_at__isnull=True).prefetch_related("forms_of_abuse")


def holds_in_force_listed() -> QuerySet[LegalHold]:
    """The holds in force for the records page, each marked if lifting it awaits a second officer."""
    pending = LegalHoldLift.objects.filter(hold=OuterRef("pk"), status=LegalHoldLift.Status.PROPOSED)
    return (
        LegalHold.objects.filter(lifted_at__isnull=True)
        .select_related("placed_by")
        .annotate(lift_pending=Exists(pending))
    )


def _hold_scope(hold: LegalHold) -> Q:
    """The referrals a hold covers, as a condition on Referral."""
    scope = Q(legal_holds=hold)
    form_ids = [form.pk for form in hold.forms_of_abuse.all()]
    if hold.received_from or hold.received_to or form_ids:
        by_scope = Q()
        tz = timezone.get_current_timezone()
        if hold.received_from:
            by_scope &= Q(received_at__gte=dt.datetime.combine(hold.received_from, dt.time(0), tzinfo=tz))
        if hold.received_to:
            end = hold.received_to + dt.timedelta(days=1)
            by_scope &= Q(received_at__lt=dt.datetime.combine(end, dt.time(0), tzinfo=tz))
        if form_ids:
            by_scope &= Q(forms_of_abuse__in=form_ids)
        scope |= by_scope
    return scope


def held_referral_ids(ids: Iterable[int]) -> dict[int, LegalHold]:
    """Of these referrals, those under a hold in force, each with one hold that covers it."""
    ids = list(ids)
    held: dict[int, LegalHold] = {}
    for hold in holds_in_force():
        for referral_id in (
            Referral.objects.filter(pk__in=ids)
            .filter(_hold_scope(hold))
            .values_list("pk", flat=True)
            .distinct()
        ):
            held.setdefault(referral_id, hold)
    return held


def held_ids(record_type: str, ids: Iterable[int]) -> dict[int, LegalHold]:
    """Records of ``record_type`` under a hold in force (holds scope referrals)."""
    if record_type != "referral":
        return {}
    return held_referral_ids(ids)


def hold_lift_pending(hold: LegalHold) -> LegalHoldLift | None:
    """The proposal to lift the hold that waits for a second officer, if any."""
    return (
        hold.lifts.filter(status=LegalHoldLift.Status.PROPOSED).select_related("proposed_by").first()
        if hold.in_force
        else None
    )


def hold_lifts_decided(hold: LegalHold) -> list[LegalHoldLift]:
    return list(
        hold.lifts.exclude(status=LegalHoldLift.Status.PROPOSED).select_related("proposed_by", "decided_by")
    )


def hold_referral_count(hold: LegalHold) -> int:
    return Referral.objects.filter(_hold_scope(hold)).distinct().count()


def schedule_rows() -> list[dict]:
    types = retention.record_types()
    outcomes = dict(Outcome.objects.values_list("code", "name"))
    return [
        {
            "rule": rule,
            "record_type": types[rule.record_type].label if rule.record_type in types else rule.record_type,
            "outcome": (
                "Any other outcome"
                if rule.outcome == retention.ANY_OUTCOME
                else outcomes.get(rule.outcome, rule.outcome)
            ),
        }
        for rule in retention.schedule()
    ]


def candidates_awaiting() -> QuerySet[DisposalCandidate]:
    return DisposalCandidate.objects.filter(status=DisposalCandidate.Status.AWAITING_DECISION).select_related(
        "decided_by"
    )


def candidates_to_batch() -> QuerySet[DisposalCandidate]:
    return DisposalCandidate.objects.filter(
        status=DisposalCandidate.Status.DISPOSE, batch__isnull=True
    ).select_related("decided_by")


def batches() -> QuerySet[DisposalBatch]:
    return DisposalBatch.objects.select_related("created_by", "approved_by")


def batch_detail(batch_id: int) -> DisposalBatch:
    return batches().get(pk=batch_id)


def batch_candidates(batch: DisposalBatch) -> QuerySet[DisposalCandidate]:
    return batch.candidates.select_related("decided_by").order_by("reference")


def batch_tombstones(batch: DisposalBatch) -> QuerySet[Tombstone]:
    return batch.tombstones.order_by("reference")


# --- Subject access requests ---------------------------------------------------------------------


def sars_by_deadline() -> list[SubjectAccessRequest]:
    requests = list(SubjectAccessRequest.objects.select_related("logged_by"))
    requests.sort(key=lambda sar: (sar.status != SubjectAccessRequest.Status.OPEN, sar.deadline, sar.pk))
    return requests


def sars_overdue(today: dt.date | None = None) -> list[SubjectAccessRequest]:
    today = today or timezone.localdate()
    return [
        sar
        for sar in SubjectAccessRequest.objects.filter(status=SubjectAccessRequest.Status.OPEN)
        if sar.deadline < today
    ]


def sar_detail(sar_id: int) -> SubjectAccessRequest:
    return (
        SubjectAccessRequest.objects.select_related("logged_by", "signed_off_by")
        .prefetch_related("redactions", "disclosures__disclosed_by")
        .get(pk=sar_id)
    )


def sar_references(sar: SubjectAccessRequest) -> list[str]:
    if sar.subject_id is None:
        return []
    return list(
        Referral.objects.filter(children__child_id=sar.subject_id)
        .order_by("received_at")
        .values_list("reference", flat=True)
    )


def sar_redaction_rows(sar: SubjectAccessRequest):
    """The records gathered, and each redaction with where it appears (the reviewer's view)."""
    records = subject_access.gather(sar)
    rows = [
        {"redaction": redaction, "contexts": subject_access.contexts(redaction, records)}
        for redaction in sar.redactions.all()
    ]
    return records, rows


# --- Disposed records (registered with core.retention: the pages that show a record ask) ------


def disposals_of(record_type: str, ids: list[int]) -> dict[int, retention.Disposal]:
    """Of these records, the disposed ones: when, the certificate, the rule (as the disposal
    review described it), and the tombstone's facts. One query."""
    rule_described = DisposalCandidate.objects.filter(
        record_type=OuterRef("record_type"),
        record_id=OuterRef("record_id"),
        status=DisposalCandidate.Status.DISPOSED,
    ).values("rule_description")[:1]
    tombstones = Tombstone.objects.filter(record_type=record_type, record_id__in=ids).annotate(
        rule_described=Subquery(rule_described)
    )
    return {
        tombstone.record_id: retention.Disposal(
            disposed_at=tombstone.disposed_at,
            certificate=tombstone.certificate,
            rule=tombstone.rule_described or tombstone.rule,
            facts=tombstone.facts,
        )
        for tombstone in tombstones
    }
