"""Writing a checked import in bulk, every row with its history record.

Saving 10,000 referrals one by one through the services costs about 40 ms each (guards,
grants, history, several queries), so an import writes table by table in bulk instead
(``bulk``). The history is what the services write: one record per row changed, by the
importing user, "Imported from <file>, row N", with the many-to-many rows of referrals and
decisions recorded with that same record, so the history page reads correctly.

Only ``services.referral_import_apply`` calls this, inside its transaction.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence

from django.db import models

from core.timescales import decision_due_at, local_zone
from referrals import changes
from referrals.imports.bulk import (
    create_with_history,
    create_with_m2m_history,
    update_with_history,
    update_with_m2m_history,
)
from referrals.imports.format import ChildRow, RowData
from referrals.imports.plan import CHANGED, NEW, ChildKey, Plan, RowPlan, chunks, desired_links
from referrals.models import (
    Child,
    ReferenceSequence,
    Referral,
    ReferralChild,
    ReferralDecision,
    ReferralDetail,
)

REASON_LIMIT = 100  # simple-history's change reason column


def change_reason(filename: str, row: int) -> str:
    prefix, suffix = "Imported from ", f", row {row}"
    room = REASON_LIMIT - len(prefix) - len(suffix)
    name = filename if len(filename) <= room else f"{filename[: room - 3]}..."
    return f"{prefix}{name}{suffix}"


class Writer:
    def __init__(self, *, plan: Plan, user, filename: str):
        self.plan = plan
        self.user = user
        self.filename = filename
        self.zone = local_zone()
        self._due: dict[dt.date, dt.datetime] = {}
        #: The reference of the referral each new row became, by its row in the file.
        self.created: dict[int, str] = {}
        #: Every referral the import created or changed (for referrals.changes).
        self.saved_ids: list[int] = []

    def run(self) -> tuple[int, int]:
        new = [row for row in self.plan.rows if row.action == NEW]
        changed = [row for row in self.plan.rows if row.action == CHANGED]
        children = self._children([*new, *changed])
        self._create(new, children)
        self._update(changed, children)
        changes.referrals_saved(referral_ids=self.saved_ids)
        return len(new), len(changed)

    # --- helpers --------------------------------------------------------------------------

    def _stamp(self, instance: models.Model, row: int) -> models.Model:
        instance._history_user = self.user
        instance._change_reason = change_reason(self.filename, row)
        return instance

    def _decision_due(self, received_at: dt.datetime) -> dt.datetime:
        # It depends only on the local day of receipt: work it out once per day.
        day = received_at.astimezone(self.zone).date()
        if day not in self._due:
            self._due[day] = decision_due_at(received_at)
        return self._due[day]

    # --- person records ---------------------------------------------------------------------

    def _children(self, rows: list[RowPlan]) -> dict[ChildKey, int]:
        """A person record for every child the rows name: the existing one, or a new one.

        An existing record is linked and never changed: it is shared by every referral the
        child is on, and may be more up to date than a historic file. A child named in
        several rows gets one new record, made from the first of them.
        """
        found = dict(self.plan.matched_children)
        wanted: dict[ChildKey, tuple[ChildRow, int]] = {}
        for row in rows:
            for child in row.data.children:
                if child.key not in found and child.key not in wanted:
                    wanted[child.key] = (child, row.data.row)
        records = [
            self._stamp(
                Child(
                    first_name=child.first_name,
                    last_name=child.last_name,
                    first_name_key=child.first_name.strip().lower(),
                    last_name_key=child.last_name.strip().lower(),
                    date_of_birth=child.date_of_birth,
                    gender=child.gender,
                    school_id=child.school_id,
                    year_group=child.year_group,
                    send=child.send,
                    created_by_id=self.user.pk,
                ),
                row,
            )
            for child, row in wanted.values()
        ]
        create_with_history(Child, records)
        found.update((key, record.pk) for key, record in zip(wanted, records, strict=True))
        return found

    # --- new referrals ---------------------------------------------------------------------

    def _create(self, rows: list[RowPlan], children: dict[ChildKey, int]) -> None:
        if not rows:
            return
        rows = sorted(rows, key=lambda r: (r.data.received_at, r.data.row))
        references = allocate_references([r.data.received_at.astimezone(self.zone).year for r in rows])
        referrals = []
        for plan, reference in zip(rows, references, strict=True):
            data = plan.data
            referrals.append(
                self._stamp(
                    Referral(
                        reference=reference,
                        external_id=data.source_id,
                        received_at=data.received_at,
                        source_id=data.source_pk,
                        is_peer_on_peer=data.is_peer_on_peer,
                        incident_date=data.incident_date,
                        location=data.location,
                        consent_sought=data.consent_sought,
                        status=Referral.Status.CLOSED,
                        decision_due_at=self._decision_due(data.received_at),
                        created_by_id=self.user.pk,
                        decided_at=data.decided_at,
                        decided_by_id=self.user.pk,
                        closed_at=data.closed_at,
                        closed_by_id=self.user.pk,
                    ),
                    data.row,
                )
            )
        create_with_m2m_history(
            Referral, referrals, m2m="forms_of_abuse", targets=[r.data.form_pks for r in rows]
        )
        self.created = {plan.data.row: r.reference for plan, r in zip(rows, referrals, strict=True)}
        self.saved_ids += [r.pk for r in referrals]

        details, links, decisions = [], [], []
        for plan, referral in zip(rows, referrals, strict=True):
            data = plan.data
            # Ids rather than objects: setting a related object costs more than the row itself.
            details.append(
                self._stamp(ReferralDetail(referral_id=referral.pk, **_detail_fields(data)), data.row)
            )
            for label, child in desired_links(data).items():
                links.append(
                    self._stamp(
                        ReferralChild(
                            referral_id=referral.pk,
                            child_id=children[child.key],
                            role=child.role,
                            label=label,
                        ),
                        data.row,
                    )
                )
            decisions.append(
                self._stamp(
                    ReferralDecision(
                        referral_id=referral.pk,
                        decided_by_id=self.user.pk,
                        **_decision_fields(data, due=referral.decision_due_at),
                    ),
                    data.row,
                )
            )
        create_with_history(ReferralDetail, details)
        create_with_history(ReferralChild, links)
        create_with_m2m_history(
            ReferralDecision, decisions, m2m="outcomes", targets=[r.data.outcome_pks for r in rows]
        )
        # No grants: an imported referral is closed, and a closed referral holds no default
        # grants. The MASH team reads it through the standing rule for closed referrals
        # (referrals/apps.py); anyone else needs a grant from a MASH manager.

    # --- changed referrals -----------------------------------------------------------------

    def _update(self, rows: list[RowPlan], children: dict[ChildKey, int]) -> None:
        if not rows:
            return
        referrals = []
        for plan in rows:
            data, referral = plan.data, plan.existing.referral
            referral.received_at = data.received_at
            referral.source_id = data.source_pk
            referral.is_peer_on_peer = data.is_peer_on_peer
            referral.incident_date = data.incident_date
            referral.location = data.location
            referral.consent_sought = data.consent_sought
            referral.decision_due_at = self._decision_due(data.received_at)
            referral.decided_at = data.decided_at
            referral.closed_at = data.closed_at
            referral.version += 1
            referrals.append(self._stamp(referral, data.row))
            self.saved_ids.append(referral.pk)
        update_with_m2m_history(
            Referral,
            referrals,
            fields=[
                "received_at",
                "source",
                "is_peer_on_peer",
                "incident_date",
                "location",
                "consent_sought",
                "decision_due_at",
                "decided_at",
                "closed_at",
                "version",
            ],
            m2m="forms_of_abuse",
            targets={p.existing.referral.pk: p.data.form_pks for p in rows if p.forms_changed},
        )

        details = []
        for plan in rows:
            if plan.detail_changed:
                detail = plan.existing.referral.detail
                for name, value in _detail_fields(plan.data).items():
                    setattr(detail, name, value)
                details.append(self._stamp(detail, plan.data.row))
        update_with_history(ReferralDetail, details, fields=DETAIL_FIELDS)

        decisions, outcome_targets = [], {}
        for plan in rows:
            if not (plan.decision_changed or plan.outcomes_changed):
                continue
            decision = plan.existing.decision
            for name, value in _decision_fields(
                plan.data, due=plan.existing.referral.decision_due_at
            ).items():
                setattr(decision, name, value)
            decisions.append(self._stamp(decision, plan.data.row))
            if plan.outcomes_changed:
                outcome_targets[decision.pk] = plan.data.outcome_pks
        update_with_m2m_history(
            ReferralDecision, decisions, fields=DECISION_FIELDS, m2m="outcomes", targets=outcome_targets
        )

        self._relink([plan for plan in rows if plan.children_changed], children)

    def _relink(self, rows: list[RowPlan], children: dict[ChildKey, int]) -> None:
        """Children whose role changed are updated; a different child replaces the link."""
        removed: list[ReferralChild] = []
        added: list[ReferralChild] = []
        retyped: list[ReferralChild] = []
        for plan in rows:
            referral = plan.existing.referral
            wanted = desired_links(plan.data)
            for label in set(wanted) | set(plan.existing.links):
                old, new = plan.existing.links.get(label), wanted.get(label)
                if old and new and old.key == new.key:
                    if old.role != new.role:
                        link = ReferralChild(
                            id=old.id, referral=referral, child_id=old.child_id, role=new.role, label=label
                        )
                        retyped.append(self._stamp(link, plan.data.row))
                    continue
                if old:
                    link = ReferralChild(
                        id=old.id, referral=referral, child_id=old.child_id, role=old.role, label=label
                    )
                    removed.append(self._stamp(link, plan.data.row))
                if new:
                    link = ReferralChild(
                        referral=referral, child_id=children[new.key], role=new.role, label=label
                    )
                    added.append(self._stamp(link, plan.data.row))
        for link in removed:  # rare: one delete each, so each leaves its history record
            link.delete()
        create_with_history(ReferralChild, added)
        update_with_history(ReferralChild, retyped, fields=["role"])


DETAIL_FIELDS = [
    "referrer_name",
    "referrer_role",
    "referrer_organisation",
    "referrer_contact",
    "narrative",
    "consent_not_sought_reason",
]
DECISION_FIELDS = [
    "rationale",
    "advice_notes",
    "decided_at",
    "within_timescale",
    *ReferralDecision.ADVICE_FIELDS,
]


def _detail_fields(data: RowData) -> dict:
    return {
        "referrer_name": data.referrer_name,
        "referrer_role": data.referrer_role,
        "referrer_organisation": data.referrer_organisation,
        "referrer_contact": data.referrer_contact,
        "narrative": data.narrative,
        "consent_not_sought_reason": data.consent_not_sought_reason,
    }


def _decision_fields(data: RowData, *, due: dt.datetime) -> dict:
    return {
        "rationale": data.rationale,
        "advice_notes": data.advice_notes,
        "decided_at": data.decided_at,
        "within_timescale": data.decided_at <= due,
        **{name: name in data.advice for name in ReferralDecision.ADVICE_FIELDS},
    }


# --- References ------------------------------------------------------------------------------


def allocate_references(years: Sequence[int]) -> list[str]:
    """A new reference for each year given, in order, from each year's sequence.

    The sequence rows are locked and moved on by the whole count at once, so a number is
    never handed out twice, here or by ``referral_create``. A number already taken by a
    referral made some other way is skipped.
    """
    needed = Counter(years)
    numbers: dict[int, list[int]] = {}
    for year in sorted(needed):
        numbers[year] = _take(year, needed[year])
    while True:
        candidates = {f"MASH-{year}-{n:04d}": year for year, taken in numbers.items() for n in taken}
        clashes = set()
        for chunk in chunks(sorted(candidates)):
            clashes.update(Referral.objects.filter(reference__in=chunk).values_list("reference", flat=True))
        if not clashes:
            break
        for reference in clashes:
            year = candidates[reference]
            numbers[year].remove(int(reference.rsplit("-", 1)[1]))
            numbers[year].extend(_take(year, 1))
    iterators = {year: iter(sorted(taken)) for year, taken in numbers.items()}
    return [f"MASH-{year}-{next(iterators[year]):04d}" for year in years]


def _take(year: int, count: int) -> list[int]:
    sequence, _ = ReferenceSequence.objects.select_for_update().get_or_create(year=year)
    first = sequence.last_number + 1
    sequence.last_number += count
    sequence.save(update_fields=["last_number"])
    return list(range(first, first + count))
