"""Writes for the records lifecycle: legal holds, the disposal review, batches and disposal.

Who: information governance only (``core.roles``), and nobody approves their own disposal: a
batch's approver is neither the person who made it nor anyone who decided a record in it
(and the database refuses an approver who made the batch). Disposal runs in the worker
(``records.tasks.dispose_batch``, queued through ``core.outbox``) as the approver, and checks
every record against the legal holds again at that moment.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone

from core import retention
from core.access_log import record_access_many
from core.models import AccessLogEntry, SecurityEvent
from core.outbox import enqueue_on_commit
from core.reasons import reason_check
from core.records import save_with_history
from core.roles import Role, has_role
from core.security_events import security_event_record
from records import selectors, subject_access
from records.models import (
    DisclosureLogEntry,
    DisposalBatch,
    DisposalCandidate,
    LegalHold,
    LegalHoldLift,
    Redaction,
    SubjectAccessRequest,
    Tombstone,
)
from referrals.models import AbuseForm, Referral, ReferralChild

logger = logging.getLogger(__name__)

Status = DisposalCandidate.Status

#: The longest one extension may keep a record past today.
MAX_EXTENSION_YEARS = 10


#: The legal holds' lock (a PostgreSQL advisory lock, held to the end of the transaction).
#: Placing a hold takes it alone; disposing of a record takes it shared before it checks the
#: holds. So a hold being placed while the worker disposes is either seen by the worker's check
#: or placed after the record is gone, never missed in between (READ COMMITTED would otherwise
#: let the worker check before the hold commits and erase what the hold was placed to keep).
_HOLDS_LOCK_KEY = 0x5245_434F  # "RECO"


def _holds_lock(*, shared: bool) -> None:
    if connection.vendor != "postgresql":
        return  # SQLite (the demo) runs one writer at a time anyway
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s)", [_HOLDS_LOCK_KEY])


def _require_governance(user) -> None:
    if not has_role(user, Role.INFORMATION_GOVERNANCE):
        raise PermissionDenied("Only information governance manages records' retention")


# --- Legal holds ---------------------------------------------------------------------------------


@transaction.atomic
def legal_hold_place(
    *,
    user,
    name: str,
    reason: str,
    received_from: dt.date | None = None,
    received_to: dt.date | None = None,
    forms_of_abuse: list[AbuseForm] | None = None,
    references: list[str] | None = None,
) -> LegalHold:
    _require_governance(user)
    _holds_lock(shared=False)
    errors = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = "Enter the name of the legal hold"
    try:
        reason = reason_check(reason, what="why the records must be kept")
    except ValidationError as error:
        errors.update(error.message_dict)
    references = [r.strip().upper() for r in references or [] if r.strip()]
    referrals = list(Referral.objects.filter(reference__in=references))
    missing = sorted(set(references) - {r.reference for r in referrals})
    if missing:
        errors["references"] = f"There is no referral {', '.join(missing)}"
    if received_from and received_to and received_from > received_to:
        errors["received_to"] = "The end of the date range must be the same as or after its start"
    if not (referrals or received_from or received_to or forms_of_abuse) and "references" not in errors:
        errors["references"] = "Enter the referrals the hold covers, or a date range or forms of abuse"
    if errors:
        raise ValidationError(errors)
    hold = LegalHold(
        name=name,
        reason=reason,
        received_from=received_from,
        received_to=received_to,
        placed_by=user,
        placed_at=timezone.now(),
    )
    save_with_history(
        hold,
        user=user,
        reason="Legal hold placed",
        m2m={"forms_of_abuse": forms_of_abuse or [], "referrals": referrals},
    )
    return hold


def _hold_lift_event(*, lift: LegalHoldLift, actor, what: str, request=None) -> None:
    """Information governance (every officer and the team mailbox) hears of each step, so the
    second officer learns a lift waits for them; the e-mail names the hold by number only."""
    security_event_record(
        kind=SecurityEvent.Kind.LEGAL_HOLD_LIFT,
        user=lift.proposed_by,
        actor=actor,
        detail=f"Lift of legal hold {lift.hold_id} {what}",
        request=request,
        tell_user=False,
    )


@transaction.atomic
def legal_hold_lift_propose(*, user, hold_id: int, reason: str, request=None) -> LegalHoldLift:
    """One officer proposes lifting a hold, with a reason; the hold stays in force until a
    different officer approves (``legal_hold_lift_decide``)."""
    _require_governance(user)
    hold = LegalHold.objects.select_for_update().get(pk=hold_id)
    if not hold.in_force:
        raise ValidationError({"reason": "This legal hold has already been lifted"})
    if hold.lifts.filter(status=LegalHoldLift.Status.PROPOSED).exists():
        raise ValidationError({"reason": "Lifting this legal hold has already been proposed"})
    lift = LegalHoldLift(
        hold=hold,
        reason=reason_check(reason, what="why the hold should be lifted"),
        proposed_by=user,
        proposed_at=timezone.now(),
    )
    save_with_history(lift, user=user, reason="Lifting the legal hold proposed")
    _hold_lift_event(
        lift=lift, actor=user, what="proposed: a second officer must approve it", request=request
    )
    return lift


@transaction.atomic
def legal_hold_lift_decide(
    *, user, lift_id: int, approve: bool, note: str = "", request=None
) -> LegalHoldLift:
    """A second officer (never the proposer) approves the lift (the hold stops being in force
    now) or declines it with a reason (the hold stays)."""
    _require_governance(user)
    lift = LegalHoldLift.objects.select_for_update().select_related("hold").get(pk=lift_id)
    if lift.status != LegalHoldLift.Status.PROPOSED:
        raise ValidationError({"approve": "This proposal has already been decided"})
    if user.pk == lift.proposed_by_id:
        raise PermissionDenied("Another information governance officer must decide this proposal")
    hold = LegalHold.objects.select_for_update().get(pk=lift.hold_id)
    if approve:
        lift.decision_note = (note or "").strip()
    else:
        lift.decision_note = reason_check(note, field="note", what="why the hold stays")
    lift.decided_by, lift.decided_at = user, timezone.now()
    lift.status = LegalHoldLift.Status.APPROVED if approve else LegalHoldLift.Status.DECLINED
    save_with_history(
        lift, user=user, reason=f"Lifting the legal hold {'approved' if approve else 'declined'}"
    )
    if approve:
        hold.lift_reason = lift.reason
        hold.lifted_by, hold.lifted_at = user, lift.decided_at
        save_with_history(hold, user=user, reason="Legal hold lifted (approved by a second officer)")
    _hold_lift_event(lift=lift, actor=user, what="approved" if approve else "declined", request=request)
    return lift


# --- The disposal review ---------------------------------------------------------------------------


def _rule_and_due(record_type: str, dates: dict, outcomes: list[str]):
    """The rule that keeps the record longest among its outcomes, and the day it ends."""
    best = None
    for outcome in outcomes or [""]:
        rule = retention.rule_for(record_type, outcome)
        if rule is None:
            continue
        due = rule.end_of_period(dates)
        if due is not None and (best is None or due > best[1]):
            best = (rule, due)
    return best


def disposal_review_list(*, today: dt.date | None = None, chunk: int = 2000) -> int:
    """List every record past the end of its retention period into the disposal review (beat).

    A record is not listed while it is listed already, kept longer (until its new date), under
    a legal hold, or disposed of. Safe to run twice. Returns how many were listed."""
    today = today or timezone.localdate()
    listed = 0
    for key, entry in retention.record_types().items():
        last = 0
        while True:
            ids = list(
                entry.model._default_manager.filter(pk__gt=last)
                .order_by("pk")
                .values_list("pk", flat=True)[:chunk]
            )
            if not ids:
                break
            last = ids[-1]
            listed += _list_chunk(key, entry, ids, today)
    return listed


def _list_chunk(key, entry, ids, today) -> int:
    dates = entry.dates(ids)
    outcomes = entry.outcomes(ids)
    due = {}
    for record_id in ids:
        found = _rule_and_due(key, dates.get(record_id, {}), outcomes.get(record_id, []))
        if found and found[1] <= today:
            due[record_id] = found
    if not due:
        return 0
    skip = set(
        DisposalCandidate.objects.filter(record_type=key, record_id__in=due)
        .filter(status__in=[*DisposalCandidate.OPEN, Status.DISPOSED])
        .values_list("record_id", flat=True)
    )
    skip |= set(
        DisposalCandidate.objects.filter(
            record_type=key, record_id__in=due, status=Status.EXTENDED, extended_to__gt=today
        ).values_list("record_id", flat=True)
    )
    skip |= set(
        Tombstone.objects.filter(record_type=key, record_id__in=due).values_list("record_id", flat=True)
    )
    skip |= set(selectors.held_ids(key, due))
    listed = 0
    now = timezone.now()
    references = entry.references([record_id for record_id in due if record_id not in skip])
    for record_id, (rule, due_on) in due.items():
        if record_id in skip:
            continue
        with transaction.atomic():
            candidate = DisposalCandidate(
                record_type=key,
                record_id=record_id,
                reference=references[record_id],
                rule=rule.key,
                rule_description=rule.describe(),
                rule_source=rule.source,
                trigger_date=dates[record_id][rule.trigger],
                due_on=due_on,
                listed_at=now,
            )
            save_with_history(candidate, user=None, reason="Listed for the disposal review")
        listed += 1
    return listed


class Decision:
    DISPOSE = "dispose"
    EXTEND = "extend"
    HOLD = "hold"


@transaction.atomic
def disposal_candidate_decide(
    *,
    user,
    candidate_id: int,
    decision: str,
    reason: str = "",
    extended_to: dt.date | None = None,
    hold_name: str = "",
) -> DisposalCandidate:
    """Dispose of it (it joins the next batch), keep it longer (reason and new date), or hold
    it (a legal hold naming the record, with its name and reason)."""
    _require_governance(user)
    candidate = DisposalCandidate.objects.select_for_update().get(pk=candidate_id)
    if candidate.status != Status.AWAITING_DECISION:
        raise ValidationError({"decision": "A decision has already been recorded for this record"})
    today = timezone.localdate()
    if decision == Decision.DISPOSE:
        if selectors.held_ids(candidate.record_type, [candidate.record_id]):
            raise ValidationError({"decision": "This record is under a legal hold and cannot be disposed of"})
        candidate.status = Status.DISPOSE
        candidate.reason = (reason or "").strip()
    elif decision == Decision.EXTEND:
        errors = {}
        try:
            candidate.reason = reason_check(reason, what="why the record is kept longer")
        except ValidationError as error:
            errors.update(error.message_dict)
        if extended_to is None:
            errors["extended_to"] = "Enter the date the record is kept until"
        elif extended_to <= today:
            errors["extended_to"] = "The date the record is kept until must be in the future"
        elif extended_to > today.replace(year=today.year + MAX_EXTENSION_YEARS):
            errors["extended_to"] = (
                f"The date the record is kept until must be within {MAX_EXTENSION_YEARS} years"
            )
        if errors:
            raise ValidationError(errors)
        candidate.status, candidate.extended_to = Status.EXTENDED, extended_to
    elif decision == Decision.HOLD:
        if candidate.record_type != "referral":
            raise ValidationError({"decision": "Only referrals can be put under a legal hold"})
        try:
            hold = legal_hold_place(
                user=user, name=hold_name, reason=reason, references=[candidate.reference]
            )
        except ValidationError as error:
            raise ValidationError(
                {("hold_name" if k == "name" else k): v for k, v in error.message_dict.items()}
            ) from error
        candidate.status, candidate.hold, candidate.reason = Status.HELD, hold, hold.reason
    else:
        raise ValidationError({"decision": "Select what to do with the record"})
    candidate.decided_by, candidate.decided_at = user, timezone.now()
    save_with_history(candidate, user=user, reason=f"Decided: {candidate.get_status_display()}")
    return candidate


@transaction.atomic
def disposal_batch_create(*, user) -> DisposalBatch:
    """Put every record decided for disposal (and not yet in a batch) into a new batch."""
    _require_governance(user)
    waiting = list(selectors.candidates_to_batch().select_for_update(of=("self",)))
    if not waiting:
        raise ValidationError({None: "There are no records decided for disposal to put in a batch"})
    batch = DisposalBatch(created_by=user, created_at=timezone.now())
    save_with_history(batch, user=user, reason="Disposal batch made")
    for candidate in waiting:
        candidate.batch = batch
        save_with_history(candidate, user=user, reason=f"In disposal batch {batch.pk}")
    return batch


@transaction.atomic
def disposal_batch_approve(*, user, batch_id: int, approve: bool, note: str = "") -> DisposalBatch:
    """A second person approves (the disposal is queued) or declines (the records go back to
    the review) a batch."""
    _require_governance(user)
    batch = DisposalBatch.objects.select_for_update().get(pk=batch_id)
    if batch.status != DisposalBatch.Status.AWAITING_APPROVAL:
        raise ValidationError({"approve": "This batch has already been decided"})
    deciders = set(batch.candidates.values_list("decided_by_id", flat=True))
    if user.pk == batch.created_by_id or user.pk in deciders:
        raise PermissionDenied("Another information governance officer must approve this batch")
    if not approve:
        batch.approval_note = reason_check(note, field="note", what="why the batch is not approved")
    else:
        batch.approval_note = (note or "").strip()
    batch.approved_by, batch.approved_at = user, timezone.now()
    if approve:
        batch.status = DisposalBatch.Status.APPROVED
        save_with_history(batch, user=user, reason="Disposal batch approved")
        enqueue_on_commit("records.tasks.dispose_batch", batch.pk)
    else:
        batch.status = DisposalBatch.Status.REJECTED
        save_with_history(batch, user=user, reason="Disposal batch not approved")
        for candidate in batch.candidates.select_for_update():
            candidate.status, candidate.batch = Status.AWAITING_DECISION, None
            candidate.decided_by = candidate.decided_at = None
            save_with_history(candidate, user=user, reason="Batch not approved: back to the review")
    return batch


def disposal_batch_carry_out(*, batch_id: int) -> DisposalBatch:
    """Dispose of every record of an approved batch (the worker; safe to run twice).

    Each record in its own transaction: a record under a legal hold now is kept (and marked so),
    one already disposed of is skipped. The approver is the acting user of every change."""
    batch = DisposalBatch.objects.select_related("approved_by").get(pk=batch_id)
    if batch.status not in (DisposalBatch.Status.APPROVED, DisposalBatch.Status.DISPOSED):
        return batch
    user = batch.approved_by
    for candidate_id in batch.candidates.filter(status=Status.DISPOSE).values_list("pk", flat=True):
        _dispose_one(candidate_id, user=user, batch=batch)
    with transaction.atomic():
        batch = DisposalBatch.objects.select_for_update().get(pk=batch_id)
        if batch.status == DisposalBatch.Status.APPROVED:
            batch.status, batch.disposed_at = DisposalBatch.Status.DISPOSED, timezone.now()
            save_with_history(batch, user=user, reason="Disposal batch carried out")
    return batch


def _dispose_one(candidate_id: int, *, user, batch: DisposalBatch) -> None:
    with transaction.atomic():
        candidate = DisposalCandidate.objects.select_for_update().get(pk=candidate_id)
        if candidate.status != Status.DISPOSE:
            return
        _holds_lock(shared=True)
        held = selectors.held_ids(candidate.record_type, [candidate.record_id])
        if held:
            candidate.status, candidate.hold = Status.HELD, held[candidate.record_id]
            save_with_history(candidate, user=user, reason="Kept: under a legal hold at disposal")
            return
        _erase_record(
            record_type=candidate.record_type,
            record_id=candidate.record_id,
            reference=candidate.reference,
            rule=candidate.rule,
            certificate=batch.certificate_number,
            batch=batch,
            user=user,
        )
        candidate.status = Status.DISPOSED
        save_with_history(candidate, user=user, reason="Disposed of")
    logger.info(
        "records: disposed of %s %s in batch %s", candidate.record_type, candidate.record_id, batch.pk
    )


def _erase_record(*, record_type, record_id, reference, rule, certificate, batch, user) -> Tombstone:
    entry = retention.record_type(record_type)
    facts = entry.tombstone(record_id)
    reason = f"Disposed of under the retention schedule ({rule})"
    retention.erase_and_dispose(record_type, record_id=record_id, user=user, reason=reason)
    tombstone = Tombstone.objects.create(
        record_type=record_type,
        record_id=record_id,
        reference=reference,
        facts=facts,
        rule=rule,
        batch=batch,
        certificate=certificate,
        disposed_at=timezone.now(),
    )
    line = {
        "record_type": record_type,
        "record_id": record_id,
        "reference": reference,
        "rule": rule,
        "certificate": certificate,
        "disposed_at": tombstone.disposed_at.isoformat(),
    }
    transaction.on_commit(lambda: _register_append(line))
    return tombstone


# --- The disposal register: what a restore must dispose of again ------------------------------------


def _register_append(line: dict) -> None:
    """Append one disposal to the register (JSON lines, references only: no exempt data). It is
    kept apart from the database and its backups (docs/operations.md), so a restore of a backup
    taken before the disposal can dispose of the record again."""
    path = Path(settings.DISPOSAL_REGISTER_PATH)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as register:
        register.write(json.dumps(line, sort_keys=True) + "\n")


def disposals_reapply(*, path: str | None = None, user=None) -> list[str]:
    """After a restore: dispose again of every record the register says was disposed of and the
    restored database still holds (no tombstone). Safe to run twice. Returns the references."""
    path = Path(path or settings.DISPOSAL_REGISTER_PATH)
    if not path.exists():
        return []
    done = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        if not raw.strip():
            continue
        line = json.loads(raw)
        entry = retention.record_type(line["record_type"])
        with transaction.atomic():
            if Tombstone.objects.filter(
                record_type=line["record_type"], record_id=line["record_id"]
            ).exists():
                continue
            if not entry.model._default_manager.filter(pk=line["record_id"]).exists():
                continue  # the backup was taken before the record was made
            tombstone = _erase_record(
                record_type=line["record_type"],
                record_id=line["record_id"],
                reference=line["reference"],
                rule=line["rule"],
                certificate=line["certificate"],
                batch=None,
                user=user,
            )
            DisposalCandidate.objects.filter(
                record_type=line["record_type"],
                record_id=line["record_id"],
                status__in=DisposalCandidate.OPEN,
            ).delete()
        done.append(tombstone.reference)
    return done


# --- Subject access requests -----------------------------------------------------------------------

#: An extension may take the deadline to at most this many calendar months after receipt.
SAR_MAX_MONTHS = 3


def sar_due_on(received_on: dt.date) -> dt.date:
    """One calendar month after receipt; at a month's end, the last day of the next month
    (the ICO's rule: received 31 January, due 28 or 29 February)."""
    return received_on + relativedelta(months=1)


@transaction.atomic
def sar_log(
    *,
    user,
    reference: str,
    label: str,
    requester_name: str,
    relation: str,
    identity_verified: str,
    received_on: dt.date,
    request=None,
) -> SubjectAccessRequest:
    """Log a request about the child who is ``label`` in referral ``reference``, and propose
    its third-party redactions."""
    _require_governance(user)
    errors = {}
    link = (
        ReferralChild.objects.select_related("referral")
        .filter(referral__reference=(reference or "").strip().upper(), label=(label or "").strip().upper())
        .first()
    )
    if link is None:
        errors["reference"] = "Enter the reference of a referral the child appears in, and their label"
    if not (requester_name or "").strip():
        errors["requester_name"] = "Enter the name of the person making the request"
    if relation not in SubjectAccessRequest.Relation.values:
        errors["relation"] = "Select the requester's relation to the child"
    if not (identity_verified or "").strip():
        errors["identity_verified"] = "Enter how the requester's identity was verified"
    if received_on is None or received_on > timezone.localdate():
        errors["received_on"] = "The date the request was received must be today or in the past"
    if errors:
        raise ValidationError(errors)
    sar = SubjectAccessRequest(
        subject_id=link.child_id,
        subject_label=f"{link.referral.reference}, Child {link.label}",
        requester_name=requester_name.strip(),
        relation=relation,
        identity_verified=identity_verified.strip(),
        received_on=received_on,
        due_on=sar_due_on(received_on),
        logged_by=user,
        logged_at=timezone.now(),
    )
    save_with_history(sar, user=user, reason="Subject access request logged")
    records = subject_access.gather(sar)
    _propose_missing(sar, records, user=user)
    _log_reads(request, user, sar, records, "Subject access request logged: records gathered")
    return sar


def _propose_missing(sar, records, *, user) -> int:
    """Propose every third-party redaction the records call for now that the request has not
    had yet (a redaction the reviewer removed is not proposed again). Returns how many."""
    known = {text.lower() for text in Redaction.objects.filter(request=sar).values_list("text", flat=True)}
    added = 0
    for proposal in subject_access.propose(sar, records):
        text = proposal.text[:500]
        if text.lower() in known:
            continue
        known.add(text.lower())
        redaction = Redaction(
            request=sar,
            text=text,
            about=proposal.about[:200],
            code=proposal.code,
            origin=Redaction.Origin.PROPOSED,
        )
        save_with_history(redaction, user=user, reason="Redaction proposed")
        added += 1
    return added


def _log_reads(request, user, sar, records, reason: str) -> None:
    record_access_many(
        request=request,
        user=user,
        records=[(record.referral, record.referral.reference) for record in records],
        fields=[f"Subject access request {sar.reference}"],
        channel=AccessLogEntry.Channel.PAGE,
        reason=reason,
    )


@transaction.atomic
def sar_extend(*, user, sar_id: int, extended_to: dt.date | None, reason: str) -> SubjectAccessRequest:
    _require_governance(user)
    sar = SubjectAccessRequest.objects.select_for_update().get(pk=sar_id)
    errors = {}
    latest = sar.received_on + relativedelta(months=SAR_MAX_MONTHS)
    if extended_to is None:
        errors["extended_to"] = "Enter the new date the response is due"
    elif extended_to <= sar.due_on:
        errors["extended_to"] = "The new date must be after the date the response was due"
    elif extended_to > latest:
        errors["extended_to"] = (
            f"The new date must be no later than {latest:%-d %B %Y} (three months after receipt)"
        )
    try:
        reason = reason_check(reason, what="why the response needs longer")
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    sar.extended_to, sar.extension_reason = extended_to, reason
    save_with_history(sar, user=user, reason="Deadline extended", new_version=True)
    return sar


@transaction.atomic
def sar_redaction_add(*, user, sar_id: int, text: str, code: str, reason: str, request=None) -> Redaction:
    _require_governance(user)
    sar = SubjectAccessRequest.objects.select_for_update().get(pk=sar_id)
    if sar.status != SubjectAccessRequest.Status.OPEN:
        raise ValidationError({"text": "This request has been signed off"})
    errors = {}
    if len((text or "").strip()) < 2:
        errors["text"] = "Enter the text to withhold"
    if code not in Redaction.Code.values:
        errors["code"] = "Select the exemption that applies"
    try:
        reason = reason_check(reason, what="why it is withheld")
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    redaction = Redaction(
        request=sar,
        text=text.strip()[:500],
        about="Added by the reviewer",
        code=code,
        origin=Redaction.Origin.ADDED,
        reason=reason,
        added_by=user,
    )
    save_with_history(redaction, user=user, reason="Redaction added")
    sar.version += 1
    save_with_history(sar, user=user, reason="Redaction added")
    return redaction


@transaction.atomic
def sar_redaction_remove(*, user, redaction_id: int, reason: str) -> Redaction:
    _require_governance(user)
    redaction = Redaction.objects.select_for_update().select_related("request").get(pk=redaction_id)
    if redaction.request.status != SubjectAccessRequest.Status.OPEN:
        raise ValidationError({"reason": "This request has been signed off"})
    if not redaction.active:
        raise ValidationError({"reason": "This redaction has already been removed"})
    redaction.removal_reason = reason_check(reason, what="why it is disclosed")
    redaction.removed_by, redaction.removed_at = user, timezone.now()
    save_with_history(redaction, user=user, reason="Redaction removed")
    sar = redaction.request
    sar.version += 1
    save_with_history(sar, user=user, reason="Redaction removed")
    return redaction


def sar_sign_off(*, user, sar_id: int, request=None) -> tuple[SubjectAccessRequest, int]:
    """The reviewer signs the pack off: it is rendered (the documents pipeline, in the worker),
    and the disclosure is logged. Returns the request and the export job's id."""
    _require_governance(user)
    with transaction.atomic():
        sar = SubjectAccessRequest.objects.select_for_update().get(pk=sar_id)
        if sar.status != SubjectAccessRequest.Status.OPEN:
            raise ValidationError({None: "This request has already been signed off"})
        # The records may have changed since the request was logged (another child added to a
        # referral, a new referral naming the subject): what they call for now is proposed, and
        # the pack waits for the reviewer to see it in context.
        records = subject_access.gather(sar)
        added = _propose_missing(sar, records, user=user)
        if not added:
            return _sar_sign_off_now(sar, records, user=user, request=request)
        sar.version += 1
        save_with_history(sar, user=user, reason="Redactions proposed at sign-off")
        _log_reads(request, user, sar, records, "Subject access request: records gathered again at sign-off")
    raise ValidationError(
        {
            None: f"The records have changed since the request was logged: {added} more "
            f"redaction{'s were' if added != 1 else ' was'} proposed. Check the redactions, then sign off"
        }
    )


def _sar_sign_off_now(sar, records, *, user, request) -> tuple[SubjectAccessRequest, int]:
    """Sign off, queue the pack and log the disclosure (inside sar_sign_off's transaction)."""
    from core.documents.services import export_job_request
    from core.models import ExportJob

    sar.status, sar.signed_off_by, sar.signed_off_at = (
        SubjectAccessRequest.Status.SIGNED_OFF,
        user,
        timezone.now(),
    )
    save_with_history(sar, user=user, reason="Pack signed off", new_version=True)
    job, _ = export_job_request(
        user=user, kind="subject_access_pack", object_id=sar.pk, variant=ExportJob.Variant.EXEMPT, obj=sar
    )
    active = [r for r in sar.redactions.all() if r.active]
    counts: dict[str, int] = {}
    for redaction in active:
        counts[redaction.code] = counts.get(redaction.code, 0) + 1
    DisclosureLogEntry.objects.create(
        request=sar,
        disclosed_at=timezone.now(),
        disclosed_by=user,
        export_job_id=job.pk,
        references=[record.referral.reference for record in records],
        exemptions=counts,
    )
    _log_reads(request, user, sar, records, "Subject access pack signed off and rendered")
    return sar, job.pk
