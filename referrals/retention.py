"""Referrals under the retention schedule (registered with ``core.retention`` in ``ready``).

A referral's trigger dates: the youngest child's date of birth, the last activity on it (its
own changes, notes, decisions) and its closure. Its outcome is the outcomes of the decision in
force. Disposing of it removes every identity and every word written about it, here and (through
the other apps' erasers) wherever else it is held; the ``Referral`` row stays, pseudonymous, so
counts and decided papers still add up, and the records app keeps a tombstone of its facts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.core.files.storage import default_storage
from django.db.models import Max
from django.utils import timezone

from core import retention
from core.documents.services import export_packs_remove_for_record
from core.records import save_with_history
from referrals.models import (
    CaseNote,
    Child,
    ImportBatch,
    Referral,
    ReferralChild,
    ReferralDecision,
    ReferralDetail,
)


def _local_date(value: dt.datetime | None) -> dt.date | None:
    return None if value is None else timezone.localtime(value).date()


def referral_retention_dates(ids: Iterable[int]) -> dict[int, dict[str, dt.date | None]]:
    ids = list(ids)
    youngest = dict(
        ReferralChild.objects.filter(referral_id__in=ids)
        .values("referral_id")
        .annotate(dob=Max("child__date_of_birth"))
        .values_list("referral_id", "dob")
    )
    changed = dict(
        Referral.history.filter(id__in=ids)
        .values("id")
        .annotate(last=Max("history_date"))
        .values_list("id", "last")
    )
    noted = dict(
        CaseNote.objects.filter(referral_id__in=ids)
        .values("referral_id")
        .annotate(last=Max("recorded_at"))
        .values_list("referral_id", "last")
    )
    decided = dict(
        ReferralDecision.objects.filter(referral_id__in=ids)
        .values("referral_id")
        .annotate(last=Max("decided_at"))
        .values_list("referral_id", "last")
    )
    result = {}
    for referral in Referral.objects.filter(pk__in=ids).only("pk", "status", "closed_at", "received_at"):
        moments = [
            m
            for m in (
                referral.received_at,
                changed.get(referral.pk),
                noted.get(referral.pk),
                decided.get(referral.pk),
            )
            if m
        ]
        result[referral.pk] = {
            retention.Trigger.YOUNGEST_CHILD_DOB: youngest.get(referral.pk),
            retention.Trigger.LAST_ACTIVITY: _local_date(max(moments)),
            retention.Trigger.CLOSURE: (
                _local_date(referral.closed_at) if referral.status == Referral.Status.CLOSED else None
            ),
        }
    return result


def referral_outcomes(ids: Iterable[int]) -> dict[int, list[str]]:
    """The outcome codes of each referral's decision in force (empty: none decided)."""
    result: dict[int, list[str]] = {pk: [] for pk in ids}
    for referral_id, code in (
        ReferralDecision.objects.in_force()
        .filter(referral_id__in=list(result))
        .values_list("referral_id", "outcomes__code")
    ):
        if code:
            result[referral_id].append(code)
    return result


def referral_references(ids: Iterable[int]) -> dict[int, str]:
    return dict(Referral.objects.filter(pk__in=list(ids)).values_list("pk", "reference"))


def referral_tombstone(record_id: int) -> dict:
    """What is kept of a disposed referral: pseudonymous facts only."""
    referral = Referral.objects.select_related("source", "rag").get(pk=record_id)
    outcomes = referral_outcomes([record_id])[record_id]
    return {
        "reference": referral.reference,
        "received_on": _local_date(referral.received_at).isoformat(),
        "incident_on": referral.incident_date.isoformat(),
        "closed_on": (d.isoformat() if (d := _local_date(referral.closed_at)) else None),
        "source": referral.source.code,
        "location": referral.location,
        "peer_on_peer": referral.is_peer_on_peer,
        "rag": referral.rag.code if referral.rag_id else None,
        "forms_of_abuse": sorted(referral.forms_of_abuse.values_list("code", flat=True)),
        "outcomes": sorted(outcomes),
        "children": [
            {"label": label, "role": role}
            for label, role in referral.children.order_by("label").values_list("label", "role")
        ],
    }


def _discard_import_files(referral: Referral, needles: list[str]) -> None:
    """A stored import file still holding this referral's row is deleted (the batch stays)."""
    needles = [n.lower() for n in needles if n]
    for batch in ImportBatch.objects.exclude(file=""):
        try:
            with default_storage.open(batch.file.name, "rb") as handle:
                text = handle.read().decode("utf-8", "replace").lower()
        except FileNotFoundError:
            text = ""
        if any(needle in text for needle in needles):
            default_storage.delete(batch.file.name)
            batch.file = ""
            batch.save(update_fields=["file"])


def referral_dispose(*, record_id: int, user, reason: str) -> None:
    """Remove the referral's identity and narrative everywhere referrals keep it."""
    referral = Referral.objects.select_for_update().get(pk=record_id)
    links = list(referral.children.select_related("child"))
    detail = ReferralDetail.objects.filter(referral=referral).first()
    needles = [referral.external_id or ""]
    for link in links:
        needles += [f"{link.child.first_name} {link.child.last_name}", link.child.last_name]
    if detail is not None:
        needles += [detail.referrer_name, detail.narrative[:60]]
    _discard_import_files(referral, needles)

    # Grants name the case in their reasons; the record has nothing left to grant.
    retention.delete_without_trace([*referral.user_grants.all(), *referral.group_grants.all()])
    if detail is not None:
        retention.erase(detail, user=user, reason=reason)
    for decision in referral.decisions.all():
        retention.erase(decision, user=user, reason=reason)
        decision.guidance_expected = ""
        save_with_history(decision, user=user, reason=reason)
        retention.purge_history(ReferralDecision, [decision.pk], keep_latest=True)
    for note in referral.notes.all():
        retention.erase(note, user=user, reason=reason)

    # The children: a child who appears in a referral that is kept stays (that record is theirs).
    child_ids = {link.child_id for link in links}
    kept = set(
        ReferralChild.objects.filter(child_id__in=child_ids)
        .exclude(referral=referral)
        .values_list("child_id", flat=True)
    )
    retention.delete_without_trace(links)
    retention.delete_without_trace(Child.objects.filter(pk__in=child_ids - kept))

    export_packs_remove_for_record(record_type=Referral._meta.label_lower, record_id=referral.pk)
    referral.external_id = None
    referral.disposed_at = timezone.now()
    save_with_history(referral, user=user, reason=reason, new_version=True)
    retention.purge_history(Referral, [referral.pk], keep_latest=True)


def register() -> None:
    retention.register_record_type(
        "referral",
        label="Referral",
        model=Referral,
        dates=referral_retention_dates,
        outcomes=referral_outcomes,
        tombstone=referral_tombstone,
        dispose=referral_dispose,
        references=referral_references,
        erases=[Child, ReferralDetail, ReferralDecision, CaseNote],
    )
