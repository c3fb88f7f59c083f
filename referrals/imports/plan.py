"""What an import would do: compare each valid row with what the service already holds.

Reads only. A row whose source id is new becomes a new referral; one already imported is
compared field by field and is "changed" or "unchanged"; one that has been reopened in this
service since it was imported is "kept": the import leaves it alone, because the service's
own record has moved on from the case system's.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from core.timescales import local_zone
from referrals.imports.format import CHUNK, ChildRow, RowData
from referrals.models import Child, Referral, ReferralChild, ReferralDecision
from referrals.services import _label_for

NEW, CHANGED, UNCHANGED, KEPT = "new", "changed", "unchanged", "kept"

ChildKey = tuple[str, str, dt.date]


def chunks(items: Sequence, size: int = CHUNK) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class ExistingLink:
    id: int
    label: str
    role: str
    child_id: int
    key: ChildKey


@dataclass
class Existing:
    referral: Referral  # with its detail
    form_pks: frozenset[int] = frozenset()
    links: dict[str, ExistingLink] = field(default_factory=dict)
    decisions: list[ReferralDecision] = field(default_factory=list)
    outcome_pks: frozenset[int] = frozenset()

    @property
    def decision(self) -> ReferralDecision | None:
        return self.decisions[0] if self.decisions else None


@dataclass
class RowPlan:
    data: RowData
    action: str
    existing: Existing | None = None
    changed: list[str] = field(default_factory=list)
    referral_changed: bool = False
    forms_changed: bool = False
    detail_changed: bool = False
    decision_changed: bool = False
    outcomes_changed: bool = False
    children_changed: bool = False

    def as_dict(self) -> dict:
        """What the batch keeps of the row for its page: nothing that identifies anyone. A row
        already in the service is named by its reference; a new one by the day it was
        received (its reference is added once it is imported)."""
        listed = {
            "row": self.data.row,
            "source_id": self.data.source_id,
            "action": self.action,
            "fields": self.changed,
            "reference": self.existing.referral.reference if self.existing else "",
        }
        if self.action == NEW:
            listed["received"] = self.data.received_at.astimezone(local_zone()).date().isoformat()
        return listed


@dataclass
class Plan:
    rows: list[RowPlan]
    #: person records that already exist, by name and date of birth
    matched_children: dict[ChildKey, int]

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)

    def counts(self) -> dict[str, int]:
        return {action: self.count(action) for action in (NEW, CHANGED, UNCHANGED, KEPT)}


def plan_import(rows: list[RowData]) -> Plan:
    existing = _existing({row.source_id for row in rows})
    matched = match_children(child.key for row in rows for child in row.children)
    plans = []
    for row in rows:
        found = existing.get(row.source_id)
        if found is None:
            plans.append(RowPlan(data=row, action=NEW))
        else:
            plans.append(_compare(row, found))
    return Plan(rows=plans, matched_children=matched)


def match_children(keys: Iterable[ChildKey]) -> dict[ChildKey, int]:
    """The existing person record for each name and date of birth (the oldest, if several)."""
    wanted = sorted(set(keys))
    matched: dict[ChildKey, int] = {}
    for chunk in chunks(wanted):
        candidates = (
            Child.objects.filter(
                last_name_key__in={key[1] for key in chunk},
                date_of_birth__in={key[2] for key in chunk},
            )
            .order_by("pk")
            .values_list("pk", "first_name_key", "last_name_key", "date_of_birth")
        )
        chunk_keys = set(chunk)
        for pk, first, last, dob in candidates:
            key = (first, last, dob)
            if key in chunk_keys and key not in matched:
                matched[key] = pk
    return matched


def _existing(source_ids: set[str]) -> dict[str, Existing]:
    found: dict[str, Existing] = {}
    for chunk in chunks(sorted(source_ids)):
        for referral in Referral.objects.filter(external_id__in=chunk).select_related("detail"):
            found[referral.external_id] = Existing(referral=referral)
    by_pk = {item.referral.pk: item for item in found.values()}
    pks = sorted(by_pk)
    through = Referral.forms_of_abuse.through
    outcomes_through = ReferralDecision.outcomes.through
    forms: dict[int, set[int]] = defaultdict(set)
    decision_outcomes: dict[int, set[int]] = defaultdict(set)
    for chunk in chunks(pks):
        for referral_id, form_id in through.objects.filter(referral_id__in=chunk).values_list(
            "referral_id", "abuseform_id"
        ):
            forms[referral_id].add(form_id)
        links = ReferralChild.objects.filter(referral_id__in=chunk).values_list(
            "id", "referral_id", "label", "role", "child_id", "child__first_name_key",
            "child__last_name_key", "child__date_of_birth",
        )  # fmt: skip
        for link_id, referral_id, label, role, child_id, first, last, dob in links:
            by_pk[referral_id].links[label] = ExistingLink(link_id, label, role, child_id, (first, last, dob))
        decisions = list(
            ReferralDecision.objects.filter(referral_id__in=chunk).order_by("-decided_at", "-id")
        )
        for decision in decisions:
            by_pk[decision.referral_id].decisions.append(decision)
        for decision_id, outcome_id in outcomes_through.objects.filter(
            referraldecision_id__in=[d.pk for d in decisions]
        ).values_list("referraldecision_id", "outcome_id"):
            decision_outcomes[decision_id].add(outcome_id)
    for pk, item in by_pk.items():
        item.form_pks = frozenset(forms[pk])
        if item.decision is not None:
            item.outcome_pks = frozenset(decision_outcomes[item.decision.pk])
    return found


def desired_links(row: RowData) -> dict[str, ChildRow]:
    """The row's children by the label each gets on the referral: Child A, Child B, ..."""
    return {_label_for(index): child for index, child in enumerate(row.children)}


def _compare(row: RowData, found: Existing) -> RowPlan:
    referral = found.referral
    if (
        referral.status != Referral.Status.CLOSED
        or referral.reopened_at is not None
        or len(found.decisions) != 1
    ):
        return RowPlan(data=row, action=KEPT, existing=found)
    plan = RowPlan(data=row, action=UNCHANGED, existing=found)
    changed = plan.changed

    def differs(label: str, old, new) -> bool:
        if old != new:
            changed.append(label)
            return True
        return False

    referral_fields = [
        ("Date and time received", referral.received_at, row.received_at),
        ("Source", referral.source_id, row.source_pk),
        ("Peer-on-peer", referral.is_peer_on_peer, row.is_peer_on_peer),
        ("Incident date", referral.incident_date, row.incident_date),
        ("Location", referral.location, row.location),
        ("Consent sought", referral.consent_sought, row.consent_sought),
        ("Date and time of the decision", referral.decided_at, row.decided_at),
        ("Date and time closed", referral.closed_at, row.closed_at),
    ]
    # Every difference is named, so each is checked (no short-circuit).
    plan.referral_changed = any([differs(label, old, new) for label, old, new in referral_fields])  # noqa: C419
    plan.forms_changed = differs("Forms of abuse", found.form_pks, row.form_pks)

    detail = referral.detail
    plan.detail_changed = any(
        [  # every difference is named, so no short-circuit
            differs(
                "Referrer",
                (
                    detail.referrer_name,
                    detail.referrer_role,
                    detail.referrer_organisation,
                    detail.referrer_contact,
                ),
                (row.referrer_name, row.referrer_role, row.referrer_organisation, row.referrer_contact),
            ),
            differs("What was reported", detail.narrative, row.narrative),
            differs(
                "Reason consent was not sought",
                detail.consent_not_sought_reason,
                row.consent_not_sought_reason,
            ),
        ]
    )

    decision = found.decision
    advice = frozenset(name for name in ReferralDecision.ADVICE_FIELDS if getattr(decision, name))
    plan.outcomes_changed = differs("Outcomes", found.outcome_pks, row.outcome_pks)
    plan.decision_changed = any(
        [
            differs("Reasons for the decision", decision.rationale, row.rationale),
            differs("Advice given", advice, row.advice),
            differs("Other advice", decision.advice_notes, row.advice_notes),
            decision.decided_at != row.decided_at,
        ]
    )

    wanted = desired_links(row)
    for label in sorted(set(wanted) | set(found.links), key=lambda value: (len(value), value)):
        old = found.links.get(label)
        new = wanted.get(label)
        old_value = (old.role, old.key) if old else None
        new_value = (new.role, new.key) if new else None
        if differs(f"Child {label}", old_value, new_value):
            plan.children_changed = True

    if changed:
        plan.action = CHANGED
    return plan
