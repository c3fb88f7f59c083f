"""Contexts under the retention schedule (registered with ``core.retention`` in
``ContextsConfig.ready``).

A place's context keeps the place's normalised key (``Context.place_key``, exempt: it comes from
what referrers wrote) to match the next referral naming it. When the last referral naming the
place is disposed of, nothing may keep it: the key is blanked, with every earlier version of the
context's history, and the time it went is recorded (``place_key_erased_at``). The context, its
alerts and what was done stay (not one referral's record); a later referral naming the same
place opens a new context, since nothing links them any more.
"""

from __future__ import annotations

from django.utils import timezone

from contexts.models import Context
from core import retention
from referrals.models import ReferralDetail


def referral_place_key_erase(*, record_id: int, user, reason: str) -> None:
    """Before a referral is disposed of: if no other referral not disposed of names its place,
    its place's context forgets the key (and its history with it)."""
    key = (
        ReferralDetail.objects.filter(referral_id=record_id)
        .values_list("incident_place_key", flat=True)
        .first()
    )
    if not key:
        return
    if (
        ReferralDetail.objects.filter(incident_place_key=key, referral__disposed_at__isnull=True)
        .exclude(referral_id=record_id)
        .exists()
    ):
        return  # another referral kept names the place: its key is still theirs to match
    for context in Context.objects.select_for_update().filter(kind=Context.Kind.PLACE, place_key=key):
        context.place_key_erased_at = timezone.now()
        retention.erase(context, user=user, reason=reason)


def register() -> None:
    retention.register_eraser("referral", referral_place_key_erase, erases=[Context])
