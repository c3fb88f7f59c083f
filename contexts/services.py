"""Writes for contextual safeguarding: raising alerts from patterns, actions, rule changes.

Alerts are raised by the product only (the worker, after a referral is saved, and the nightly
run): :func:`patterns_check_referral` and :func:`patterns_check_all`. Both are safe to run
twice and at once: each rule's row is locked while its patterns are compared with the alerts
already raised, and a referral already in an alert of the same rule and subject never raises
another (``alert_evidence_once`` backs it in the database).
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from contexts import evaluation, school_index
from contexts.models import Alert, AlertAction, AlertEvidence, Context, PatternRule
from contexts.permissions import MANAGERS, RULE_EDITORS
from contexts.selectors import RAISED_WHEN_SAVED
from core import notifications
from core.concurrency import Conflict, lock_for_change
from core.history import change_reason
from core.outbox import enqueue_on_commit
from core.reasons import reason_check
from core.records import save_with_history
from core.roles import has_role
from referrals.models import ReferralChild, ReferralDetail
from referrals.services import mash_managers

logger = logging.getLogger(__name__)

NOTIFY_ALERT = "context_alert"
NOTIFY_RULE = "context_rule_changed"
CHECK_REFERRAL_TASK = "contexts.tasks.check_referral"
CHECK_ALL_TASK = "contexts.tasks.check_all"
#: An import that changes more referrals than this is left to one full run, not a job each.
BULK_CHANGE = 50


class AlertConflict(Conflict):
    """The alert changed after the manager loaded it."""


class RuleConflict(Conflict):
    """The rule changed after it was loaded."""


# --- queueing (the referrals.changes listener) -------------------------------------------------


def referrals_saved_queue(referral_ids: list[int]) -> None:
    """Queue the incremental check of each saved referral (after commit, through the outbox);
    a large import queues one full run instead. First, in the saving transaction, the school
    index is brought up to date for them (``contexts.school_index``), so no check of a batch
    reads another's rows as they were before it."""
    school_index.refresh_saved(referral_ids=referral_ids)
    if len(referral_ids) > BULK_CHANGE:
        enqueue_on_commit(CHECK_ALL_TASK)
        return
    for referral_id in referral_ids:
        enqueue_on_commit(CHECK_REFERRAL_TASK, referral_id)


# --- raising alerts --------------------------------------------------------------------------------


@dataclass
class RunResult:
    rules_checked: list[str]
    patterns: int = 0
    raised: int = 0
    extended: int = 0
    #: Open alerts the referral was taken out of (its school or place corrected).
    taken_out: int = 0


def patterns_check_referral(*, referral_id: int) -> RunResult:
    """Re-check only the rules this referral can affect, over its own schools, place, children.
    The worker runs it after the referral is saved. Safe to run twice."""
    target = evaluation.target_get(referral_id)
    result = RunResult(rules_checked=[])
    if target is None:
        return result
    if not target.disposed:
        result.taken_out = evidence_prune_corrected(target=target)
    found: list[tuple[PatternRule, list[evaluation.Pattern]]] = []
    for rule in PatternRule.objects.filter(active=True).order_by("id"):
        if not evaluation.in_scope(rule, target):
            continue
        result.rules_checked.append(rule.kind)
        patterns = evaluation.patterns_for_referral(rule, target)
        result.patterns += len(patterns)
        if patterns:
            found.append((rule, patterns))
    if not found:
        return result
    known = _known_with(referral_id=target.pk)
    for rule, patterns in found:
        fresh = [p for p in patterns if not p.referral_ids <= known.get((rule.pk, p.subject), frozenset())]
        if fresh:
            raised, extended = _apply(rule, fresh, referral=target.pk)
            result.raised += raised
            result.extended += extended
    return result


#: The change reason of an alert (and of the evidence row) when a referral is taken out of it.
TAKEN_OUT = "Taken out: no longer matches the rule (school, place or a child's role changed)"


def _still_matches(
    rule_kind: str, context_kind: str | None, school_id: int | None, place_key: str, target: evaluation.Target
) -> bool:
    """Whether the referral still names the alert's school or place, as its rule counts it
    (the alert's rule and context as read by :func:`_prune`)."""
    if context_kind is None:  # a child or a group: not a school or place that can be corrected
        return True
    if rule_kind == PatternRule.Kind.SAME_SCHOOL:
        return school_id in target.same_schools
    if context_kind == Context.Kind.SCHOOL:
        return school_id in target.schools
    return bool(place_key) and target.place_key == place_key


def evidence_prune_corrected(*, target: evaluation.Target) -> int:
    """Take the referral out of the evidence of the open school and place alerts whose subject
    it no longer names: its place or a child's school was corrected after the alert was raised.
    The alert is never closed by it: it stays open for a manager to act on, even with fewer
    referrals than its rule's threshold, and its history (and the evidence row's) says why.
    An alert already acted on keeps its evidence: it is the record of what was acted on. One
    query when nothing changed."""
    rows = AlertEvidence.objects.filter(
        referral_id=target.pk, alert__status=Alert.Status.OPEN, alert__context__isnull=False
    )
    return _prune(rows, {target.pk: target})


def evidence_prune_all() -> int:
    """The nightly run's part: every referral in the evidence of an open school or place alert,
    checked against what it names now (a correction made by any path). Four queries, however
    many open alerts, when nothing changed."""
    rows = AlertEvidence.objects.filter(
        alert__status=Alert.Status.OPEN, alert__context__isnull=False, referral__disposed_at__isnull=True
    )
    ids = set(rows.values_list("referral_id", flat=True))
    if not ids:
        return 0
    now = timezone.now()  # what a subject match reads is the children's schools and the place only
    targets = {
        pk: evaluation.Target(pk=pk, received_at=now, is_peer_on_peer=True, disposed=False, is_sexual=False)
        for pk in ids
    }
    for referral_id, key in ReferralDetail.objects.filter(referral_id__in=ids).values_list(
        "referral_id", "incident_place_key"
    ):
        targets[referral_id].place_key = key or ""
    for referral_id, child_id, role, school_id in ReferralChild.objects.filter(
        referral_id__in=ids
    ).values_list("referral_id", "child_id", "role", "child__school_id"):
        targets[referral_id].links.append((child_id, role, school_id))
    return _prune(rows, targets)


def _prune(rows, targets: dict[int, evaluation.Target]) -> int:
    # Read as values, not rows: the nightly run reads every open alert's evidence (135,000 rows
    # at 100,000 referrals, 12 s as model instances), and only the stale ones are loaded.
    read = rows.order_by().values_list(
        "pk",
        "referral_id",
        "alert__rule__kind",
        "alert__context__kind",
        "alert__context__school_id",
        "alert__context__place_key",
    )
    stale_ids = [
        pk
        for pk, referral_id, rule_kind, context_kind, school_id, place_key in read
        if not _still_matches(rule_kind, context_kind, school_id, place_key or "", targets[referral_id])
    ]
    stale = list(AlertEvidence.objects.filter(pk__in=stale_ids).order_by("pk")) if stale_ids else []
    taken_out = 0
    for row in stale:
        with transaction.atomic():
            alert = (
                Alert.objects.select_for_update().filter(pk=row.alert_id, status=Alert.Status.OPEN).first()
            )
            if alert is None:
                continue  # acted on meanwhile: its evidence is kept
            row._change_reason = TAKEN_OUT  # read by simple-history for the deletion's row
            row.delete()
            save_with_history(alert, user=None, reason=TAKEN_OUT, new_version=True)
            taken_out += 1
    return taken_out


def _known_with(*, referral_id: int) -> dict[tuple[int, str], frozenset[int]]:
    """The evidence of every alert that holds this referral, by (rule, pattern subject): one
    query, so a check that finds nothing new (the usual case) writes and locks nothing."""
    rows = (
        AlertEvidence.objects.filter(alert__evidence__referral_id=referral_id)
        .order_by()  # not by when added: a set is made of them (the sort was most of the query)
        .values_list(
            "alert__rule_id",
            "alert__subject_key",
            "alert__context__school_id",
            "alert__context__place_key",
            "referral_id",
        )
    )
    known: dict[tuple[int, str], set[int]] = defaultdict(set)
    for rule_id, subject_key, school_id, place, evidence_id in rows:
        if school_id is not None:
            subject = f"school:{school_id}"
        elif place:
            subject = f"place:{place}"
        else:
            subject = subject_key
        known[(rule_id, subject)].add(evidence_id)
    return {key: frozenset(ids) for key, ids in known.items()}


def patterns_check_all() -> RunResult:
    """The nightly run: every active rule over the whole record (catches rule changes). It reads
    the referrals themselves, and rebuilds the school index the per-referral checks read."""
    result = RunResult(rules_checked=[])
    school_index.rebuild()
    result.taken_out = evidence_prune_all()
    for rule in PatternRule.objects.filter(active=True).order_by("id"):
        result.rules_checked.append(rule.kind)
        patterns = evaluation.patterns_all(rule)
        result.patterns += len(patterns)
        raised, extended = _apply(rule, patterns, referral=None)
        result.raised += raised
        result.extended += extended
    logger.info(
        "contexts: nightly run, %s patterns, %s alerts raised, %s extended",
        result.patterns,
        result.raised,
        result.extended,
    )
    return result


def _contexts_for(patterns: list[evaluation.Pattern]) -> dict[str, Context]:
    """The school or place context of each school and place pattern, made the first time."""
    schools = {int(p.subject.split(":", 1)[1]) for p in patterns if p.subject.startswith("school:")}
    places = {p.subject.split(":", 1)[1] for p in patterns if p.subject.startswith("place:")}
    found: dict[str, Context] = {}
    if schools:
        for context in Context.objects.filter(kind=Context.Kind.SCHOOL, school_id__in=schools):
            found[f"school:{context.school_id}"] = context
    if places:
        for context in Context.objects.filter(kind=Context.Kind.PLACE, place_key__in=places):
            found[f"place:{context.place_key}"] = context
    made = [
        Context(kind=Context.Kind.SCHOOL, school_id=school_id)
        for school_id in sorted(schools)
        if f"school:{school_id}" not in found
    ]
    # No copy of what a referrer wrote: the page reads the name from a referral its viewer may
    # identify (selectors.context_name).
    made += [
        Context(kind=Context.Kind.PLACE, place_key=key)
        for key in sorted(places)
        if f"place:{key}" not in found
    ]
    if made:
        # Together (the first nightly run opens some 360 at 100,000 referrals), each with the
        # history record a save would write: no user, the reason.
        for context in made:
            context._history_user = None
            context._change_reason = change_reason("Context opened by a pattern rule")
        bulk_create_with_history(made, Context, batch_size=1000)
        for context in made:
            subject = (
                f"school:{context.school_id}"
                if context.kind == Context.Kind.SCHOOL
                else f"place:{context.place_key}"
            )
            found[subject] = context
    return found


@transaction.atomic
def _apply(rule: PatternRule, patterns: list[evaluation.Pattern], *, referral: int | None) -> tuple[int, int]:
    """Raise an alert for each pattern with a referral no alert of its rule and subject holds
    yet; a pattern whose open alert lacks some of its referrals adds them to it instead.
    Returns (raised, extended)."""
    if not patterns:
        return 0, 0
    PatternRule.objects.select_for_update().filter(pk=rule.pk).first()  # one run per rule at a time
    contexts = _contexts_for(patterns)

    def key_of(pattern: evaluation.Pattern) -> str:
        context = contexts.get(pattern.subject)
        return f"context:{context.pk}" if context is not None else pattern.subject

    keys = {key_of(p) for p in patterns}
    alerts = Alert.objects.filter(rule=rule)
    if referral is not None:
        alerts = alerts.filter(subject_key__in=keys)
    known: dict[str, set[int]] = defaultdict(set)
    open_alert: dict[str, Alert] = {}
    for alert in alerts.order_by("raised_at", "id"):
        if alert.is_open:
            open_alert[alert.subject_key] = alert
    evidence = AlertEvidence.objects.filter(alert__rule=rule)
    if referral is not None:
        evidence = evidence.filter(alert__subject_key__in=keys)
    for subject_key, referral_id in evidence.order_by().values_list("alert__subject_key", "referral_id"):
        known[subject_key].add(referral_id)

    now = timezone.now()
    raised = extended = 0
    new_evidence: list[AlertEvidence] = []
    new_alerts: list[Alert] = []
    #: What happens to the alerts raised in this run, in order: (alert, its version then,
    #: the history's reason, "+" raised or "~" extended). They are written together after the
    #: loop (three or four queries, not two per alert and two per extension: the first nightly
    #: run raises some 4,400 alerts at 100,000 referrals), with the history a save of each would
    #: have written.
    events: list[tuple[Alert, int, str, str]] = []
    for pattern in sorted(patterns, key=lambda p: (p.subject, min(p.referral_ids))):
        subject_key = key_of(pattern)
        fresh = set(pattern.referral_ids) - known[subject_key]
        if not fresh:
            continue
        alert = open_alert.get(subject_key)
        if alert is not None:
            ids = sorted(fresh)
            reason = f"{len(ids)} more referral{'s' if len(ids) != 1 else ''} in the pattern"
            if alert.pk is None:  # raised in this run: written below
                alert.version += 1
                events.append((alert, alert.version, reason, "~"))
            else:
                save_with_history(alert, user=None, reason=reason, new_version=True)
            extended += 1
        else:
            ids = sorted(pattern.referral_ids)
            alert = Alert(
                rule=rule,
                subject_key=subject_key,
                context=contexts.get(pattern.subject),
                raised_at=now,
                raised_by_referral_id=referral,
            )
            reason = RAISED_WHEN_SAVED if referral else "Raised by the nightly run"
            events.append((alert, alert.version, reason, "+"))
            open_alert[subject_key] = alert
            new_alerts.append(alert)
            raised += 1
        known[subject_key] |= set(ids)
        new_evidence += [AlertEvidence(alert=alert, referral_id=pk, added_at=now) for pk in ids]
    if new_alerts:
        _alerts_create(new_alerts, events)
    if new_evidence:
        bulk_create_with_history(
            new_evidence, AlertEvidence, batch_size=1000, default_change_reason="Pattern found"
        )
    if new_alerts:
        _notify(new_alerts)
    return raised, extended


def _alerts_create(alerts: list[Alert], events: list[tuple[Alert, int, str, str]]) -> None:
    """Insert the alerts raised in one run (each as its last version), then their history: a
    record raising each, then one per extension in the order they happened, as
    ``save_with_history`` would have written them one by one (no user: the product)."""
    # Not bulk_create_with_history: its one record per alert would hold the last version.
    Alert.objects.bulk_create(alerts, batch_size=1000)
    for history_type in ("+", "~"):
        records = []
        for alert, version, reason, kind in events:
            if kind != history_type:
                continue
            record = copy.copy(alert)
            record.version = version
            record._history_user = None
            record._change_reason = change_reason(reason)
            records.append(record)
        if records:
            Alert.history.bulk_history_create(records, batch_size=1000, update=history_type == "~")


def _notify(alerts: list[Alert]) -> None:
    """A MASH manager is told of each new alert (by number and rule: nothing exempt) only if
    they hold a grant on one of its referrals (not disposed of): that a pattern exists about a
    school, place or child is itself exempt (docs/adr/0024). No count: it would tell of
    referrals the manager may not identify. One query per manager."""
    from core.permissions import filter_granted
    from referrals.models import Referral

    members: dict[int, set[int]] = {}
    for alert_id, referral_id in (
        AlertEvidence.objects.filter(alert__in=alerts).order_by().values_list("alert_id", "referral_id")
    ):
        members.setdefault(alert_id, set()).add(referral_id)
    everyone = {pk for ids in members.values() for pk in ids}
    reach: dict[int, list] = {alert.pk: [] for alert in alerts}
    for manager in mash_managers():
        granted = set(
            filter_granted(
                Referral.objects.filter(pk__in=everyone, disposed_at__isnull=True), user=manager
            ).values_list("pk", flat=True)
        )
        for alert in alerts:
            if members.get(alert.pk, set()) & granted:
                reach[alert.pk].append(manager)
    for alert in alerts:
        if not reach[alert.pk]:
            continue
        notifications.notify(
            users=reach[alert.pk],
            kind=NOTIFY_ALERT,
            text=f"Alert {alert.pk}: {alert.rule.get_kind_display().lower()}",
            url=reverse("contexts:alert", args=[alert.pk]),
            key=f"context-alert:{alert.pk}",
        )


# --- actions ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionInput:
    kind: str
    taken_on: dt.date
    note: str


def _is_manager(user) -> bool:
    return has_role(user, *MANAGERS)


@transaction.atomic
def alert_record_action(*, user, alert_id: int, expected_version: int, data: ActionInput) -> AlertAction:
    """A MASH manager records what was done about an alert; the alert is then acted on.

    No action needs a reason (core.reasons); nothing else closes an alert."""
    if not _is_manager(user):
        raise ValidationError("Only a MASH manager can record what was done about an alert")
    alert = lock_for_change(Alert, alert_id, expected_version, conflict=AlertConflict)
    errors = {}
    if data.kind not in AlertAction.Kind.values:
        errors["kind"] = "Select what was done"
    if data.kind == AlertAction.Kind.SCHOOL_ADVICE and not alert.rule.is_school:
        errors["kind"] = "Advice or training for the school is for an alert about a school"
    raised_on = timezone.localtime(alert.raised_at).date()
    if data.taken_on > timezone.localdate():
        errors["taken_on"] = "The date must be today or in the past"
    elif data.taken_on < raised_on:
        errors["taken_on"] = f"The date must be on or after {raised_on.day} {raised_on:%B %Y}"
    # Every action closes the alert, so every note must say something (core.reasons).
    what = "why no action is needed" if data.kind == AlertAction.Kind.NO_ACTION else "what was done"
    try:
        note = reason_check(data.note, field="note", what=what)
    except ValidationError as error:
        errors.update(error.message_dict)
        note = ""
    if errors:
        raise ValidationError(errors)
    action = AlertAction(
        alert=alert,
        kind=data.kind,
        taken_on=data.taken_on,
        note=note,
        recorded_at=timezone.now(),
        recorded_by=user,
    )
    save_with_history(action, user=user, reason=f"Recorded: {action.get_kind_display()}")
    if alert.is_open:
        alert.status = Alert.Status.ACTED_ON
        alert.acted_on_at = action.recorded_at
        alert.acted_on_by = user
    save_with_history(
        alert, user=user, reason=f"Action recorded: {action.get_kind_display()}", new_version=True
    )
    return action


# --- rules -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleInput:
    threshold: int
    window_months: int
    sexual_only: bool
    active: bool
    #: Why the rule is changed: kept as the history's change reason.
    reason: str = ""


@transaction.atomic
def rule_update(*, user, rule_id: int, expected_version: int, data: RuleInput) -> PatternRule:
    """Change a rule's threshold, window, scope or whether it runs; a full run follows (after
    commit, through the worker), so the change applies to the whole record."""
    if not has_role(user, *RULE_EDITORS):
        raise ValidationError("Only a MASH manager can change a pattern rule")
    rule = lock_for_change(PatternRule, rule_id, expected_version, conflict=RuleConflict)
    errors = {}
    try:
        reason = reason_check(data.reason, field="reason", what="why you are changing the rule")
    except ValidationError as error:
        errors.update(error.message_dict)
    if not 1 <= data.threshold <= 100:
        errors["threshold"] = "The number of referrals must be between 1 and 100"
    if not 1 <= data.window_months <= 120:
        errors["window_months"] = "The number of months must be between 1 and 120"
    if rule.kind == PatternRule.Kind.CHILD and data.threshold < 2:
        errors["threshold"] = "A child is named in at least 2 referrals before this rule applies"
    if rule.kind == PatternRule.Kind.GROUP and data.threshold < 2:
        errors["threshold"] = "A group is named in at least 2 referrals before this rule applies"
    if errors:
        raise ValidationError(errors)
    before = (rule.threshold, rule.window_months, rule.sexual_only, rule.active)
    after = (data.threshold, data.window_months, data.sexual_only, data.active)
    if before == after:
        return rule
    rule.threshold, rule.window_months, rule.sexual_only, rule.active = after
    rule.changed_at = timezone.now()
    rule.changed_by = user
    # The reason (save_with_history shortens it to fit the history's column).
    save_with_history(rule, user=user, reason=f"Rule changed: {reason}", new_version=True)
    # The other managers are told: a rule switched off or loosened stops alerts for everyone.
    notifications.notify(
        users=[m for m in mash_managers() if m.pk != user.pk],
        kind=NOTIFY_RULE,
        text=f"Pattern rule changed by {user.get_full_name() or user.get_username()}: "
        f"{rule.get_kind_display().lower()}",
        url=reverse("contexts:rules"),
    )
    enqueue_on_commit(CHECK_ALL_TASK)
    return rule
