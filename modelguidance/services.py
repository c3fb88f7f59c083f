"""Writes for the model guidance: versions and their lifecycle, acknowledgements, e-mails.

Every transition happens here, inside a transaction, records who and when, and leaves a
history row with a reason. An illegal transition is refused with a ``ValidationError`` that
reads well on a page. The database constraints on ``ModelGuidanceVersion`` back the one
rule that must never break: nothing unapproved is ever published.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Max
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from core.concurrency import Conflict, lock_for_change
from core.outbox import enqueue_on_commit
from core.records import delete_with_history, save_with_history
from modelguidance.models import (
    Acknowledgement,
    GuidanceSection,
    ModelGuidanceVersion,
    SafeguardingLead,
    TrainingReminder,
)
from referrals.models import School

logger = logging.getLogger(__name__)

Status = ModelGuidanceVersion.Status
EQIA_MAX_BYTES = 10 * 1024 * 1024


class GuidanceConflict(Conflict):
    """The version changed after the user loaded it; their change was not applied."""

    def __init__(self, guidance_version: ModelGuidanceVersion, expected_version: int):
        self.guidance_version = guidance_version
        super().__init__(
            guidance_version,
            expected_version,
            f"Version {guidance_version.number} was edited by someone else",
        )


@dataclass(frozen=True)
class SectionInput:
    heading: str
    body: str


def _locked(version_id: int, expected_version: int | None = None) -> ModelGuidanceVersion:
    return lock_for_change(ModelGuidanceVersion, version_id, expected_version, conflict=GuidanceConflict)


def _refuse(message: str, code: str = "illegal_transition"):
    raise ValidationError(message, code=code)


# --- versions ---------------------------------------------------------------------------------


@transaction.atomic
def guidance_version_create(
    *, user, title: str = "", copy_from_id: int | None = None
) -> ModelGuidanceVersion:
    """A new draft, starting from a copy of ``copy_from_id`` (or the newest version) if any."""
    source = (
        ModelGuidanceVersion.objects.filter(pk=copy_from_id).first()
        if copy_from_id
        else ModelGuidanceVersion.objects.order_by("-number").first()
    )
    number = (ModelGuidanceVersion.objects.aggregate(n=Max("number"))["n"] or 0) + 1
    version = ModelGuidanceVersion(
        number=number,
        title=title
        or (source.title if source else "Model guidance for handling peer on peer abuse in schools"),
        created_by=user,
    )
    save_with_history(
        version, user=user, reason=f"Draft started{f' from version {source.number}' if source else ''}"
    )
    if source:
        for section in source.sections.all():
            save_with_history(
                GuidanceSection(
                    guidance_version=version, order=section.order, heading=section.heading, body=section.body
                ),
                user=user,
                reason=f"Copied from version {source.number}",
            )
    return version


@transaction.atomic
def guidance_version_update(
    *,
    user,
    version_id: int,
    expected_version: int,
    title: str,
    change_summary: str,
    sections: list[SectionInput],
) -> ModelGuidanceVersion:
    """Replace a draft's title, change summary and sections. Only a draft can change."""
    version = _locked(version_id, expected_version)
    if version.status != Status.DRAFT:
        _refuse("Only a draft can be edited. Start a new draft to change this version.")
    if not sections:
        _refuse("Add at least one section", code="no_sections")
    version.title, version.change_summary = title, change_summary
    version.version += 1
    save_with_history(version, user=user, reason="Draft edited")
    existing = {s.order: s for s in version.sections.all()}
    for order, data in enumerate(sections, start=1):
        section = existing.pop(order, None) or GuidanceSection(guidance_version=version, order=order)
        if section.pk is None or (section.heading, section.body) != (data.heading, data.body):
            section.heading, section.body = data.heading, data.body
            save_with_history(section, user=user, reason="Draft edited")
    for section in existing.values():
        delete_with_history(section, user=user, reason="Removed from the draft")
    return version


@transaction.atomic
def guidance_version_submit(*, user, version_id: int) -> ModelGuidanceVersion:
    version = _locked(version_id)
    if version.status != Status.DRAFT:
        _refuse("Only a draft can be submitted for approval.")
    if not version.sections.exists():
        _refuse("Add at least one section before submitting", code="no_sections")
    if not version.change_summary.strip():
        _refuse("Enter a summary of the changes before submitting", code="no_change_summary")
    version.status, version.submitted_at, version.submitted_by = Status.SUBMITTED, timezone.now(), user
    version.version += 1
    save_with_history(version, user=user, reason="Submitted for approval")
    return version


RETURNED = "Returned to draft for amendment"


@transaction.atomic
def guidance_version_return_to_draft(*, user, version_id: int) -> ModelGuidanceVersion:
    """Cabinet asked for amendments: a submitted version goes back to draft."""
    version = _locked(version_id)
    if version.status != Status.SUBMITTED:
        _refuse("Only a submitted version can go back to draft.")
    version.status, version.submitted_at, version.submitted_by = Status.DRAFT, None, None
    version.version += 1
    save_with_history(version, user=user, reason=RETURNED)
    return version


def _check_eqia_file(upload: UploadedFile) -> None:
    if upload.size > EQIA_MAX_BYTES:
        _refuse("The equality impact assessment must be smaller than 10 MB", code="eqia_too_big")
    head = upload.read(5)
    upload.seek(0)
    if head != b"%PDF-":
        _refuse("The equality impact assessment must be a PDF", code="eqia_not_pdf")


@transaction.atomic
def guidance_version_attach_eqia(
    *, user, version_id: int, upload: UploadedFile, summary: str
) -> ModelGuidanceVersion:
    """Attach the equality impact assessment (a PDF) to a draft or submitted version."""
    version = _locked(version_id)
    if version.status not in (Status.DRAFT, Status.SUBMITTED):
        _refuse("The equality impact assessment cannot change once the version is approved.")
    _check_eqia_file(upload)
    version.eqia_file.save(f"eqia-version-{version.number}.pdf", upload, save=False)
    version.eqia_summary, version.eqia_attached_at, version.eqia_attached_by = summary, timezone.now(), user
    version.version += 1
    save_with_history(version, user=user, reason="Equality impact assessment attached")
    return version


def _drafters(version: ModelGuidanceVersion) -> set[int]:
    """Everyone who drafted or submitted the version: its creator, its submitter, and whoever
    changed its text (the history of the version while a draft, and of its sections)."""
    ids = {version.created_by_id, version.submitted_by_id}
    ids |= set(
        ModelGuidanceVersion.history.filter(id=version.pk, status=Status.DRAFT)
        .exclude(history_user_id=None)
        .exclude(history_change_reason=RETURNED)
        .values_list("history_user_id", flat=True)
    )
    ids |= set(
        GuidanceSection.history.filter(guidance_version_id=version.pk)
        .exclude(history_user_id=None)
        .values_list("history_user_id", flat=True)
    )
    ids.discard(None)
    return ids


def _refuse_own_work(user, version: ModelGuidanceVersion, act: str) -> None:
    """Separation of duties: nobody approves or publishes what they drafted or submitted."""
    if user is not None and user.pk in _drafters(version):
        _refuse(
            f"You drafted or submitted version {version.number}: someone else must {act} it",
            code="own_work",
        )


def _check_decision(version: ModelGuidanceVersion, decision) -> None:
    """The decision approving a version: a published record, by a decision maker (cabinet, a
    cabinet member, or an officer under a named delegation), made on or after the day the
    version was submitted (a record is dated by day)."""
    from scrutiny.models import DecisionRecord

    if decision is None:
        _refuse("Select the decision that approved this version", code="no_decision")
    if (
        decision.status not in (DecisionRecord.Status.PUBLISHED, DecisionRecord.Status.EFFECTIVE)
        or decision.call_in == DecisionRecord.CallIn.CALLED_IN
    ):
        _refuse("Select a published decision: this one is not published or was called in", code="no_decision")
    if decision.decision_maker not in DecisionRecord.DecisionMaker.values:
        _refuse("The decision does not say who made it", code="no_decision_maker")
    if decision.decision_maker == DecisionRecord.DecisionMaker.OFFICER and not decision.delegation.strip():
        _refuse("An officer's decision must name the delegated power it was made under", code="no_delegation")
    submitted_on = timezone.localdate(version.submitted_at)
    if decision.decision_date < submitted_on:
        _refuse(
            f"The decision of {decision.decision_date:%-d %B %Y} was made before version "
            f"{version.number} was submitted on {submitted_on:%-d %B %Y}: it cannot have approved it",
            code="decision_before_submission",
        )


@transaction.atomic
def guidance_version_approve(*, user, version_id: int, decision) -> ModelGuidanceVersion:
    """Record the approval of a submitted version, linked to the decision record that gave it.

    The person recording it did not draft or submit the version, and the decision was made
    after the version was submitted."""
    version = _locked(version_id)
    if version.status != Status.SUBMITTED:
        _refuse("Only a version submitted for approval can be approved.")
    if not version.has_eqia:
        _refuse("Attach the equality impact assessment before recording approval", code="no_eqia")
    _refuse_own_work(user, version, "approve")
    if decision is not None:
        decision = type(decision).objects.select_related("report__meeting__committee").get(pk=decision.pk)
    _check_decision(version, decision)
    version.status, version.approved_at, version.approved_by = Status.APPROVED, timezone.now(), user
    version.decision = decision
    version.version += 1
    save_with_history(version, user=user, reason=f"Approved: {decision}")
    return version


@transaction.atomic
def guidance_version_publish(*, user, version_id: int) -> ModelGuidanceVersion:
    """Publish an approved version; the one published before it is superseded.

    Queues, once the transaction commits, an e-mail to each school's DSL asking them to
    acknowledge it.
    """
    version = _locked(version_id)
    if version.status != Status.APPROVED:
        _refuse("Only an approved version can be published.")
    _refuse_own_work(user, version, "publish")
    decision = version.decision
    if (
        decision.status == type(decision).Status.CALLED_IN
        or decision.call_in == type(decision).CallIn.CALLED_IN
        or decision.effective_on is None
        or decision.effective_on > timezone.localdate()
    ):
        _refuse(
            "The decision that approved this version has not taken effect yet (it takes effect after "
            "the call-in period): publish it once it has",
            code="decision_not_effective",
        )
    now = timezone.now()
    for previous in ModelGuidanceVersion.objects.select_for_update().filter(status=Status.PUBLISHED):
        previous.status, previous.superseded_at = Status.SUPERSEDED, now
        previous.version += 1
        save_with_history(previous, user=user, reason=f"Superseded by version {version.number}")
    version.status, version.published_at, version.published_by = Status.PUBLISHED, now, user
    version.version += 1
    save_with_history(version, user=user, reason="Published")
    ack_ids = acknowledgements_request(user=user, version=version)
    # Through the outbox (ADR 0013): queued once this commits, kept and retried if the broker
    # is down, so publishing never fails or loses an e-mail because of Redis.
    enqueue_on_commit("modelguidance.tasks.render_published_pdf", version.pk)
    for ack_id in ack_ids:
        enqueue_on_commit("modelguidance.tasks.send_acknowledgement_request", ack_id)
    return version


# --- the published version's PDF --------------------------------------------------------------


def published_pdf_name(version: ModelGuidanceVersion) -> str:
    """Where a published version's PDF is kept: fixed by the version (it never changes once
    published) and by its text, so a corrected reference text makes a new file."""
    from modelguidance import packs

    digest = packs.digest(guidance_version=version)[:16]
    return f"guidance/published/model-guidance-v{version.number}-{digest}.pdf"


def guidance_version_render_pdf(*, version_id: int) -> str | None:
    """Render the published version's PDF once and keep it in storage; returns its name.

    Safe to run twice (an existing file is kept). Refuses anything not published: the public
    PDF can never be a draft's.
    """
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from core.documents import render_pack
    from modelguidance import packs

    version = ModelGuidanceVersion.objects.get(pk=version_id)
    if version.status != Status.PUBLISHED:
        return None
    name = published_pdf_name(version)
    if default_storage.exists(name):
        return name
    pdf = render_pack(
        parts=packs.parts(guidance_version=version),
        classification=packs.classification(guidance_version=version),
        exempt_pack=False,
        title=packs.title(version),
    )
    return default_storage.save(name, ContentFile(pdf))


# --- acknowledgements -------------------------------------------------------------------------


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def acknowledgements_request(*, user, version: ModelGuidanceVersion) -> list[int]:
    """One acknowledgement per active school with an active DSL; returns the new rows' ids."""
    leads = SafeguardingLead.objects.filter(
        role=SafeguardingLead.Role.DSL, active=True, school__active=True
    ).order_by("school_id", "pk")
    asked = set(Acknowledgement.objects.filter(guidance_version=version).values_list("school_id", flat=True))
    new = []
    for lead in leads:
        if lead.school_id not in asked:  # one per school: its first active DSL
            asked.add(lead.school_id)
            new.append(Acknowledgement(guidance_version=version, school_id=lead.school_id, lead=lead))
    # Written with their history rows (as one row at a time would be), in one statement each.
    created = bulk_create_with_history(
        new, Acknowledgement, default_user=user, default_change_reason="Requested"
    )
    return [ack.pk for ack in created]


def _link_days() -> int:
    return getattr(settings, "GUIDANCE_ACKNOWLEDGEMENT_DAYS", 28)


def _send_link(ack: Acknowledgement, *, reminder: bool, now: dt.datetime) -> None:
    token = secrets.token_urlsafe(32)
    ack.token_hash = token_hash(token)
    ack.expires_at = now + dt.timedelta(days=_link_days())
    path = reverse("modelguidance:acknowledge", kwargs={"urn": ack.school.urn, "token": token})
    context = {
        "ack": ack,
        "school": ack.school,
        "lead": ack.lead,
        "guidance_version": ack.guidance_version,
        "link": f"{settings.SITE_URL.rstrip('/')}{path}",
        "public_link": f"{settings.SITE_URL.rstrip('/')}{reverse('modelguidance:published')}",
        "expires_at": ack.expires_at,
        "reminder": reminder,
        "council_name": settings.COUNCIL_NAME,
    }
    send_mail(
        subject=("Reminder: " if reminder else "")
        + "Please acknowledge the model guidance for peer on peer abuse "
        + f"(version {ack.guidance_version.number})",
        message=render_to_string("modelguidance/email/acknowledgement_request.txt", context),
        from_email=None,
        recipient_list=[ack.lead.email],
    )


def acknowledgement_send(*, acknowledgement_id: int) -> bool:
    """E-mail the DSL their link. Safe to run twice: a sent request is not sent again."""
    with transaction.atomic():
        ack = (
            Acknowledgement.objects.select_for_update(of=("self",))
            .select_related("school", "lead", "guidance_version")
            .get(pk=acknowledgement_id)
        )
        if ack.sent_at is not None or ack.acknowledged_at is not None:
            return False
        if ack.guidance_version.status != Status.PUBLISHED:
            return False
        now = timezone.now()
        _send_link(ack, reminder=False, now=now)
        ack.sent_at = now
        save_with_history(ack, user=None, reason="Acknowledgement requested by e-mail")
    return True


@transaction.atomic
def acknowledgement_remind(*, user, acknowledgement_id: int) -> Acknowledgement:
    """Ask for a reminder to be sent (a new link; the old one stops working when it goes)."""
    ack = (
        Acknowledgement.objects.select_for_update(of=("self",))
        .select_related("guidance_version")
        .get(pk=acknowledgement_id)
    )
    if ack.acknowledged_at is not None:
        _refuse("This school has already acknowledged this version.", code="acknowledged")
    if ack.guidance_version.status != Status.PUBLISHED:
        _refuse("Only the published version can be acknowledged.", code="not_published")
    ack.remind_requested_at = timezone.now()
    save_with_history(ack, user=user, reason="Reminder requested")
    enqueue_on_commit("modelguidance.tasks.send_acknowledgement_reminder", ack.pk)
    return ack


@transaction.atomic
def acknowledgements_remind_all(*, user, version_id: int) -> int:
    """Ask for a reminder to every school yet to acknowledge the published version: the rows
    locked and read in one query, each saved with its history, one e-mail task each."""
    acks = list(
        Acknowledgement.objects.select_for_update(of=("self",))
        .filter(
            guidance_version_id=version_id,
            acknowledged_at__isnull=True,
            guidance_version__status=Status.PUBLISHED,
        )
        .order_by("pk")
    )
    now = timezone.now()
    for ack in acks:
        ack.remind_requested_at = now
        save_with_history(ack, user=user, reason="Reminder requested")
        enqueue_on_commit("modelguidance.tasks.send_acknowledgement_reminder", ack.pk)
    return len(acks)


def acknowledgement_send_reminder(*, acknowledgement_id: int) -> bool:
    """Send a requested reminder. Safe to run twice: one request sends one e-mail."""
    with transaction.atomic():
        ack = (
            Acknowledgement.objects.select_for_update(of=("self",))
            .select_related("school", "lead", "guidance_version")
            .get(pk=acknowledgement_id)
        )
        if ack.acknowledged_at is not None or ack.remind_requested_at is None:
            return False
        if ack.reminded_at is not None and ack.reminded_at >= ack.remind_requested_at:
            return False
        if ack.guidance_version.status != Status.PUBLISHED:
            return False
        now = timezone.now()
        _send_link(ack, reminder=True, now=now)
        ack.reminded_at = now
        ack.reminders += 1
        if ack.sent_at is None:
            ack.sent_at = ack.reminded_at
        save_with_history(ack, user=None, reason="Reminder sent by e-mail")
    return True


class LinkRefused(Exception):
    """An acknowledgement link that cannot be used; ``reason`` says why, in plain words."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


def acknowledgement_for_link(*, urn: str, token: str, lock: bool = False) -> Acknowledgement:
    """The acknowledgement a link is for, or ``LinkRefused``. The school must match the link's."""
    rows = Acknowledgement.objects.select_related("school", "guidance_version")
    if lock:
        rows = rows.select_for_update(of=("self",))
    ack = rows.filter(token_hash=token_hash(token)).first() if token else None
    if ack is None or ack.school.urn != urn:
        raise LinkRefused("not_found")
    if ack.acknowledged_at is not None:
        raise LinkRefused("used")
    if ack.expires_at is None or ack.expires_at <= timezone.now():
        raise LinkRefused("expired")
    if ack.guidance_version.status != Status.PUBLISHED:
        raise LinkRefused("superseded")
    return ack


@transaction.atomic
def acknowledgement_confirm(*, urn: str, token: str, name: str) -> Acknowledgement:
    """The DSL confirms, through their link, that the school has read and adopted the version."""
    ack = acknowledgement_for_link(urn=urn, token=token, lock=True)
    ack.acknowledged_at = timezone.now()
    ack.acknowledged_name = name
    save_with_history(ack, user=None, reason=f"Acknowledged through the e-mailed link by {name}")
    return ack


# --- schools' DSLs ----------------------------------------------------------------------------


def schools_for_guidance():
    return School.objects.filter(active=True)


# --- DSL training reminders -------------------------------------------------------------------

#: A school is not reminded again within this many days of its last reminder.
REMINDER_INTERVAL_DAYS = 28


@transaction.atomic
def training_reminders_request(*, user, on: dt.date) -> list[TrainingReminder]:
    """Remind each school whose DSL's training is out of date on ``on`` (or has none recorded),
    unless it was reminded in the last ``REMINDER_INTERVAL_DAYS``: one row each, recording who
    asked and when, and one e-mail each, queued through the outbox once this commits."""
    from modelguidance.selectors import training_reminder_plan

    plan = training_reminder_plan(on=on)
    reminders = [
        TrainingReminder.objects.create(school=row.school, lead=row.dsl, gap=row.gap[:200], requested_by=user)
        for row in plan.due
    ]
    for reminder in reminders:
        enqueue_on_commit("modelguidance.tasks.send_training_reminder", reminder.pk)
    return reminders


def training_reminder_send(*, reminder_id: int) -> bool:
    """E-mail one reminder. Safe to run twice: a sent reminder is not sent again."""
    with transaction.atomic():
        reminder = (
            TrainingReminder.objects.select_for_update(of=("self",))
            .select_related("school", "lead")
            .get(pk=reminder_id)
        )
        if reminder.sent_at is not None:
            return False
        context = {
            "lead": reminder.lead,
            "school": reminder.school,
            "gap": reminder.gap,
            "council_name": settings.COUNCIL_NAME,
        }
        send_mail(
            subject="Designated safeguarding lead training is due",
            message=render_to_string("modelguidance/email/training_reminder.txt", context),
            from_email=None,
            recipient_list=[reminder.lead.email],
        )
        reminder.sent_at = timezone.now()
        reminder.save(update_fields=["sent_at"])
    return True
