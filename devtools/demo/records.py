"""Demo data for the records lifecycle: a legal hold, a disposal review with a batch waiting for
a second officer, and a subject access request being prepared. Called by ``manage.py
seed_demo``; idempotent (does nothing once the demo hold exists).

Everything goes through the services, as information governance's work would. Nothing is
disposed of: the demo batch waits for a second officer's approval, which the demo has no
account for (an information governance officer may not approve their own batch).
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from records import services
from records.models import DisposalCandidate, LegalHold
from referrals.models import AbuseForm, ReferralChild

HOLD_NAME = "Independent inquiry: do not destroy records about child sexual abuse"


@transaction.atomic
def seed_records(*, users) -> bool:
    """Load the demo's records lifecycle unless it is there. Returns whether it loaded."""
    if LegalHold.objects.filter(name=HOLD_NAME).exists():
        return False
    infogov = users["infogov"]
    # The model case: a public inquiry's instruction not to destroy records about child sexual
    # abuse, which keeps every sexual-abuse referral whatever the retention schedule says.
    services.legal_hold_place(
        user=infogov,
        name=HOLD_NAME,
        reason=(
            "The inquiry's chair instructed every council to keep all records about child sexual "
            "abuse until the inquiry ends; the instruction is on the governance file."
        ),
        forms_of_abuse=list(AbuseForm.objects.filter(is_sexual=True)),
    )
    # The beat job's listing, as it would run overnight: historic referrals closed with no
    # further action more than six years ago reach the end of their period.
    services.disposal_review_list()
    waiting = list(
        DisposalCandidate.objects.filter(status=DisposalCandidate.Status.AWAITING_DECISION).order_by("pk")
    )
    if len(waiting) >= 2:
        services.disposal_candidate_decide(
            user=infogov,
            candidate_id=waiting[0].pk,
            decision=services.Decision.DISPOSE,
            reason="No further action; nothing links it to a record that is kept.",
        )
        services.disposal_candidate_decide(
            user=infogov,
            candidate_id=waiting[1].pk,
            decision=services.Decision.EXTEND,
            reason="The family's complaint to the ombudsman is still open; keep until it closes.",
            extended_to=timezone.localdate() + dt.timedelta(days=365),
        )
        services.disposal_batch_create(user=infogov)
    # A parent's subject access request about a victim in a historic referral.
    victim = (
        ReferralChild.objects.select_related("referral")
        .filter(role=ReferralChild.Role.VICTIM, referral__reference__startswith="MASH-2018-")
        .order_by("referral__reference", "label")
        .first()
    )
    if victim is not None:
        services.sar_log(
            user=infogov,
            reference=victim.referral.reference,
            label=victim.label,
            requester_name="Demo Parent (synthetic)",
            relation="parent",
            identity_verified="Passport and a council tax bill seen at the contact centre",
            received_on=timezone.localdate() - dt.timedelta(days=9),
        )
    return True
