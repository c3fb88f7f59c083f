"""Lifting a legal hold needs two information governance officers: one proposes it with a
reason, a different one approves or declines; the hold stays in force until the approval. The
service and a database CHECK refuse the proposer's own decision. And a hold being placed while
the worker disposes is never missed (a PostgreSQL advisory lock orders the two)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.models import SecurityEvent
from core.roles import Role
from records import selectors, services
from records.models import DisposalBatch, DisposalCandidate, LegalHold, LegalHoldLift, Tombstone
from referrals.models import ReferralDetail
from tests.conftest import sign_in_verified
from tests.support.threads import side_by_side

pytestmark = pytest.mark.django_db

REASON = "The inquiry has reported and released its instruction to keep these records"


@pytest.fixture
def officers(role_user):
    return (
        role_user(Role.INFORMATION_GOVERNANCE, username="ig-proposer"),
        role_user(Role.INFORMATION_GOVERNANCE, username="ig-second"),
    )


@pytest.fixture
def hold(officers, canary_referral):
    return services.legal_hold_place(
        user=officers[0],
        name="Independent inquiry",
        reason="The inquiry instructed that no records about child sexual abuse are destroyed",
        references=[canary_referral.reference],
    )


def test_a_proposed_lift_leaves_the_hold_in_force_until_a_second_officer_approves(
    officers, hold, canary_referral
):
    proposer, second = officers
    lift = services.legal_hold_lift_propose(user=proposer, hold_id=hold.pk, reason=REASON)
    hold.refresh_from_db()
    assert hold.in_force
    assert selectors.held_referral_ids([canary_referral.pk]) == {canary_referral.pk: hold}
    with pytest.raises(PermissionDenied):
        services.legal_hold_lift_decide(user=proposer, lift_id=lift.pk, approve=True)
    hold.refresh_from_db()
    assert hold.in_force
    services.legal_hold_lift_decide(user=second, lift_id=lift.pk, approve=True)
    hold.refresh_from_db()
    lift.refresh_from_db()
    assert not hold.in_force
    assert (hold.lifted_by, hold.lift_reason) == (second, REASON)
    assert (lift.proposed_by, lift.decided_by, lift.status) == (proposer, second, "approved")
    assert lift.decided_at is not None
    assert selectors.held_referral_ids([canary_referral.pk]) == {}
    # Information governance heard of both steps; the e-mail's detail names no record.
    events = (
        SecurityEvent.objects.filter(kind=SecurityEvent.Kind.LEGAL_HOLD_LIFT)
        .select_related("user", "actor")
        .order_by("at", "id")
    )
    assert [(e.user, e.actor) for e in events] == [(proposer, proposer), (proposer, second)]
    assert all(canary_referral.reference not in e.detail for e in events)
    assert [h.history_change_reason for h in lift.history.order_by("history_id")] == [
        "Lifting the legal hold proposed",
        "Lifting the legal hold approved",
    ]


def test_a_declined_lift_needs_a_reason_and_keeps_the_hold(officers, hold):
    proposer, second = officers
    lift = services.legal_hold_lift_propose(user=proposer, hold_id=hold.pk, reason=REASON)
    with pytest.raises(ValidationError) as refused:
        services.legal_hold_lift_decide(user=second, lift_id=lift.pk, approve=False, note="no")
    assert "note" in refused.value.message_dict
    services.legal_hold_lift_decide(
        user=second,
        lift_id=lift.pk,
        approve=False,
        note="The inquiry's solicitor has asked us to keep the records for another year",
    )
    hold.refresh_from_db()
    assert hold.in_force
    # Declined, it can be proposed again (by anyone, the decliner too) and decided once only.
    with pytest.raises(ValidationError):
        services.legal_hold_lift_decide(user=second, lift_id=lift.pk, approve=True)
    services.legal_hold_lift_propose(user=second, hold_id=hold.pk, reason=REASON)


def test_a_lift_is_proposed_with_a_reason_that_says_something_and_only_once(officers, hold):
    proposer, second = officers
    for weak in ["", "asdf qwer zxcv jkl", "please let me in right now ok"]:
        with pytest.raises(ValidationError) as refused:
            services.legal_hold_lift_propose(user=proposer, hold_id=hold.pk, reason=weak)
        assert "reason" in refused.value.message_dict
    services.legal_hold_lift_propose(user=proposer, hold_id=hold.pk, reason=REASON)
    with pytest.raises(ValidationError):
        services.legal_hold_lift_propose(user=second, hold_id=hold.pk, reason=REASON)


def test_only_information_governance_proposes_or_decides_a_lift(officers, hold, role_user):
    lift = services.legal_hold_lift_propose(user=officers[0], hold_id=hold.pk, reason=REASON)
    for role in (Role.MASH_MANAGER, Role.ADMINISTRATOR, Role.LEAD_REVIEWER):
        other = role_user(role, username=f"not-ig-{role}")
        with pytest.raises(PermissionDenied):
            services.legal_hold_lift_propose(user=other, hold_id=hold.pk, reason=REASON)
        with pytest.raises(PermissionDenied):
            services.legal_hold_lift_decide(user=other, lift_id=lift.pk, approve=True)


def test_the_database_refuses_a_lift_decided_by_its_proposer(officers, hold):
    proposer, _ = officers
    lift = LegalHoldLift.objects.create(
        hold=hold, reason=REASON, proposed_by=proposer, proposed_at=timezone.now()
    )
    lift.status, lift.decided_by, lift.decided_at = "approved", proposer, timezone.now()
    with pytest.raises(IntegrityError), transaction.atomic():
        lift.save()
    # Nor may a lift be decided by nobody, nor two wait at once.
    lift.refresh_from_db()
    lift.status = "approved"
    with pytest.raises(IntegrityError), transaction.atomic():
        lift.save()
    with pytest.raises(IntegrityError), transaction.atomic():
        LegalHoldLift.objects.create(
            hold=hold, reason=REASON, proposed_by=proposer, proposed_at=timezone.now()
        )


def test_the_hold_page_shows_the_pending_lift_and_refuses_the_proposers_own_approval(officers, hold):
    proposer, second = officers
    first_client, second_client = sign_in_verified(Client(), proposer), sign_in_verified(Client(), second)
    url = reverse("records:hold", kwargs={"hold_pk": hold.pk})
    refused = first_client.post(url, {"reason": "asdf"})
    assert refused.status_code == 400
    assert "There is a problem" in refused.content.decode()
    assert first_client.post(url, {"reason": REASON}).status_code == 302
    page = first_client.get(url).content.decode()
    assert "Lifting the hold: awaiting a second officer" in page
    assert "ig-proposer" in page
    assert "You proposed lifting this hold" in page
    assert "Lift awaiting a second officer" in first_client.get(reverse("records:home")).content.decode()
    forged = first_client.post(url, {"approve": "yes"})
    assert forged.status_code == 400
    assert "Another information governance officer must decide this proposal" in forged.content.decode()
    hold.refresh_from_db()
    assert hold.in_force
    page = second_client.get(url).content.decode()
    assert "Do you approve lifting this legal hold?" in page
    assert second_client.post(url, {"approve": "yes"}).status_code == 302
    hold.refresh_from_db()
    assert not hold.in_force
    page = second_client.get(url).content.decode()
    assert "approved by ig-second" in page
    assert "Propose lifting" not in page


def test_a_pending_lift_does_not_let_a_held_referral_be_disposed_of(
    officers, hold, canary_referral, settings, tmp_path
):
    settings.RETENTION_SCHEDULE = [
        {"record_type": "referral", "trigger": "last_activity", "years": 1, "source": "Test schedule"}
    ]
    settings.DISPOSAL_REGISTER_PATH = str(tmp_path / "register.jsonl")
    services.legal_hold_lift_propose(user=officers[0], hold_id=hold.pk, reason=REASON)
    assert services.disposal_review_list(today=timezone.localdate() + dt.timedelta(days=800)) == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_hold_being_placed_while_the_worker_disposes_is_not_missed(
    role_user, canary_referral, settings, tmp_path
):
    """The race: the batch is approved, the worker starts on a record while an officer's hold
    on it is being placed (not yet committed). The worker waits for the hold, sees it and keeps
    the record, instead of checking before the hold commits and erasing what it was placed for."""
    settings.RETENTION_SCHEDULE = [
        {"record_type": "referral", "trigger": "last_activity", "years": 1, "source": "Test schedule"}
    ]
    settings.DISPOSAL_REGISTER_PATH = str(tmp_path / "register.jsonl")
    decider = role_user(Role.INFORMATION_GOVERNANCE, username="race-decider")
    approver = role_user(Role.INFORMATION_GOVERNANCE, username="race-approver")
    placer = role_user(Role.INFORMATION_GOVERNANCE, username="race-placer")
    services.disposal_review_list(today=timezone.localdate() + dt.timedelta(days=800))
    candidate = DisposalCandidate.objects.get()
    services.disposal_candidate_decide(user=decider, candidate_id=candidate.pk, decision="dispose")
    batch = services.disposal_batch_create(user=decider)
    # Approved as the service approves it, without running the queued disposal yet (the worker
    # runs it below, in its own thread).
    DisposalBatch.objects.filter(pk=batch.pk).update(
        status=DisposalBatch.Status.APPROVED, approved_by=approver, approved_at=timezone.now()
    )

    placing, worker_started = threading.Event(), threading.Event()

    def place():
        with transaction.atomic():
            services.legal_hold_place(
                user=placer,
                name="Police operation",
                reason="The police asked that this referral is kept for their investigation",
                references=[canary_referral.reference],
            )
            placing.set()
            worker_started.wait(timeout=10)
            threading.Event().wait(0.5)  # the worker is now waiting on the holds' lock

    def dispose():
        placing.wait(timeout=10)
        worker_started.set()
        services.disposal_batch_carry_out(batch_id=batch.pk)

    errors = side_by_side(place, dispose)
    assert not errors, errors
    candidate.refresh_from_db()
    assert candidate.status == DisposalCandidate.Status.HELD
    assert candidate.hold == LegalHold.objects.get(name="Police operation")
    assert not Tombstone.objects.exists()
    assert "Qzcnry" in ReferralDetail.objects.get(referral=canary_referral).narrative
