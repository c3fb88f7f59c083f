"""Contexts under the retention schedule (registered with ``core.retention`` in
``ContextsConfig.ready``).

A place's context keeps the place's normalised key (``Context.place_key``, exempt: it comes from
what referrers wrote) to match the next referral naming it. When no referral naming the place
is left undisposed, nothing may keep it: the key is blanked, with every earlier version of the
context's history, and the time it went is recorded (``place_key_erased_at``). The context, its
alerts and what was done stay (not one referral's record); a later referral naming the same
place opens a new context, since nothing links them any more.

An alert's evidence ties a referral to a school, a place or a child (which school a child
attends is exempt): when the referral is disposed of, its evidence rows go with every history
row of them, and each alert's history records that a referral was disposed of (not which).

The school index (``contexts.school_index``) ties the referral to its children's schools: its
rows go too.
"""

from __future__ import annotations

from django.utils import timezone

from contexts import school_index
from contexts.models import Alert, AlertEvidence, Context, SchoolReferral
from core import retention
from core.records import save_with_history
from referrals.models import ReferralDetail

#: The alert's history when one of its referrals is disposed of (no reference: that is the point).
DISPOSED = "A referral disposed of under the retention schedule"


def _place_contexts(record_id: int) -> list[int]:
    """Every place context the referral is or was tied to: the places it names or named (its
    detail's history, read before the referral's own disposal purges it) and the place alerts
    it is or was in the evidence of (taken-out rows included, from the evidence's history)."""
    keys = set(
        ReferralDetail.objects.filter(referral_id=record_id).values_list("incident_place_key", flat=True)
    )
    keys |= set(
        ReferralDetail.history.filter(referral_id=record_id).values_list("incident_place_key", flat=True)
    )
    keys.discard("")
    keys.discard(None)
    ids = set(
        Context.objects.filter(kind=Context.Kind.PLACE, place_key__in=keys).values_list("pk", flat=True)
    )
    for rows in (AlertEvidence.objects, AlertEvidence.history):
        ids |= set(
            rows.filter(referral_id=record_id, alert__context__kind=Context.Kind.PLACE).values_list(
                "alert__context_id", flat=True
            )
        )
    return sorted(ids)


def referral_place_key_erase(*, record_id: int, user, reason: str) -> None:
    """Before a referral is disposed of: every place context it is or was tied to forgets its
    key (and its history with it) when no other referral not disposed of names that place.

    The contexts' rows are locked (in id order) before that is asked, so two disposals of the
    last two referrals naming a place cannot both see the other still kept and both skip it:
    the second waits for the first to commit, then sees it disposed of."""
    ids = _place_contexts(record_id)
    if not ids:
        return
    for context in Context.objects.select_for_update().filter(pk__in=ids).order_by("pk"):
        if not context.place_key:
            continue  # erased already
        if (
            ReferralDetail.objects.filter(
                incident_place_key=context.place_key, referral__disposed_at__isnull=True
            )
            .exclude(referral_id=record_id)
            .exists()
        ):
            continue  # another referral kept names the place: its key is still theirs to match
        context.place_key_erased_at = timezone.now()
        retention.erase(context, user=user, reason=reason)


def referral_evidence_erase(*, record_id: int, user, reason: str) -> None:
    """Before a referral is disposed of: its evidence rows in every alert go, with every history
    row of them (taken-out rows included), so nothing ties the referral to a school, place or
    child; each alert's history records that a referral was disposed of, without its reference."""
    rows = list(AlertEvidence.objects.filter(referral_id=record_id))
    alert_ids = {row.alert_id for row in rows}
    alert_ids |= set(AlertEvidence.history.filter(referral_id=record_id).values_list("alert_id", flat=True))
    # The alert its save raised names it too (``raised_by_referral``, in the alert's history).
    alert_ids |= set(Alert.objects.filter(raised_by_referral_id=record_id).values_list("pk", flat=True))
    evidence_ids = {row.pk for row in rows}
    evidence_ids |= set(AlertEvidence.history.filter(referral_id=record_id).values_list("id", flat=True))
    if not alert_ids:
        return
    alerts = list(Alert.objects.select_for_update().filter(pk__in=alert_ids).order_by("pk"))
    retention.delete_without_trace(rows)
    retention.purge_history(AlertEvidence, evidence_ids)
    for alert in alerts:
        if alert.raised_by_referral_id == record_id:
            alert.raised_by_referral = None  # its first history row still says a save raised it
        save_with_history(alert, user=user, reason=DISPOSED, new_version=True)
    # The earlier versions of those alerts keep the rest of what happened; only the id goes.
    Alert.history.filter(raised_by_referral_id=record_id).update(raised_by_referral_id=None)


def register() -> None:
    # The place first: it reads the evidence (and its history) that the second removes.
    retention.register_eraser("referral", referral_place_key_erase, erases=[Context])
    retention.register_eraser("referral", referral_evidence_erase, erases=[AlertEvidence, Alert])
    # The school index ties the referral to its children's schools.
    retention.register_eraser("referral", school_index.erase, erases=[SchoolReferral])
