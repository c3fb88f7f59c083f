"""Writes to referrals. Every change goes through one of these functions.

Each runs in a transaction, records who acted and why (django-simple-history change
reasons), checks the record's version so a stale edit is refused rather than applied, and
refuses an illegal status transition with a clear error.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from core import permissions
from core.access_log import record_access
from core.concurrency import Conflict, lock_for_change
from core.models import AccessLogEntry, SecurityEvent
from core.outbox import enqueue_on_commit
from core.permissions import CHANGE, VIEW_EXEMPT, GrantKind
from core.reasons import reason_check, reason_error
from core.records import save_with_history
from core.roles import GROUP_NAMES, MASH_ROLES, Role
from core.security_events import security_event_record
from core.timescales import add_opening_hours, age_on, decision_due_at, local_zone
from referrals import changes
from referrals.expectations import Expectation, expectations_for
from referrals.models import (
    AbuseForm,
    CaseNote,
    Child,
    DecisionAuthorisationRule,
    Outcome,
    RagLevel,
    ReferenceSequence,
    Referral,
    ReferralChild,
    ReferralDecision,
    ReferralDetail,
    ReferralDraft,
    ReferralSource,
    School,
)

logger = logging.getLogger(__name__)

MAX_CHILD_AGE = 18
MAX_CHILD_AGE_SEND = 25


class ReferralConflict(Conflict):
    """The referral changed after the user loaded it; their change was not applied."""

    def __init__(self, referral: Referral, expected_version: int):
        self.referral = referral
        super().__init__(
            referral,
            expected_version,
            f"Referral {referral.reference} is at version {referral.version}, not {expected_version}",
        )


class IllegalTransition(ValidationError):
    pass


# --- Inputs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChildInput:
    role: str
    existing_child_id: int | None = None
    first_name: str = ""
    last_name: str = ""
    date_of_birth: dt.date | None = None
    gender: str = ""
    school: School | None = None
    year_group: str = ""
    send: bool = False
    address: str = ""
    postcode: str = ""


@dataclass(frozen=True)
class ReferralInput:
    received_at: dt.datetime
    source: ReferralSource
    forms_of_abuse: Sequence[AbuseForm]
    is_peer_on_peer: bool
    incident_date: dt.date
    location: str
    consent_sought: bool
    referrer_name: str
    narrative: str
    referrer_role: str = ""
    referrer_organisation: str = ""
    referrer_contact: str = ""
    consent_not_sought_reason: str = ""
    incident_place: str = ""


@dataclass(frozen=True)
class DecisionInput:
    outcomes: Sequence[Outcome]
    rationale: str
    advice: dict[str, bool] = field(default_factory=dict)
    advice_notes: str = ""
    #: Why the decision does not do what the guidance in force expects (required only then).
    guidance_departure_reason: str = ""


# --- Rules (forms call these too, so the message is the same everywhere) ----------------------


def validate_referral_dates(*, received_at: dt.datetime, incident_date: dt.date) -> dict[str, str]:
    errors: dict[str, str] = {}
    now = timezone.now()
    if received_at > now:
        errors["received_at"] = "The date the referral was received must be today or in the past"
    if incident_date > timezone.localdate():
        errors["incident_date"] = "The date of the incident must be today or in the past"
    elif incident_date > timezone.localtime(received_at).date():
        errors["incident_date"] = (
            "The date of the incident must be on or before the date the referral was received"
        )
    return errors


def validate_date_of_birth(
    *, date_of_birth: dt.date, incident_date: dt.date | None, send: bool
) -> str | None:
    if date_of_birth > timezone.localdate():
        return "Date of birth must be in the past"
    if incident_date is None:
        return None
    if date_of_birth > incident_date:
        return "Date of birth must be before the date of the incident"
    limit = MAX_CHILD_AGE_SEND if send else MAX_CHILD_AGE
    if age_on(date_of_birth, incident_date) > limit:
        return f"Date of birth must make the child {limit} or younger on the date of the incident" + (
            "" if send else " (25 or younger with special educational needs or a disability)"
        )
    return None


def validate_roles(*, is_peer_on_peer: bool, roles: Iterable[str]) -> str | None:
    roles = list(roles)
    if not roles:
        return "Add at least one child"
    if is_peer_on_peer and (
        ReferralChild.Role.VICTIM not in roles or ReferralChild.Role.ALLEGED_PERPETRATOR not in roles
    ):
        return "A peer-on-peer referral needs at least one victim and one alleged perpetrator"
    return None


def validate_consent(*, consent_sought: bool, reason: str) -> str | None:
    if not consent_sought and not reason.strip():
        return "Enter the reason consent was not sought"
    return None


def _raise_if(errors: dict[str, str]) -> None:
    if errors:
        raise ValidationError(errors)


# --- Helpers --------------------------------------------------------------------------------


def _next_reference(year: int) -> str:
    sequence, _ = ReferenceSequence.objects.select_for_update().get_or_create(year=year)
    sequence.last_number += 1
    sequence.save(update_fields=["last_number"])
    return f"MASH-{year}-{sequence.last_number:04d}"


#: What a change to a disposed referral is told (its identities and narrative are gone).
DISPOSED_MESSAGE = "This referral has been disposed of under the retention schedule: it cannot be changed"


def _refuse_if_disposed(referral: Referral) -> Referral:
    if referral.disposed_at is not None:
        raise IllegalTransition(DISPOSED_MESSAGE)
    return referral


def _lock(referral_id: int, expected_version: int | None) -> Referral:
    """The referral, locked for a change (never one that has been disposed of)."""
    return _refuse_if_disposed(
        lock_for_change(Referral, referral_id, expected_version, conflict=ReferralConflict)
    )


def _next_label(used: Iterable[str]) -> str:
    used = set(used)
    for index in range(26 * 27):
        label = _label_for(index)
        if label not in used:
            return label
    raise ValidationError("A referral cannot have this many children")


def _label_for(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def _child_from_input(item: ChildInput, *, user, incident_date: dt.date) -> Child:
    if item.existing_child_id is not None:
        return _existing_child(item.existing_child_id, user=user)
    if item.date_of_birth is None:
        raise ValidationError({"date_of_birth": "Enter the child's date of birth"})
    message = validate_date_of_birth(
        date_of_birth=item.date_of_birth, incident_date=incident_date, send=item.send
    )
    if message:
        raise ValidationError({"date_of_birth": message})
    child = Child(
        first_name=item.first_name.strip(),
        last_name=item.last_name.strip(),
        date_of_birth=item.date_of_birth,
        gender=item.gender,
        school=item.school,
        year_group=item.year_group,
        send=item.send,
        address=item.address,
        postcode=item.postcode.strip().upper(),
        created_by=user,
    )
    child.full_clean()
    save_with_history(child, user=user, reason="Recorded on a referral")
    return child


def _existing_child(child_id: int, *, user) -> Child:
    """A person record the user may put on a referral: one on a referral whose identities they
    may see (what the duplicate check offers). Any other id, whether or not such a child
    exists, is refused the same way: naming a child by id must never reveal them."""
    identifiable = permissions.filter_granted(Referral.objects.all(), user=user).values("pk")
    child = (
        Child.objects.filter(
            pk=child_id,
            pk__in=ReferralChild.objects.filter(referral__in=identifiable).values("child_id"),
        ).first()
        if 0 < child_id < 2**63
        else None
    )
    if child is None:
        raise ValidationError(
            {"existing_child": "Select one of the children offered, or that this is a different child"}
        )
    return child


def _rag_due(received_at: dt.datetime, rag: RagLevel | None) -> dt.datetime | None:
    return add_opening_hours(received_at, rag.response_hours) if rag else None


# --- Services ---------------------------------------------------------------------------------


@transaction.atomic
def referral_create(*, user, data: ReferralInput, children: Sequence[ChildInput]) -> Referral:
    errors = validate_referral_dates(received_at=data.received_at, incident_date=data.incident_date)
    if not data.forms_of_abuse:
        errors["forms_of_abuse"] = "Select at least one form of abuse"
    consent_error = validate_consent(
        consent_sought=data.consent_sought, reason=data.consent_not_sought_reason
    )
    if consent_error:
        errors["consent_not_sought_reason"] = consent_error
    roles_error = validate_roles(is_peer_on_peer=data.is_peer_on_peer, roles=[c.role for c in children])
    if roles_error:
        errors["children"] = roles_error
    _raise_if(errors)

    received_local = timezone.localtime(data.received_at)
    referral = Referral(
        reference=_next_reference(received_local.year),
        received_at=data.received_at,
        source=data.source,
        is_peer_on_peer=data.is_peer_on_peer,
        incident_date=data.incident_date,
        location=data.location,
        consent_sought=data.consent_sought,
        decision_due_at=decision_due_at(data.received_at),
        created_by=user,
    )
    save_with_history(
        referral, user=user, reason="Referral recorded", m2m={"forms_of_abuse": data.forms_of_abuse}
    )

    detail = ReferralDetail(
        referral=referral,
        referrer_name=data.referrer_name.strip(),
        referrer_role=data.referrer_role.strip(),
        referrer_organisation=data.referrer_organisation.strip(),
        referrer_contact=data.referrer_contact.strip(),
        narrative=data.narrative,
        consent_not_sought_reason="" if data.consent_sought else data.consent_not_sought_reason,
        incident_place=data.incident_place.strip(),
    )
    save_with_history(detail, user=user, reason="Referral recorded")

    seen: set[int] = set()
    for index, item in enumerate(children):
        child = _child_from_input(item, user=user, incident_date=data.incident_date)
        if child.pk in seen:
            raise ValidationError({"children": "The same child has been added twice"})
        seen.add(child.pk)
        link = ReferralChild(referral=referral, child=child, role=item.role, label=_label_for(index))
        save_with_history(link, user=user, reason="Referral recorded")
    referral_grant_defaults(referral, user=referral.created_by, acting=user)
    changes.referrals_saved(referral_ids=[referral.pk])
    return referral


def referral_grant_defaults(referral: Referral, *, user, acting) -> None:
    """The practitioner who logged a live referral and the MASH team see and change it.

    A restricted referral gets none: only named grants see it (referral_restrict). A closed one
    needs none: the MASH team reads it through the standing rule (referrals/apps.py).
    """
    from django.contrib.auth.models import Group

    if referral.is_restricted or referral.status == Referral.Status.CLOSED:
        return
    reason = "Live referral: the referring practitioner and the MASH team"
    permissions.grant_many(
        referral,
        actions=[VIEW_EXEMPT, CHANGE],
        users=[user],
        groups=list(Group.objects.filter(name__in=[GROUP_NAMES[r] for r in MASH_ROLES])),
        kind=GrantKind.DEFAULT,
        reason=reason,
        # Given by rule, not authorised by a person (so never a grant to oneself); the
        # grant's history names who set it off.
        granted_by=None,
        acting=acting,
    )


def _decided_on_other_forms(referral: Referral, forms_of_abuse) -> bool:
    """Whether a decision stands (or awaits authorisation) and the forms of abuse would change."""
    wanted = {getattr(form, "pk", form) for form in forms_of_abuse}
    current = set(referral.forms_of_abuse.values_list("pk", flat=True))
    live = (ReferralDecision.Status.IN_FORCE, ReferralDecision.Status.AWAITING_AUTHORISATION)
    return wanted != current and referral.decisions.filter(status__in=live).exists()


@transaction.atomic
def referral_update(*, user, referral_id: int, expected_version: int, data: ReferralInput) -> Referral:
    referral = _lock(referral_id, expected_version)
    if referral.status == Referral.Status.CLOSED:
        raise IllegalTransition("A closed referral cannot be changed. Reopen it first.")
    errors = validate_referral_dates(received_at=data.received_at, incident_date=data.incident_date)
    if not data.forms_of_abuse:
        errors["forms_of_abuse"] = "Select at least one form of abuse"
    elif _decided_on_other_forms(referral, data.forms_of_abuse):
        # The decision's rules (manager authorisation, what the guidance expects) were judged on
        # the forms of abuse as they were: changing them afterwards would get round both.
        errors["forms_of_abuse"] = (
            "The forms of abuse cannot change once a decision has been recorded on them: add a case "
            "note saying what was wrong, and amend the decision if it should change"
        )
    consent_error = validate_consent(
        consent_sought=data.consent_sought, reason=data.consent_not_sought_reason
    )
    if consent_error:
        errors["consent_not_sought_reason"] = consent_error
    roles_error = validate_roles(
        is_peer_on_peer=data.is_peer_on_peer,
        roles=referral.children.values_list("role", flat=True),
    )
    if roles_error:
        errors["is_peer_on_peer"] = roles_error
    _raise_if(errors)

    referral.received_at = data.received_at
    referral.source = data.source
    referral.is_peer_on_peer = data.is_peer_on_peer
    referral.incident_date = data.incident_date
    referral.location = data.location
    referral.consent_sought = data.consent_sought
    referral.decision_due_at = decision_due_at(data.received_at)
    referral.rag_due_at = _rag_due(data.received_at, referral.rag)
    save_with_history(
        referral,
        user=user,
        reason="Referral details changed",
        m2m={"forms_of_abuse": data.forms_of_abuse},
        new_version=True,
    )

    detail = referral.detail
    detail.referrer_name = data.referrer_name.strip()
    detail.referrer_role = data.referrer_role.strip()
    detail.referrer_organisation = data.referrer_organisation.strip()
    detail.referrer_contact = data.referrer_contact.strip()
    detail.narrative = data.narrative
    detail.consent_not_sought_reason = "" if data.consent_sought else data.consent_not_sought_reason
    detail.incident_place = data.incident_place.strip()
    save_with_history(detail, user=user, reason="Referral details changed")
    changes.referrals_saved(referral_ids=[referral.pk])
    return referral


@transaction.atomic
def referral_add_child(*, user, referral_id: int, expected_version: int, child: ChildInput) -> ReferralChild:
    referral = _lock(referral_id, expected_version)
    if referral.status == Referral.Status.CLOSED:
        raise IllegalTransition("A closed referral cannot be changed. Reopen it first.")
    record = _child_from_input(child, user=user, incident_date=referral.incident_date)
    if referral.children.filter(child=record).exists():
        raise ValidationError({"existing_child": "This child is already on the referral"})
    link = ReferralChild(
        referral=referral,
        child=record,
        role=child.role,
        label=_next_label(referral.children.values_list("label", flat=True)),
    )
    save_with_history(link, user=user, reason="Child added")
    save_with_history(referral, user=user, reason=f"Child {link.label} added", new_version=True)
    changes.referrals_saved(referral_ids=[referral.pk])
    return link


@transaction.atomic
def referral_start_screening(
    *, user, referral_id: int, expected_version: int, rag: RagLevel, at: dt.datetime | None = None
) -> Referral:
    referral = _lock(referral_id, expected_version)
    if referral.status != Referral.Status.RECEIVED:
        status = referral.get_status_display().lower()
        raise IllegalTransition(f"Screening can only start on a received referral; this one is {status}")
    referral.status = Referral.Status.SCREENING
    referral.rag = rag
    referral.rag_due_at = _rag_due(referral.received_at, rag)
    referral.screening_started_at = at or timezone.now()
    referral.screening_started_by = user
    save_with_history(referral, user=user, reason=f"Screening started, rated {rag.name}", new_version=True)
    return referral


NO_FURTHER_ACTION = "nfa"


def unmet_expectations(*, referral: Referral, decision: DecisionInput) -> list[Expectation]:
    """What the guidance in force on the referral's received date expects of a decision on its
    forms of abuse that this decision does not do."""
    on = timezone.localtime(referral.received_at).date()
    codes = {o.code for o in decision.outcomes}
    return [
        e
        for e in expectations_for(on=on, forms_of_abuse=[f.pk for f in referral.forms_of_abuse.all()])
        if not e.met_by(outcome_codes=codes, advice=decision.advice)
    ]


def authorisation_rules_for(
    *, referral: Referral, outcomes: Sequence[Outcome]
) -> list[DecisionAuthorisationRule]:
    """The rules that say a manager must authorise this decision before it takes effect."""
    forms = list(referral.forms_of_abuse.all())
    form_ids = {f.pk for f in forms}
    sexual = any(f.is_sexual for f in forms)
    outcome_ids = {o.pk for o in outcomes}
    return [
        rule
        for rule in DecisionAuthorisationRule.objects.filter(active=True, outcome_id__in=outcome_ids)
        if (rule.abuse_form_id is None or rule.abuse_form_id in form_ids)
        and (sexual or not rule.sexual_abuse_only)
    ]


def decision_check(*, referral: Referral, decision: DecisionInput) -> list[Expectation]:
    """Refuse a decision that contradicts itself, or departs from the guidance without a reason.
    Returns the expectations it departs from (the page names them). Raises ValidationError."""
    errors = {}
    codes = {o.code for o in decision.outcomes}
    if not decision.outcomes:
        errors["outcomes"] = "Select at least one outcome"
    elif NO_FURTHER_ACTION in codes and len(codes) > 1:
        errors["outcomes"] = "Select either no further action or the actions to take, not both"
    if not decision.rationale.strip():
        errors["rationale"] = "Enter the reasons for the decision"
    unmet = unmet_expectations(referral=referral, decision=decision) if decision.outcomes else []
    if unmet and not decision.guidance_departure_reason.strip():
        errors["guidance_departure_reason"] = "Enter why the decision does not do what the guidance expects"
    roles_error = validate_roles(
        is_peer_on_peer=referral.is_peer_on_peer,
        roles=referral.children.values_list("role", flat=True),
    )
    if roles_error:
        errors["__all__"] = roles_error
    _raise_if(errors)
    return unmet


def _new_decision(
    *, user, referral: Referral, decision: DecisionInput, now: dt.datetime, unmet: list[Expectation], **extra
) -> ReferralDecision:
    needs = bool(authorisation_rules_for(referral=referral, outcomes=decision.outcomes))
    record = ReferralDecision(
        referral=referral,
        rationale=decision.rationale,
        advice_notes=decision.advice_notes,
        decided_at=now,
        decided_by=user,
        within_timescale=now <= referral.decision_due_at,
        status=ReferralDecision.Status.AWAITING_AUTHORISATION if needs else ReferralDecision.Status.IN_FORCE,
        authorisation_required=needs,
        guidance_expected="\n".join(e.label for e in unmet),
        guidance_departure_reason=decision.guidance_departure_reason.strip() if unmet else "",
        **extra,
        **{name: bool(decision.advice.get(name)) for name in ReferralDecision.ADVICE_FIELDS},
    )
    reason = "Decision recorded, awaiting a manager's authorisation" if needs else "Decision recorded"
    if extra.get("amends") is not None:
        reason = reason.replace("Decision recorded", "Amended decision recorded")
    save_with_history(record, user=user, reason=reason, m2m={"outcomes": decision.outcomes})
    return record


def _refuse_if_awaiting(referral: Referral) -> None:
    if referral.decisions.filter(status=ReferralDecision.Status.AWAITING_AUTHORISATION).exists():
        raise IllegalTransition("A decision on this referral is awaiting a manager's authorisation")


def _put_in_force(record: ReferralDecision, *, user, referral: Referral, notify_referrer: bool) -> None:
    """The decision takes effect: the referral is decided, an amended decision is kept as
    superseded, and the referrer is told (again only if the outcome changed)."""
    previous = record.amends
    if previous is not None:
        previous.status = ReferralDecision.Status.SUPERSEDED
        save_with_history(previous, user=user, reason="Decision amended")
    if referral.status != Referral.Status.DECIDED:
        referral.status = Referral.Status.DECIDED
        referral.decided_at = record.decided_at
        referral.decided_by = record.decided_by
    save_with_history(
        referral, user=user, reason="Decision amended" if previous else "Decision recorded", new_version=True
    )
    outcome_changed = True
    if previous is not None:
        chosen: dict[int, set[int]] = {previous.pk: set(), record.pk: set()}
        for decision_id, outcome_id in ReferralDecision.outcomes.through.objects.filter(
            referraldecision_id__in=chosen
        ).values_list("referraldecision_id", "outcome_id"):
            chosen[decision_id].add(outcome_id)
        outcome_changed = chosen[previous.pk] != chosen[record.pk]
    if notify_referrer and outcome_changed:
        enqueue_on_commit("referrals.tasks.send_decision_feedback", record.pk)


@transaction.atomic
def referral_record_decision(
    *,
    user,
    referral_id: int,
    expected_version: int,
    decision: DecisionInput,
    at: dt.datetime | None = None,
    notify_referrer: bool = True,
) -> ReferralDecision:
    """Record the MASH decision. ``at`` is for historic records (imports, demo data).

    A decision an authorisation rule names waits for a manager (the referral stays in
    screening and the referrer is not told); any other takes effect at once.
    """
    referral = _lock(referral_id, expected_version)
    if referral.status != Referral.Status.SCREENING:
        raise IllegalTransition("A decision can only be recorded on a referral that is being screened")
    _refuse_if_awaiting(referral)
    unmet = decision_check(referral=referral, decision=decision)
    record = _new_decision(
        user=user, referral=referral, decision=decision, now=at or timezone.now(), unmet=unmet
    )
    if record.status == ReferralDecision.Status.IN_FORCE:
        _put_in_force(record, user=user, referral=referral, notify_referrer=notify_referrer)
    else:
        save_with_history(
            referral,
            user=user,
            reason="Decision recorded, awaiting a manager's authorisation",
            new_version=True,
        )
    return record


@transaction.atomic
def referral_amend_decision(
    *, user, referral_id: int, expected_version: int, decision: DecisionInput, reason: str
) -> ReferralDecision:
    """Amend the decision in force: a new decision that keeps the old one (superseded) on the
    record. It needs authorisation on the same rules; the referrer is told again if the
    outcome changed."""
    referral = _lock(referral_id, expected_version)
    if referral.status != Referral.Status.DECIDED:
        raise IllegalTransition("Only a referral with a decision in force can have its decision amended")
    _refuse_if_awaiting(referral)
    current = referral.decisions.in_force().first()
    if current is None:
        raise IllegalTransition("This referral has no decision in force to amend")
    errors = {}
    if not reason.strip():
        errors["amendment_reason"] = "Enter why the decision is being amended"
    try:
        unmet = decision_check(referral=referral, decision=decision)
    except ValidationError as error:
        errors.update({k: v[0] for k, v in error.message_dict.items()})
    _raise_if(errors)
    record = _new_decision(
        user=user,
        referral=referral,
        decision=decision,
        now=timezone.now(),
        unmet=unmet,
        amends=current,
        amendment_reason=reason.strip(),
    )
    if record.status == ReferralDecision.Status.IN_FORCE:
        _put_in_force(record, user=user, referral=referral, notify_referrer=True)
    else:
        save_with_history(
            referral,
            user=user,
            reason="Amended decision recorded, awaiting a manager's authorisation",
            new_version=True,
        )
    return record


@transaction.atomic
def referral_authorise_decision(
    *,
    user,
    referral_id: int,
    expected_version: int,
    decision_id: int,
    authorise: bool,
    note: str = "",
    notify_referrer: bool = True,
) -> ReferralDecision:
    """A MASH manager other than the decision's author authorises it (it takes effect and the
    referrer is told) or does not (it never takes effect; the note says why)."""
    from core.roles import has_role

    referral = _lock(referral_id, expected_version)
    try:
        record = referral.decisions.select_for_update().get(
            pk=decision_id, status=ReferralDecision.Status.AWAITING_AUTHORISATION
        )
    except ReferralDecision.DoesNotExist as missing:
        raise IllegalTransition("There is no decision awaiting authorisation on this referral") from missing
    if not has_role(user, Role.MASH_MANAGER):
        raise ValidationError("Only a MASH manager can authorise a decision")
    if record.decided_by_id == user.pk:
        raise ValidationError("You recorded this decision: another manager must authorise it")
    if not authorise and not note.strip():
        raise ValidationError({"note": "Enter why the decision is not authorised"})
    now = timezone.now()
    record.authorised_by = user
    record.authorised_at = now
    record.authorisation_note = note.strip()
    if authorise:
        record.status = ReferralDecision.Status.IN_FORCE
        save_with_history(record, user=user, reason="Decision authorised")
        _put_in_force(record, user=user, referral=referral, notify_referrer=notify_referrer)
    else:
        record.status = ReferralDecision.Status.NOT_AUTHORISED
        save_with_history(record, user=user, reason="Decision not authorised")
        save_with_history(referral, user=user, reason="Decision not authorised", new_version=True)
    return record


def _note(*, user, referral: Referral, text: str, on: dt.datetime | None = None) -> CaseNote:
    note = CaseNote(
        referral=referral,
        occurred_on=timezone.localdate(on or timezone.now()),
        text=text,
        recorded_by=user,
    )
    save_with_history(note, user=user, reason="Note recorded")
    return note


@transaction.atomic
def referral_close(
    *, user, referral_id: int, expected_version: int, reason: str, at: dt.datetime | None = None
) -> Referral:
    referral = _lock(referral_id, expected_version)
    if referral.status != Referral.Status.DECIDED:
        raise IllegalTransition("Only a referral with a decision can be closed")
    if not reason.strip():
        raise ValidationError({"reason": "Enter why the referral is being closed"})
    referral.status = Referral.Status.CLOSED
    referral.closed_at = at or timezone.now()
    referral.closed_by = user
    save_with_history(referral, user=user, reason="Referral closed", new_version=True)
    _note(user=user, referral=referral, text=f"Referral closed: {reason.strip()}", on=at)
    permissions.revoke_kind(referral, kind=GrantKind.DEFAULT, revoked_by=user, reason="Referral closed")
    return referral


@transaction.atomic
def referral_reopen(*, user, referral_id: int, expected_version: int, reason: str) -> Referral:
    referral = _lock(referral_id, expected_version)
    if referral.status != Referral.Status.CLOSED:
        raise IllegalTransition("Only a closed referral can be reopened")
    if not reason.strip():
        raise ValidationError({"reason": "Enter why the referral is being reopened"})
    referral.status = Referral.Status.SCREENING
    referral.reopened_at = timezone.now()
    referral.reopened_by = user
    save_with_history(referral, user=user, reason="Referral reopened", new_version=True)
    _note(user=user, referral=referral, text=f"Referral reopened: {reason.strip()}")
    referral_grant_defaults(referral, user=referral.created_by, acting=user)
    return referral


@transaction.atomic
def case_note_add(
    *,
    user,
    referral_id: int,
    occurred_on: dt.date,
    text: str,
    corrects_id: int | None = None,
    kind: str = CaseNote.Kind.OTHER,
    occurred_time: dt.time | None = None,
) -> CaseNote:
    referral = _refuse_if_disposed(Referral.objects.select_for_update().get(pk=referral_id))
    errors = {}
    if not text.strip():
        errors["text"] = "Enter the note"
    if occurred_on > timezone.localdate():
        errors["occurred_on"] = "The date of the note must be today or in the past"
    elif (
        occurred_time is not None
        and dt.datetime.combine(occurred_on, occurred_time, tzinfo=local_zone()) > timezone.now()
    ):
        errors["occurred_time"] = "The time of the event must be now or in the past"
    if kind not in CaseNote.Kind.values:
        errors["kind"] = "Select the type of note"
    _raise_if(errors)
    corrects = None
    if corrects_id is not None:
        corrects = CaseNote.objects.get(pk=corrects_id, referral=referral)
    note = CaseNote(
        referral=referral,
        kind=kind,
        occurred_on=occurred_on,
        occurred_time=occurred_time,
        text=text,
        corrects=corrects,
        recorded_by=user,
    )
    save_with_history(note, user=user, reason="Correction recorded" if corrects else "Note recorded")
    return note


def decision_send_feedback(*, decision_id: int) -> bool:
    """Tell the referrer a decision has been made; returns whether an e-mail went.

    Safe to run twice: the decision row is locked and ``feedback_sent_at`` set in the same
    transaction as the send, so a repeat finds it sent. A failure to send rolls back and the
    task retries. The e-mail names the referral by reference and outcome only.
    """
    with transaction.atomic():
        decision = (
            ReferralDecision.objects.select_for_update(of=("self",))
            .select_related("referral__detail")
            .get(pk=decision_id)
        )
        if decision.feedback_sent_at is not None:
            return False
        contact = decision.referral.detail.referrer_contact
        try:
            validate_email(contact)
        except ValidationError:
            logger.info("decision %s: referrer contact is not an e-mail address", decision_id)
            return False
        body = render_to_string(
            "referrals/email/decision_feedback.txt",
            {
                "referral": decision.referral,
                "outcomes": list(decision.outcomes.all()),
                "council_name": settings.COUNCIL_NAME,
            },
        )
        send_mail(
            subject=f"MASH decision on referral {decision.referral.reference}",
            message=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[contact],
        )
        decision.feedback_sent_at = timezone.now()
        save_with_history(
            decision, user=None, reason="Feedback sent to the referrer", update_fields=["feedback_sent_at"]
        )
        logger.info("decision %s: feedback sent", decision_id)
        return True


# --- Restriction ------------------------------------------------------------------------------

RESTRICTION_REASON_MIN_CHARS = 20
RESTRICTION_REASON_MIN_WORDS = 3


def validate_restriction_reason(reason: str) -> str | None:
    """A restriction (or lifting one) is explained in words a reviewer can check later."""
    reason = " ".join(reason.split())
    if not reason:
        return "Enter the reason"
    if len(reason) < RESTRICTION_REASON_MIN_CHARS or len(reason.split()) < RESTRICTION_REASON_MIN_WORDS:
        return (
            f"The reason must be at least {RESTRICTION_REASON_MIN_CHARS} characters and "
            f"{RESTRICTION_REASON_MIN_WORDS} words"
        )
    return None


def _restriction_checks(user, reason: str) -> str:
    from core.roles import has_role

    if not has_role(user, Role.MASH_MANAGER):
        raise ValidationError("Only a MASH manager can restrict a referral or lift a restriction")
    error = validate_restriction_reason(reason)
    if error:
        raise ValidationError({"reason": error})
    return " ".join(reason.split())


@transaction.atomic
def referral_restrict(
    *, user, referral_id: int, expected_version: int, reason: str, request=None
) -> Referral:
    """A MASH manager restricts a referral: from now only named grants see its identities.

    The MASH team's default grants go and the standing read of closed referrals stops; named
    grants (given by a manager, a case review's, emergency access) stay. The reason is a case
    note (exempt, like any note); information governance is e-mailed a security event that
    names only the reference.
    """
    from core.models import SecurityEvent
    from core.security_events import security_event_record

    reason = _restriction_checks(user, reason)
    referral = _lock(referral_id, expected_version)
    if referral.is_restricted:
        raise IllegalTransition("This referral is already restricted")
    referral.restricted_at = timezone.now()
    referral.restricted_by = user
    save_with_history(referral, user=user, reason="Referral restricted", new_version=True)
    _note(user=user, referral=referral, text=f"Referral restricted: {reason}")
    permissions.revoke_kind(referral, kind=GrantKind.DEFAULT, revoked_by=user, reason="Referral restricted")
    security_event_record(
        kind=SecurityEvent.Kind.RESTRICTED,
        user=user,
        actor=user,
        detail=f"Referral {referral.reference} restricted",
        request=request,
        tell_user=False,
    )
    return referral


@transaction.atomic
def referral_lift_restriction(
    *, user, referral_id: int, expected_version: int, reason: str, request=None
) -> Referral:
    """A MASH manager lifts a restriction: the MASH team's access returns as the state gives it
    (see and change a live referral, read a closed one). Logged and e-mailed like restricting."""
    from core.models import SecurityEvent
    from core.security_events import security_event_record

    reason = _restriction_checks(user, reason)
    referral = _lock(referral_id, expected_version)
    if not referral.is_restricted:
        raise IllegalTransition("This referral is not restricted")
    referral.restricted_at = None
    referral.restricted_by = None
    save_with_history(referral, user=user, reason="Restriction lifted", new_version=True)
    _note(user=user, referral=referral, text=f"Restriction lifted: {reason}")
    referral_grant_defaults(referral, user=referral.created_by, acting=user)
    security_event_record(
        kind=SecurityEvent.Kind.RESTRICTED,
        user=user,
        actor=user,
        detail=f"Restriction lifted on referral {referral.reference}",
        request=request,
        tell_user=False,
    )
    return referral


# --- Grants -------------------------------------------------------------------------------------


def _can_manage_grants(user) -> bool:
    from core.roles import has_role

    return has_role(user, Role.MASH_MANAGER)


@transaction.atomic
def referral_grant(
    *,
    granted_by,
    referral_id: int,
    user,
    actions: Sequence[str],
    reason: str,
    expires_on: dt.date | None = None,
) -> None:
    """A MASH manager gives a named user (never themselves) a grant on one referral.

    A manager who needs access now uses emergency access, which information governance
    reviews. The grantee is told, through a security event."""
    if not _can_manage_grants(granted_by):
        raise ValidationError("Only a MASH manager can give grants")
    errors = {}
    if user.pk == granted_by.pk:
        errors["user"] = "You cannot give yourself a grant. Ask another MASH manager, or use emergency access"
    elif permissions.holds_no_grants(user):
        errors["user"] = "Administrators cannot be given access to referrals: choose someone else"
    error = reason_error(reason, what="why this person needs to see the referral")
    if error:
        errors["reason"] = error
    if not actions:
        errors["actions"] = "Select what the person may do"
    expires_on = expires_on or permissions.grant_default_end()
    error = permissions.grant_end_error(expires_on)
    if error:
        errors["expires_on"] = error
    _raise_if(errors)
    referral = _refuse_if_disposed(Referral.objects.select_for_update().get(pk=referral_id))
    expires_at = permissions.grant_ends_at(expires_on)
    permissions.grant_many(
        referral,
        actions=actions,
        users=[user],
        kind=GrantKind.EXPLICIT,
        reason=reason.strip(),
        granted_by=granted_by,
        expires_at=expires_at,
    )
    security_event_record(
        kind=SecurityEvent.Kind.GRANT_GIVEN,
        user=user,
        actor=granted_by,
        detail=f"Grant on a referral: {', '.join(actions)}" + f", until {expires_on:%-d %B %Y}",
    )


@transaction.atomic
def referral_revoke_grant(
    *, revoked_by, referral_id: int, grant_id: int, holder_kind: str, reason: str
) -> None:
    if not _can_manage_grants(revoked_by):
        raise ValidationError("Only a MASH manager can remove grants")
    if not reason.strip():
        raise ValidationError({"reason": "Enter why the grant is being removed"})
    referral = Referral.objects.select_for_update().get(pk=referral_id)
    permissions.revoke(
        referral, grant_id=grant_id, holder_kind=holder_kind, revoked_by=revoked_by, reason=reason
    )


@transaction.atomic
def referral_break_glass(*, request, user, referral_id: int, reason: str) -> AccessLogEntry:
    """Emergency access for a MASH manager without a grant: immediate, loud, reported.

    Gives the manager a short grant, writes a break-glass access-log row and e-mails every
    information governance officer (reference and manager only: no identities).
    """
    if not _can_manage_grants(user):
        raise ValidationError("Only a MASH manager can use emergency access")
    reason = reason_check(reason, what="the reason for emergency access")
    referral = _refuse_if_disposed(Referral.objects.select_for_update().get(pk=referral_id))
    expires_at = timezone.now() + dt.timedelta(hours=settings.BREAK_GLASS_HOURS)
    permissions.grant(
        referral,
        action=VIEW_EXEMPT,
        user=user,
        kind=GrantKind.BREAK_GLASS,
        reason=reason.strip(),
        granted_by=user,
        expires_at=expires_at,
    )
    entry = record_access(
        request=request,
        user=user,
        record=referral,
        label=referral.reference,
        fields=["break-glass grant"],
        channel=AccessLogEntry.Channel.BREAK_GLASS,
        reason=reason.strip(),
        break_glass=True,
    )
    enqueue_on_commit("referrals.tasks.notify_break_glass", entry.pk)
    logger.warning(
        "break-glass access: user %s on referral %s (access log %s)", user.pk, referral.pk, entry.pk
    )
    return entry


def break_glass_notify(*, entry_id: int) -> int:
    """E-mail information governance about a break-glass access. Returns how many were told."""
    from django.contrib.auth import get_user_model

    entry = AccessLogEntry.objects.select_related("user").get(pk=entry_id, break_glass=True)
    recipients = list(
        get_user_model()
        .objects.filter(groups__name=GROUP_NAMES[Role.INFORMATION_GOVERNANCE], is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    if not recipients:
        logger.error("break-glass access log %s: no information governance officer to notify", entry_id)
        return 0
    body = render_to_string(
        "referrals/email/break_glass.txt", {"entry": entry, "council_name": settings.COUNCIL_NAME}
    )
    send_mail(
        subject=f"Emergency access to referral {entry.record_label}",
        message=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=recipients,
    )
    return len(recipients)


# --- Drafts of new referrals ------------------------------------------------------------------


def _draft_expires() -> dt.datetime:
    return timezone.now() + dt.timedelta(days=settings.REFERRAL_DRAFT_DAYS)


@transaction.atomic
def referral_draft_save(*, user, data: dict[str, list[str]], draft_id: int | None = None) -> ReferralDraft:
    """Save what was typed on the new referral form, as it was typed (no validation: it is not
    a referral). ``data`` is already limited to the form's own fields. Only the author's own
    draft can be saved over; any other id starts a new draft."""
    clean = {
        name: [value.replace("\x00", "") for value in values]  # PostgreSQL's JSON takes no NUL
        for name, values in data.items()
    }
    draft = None
    if draft_id is not None:
        draft = ReferralDraft.objects.select_for_update().filter(pk=draft_id, author=user).first()
    draft = draft or ReferralDraft(author=user)
    draft.data = clean
    draft.expires_at = _draft_expires()
    draft.save()
    return draft


@transaction.atomic
def referral_draft_delete(*, user, draft_id: int) -> bool:
    """Delete the author's own draft; returns whether there was one to delete."""
    deleted, _ = ReferralDraft.objects.filter(pk=draft_id, author=user).delete()
    return bool(deleted)


def referral_drafts_delete_expired(*, now: dt.datetime | None = None) -> int:
    deleted, _ = ReferralDraft.objects.filter(expires_at__lte=now or timezone.now()).delete()
    if deleted:
        logger.info("deleted %s expired referral drafts", deleted)
    return deleted


# --- Allocation and overdue notifications (the manager's day) --------------------------------

NOTIFY_ALLOCATED = "referral_allocated"
NOTIFY_OVERDUE = "referral_overdue"


def mash_managers():
    from django.contrib.auth import get_user_model

    return (
        get_user_model()
        .objects.filter(groups__name=GROUP_NAMES[Role.MASH_MANAGER], is_active=True)
        .distinct()
    )


def allocatable_practitioners():
    """Who a referral may be given to: active members of the MASH team, by name."""
    from django.contrib.auth import get_user_model

    names = [GROUP_NAMES[role] for role in MASH_ROLES]
    return (
        get_user_model()
        .objects.filter(groups__name__in=names, is_active=True)
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


@transaction.atomic
def referral_allocate(
    *, user, referral_id: int, expected_version: int | None, practitioner_id: int
) -> Referral:
    """A MASH manager gives an open referral to a member of the MASH team, who is notified."""
    from django.urls import reverse

    from core import notifications
    from core.roles import has_role

    if not has_role(user, Role.MASH_MANAGER):
        raise ValidationError("Only a MASH manager can allocate a referral")
    practitioner = allocatable_practitioners().filter(pk=practitioner_id).first()
    if practitioner is None:
        raise ValidationError({"practitioner": "Select a practitioner in the MASH team"})
    referral = _lock(referral_id, expected_version)
    if not referral.is_open:
        raise IllegalTransition("Only a referral awaiting a decision can be allocated")
    if referral.allocated_to_id == practitioner.pk:
        raise ValidationError({"practitioner": "The referral is already allocated to this practitioner"})
    referral.allocated_to = practitioner
    referral.allocated_at = timezone.now()
    referral.allocated_by = user
    name = practitioner.get_full_name() or practitioner.get_username()
    save_with_history(referral, user=user, reason=f"Allocated to {name}", new_version=True)
    if practitioner.pk != user.pk:
        notifications.notify(
            users=[practitioner],
            kind=NOTIFY_ALLOCATED,
            text=f"Referral {referral.reference} is allocated to you",
            url=reverse("referrals:detail", args=[referral.pk]),
            key=f"allocated:{referral.pk}:{referral.version}",
        )
    return referral


def referrals_notify_overdue(*, now: dt.datetime | None = None) -> int:
    """Beat: each open referral past its decision due time tells its allocated practitioner and
    the MASH managers, once per referral per breach (the key names the due time, so a referral
    reopened with a new due time that passes again is a new breach). Safe to run twice.
    Returns how many notifications were made."""
    from django.urls import reverse

    from core import notifications

    now = now or timezone.now()
    managers = list(mash_managers())
    overdue = (
        Referral.objects.filter(status__in=Referral.OPEN_STATUSES, decision_due_at__lt=now)
        .select_related("allocated_to")
        .order_by("decision_due_at", "id")
    )
    made = 0
    for referral in overdue.iterator(chunk_size=500):
        users = [*managers, *([referral.allocated_to] if referral.allocated_to_id else [])]
        due = timezone.localtime(referral.decision_due_at)
        made += len(
            notifications.notify(
                users=users,
                kind=NOTIFY_OVERDUE,
                text=f"Referral {referral.reference} is overdue: a decision was due {due:%-d %b %Y, %H:%M}",
                url=reverse("referrals:detail", args=[referral.pk]),
                key=f"overdue:{referral.pk}:{referral.decision_due_at.isoformat()}",
            )
        )
    return made
