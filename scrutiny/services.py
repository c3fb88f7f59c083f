"""Writes to the scrutiny tracker and cabinet reports. Every change goes through here.

Each function runs in a transaction, records who acted and why (simple-history change
reasons) and checks the version the user loaded, so a stale edit is refused rather than
applied (as referrals do). Bad input raises a ValidationError naming the field, and changes
nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, models, transaction
from django.db.models import Max
from django.utils import timezone

from core import permissions
from core.concurrency import Conflict as Conflict  # the views catch services.Conflict
from core.concurrency import lock_for_change
from core.models import SecurityEvent
from core.permissions import VIEW_EXEMPT, GrantKind
from core.reasons import reason_error
from core.records import save_with_history
from core.roles import GROUP_NAMES
from core.security_events import security_event_record
from scrutiny import extensions
from scrutiny.models import (
    Action,
    AgendaEntry,
    AgendaItem,
    Appendix,
    CabinetReport,
    DecisionRecord,
    EvidenceLink,
    ExemptAppendixSnapshot,
    Meeting,
    ProgressUpdate,
    Recommendation,
    ReportVersion,
    ReportVersionAppendix,
    Response,
)
from scrutiny.permissions import READERS, can_grant


def _lock(model: type[models.Model], pk: int, expected_version: int | None):
    return lock_for_change(model, pk, expected_version)


def _raise_if(errors: dict[str, str]) -> None:
    if errors:
        raise ValidationError(errors)


# --- Recommendations ------------------------------------------------------------------------

#: The status a recommendation's actions allow. Its actions are the truth (the tracker's RAG is
#: derived from them in SQL): with any action still live it is open or in progress; with
#: actions and all of them done or dropped it is complete (or closed without action).
_LIVE_STATUSES = (Action.Status.NOT_STARTED, Action.Status.IN_PROGRESS)


def _actions_state(recommendation: Recommendation) -> tuple[bool, bool]:
    """(has any action, has a live action), in one query."""
    states = set(recommendation.actions.values_list("status", flat=True).distinct())
    return bool(states), bool(states & set(_LIVE_STATUSES))


def _status_contradiction(status: str, *, has_actions: bool, has_live: bool) -> str | None:
    S = Recommendation.Status
    if has_live and status in (S.COMPLETE, S.CLOSED):
        return "This recommendation has actions still open: mark them done or dropped first"
    if has_actions and not has_live and status in (S.OPEN, S.IN_PROGRESS):
        return "All its actions are done or dropped: add an action before marking it open or in progress"
    return None


def _follow_actions(recommendation: Recommendation, *, user, reason: str) -> None:
    """Move the recommendation's status to what its actions say, if they now contradict it."""
    recommendation = Recommendation.objects.select_for_update().get(pk=recommendation.pk)
    has_actions, has_live = _actions_state(recommendation)
    S = Recommendation.Status
    status = recommendation.status
    if has_live and status in (S.OPEN, S.COMPLETE, S.CLOSED):
        status = S.IN_PROGRESS
    elif has_actions and not has_live and status in (S.OPEN, S.IN_PROGRESS):
        status = S.COMPLETE
    if status != recommendation.status:
        recommendation.status = status
        save_with_history(
            recommendation, user=user, reason=f"{reason}: status follows its actions", new_version=True
        )


@dataclass(frozen=True)
class RecommendationInput:
    source: str
    text: str
    agenda_item: AgendaItem | None = None
    meeting: Meeting | None = None
    review_recommendation: object | None = None  # reviews.ReviewRecommendation
    source_reference: str = ""


def _validate_recommendation(data: RecommendationInput) -> dict[str, str]:
    errors = {}
    Source = Recommendation.Source
    if data.source not in Source.values:
        errors["source"] = "Select where the recommendation comes from"
    if not data.text.strip():
        errors["text"] = "Enter the recommendation"
    if data.source == Source.SCRUTINY and data.meeting is None:
        errors["meeting"] = "Select the scrutiny meeting that made the recommendation"
    if data.source == Source.SCRUTINY and data.meeting and data.meeting.committee.kind != "scrutiny":
        errors["meeting"] = "Select a meeting of a scrutiny committee"
    if data.source == Source.CASE_REVIEW and data.review_recommendation is None:
        errors["review_recommendation"] = "Select the case review's recommendation"
    if data.source in (Source.EXTERNAL_AUDIT, Source.EARLIER_REPORT) and not data.source_reference.strip():
        errors["source_reference"] = "Enter the audit or report the recommendation comes from"
    return errors


@transaction.atomic
def recommendation_create(*, user, data: RecommendationInput) -> Recommendation:
    _raise_if(_validate_recommendation(data))
    Source = Recommendation.Source
    recommendation = Recommendation(
        source=data.source,
        text=data.text.strip(),
        agenda_item=data.agenda_item,
        meeting=data.meeting if data.source == Source.SCRUTINY else None,
        review_recommendation=data.review_recommendation if data.source == Source.CASE_REVIEW else None,
        source_reference=data.source_reference.strip(),
        created_by=user,
    )
    if data.source == Source.SCRUTINY:
        # Numbered per meeting: 1, 2, 3 ... in the order recorded; the lock keeps two officers
        # recording at once from taking the same number.
        Meeting.objects.select_for_update().get(pk=data.meeting.pk)
        last = Recommendation.objects.filter(meeting=data.meeting).aggregate(n=Max("number"))["n"]
        recommendation.number = (last or 0) + 1
    if (
        data.source == Source.CASE_REVIEW
        and Recommendation.objects.filter(review_recommendation=data.review_recommendation).exists()
    ):
        raise ValidationError({"review_recommendation": "That review recommendation is already tracked"})
    try:
        with transaction.atomic():
            save_with_history(recommendation, user=user, reason="Recommendation recorded", new_version=True)
    except IntegrityError as clash:
        raise ValidationError(
            {"review_recommendation": "That review recommendation is already tracked"}
        ) from clash
    return recommendation


@transaction.atomic
def recommendation_update(
    *, user, recommendation_id: int, expected_version: int, text: str, status: str, agenda_item=None
) -> Recommendation:
    recommendation = _lock(Recommendation, recommendation_id, expected_version)
    errors = {}
    if not text.strip():
        errors["text"] = "Enter the recommendation"
    if status not in Recommendation.Status.values:
        errors["status"] = "Select the status"
    else:
        has_actions, has_live = _actions_state(recommendation)
        contradiction = _status_contradiction(status, has_actions=has_actions, has_live=has_live)
        if contradiction:
            errors["status"] = contradiction
    _raise_if(errors)
    recommendation.text = text.strip()
    recommendation.status = status
    recommendation.agenda_item = agenda_item
    save_with_history(recommendation, user=user, reason="Recommendation changed", new_version=True)
    return recommendation


@transaction.atomic
def response_record(
    *,
    user,
    recommendation_id: int,
    expected_version: int,
    decision: str,
    text: str,
    responded_by: str,
    responded_on: dt.date,
) -> Response:
    """Record (or change) the executive's response; the recommendation's version moves on."""
    recommendation = _lock(Recommendation, recommendation_id, expected_version)
    errors = {}
    if decision not in Response.Decision.values:
        errors["decision"] = "Select whether the recommendation is accepted"
    if not text.strip():
        errors["text"] = "Enter the response"
    if not responded_by.strip():
        errors["responded_by"] = "Enter who responded"
    _raise_if(errors)
    response = Response.objects.filter(recommendation=recommendation).first()
    reason = "Response changed" if response else "Response recorded"
    response = response or Response(recommendation=recommendation)
    response.decision, response.text = decision, text.strip()
    response.responded_by, response.responded_on = responded_by.strip(), responded_on
    save_with_history(response, user=user, reason=reason, new_version=True)
    save_with_history(recommendation, user=user, reason=reason, new_version=True)
    return response


# --- Actions, progress and evidence ---------------------------------------------------------


@transaction.atomic
def action_add(
    *, user, recommendation_id: int, expected_version: int, description: str, owner: str, due_date: dt.date
) -> Action:
    recommendation = _lock(Recommendation, recommendation_id, expected_version)
    errors = {}
    if not description.strip():
        errors["description"] = "Enter what will be done"
    if not owner.strip():
        errors["owner"] = "Enter who owns the action"
    _raise_if(errors)
    action = Action(
        recommendation=recommendation, description=description.strip(), owner=owner.strip(), due_date=due_date
    )
    save_with_history(action, user=user, reason="Action added", new_version=True)
    S = Recommendation.Status
    if recommendation.status in (S.OPEN, S.COMPLETE, S.CLOSED):
        recommendation.status = S.IN_PROGRESS  # a new live action reopens it
    save_with_history(recommendation, user=user, reason="Action added", new_version=True)
    return action


@transaction.atomic
def action_update(
    *,
    user,
    action_id: int,
    expected_version: int,
    description: str,
    owner: str,
    due_date: dt.date,
    status: str,
    completed_on: dt.date | None = None,
) -> Action:
    action = _lock(Action, action_id, expected_version)
    errors = {}
    if not description.strip():
        errors["description"] = "Enter what will be done"
    if not owner.strip():
        errors["owner"] = "Enter who owns the action"
    if status not in Action.Status.values:
        errors["status"] = "Select the status"
    if status == Action.Status.DONE and completed_on is None:
        errors["completed_on"] = "Enter the date the action was completed"
    _raise_if(errors)
    action.description, action.owner, action.due_date, action.status = (
        description.strip(),
        owner.strip(),
        due_date,
        status,
    )
    action.completed_on = completed_on if status == Action.Status.DONE else None
    save_with_history(action, user=user, reason="Action changed", new_version=True)
    _follow_actions(Recommendation(pk=action.recommendation_id), user=user, reason="Action changed")
    return action


@transaction.atomic
def progress_add(
    *, user, action_id: int, expected_version: int, date: dt.date, percent_complete: int, text: str
) -> ProgressUpdate:
    """A dated progress update. 100% completes the action on that date."""
    action = _lock(Action, action_id, expected_version)
    errors = {}
    if not 0 <= percent_complete <= 100:
        errors["percent_complete"] = "Progress must be between 0 and 100 per cent"
    if not text.strip():
        errors["text"] = "Enter what has happened"
    if action.status in (Action.Status.DONE, Action.Status.DROPPED):
        errors["text"] = "This action is closed: change its status before adding progress"
    _raise_if(errors)
    update = ProgressUpdate(
        action=action, date=date, percent_complete=percent_complete, text=text.strip(), created_by=user
    )
    save_with_history(update, user=user, reason="Progress recorded", new_version=True)
    if percent_complete == 100:
        action.status, action.completed_on = Action.Status.DONE, date
    elif action.status == Action.Status.NOT_STARTED:
        action.status = Action.Status.IN_PROGRESS
    save_with_history(action, user=user, reason="Progress recorded", new_version=True)
    _follow_actions(Recommendation(pk=action.recommendation_id), user=user, reason="Progress recorded")
    return update


_PATH = re.compile(r"^/(?!/)[\w\-./?=&%#]*$")


@transaction.atomic
def evidence_add(
    *,
    user,
    recommendation_id: int,
    kind: str,
    label: str,
    review=None,
    guidance_document=None,
    path: str = "",
    note: str = "",
) -> EvidenceLink:
    recommendation = Recommendation.objects.select_for_update().get(pk=recommendation_id)
    Kind = EvidenceLink.Kind
    errors = {}
    if kind not in Kind.values:
        errors["kind"] = "Select what the evidence is"
    if not label.strip():
        errors["label"] = "Enter a short description of the evidence"
    if kind == Kind.REVIEW_FINDINGS and review is None:
        errors["review"] = "Select the case review"
    if kind == Kind.GUIDANCE and guidance_document is None:
        errors["guidance_document"] = "Select the guidance document"
    if kind in (Kind.TRAINING, Kind.PAGE) and not _PATH.match(path.strip()):
        errors["path"] = "Enter a page in this service, starting with /, like /guidance/"
    _raise_if(errors)
    link = EvidenceLink(
        recommendation=recommendation,
        kind=kind,
        label=label.strip(),
        review=review if kind == Kind.REVIEW_FINDINGS else None,
        guidance_document=guidance_document if kind == Kind.GUIDANCE else None,
        path=path.strip() if kind in (Kind.TRAINING, Kind.PAGE) else "",
        note=note.strip(),
        added_by=user,
    )
    save_with_history(link, user=user, reason="Evidence linked", new_version=True)
    return link


# --- Cabinet reports ----------------------------------------------------------------------------

REPORT_TEXT_FIELDS = (
    "title",
    "report_by",
    "decision_type",
    "wards_affected",
    "purpose",
    "recommendations",
    *(name for name, _ in CabinetReport.NUMBERED_SECTIONS),
    "background_papers",
)
REQUIRED_REPORT_FIELDS = {
    "title": "Enter the title of the report",
    "report_by": "Enter who the report is by",
    "decision_type": "Select whether this is a key decision",
    "purpose": "Enter the purpose of the report",
    "recommendations": "Enter at least one recommendation",
}


def _validate_report(values: dict) -> dict[str, str]:
    errors = {
        name: message
        for name, message in REQUIRED_REPORT_FIELDS.items()
        if not str(values.get(name, "")).strip()
    }
    if values.get("decision_type") and values["decision_type"] not in CabinetReport.DecisionType.values:
        errors["decision_type"] = "Select whether this is a key decision"
    return errors


@transaction.atomic
def cabinet_report_create(*, user, agenda_item: AgendaItem, meeting: Meeting, values: dict) -> CabinetReport:
    _raise_if(_validate_report(values))
    report = CabinetReport(agenda_item=agenda_item, meeting=meeting, created_by=user)
    for name in REPORT_TEXT_FIELDS:
        if name in values:
            setattr(report, name, values[name].strip() if isinstance(values[name], str) else values[name])
    save_with_history(report, user=user, reason="Report started", new_version=True)
    if not agenda_item.entries.filter(meeting=meeting).exists():
        # The report puts the item on the meeting's agenda: its history follows it there.
        last = AgendaEntry.objects.filter(meeting=meeting).aggregate(n=Max("number"))["n"]
        entry = AgendaEntry(item=agenda_item, meeting=meeting, number=(last or 0) + 1)
        save_with_history(entry, user=user, reason="Report started", new_version=True)
    return report


@transaction.atomic
def cabinet_report_update(*, user, report_id: int, expected_version: int, values: dict) -> CabinetReport:
    report = _lock(CabinetReport, report_id, expected_version)
    merged = {name: getattr(report, name) for name in REPORT_TEXT_FIELDS} | values
    _raise_if(_validate_report(merged))
    for name in REPORT_TEXT_FIELDS:
        value = merged[name]
        setattr(report, name, value.strip() if isinstance(value, str) else value)
    save_with_history(report, user=user, reason="Report changed", new_version=True)
    return report


# --- Appendices ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AppendixInput:
    kind: str
    title: str
    exempt: bool = False
    schedule_12a_paragraph: int | None = None
    public_interest: str = ""
    review: object | None = None  # reviews.Review
    text: str = ""
    upload: object | None = None  # an UploadedFile
    # For model guidance: the version put to the meeting (None: the published one), kept by the
    # app that owns the model guidance (scrutiny.extensions.choose).
    guidance_version: object | None = None


def validate_pdf(upload) -> tuple[bytes, str, int]:
    """Read an uploaded PDF in full, check it and sanitise it: (content, sha256, pages).

    The name and the browser's content type prove nothing; only a document pikepdf and pypdf
    can open, with at least one page and no password, is accepted. The size limit is checked
    before anything is parsed; then pages, objects and how far its streams expand
    (core.documents.pdf_check), and JavaScript, launch actions and embedded files are
    stripped. The content returned (and stored) is the sanitised document, never the upload.
    """
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    from core.documents.pdf_check import PdfRefused, check_pdf

    limit = settings.SCRUTINY_APPENDIX_MAX_BYTES
    if upload.size > limit:
        raise ValidationError({"upload": f"The file must be smaller than {limit // (1024 * 1024)} MB"})
    upload.seek(0)
    content = upload.read(limit + 1)
    if len(content) > limit:
        raise ValidationError({"upload": f"The file must be smaller than {limit // (1024 * 1024)} MB"})
    if not content.lstrip()[:5] == b"%PDF-":
        raise ValidationError({"upload": "The selected file must be a PDF"})
    try:
        checked = check_pdf(
            content,
            max_pages=settings.SCRUTINY_APPENDIX_MAX_PAGES,
            max_objects=settings.SCRUTINY_APPENDIX_MAX_OBJECTS,
            max_expanded_bytes=settings.SCRUTINY_APPENDIX_MAX_EXPANDED_BYTES,
        )
    except PdfRefused as refused:
        raise ValidationError({"upload": str(refused)}) from refused
    content = checked.content
    try:
        import io

        # The exports read appendices with pypdf: it must open what is stored, every page.
        reader = PdfReader(io.BytesIO(content), strict=False)
        for page in reader.pages:
            page.mediabox  # noqa: B018 - touching the pages makes pypdf resolve them
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as broken:
        raise ValidationError({"upload": "The selected file must be a PDF that opens"}) from broken
    return content, hashlib.sha256(content).hexdigest(), checked.pages


def _validate_appendix(data: AppendixInput, *, existing: Appendix | None = None) -> dict[str, str]:
    Kind = Appendix.Kind
    errors = {}
    if data.kind not in Kind.values:
        errors["kind"] = "Select what kind of appendix this is"
    if not data.title.strip():
        errors["title"] = "Enter the title of the appendix"
    if data.kind in Appendix.FROM_REVIEW and data.review is None:
        errors["review"] = "Select the case review the appendix is made from"
    if data.kind == Kind.TEXT and not data.text.strip():
        errors["text"] = "Enter the text of the appendix"
    if data.kind == Kind.UPLOADED_PDF and data.upload is None and not (existing and existing.file):
        errors["upload"] = "Select a PDF file"
    if data.kind == Kind.EXEMPT_CASE_LIST and not data.exempt:
        errors["exempt"] = "A case list names children: it must be exempt"
    if data.exempt:
        if data.schedule_12a_paragraph not in range(1, 8):
            errors["schedule_12a_paragraph"] = "Select the paragraph of Schedule 12A that makes it exempt"
        if not data.public_interest.strip():
            errors["public_interest"] = (
                "Enter why the public interest in keeping it exempt outweighs disclosure"
            )
    return errors


def _apply_appendix(appendix: Appendix, data: AppendixInput) -> None:
    appendix.kind, appendix.title = data.kind, data.title.strip()
    appendix.exempt = data.exempt
    appendix.schedule_12a_paragraph = data.schedule_12a_paragraph if data.exempt else None
    appendix.public_interest = data.public_interest.strip() if data.exempt else ""
    appendix.review = data.review if data.kind in Appendix.FROM_REVIEW else None
    appendix.text = data.text if data.kind == Appendix.Kind.TEXT else ""
    if data.kind == Appendix.Kind.UPLOADED_PDF and data.upload is not None:
        content, digest, pages = validate_pdf(data.upload)
        appendix.file_sha256, appendix.file_size, appendix.file_pages = digest, len(content), pages
        appendix.file.save(f"{digest}.pdf", ContentFile(content), save=False)
    elif data.kind != Appendix.Kind.UPLOADED_PDF:
        appendix.file, appendix.file_sha256, appendix.file_size, appendix.file_pages = "", "", None, None


def _choose_subject(appendix: Appendix, data: AppendixInput, *, user, reason: str) -> None:
    """What the appendix names (the model guidance version put to the meeting), recorded by the
    app that owns it, in this transaction (scrutiny.extensions)."""
    subject = data.guidance_version if data.kind == Appendix.Kind.MODEL_GUIDANCE else None
    extensions.choose(appendix, subject, user=user, reason=reason)


@transaction.atomic
def appendix_add(*, user, report_id: int, expected_version: int, data: AppendixInput) -> Appendix:
    report = _lock(CabinetReport, report_id, expected_version)
    _raise_if(_validate_appendix(data))
    last = report.appendices.aggregate(n=Max("number"))["n"]
    appendix = Appendix(report=report, number=(last or 0) + 1)
    _apply_appendix(appendix, data)
    save_with_history(appendix, user=user, reason=f"Appendix {appendix.number} added", new_version=True)
    _choose_subject(appendix, data, user=user, reason=f"Appendix {appendix.number} added")
    save_with_history(report, user=user, reason=f"Appendix {appendix.number} added", new_version=True)
    return appendix


@transaction.atomic
def appendix_update(*, user, appendix_id: int, expected_version: int, data: AppendixInput) -> Appendix:
    appendix = _lock(Appendix, appendix_id, expected_version)
    report = CabinetReport.objects.select_for_update().get(pk=appendix.report_id)
    _raise_if(_validate_appendix(data, existing=appendix))
    _apply_appendix(appendix, data)
    save_with_history(appendix, user=user, reason=f"Appendix {appendix.number} changed", new_version=True)
    _choose_subject(appendix, data, user=user, reason=f"Appendix {appendix.number} changed")
    save_with_history(report, user=user, reason=f"Appendix {appendix.number} changed", new_version=True)
    return appendix


# --- Grants and the decision ----------------------------------------------------------------------


#: Access to a report's exempt appendices always ends: 30 days unless the grantor says, at most 90
#: (the rule every grant a person gives follows: core.permissions).
REPORT_GRANT_DEFAULT_DAYS = permissions.GRANT_DEFAULT_DAYS
REPORT_GRANT_MAX_DAYS = permissions.GRANT_MAX_DAYS
report_grant_default_end = permissions.grant_default_end


@transaction.atomic
def report_grant(*, granted_by, report_id: int, user, reason: str, expires_on: dt.date | None = None):
    """Information governance gives a reader the right to see the report's exempt appendices
    and download its exempt pack, for a reason and until a date (docs/adr on grants).

    Never to themselves; the end date defaults to 30 days and may be at most 90 days away.
    The grantee is told through a security event."""
    if not can_grant(granted_by):
        raise ValidationError("Only information governance can give access to exempt appendices")
    report = CabinetReport.objects.get(pk=report_id)
    errors = {}
    if user.pk == granted_by.pk:
        errors["user"] = "You cannot give yourself access. Ask another information governance officer"
    elif not user.groups.filter(name__in=[GROUP_NAMES[role] for role in READERS]).exists():
        errors["user"] = "Select a report officer, lead reviewer or information governance officer"
    error = reason_error(reason, what="why this person needs the exempt appendices")
    if error:
        errors["reason"] = error
    expires_on = expires_on or report_grant_default_end()
    error = permissions.grant_end_error(expires_on, noun="The date access ends")
    if error:
        errors["expires_on"] = error
    _raise_if(errors)
    row = permissions.grant(
        report,
        action=VIEW_EXEMPT,
        reason=reason.strip(),
        user=user,
        granted_by=granted_by,
        kind=GrantKind.EXPLICIT,
        # Access ends as the end date begins (as a referral grant's does): never over 90 days.
        expires_at=permissions.grant_ends_at(expires_on),
    )
    security_event_record(
        kind=SecurityEvent.Kind.GRANT_GIVEN,
        user=user,
        actor=granted_by,
        detail=f"Access to a cabinet report's exempt appendices, until {expires_on:%-d %B %Y}",
    )
    return row


@transaction.atomic
def report_revoke(*, revoked_by, report_id: int, grant_id: int, reason: str) -> None:
    if not can_grant(revoked_by):
        raise ValidationError("Only information governance can remove access to exempt appendices")
    report = CabinetReport.objects.get(pk=report_id)
    permissions.revoke(
        report, grant_id=grant_id, holder_kind="user", revoked_by=revoked_by, reason=reason or "Removed"
    )


# --- Publishing a version for the meeting ------------------------------------------------------

#: Local Government Act 1972, s100B: the papers are open to the public at least five clear days
#: before the meeting.
PUBLICATION_CLEAR_DAYS = 5
#: Executive decisions subject to call-in take effect after the call-in period: commonly five
#: working days after the decision is published (a setting, as councils' constitutions differ).
CALL_IN_WORKING_DAYS_DEFAULT = 5


def clear_days(published_on: dt.date, meeting_date: dt.date) -> int:
    """Clear days between publication and the meeting: neither of those two days, and no
    weekend day or bank holiday (England and Wales)."""
    from core.timescales import is_working_day

    day, count = published_on + dt.timedelta(days=1), 0
    while day < meeting_date:
        count += is_working_day(day)
        day += dt.timedelta(days=1)
    return count


def publication_deadline(meeting_date: dt.date) -> dt.date:
    """The last day the papers can be published and still give five clear days."""
    from core.timescales import is_working_day

    day, found = meeting_date, 0
    while found < PUBLICATION_CLEAR_DAYS:
        day -= dt.timedelta(days=1)
        found += is_working_day(day)
    return day - dt.timedelta(days=1)


def call_in_ends_on(published_on: dt.date) -> dt.date:
    from core.timescales import add_working_days

    days = getattr(settings, "SCRUTINY_CALL_IN_WORKING_DAYS", CALL_IN_WORKING_DAYS_DEFAULT)
    return add_working_days(published_on, days)


def late_publication_warning(version: ReportVersion) -> str:
    """Empty when the papers gave five clear days; otherwise what went wrong, with the dates.
    Papers published on the day of the meeting, or after it, say so plainly."""
    if not version.late:
        return ""
    should = f"The papers should have been published by {version.deadline:%-d %B %Y} to give five clear days."
    if version.after_meeting:
        return (
            f"Version {version.number} was published on {version.published_on:%-d %B %Y}, after the "
            f"meeting on {version.meeting_date:%-d %B %Y}: the meeting did not have it. {should}"
        )
    if version.published_on == version.meeting_date:
        return (
            f"Version {version.number} was published on the day of the meeting, "
            f"{version.meeting_date:%-d %B %Y}, with no clear days before it. {should}"
        )
    days = clear_days(version.published_on, version.meeting_date)
    return (
        f"Version {version.number} was published on {version.published_on:%-d %B %Y}, {days} clear "
        f"day{'' if days == 1 else 's'} before the meeting on {version.meeting_date:%-d %B %Y}. {should}"
    )


def report_publication_refusal(report: CabinetReport, *, today: dt.date | None = None) -> str:
    """Why no version of the report's papers can be published now, or empty if one can.

    Papers are published for a meeting. Once the meeting has taken place, or its decision is
    recorded, the papers it considered are a record: a version published afterwards was never
    before the meeting, and a supplement could not be considered at it (Local Government Act
    1972, s100B(4)). An error found afterwards is corrected in the minutes, not the papers."""
    today = today or timezone.localdate()
    if DecisionRecord.objects.filter(report=report).exists():
        return (
            "The decision has been recorded, so the papers it was made on cannot change. "
            "Record any correction in the minutes of the meeting."
        )
    if today > report.meeting.date:
        return (
            f"The meeting on {report.meeting.date:%-d %B %Y} has taken place: papers published now "
            "were not before it. Record any correction in the minutes of the meeting."
        )
    return ""


def publication_is_late(report: CabinetReport, *, today: dt.date | None = None) -> bool:
    """Whether papers published today give fewer than five clear days before the meeting."""
    return (today or timezone.localdate()) > publication_deadline(report.meeting.date)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@transaction.atomic
def report_version_publish(
    *,
    user,
    report_id: int,
    expected_version: int | None,
    kind: str = ReportVersion.Kind.ORIGINAL,
    reason: str = "",
    urgency_reasons: str = "",
    urgency_agreed_by: str = "",
) -> ReportVersion:
    """Publish the report for its meeting: freeze its text and every appendix's content as it
    is now, into a new version. The first is the original; a later one is a supplement or a
    correction and says why. Packs are made only from versions, so a version's pack never
    changes; earlier versions and their packs stay as they were.

    A version is dated the day it is published: the date is the system's, never typed, so papers
    cannot be back-dated to look as if they gave five clear days. Publishing later than five
    clear days before the meeting is allowed (it happens) only with the chair's reasons for
    considering the papers as a matter of urgency (s100B(4)(b)), recorded with the version; the
    report shows the warning with the dates. Nothing is published once the meeting has taken
    place or its decision is recorded (``report_publication_refusal``)."""
    from scrutiny import packs

    report = _lock(CabinetReport, report_id, expected_version)
    report = CabinetReport.objects.select_related("meeting__committee", "agenda_item").get(pk=report.pk)
    last = report.versions.order_by("-number").first()
    Kind = ReportVersion.Kind
    errors = {}
    published_on = timezone.localdate()
    refusal = report_publication_refusal(report, today=published_on)
    if refusal:
        raise ValidationError(refusal)
    if last is not None:
        if kind not in (Kind.SUPPLEMENT, Kind.CORRECTION):
            errors["kind"] = "Select whether this is a supplement or a correction"
        if not reason.strip():
            errors["reason"] = f"Enter why the papers changed since version {last.number}"
    else:
        kind, reason = Kind.ORIGINAL, reason.strip()
    deadline = publication_deadline(report.meeting.date)
    late = published_on > deadline
    if late:
        if not urgency_reasons.strip():
            errors["urgency_reasons"] = (
                "Enter the chair's reasons for considering the papers as a matter of urgency"
            )
        if not urgency_agreed_by.strip():
            errors["urgency_agreed_by"] = "Enter the name of the chair who agreed the papers are urgent"
    if not report.appendices.exists() and not report.purpose.strip():
        errors["__all__"] = "The report has nothing to publish"
    _raise_if(errors)

    frozen = packs.freeze(report)
    version = ReportVersion.objects.create(
        report=report,
        number=(last.number + 1) if last else 1,
        kind=kind,
        reason=reason.strip(),
        title=packs.cabinet_report_title(report=report)[:300],
        meeting_date=report.meeting.date,
        published_on=published_on,
        deadline=deadline,
        urgency_reasons=urgency_reasons.strip() if late else "",
        urgency_agreed_by=urgency_agreed_by.strip() if late else "",
        classification=frozen.classification,
        report_fields=frozen.report_fields,
        report_html=frozen.report_html,
        digest=frozen.digest,
        published_at=timezone.now(),
        published_by=user,
    )
    # The model guidance version its appendix drew, kept by the app that owns it.
    extensions.carry(version, Appendix.Kind.MODEL_GUIDANCE, frozen.guidance_version)
    for item in frozen.appendices:
        row = ReportVersionAppendix.objects.create(
            report_version=version,
            number=item.number,
            title=item.title,
            kind=item.kind,
            exempt=item.exempt,
            schedule_12a_paragraph=item.schedule_12a_paragraph,
            public_interest=item.public_interest,
            body_html="" if item.exempt else item.html,
            file=item.file,
            file_sha256=item.file_sha256,
            content_sha256=item.content_sha256,
            exempt_records=item.exempt_records,
        )
        if item.exempt and item.file == "":
            ExemptAppendixSnapshot.objects.create(appendix=row, body_html=item.html)
    save_with_history(
        report,
        user=user,
        reason=f"Version {version.number} published ({version.get_kind_display()})",
        new_version=True,
    )
    return version


@dataclass(frozen=True)
class DecisionInput:
    decision_text: str
    status: str
    key_decision: bool
    call_in: str
    published_on: dt.date | None = None
    effective_on: dt.date | None = None
    decision_maker: str = DecisionRecord.DecisionMaker.CABINET
    decision_maker_name: str = ""
    delegation: str = ""
    decided_on: dt.date | None = None
    call_in_exemption_reason: str = ""
    call_in_exemption_agreed_by: str = ""

    @property
    def exempt_key_decision(self) -> bool:
        """A key decision taken out of call-in: allowed only as urgent, with the scrutiny chair's
        agreement, both recorded (the council's scrutiny procedure rules; the 2012 Executive
        Arrangements Regulations' general-exception and special-urgency rules)."""
        return self.key_decision and self.call_in == DecisionRecord.CallIn.NOT_SUBJECT


def _published_decision_changes(existing: DecisionRecord, data: DecisionInput, *, report, decided_on) -> dict:
    """A published decision is a public record (and may be cited, for example as a guidance
    version's approval): what was decided, by whom, when, and whether it was subject to call-in
    are fixed. Only where it stands on call-in and when it takes effect move on."""
    Maker = DecisionRecord.DecisionMaker
    fixed = {
        "decision_text": (existing.decision_text, data.decision_text.strip()),
        "decided_on": (existing.decided_on, decided_on),
        "published_on": (existing.published_on, data.published_on),
        "decision_maker": (existing.decision_maker, data.decision_maker),
        "decision_maker_name": (
            existing.decision_maker_name,
            data.decision_maker_name.strip()
            or (report.meeting.committee.name if data.decision_maker == Maker.CABINET else ""),
        ),
        "delegation": (
            existing.delegation,
            data.delegation.strip() if data.decision_maker == Maker.OFFICER else "",
        ),
        "key_decision": (existing.key_decision, data.key_decision),
        "call_in_exemption_reason": (
            existing.call_in_exemption_reason,
            data.call_in_exemption_reason.strip() if data.exempt_key_decision else "",
        ),
        "call_in_exemption_agreed_by": (
            existing.call_in_exemption_agreed_by,
            data.call_in_exemption_agreed_by.strip() if data.exempt_key_decision else "",
        ),
    }
    errors = {
        field: "A published decision cannot be changed: it is a public record and may be relied on"
        for field, (was, now) in fixed.items()
        if was != now
    }
    not_subject = DecisionRecord.CallIn.NOT_SUBJECT
    if (existing.call_in == not_subject) != (data.call_in == not_subject):
        errors["call_in"] = "Whether a published decision is subject to call-in cannot be changed"
    if existing.status == DecisionRecord.Status.CALLED_IN and data.status != DecisionRecord.Status.CALLED_IN:
        errors["status"] = "A called-in decision stays called in: record the reconsidered decision anew"
    return errors


@transaction.atomic
def decision_record(
    *, user, report_id: int, expected_version: int | None, data: DecisionInput
) -> DecisionRecord:
    """Record what the meeting decided, or change it (``expected_version`` is the decision's)."""
    report = CabinetReport.objects.select_for_update().get(pk=report_id)
    report = CabinetReport.objects.select_related("meeting__committee").get(pk=report.pk)
    existing = DecisionRecord.objects.filter(report=report).first()
    if existing is not None:
        existing = _lock(DecisionRecord, existing.pk, expected_version)
    Status = DecisionRecord.Status
    errors = {}
    if not data.decision_text.strip():
        errors["decision_text"] = "Enter the decision"
    if data.status not in Status.values:
        errors["status"] = "Select the status of the decision"
    if data.call_in not in DecisionRecord.CallIn.values:
        errors["call_in"] = "Select where the decision stands on call-in"
    if data.status in (Status.PUBLISHED, Status.CALLED_IN, Status.EFFECTIVE) and data.published_on is None:
        errors["published_on"] = "Enter the date the decision was published"
    if data.status == Status.EFFECTIVE and data.effective_on is None:
        errors["effective_on"] = "Enter the date the decision takes effect"
    if data.published_on and data.effective_on and data.effective_on < data.published_on:
        errors["effective_on"] = "The date it takes effect must be on or after the date it was published"
    if data.status == Status.CALLED_IN and data.call_in != DecisionRecord.CallIn.CALLED_IN:
        errors["call_in"] = "A called-in decision must say it was called in"
    if data.call_in == DecisionRecord.CallIn.CALLED_IN and data.status != Status.CALLED_IN:
        errors["status"] = "A decision that was called in has the status 'called in'"
    Maker = DecisionRecord.DecisionMaker
    if data.decision_maker not in Maker.values:
        errors["decision_maker"] = "Select who made the decision"
    if data.decision_maker == Maker.OFFICER and not data.delegation.strip():
        errors["delegation"] = "Enter the delegated power the officer made the decision under"
    if data.decision_maker in (Maker.CABINET_MEMBER, Maker.OFFICER) and not data.decision_maker_name.strip():
        errors["decision_maker_name"] = "Enter the title of the person who made the decision"
    if data.exempt_key_decision:
        if not data.call_in_exemption_reason.strip():
            errors["call_in_exemption_reason"] = (
                "Enter why the key decision is urgent: a key decision is subject to call-in unless it is"
            )
        if not data.call_in_exemption_agreed_by.strip():
            errors["call_in_exemption_agreed_by"] = (
                "Enter the name of the chair of the scrutiny committee who agreed the decision is urgent"
            )
    decided_on = data.decided_on or report.meeting.date
    if existing is not None and existing.status != Status.DRAFT:
        errors.update(_published_decision_changes(existing, data, report=report, decided_on=decided_on))
    if data.published_on and data.published_on < decided_on:
        errors["published_on"] = "The date it was published must be on or after the date of the decision"
    # The decision was made on a published version of the report: the latest on that day.
    decided_version = report.versions.filter(published_on__lte=decided_on).order_by("-number").first()
    if decided_version is None:
        errors["decision_text"] = (
            "Publish the report for the meeting before recording its decision: the decision is made on "
            "the published papers"
        )
    subject = data.call_in != DecisionRecord.CallIn.NOT_SUBJECT
    ends = call_in_ends_on(data.published_on) if subject and data.published_on else None
    if ends and data.effective_on and data.effective_on <= ends and "effective_on" not in errors:
        errors["effective_on"] = (
            f"The decision takes effect only after the call-in period, which ends on {ends:%-d %B %Y}: "
            "enter a later date"
        )
    if (
        data.status == Status.EFFECTIVE
        and subject
        and data.call_in != DecisionRecord.CallIn.NOT_CALLED_IN
        and "call_in" not in errors
    ):
        errors["call_in"] = "A decision takes effect only once the call-in period has ended without a call-in"
    _raise_if(errors)
    record = existing or DecisionRecord(report=report, recorded_by=user)
    record.decision_text = data.decision_text.strip()
    record.status, record.key_decision, record.call_in = data.status, data.key_decision, data.call_in
    record.published_on, record.effective_on = data.published_on, data.effective_on
    record.decision_maker = data.decision_maker
    record.decision_maker_name = data.decision_maker_name.strip() or (
        report.meeting.committee.name if data.decision_maker == Maker.CABINET else ""
    )
    record.delegation = data.delegation.strip() if data.decision_maker == Maker.OFFICER else ""
    record.decided_on, record.call_in_ends_on = decided_on, ends
    exempt = data.exempt_key_decision
    record.call_in_exemption_reason = data.call_in_exemption_reason.strip() if exempt else ""
    record.call_in_exemption_agreed_by = data.call_in_exemption_agreed_by.strip() if exempt else ""
    record.report_version = decided_version
    save_with_history(
        record, user=user, reason="Decision changed" if existing else "Decision recorded", new_version=True
    )
    if report.status != CabinetReport.Status.FINAL:
        report.status = CabinetReport.Status.FINAL
        save_with_history(report, user=user, reason="Decision recorded", new_version=True)
    return record
