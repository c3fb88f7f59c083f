"""Reads for scrutiny: the tracker with derived RAG, the report's numbering and classification,
the generated appendices' content and history pages."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from operator import attrgetter

from django.conf import settings
from django.db.models import Case, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.history import HistoryEntry, history_entries
from scrutiny import extensions
from scrutiny.models import (
    Action,
    AgendaEntry,
    Appendix,
    CabinetReport,
    DecisionRecord,
    EvidenceLink,
    ProgressUpdate,
    Recommendation,
    Response,
)

# --- RAG ------------------------------------------------------------------------------------


class Rag:
    RED = "red"
    AMBER = "amber"
    GREEN = "green"
    COMPLETE = "complete"
    NONE = "none"

    LABELS = {
        RED: "Red",
        AMBER: "Amber",
        GREEN: "Green",
        COMPLETE: "Complete",
        NONE: "No actions",
    }
    CHOICES = list(LABELS.items())
    ORDER = {RED: 0, AMBER: 1, GREEN: 2, NONE: 3, COMPLETE: 4}


LIVE = (Action.Status.NOT_STARTED, Action.Status.IN_PROGRESS)


def _latest_percent(outer: str = "pk"):
    latest = ProgressUpdate.objects.filter(action=OuterRef(outer)).order_by("-date", "-id")
    return Coalesce(Subquery(latest.values("percent_complete")[:1]), Value(0), output_field=IntegerField())


def actions_with_rag(queryset: QuerySet[Action], *, today: dt.date | None = None) -> QuerySet[Action]:
    """Each action's RAG, in SQL.

    - complete: done (a dropped action is complete too: nothing more will happen);
    - red: not done and past its due date;
    - amber: not done, due within SCRUTINY_AMBER_DAYS and its latest progress below
      SCRUTINY_AMBER_BELOW_PERCENT;
    - green: otherwise.
    """
    today = today or timezone.localdate()
    soon = today + dt.timedelta(days=settings.SCRUTINY_AMBER_DAYS)
    return queryset.annotate(percent=_latest_percent()).annotate(
        rag=Case(
            When(~Q(status__in=LIVE), then=Value(Rag.COMPLETE)),
            When(due_date__lt=today, then=Value(Rag.RED)),
            When(
                Q(due_date__lte=soon) & Q(percent__lt=settings.SCRUTINY_AMBER_BELOW_PERCENT),
                then=Value(Rag.AMBER),
            ),
            default=Value(Rag.GREEN),
        )
    )


def recommendations_with_rag(
    queryset: QuerySet[Recommendation], *, today: dt.date | None = None
) -> QuerySet[Recommendation]:
    """A recommendation's RAG is its worst live action's; all actions closed: complete; no
    actions: none."""
    today = today or timezone.localdate()
    soon = today + dt.timedelta(days=settings.SCRUTINY_AMBER_DAYS)
    own = Action.objects.filter(recommendation=OuterRef("pk"))
    live = own.filter(status__in=LIVE)
    red = live.filter(due_date__lt=today)
    amber = live.annotate(percent=_latest_percent()).filter(
        due_date__lte=soon, percent__lt=settings.SCRUTINY_AMBER_BELOW_PERCENT
    )
    return queryset.annotate(
        rag=Case(
            When(Exists(red), then=Value(Rag.RED)),
            When(Exists(amber), then=Value(Rag.AMBER)),
            When(Exists(live), then=Value(Rag.GREEN)),
            When(Exists(own), then=Value(Rag.COMPLETE)),
            default=Value(Rag.NONE),
        )
    )


def tracker(*, today: dt.date | None = None) -> QuerySet[Recommendation]:
    """Every recommendation, with what the tracker shows, in one query (plus prefetches)."""
    return (
        recommendations_with_rag(Recommendation.objects.all(), today=today)
        .select_related("meeting__committee", "agenda_item", "review_recommendation__review", "response")
        .prefetch_related("actions")
        .order_by("source", "meeting__date", "number", "id")
    )


def recommendation_detail(*, pk: int, today: dt.date | None = None) -> Recommendation:
    return (
        recommendations_with_rag(Recommendation.objects.all(), today=today)
        .select_related("meeting__committee", "agenda_item", "review_recommendation__review", "created_by")
        .get(pk=pk)
    )


def recommendation_actions(*, recommendation: Recommendation, today: dt.date | None = None) -> list[Action]:
    return list(
        actions_with_rag(recommendation.actions.all(), today=today).prefetch_related("updates__created_by")
    )


def response_of(recommendation: Recommendation) -> Response | None:
    return Response.objects.filter(recommendation=recommendation).first()


# --- The report: lettering, numbering and classification -------------------------------------


LETTER = re.compile(r"^\(([a-z])\)\s*")


def lettered(text: str) -> list[tuple[str, str]]:
    """A report's recommendations, one a line, lettered (a), (b) ... whatever was typed before."""
    lines = [LETTER.sub("", line.strip().lstrip("-* ")).strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    return [(_letter(index), line) for index, line in enumerate(lines)]


def _letter(index: int) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return letters[index] if index < 26 else letters[index // 26 - 1] + letters[index % 26]


@dataclass
class Paragraph:
    number: int | None
    text: str
    items: list[tuple[str, str]] = field(default_factory=list)  # lettered sub-items
    continuation: list[str] = field(default_factory=list)  # unnumbered text after it


@dataclass
class Section:
    key: str
    heading: str
    paragraphs: list[Paragraph]


def numbered_sections(report: CabinetReport) -> list[Section]:
    """The sections from alternative options onwards, paragraphs numbered continuously.

    Blocks are separated by a blank line. "(a) ..." is a lettered item of the paragraph
    before; "> ..." is unnumbered text continuing it (the equality duty's quotation).
    """
    number = 0
    sections = []
    for key, heading in CabinetReport.NUMBERED_SECTIONS:
        paragraphs: list[Paragraph] = []
        for block in re.split(r"\n\s*\n", getattr(report, key).strip()):
            block = block.strip()
            if not block:
                continue
            letter = LETTER.match(block)
            if paragraphs and letter:
                paragraphs[-1].items.append((letter.group(1), LETTER.sub("", block)))
            elif paragraphs and block.startswith(">"):
                paragraphs[-1].continuation.append(block.lstrip("> ").strip())
            else:
                number += 1
                paragraphs.append(Paragraph(number=number, text=block))
        sections.append(Section(key=key, heading=heading, paragraphs=paragraphs))
    return sections


SCHEDULE_12A = {
    1: "Information relating to any individual",
    2: "Information which is likely to reveal the identity of an individual",
    3: "Information relating to the financial or business affairs of any particular person "
    "(including the authority holding that information)",
    4: "Information relating to any consultations or negotiations, or contemplated consultations or "
    "negotiations, in connection with any labour relations matter arising between the authority or a "
    "Minister of the Crown and employees of, or office holders under, the authority",
    5: "Information in respect of which a claim to legal professional privilege could be maintained in "
    "legal proceedings",
    6: "Information which reveals that the authority proposes to give under any enactment a notice under "
    "or by virtue of which requirements are imposed on a person, or to make an order or direction under "
    "any enactment",
    7: "Information relating to any action taken or to be taken in connection with the prevention, "
    "investigation or prosecution of crime",
}


@dataclass(frozen=True)
class Classification:
    short: str  # "Open" or "Part exempt"
    text: str  # the classification paragraph, as the 2020 report words it
    exempt_numbers: tuple[int, ...]


def classification(appendices: list[Appendix]) -> Classification:
    exempt = [a for a in appendices if a.exempt]
    if not exempt:
        return Classification("Open", "Open", ())
    numbers = tuple(a.number for a in exempt)
    paragraphs = sorted({a.schedule_12a_paragraph for a in exempt if a.schedule_12a_paragraph})
    names = ", ".join(str(n) for n in numbers)
    many = len(numbers) > 1
    text = (
        f"Part exempt: Appendi{'ces' if many else 'x'} {names} - "
        f"{'These Appendices are' if many else 'This Appendix is'} exempt from public and press disclosure "
        "(Schedule 12A Local Government Act 1972, as amended by the Local Authorities (Access to "
        "Information) (Variation) Order 2006) - exempt paragraph "
        + "; ".join(f"{p} ({SCHEDULE_12A[p].lower()})" for p in paragraphs)
        + ", and the public interest in maintaining the exemption outweighs the public interest in "
        "disclosing the information"
    )
    return Classification("Part exempt", text, numbers)


def report_classification(report: CabinetReport) -> Classification:
    return classification(list(report.appendices.all()))


def exempt_notice(appendix: Appendix) -> str:
    """The words that stand in for an exempt appendix wherever it may not be shown."""
    return (
        f"Appendix {appendix.number} is exempt from publication by virtue of paragraph "
        f"{appendix.schedule_12a_paragraph} of Part 1 of Schedule 12A to the Local Government Act 1972."
    )


# --- One appendix ---------------------------------------------------------------------------------


@dataclass
class AppendixPage:
    """An appendix as its page shows it. For a viewer who may not see an exempt appendix's
    content, ``appendix`` is a copy whose content fields are the mask (core.exempt) and
    ``context`` is None: the page has nothing exempt to show."""

    appendix: Appendix
    shown: bool  # its content is the viewer's to see
    context: dict | None  # the generated or text body's template context (not for an upload)
    notice: str
    #: For the access log: the exempt fields the page shows (``Model.field``).
    shown_fields: list[str] = field(default_factory=list)


def appendix_page(*, user, appendix: Appendix) -> AppendixPage:
    from copy import copy

    from core.exempt import field_labels, mask, shown_fields
    from referrals.models import Child
    from scrutiny import packs
    from scrutiny.permissions import can_see_exempt_appendices

    shown = not appendix.exempt or can_see_exempt_appendices(user, appendix.report)
    page_appendix = copy(appendix)
    if not shown:
        mask(page_appendix)
        return AppendixPage(appendix=page_appendix, shown=False, context=None, notice=exempt_notice(appendix))
    context = None
    if appendix.kind != Appendix.Kind.UPLOADED_PDF:
        context = packs.appendix_context(appendix) | {"body": packs.TEMPLATES[appendix.kind][1]}
    fields = shown_fields([appendix])
    if appendix.exempt and appendix.kind == Appendix.Kind.EXEMPT_CASE_LIST:
        fields += field_labels({Child: ["first_name", "last_name", "school"]})  # each case's children
    return AppendixPage(
        appendix=page_appendix,
        shown=True,
        context=context,
        notice=exempt_notice(appendix) if appendix.exempt else "",
        shown_fields=sorted(fields),
    )


# --- Generated appendices ------------------------------------------------------------------------


def response_table(report: CabinetReport) -> list[Recommendation]:
    """The executive response table: the scrutiny recommendations on the report's agenda item."""
    return list(
        Recommendation.objects.filter(agenda_item=report.agenda_item, source=Recommendation.Source.SCRUTINY)
        .select_related("meeting__committee", "response")
        .order_by("meeting__date", "number")
    )


@dataclass(frozen=True)
class ExemptCase:
    number: int
    reference: str
    received: dt.date
    period: str
    children: list[tuple[str, str, str]]  # role, name, school


def exempt_case_list(review) -> list[ExemptCase]:
    """Appendix 2 of the 2020 report: the historic cases by name. Exempt (Schedule 12A para 2):
    only for holders of a grant on the report, and every read is logged by the caller.

    Two queries, however many cases: the included referrals, then all their children. Plain
    queries, not the review's related managers or a prefetch: a pack's digest and its render
    each read the list in one task, and a relation loaded again from one line reads, to the
    N+1 detector, like a row-by-row load."""
    from collections import defaultdict

    from referrals.models import ReferralChild
    from reviews.models import ScreeningDecision

    included = list(
        ScreeningDecision.objects.filter(review_id=review.pk, decision=ScreeningDecision.Decision.INCLUDE)
        .select_related("referral", "period")
        .order_by("referral__received_at", "referral_id")
    )
    children = defaultdict(list)
    for link in (
        ReferralChild.objects.filter(referral_id__in=[screening.referral_id for screening in included])
        .select_related("child__school")
        .order_by("label")
    ):
        children[link.referral_id].append(
            (
                link.get_role_display(),
                f"{link.child.first_name} {link.child.last_name}",
                link.child.school.name if link.child.school else "Not known",
            )
        )
    return [
        ExemptCase(
            number=number,
            reference=screening.referral.reference,
            received=timezone.localtime(screening.referral.received_at).date(),
            period=screening.period.name,
            children=children[screening.referral_id],
        )
        for number, screening in enumerate(included, start=1)
    ]


# --- History ------------------------------------------------------------------------------------


def _entries(records, label) -> list[HistoryEntry]:
    """Records that hold nothing exempt: should a field of theirs be registered exempt one day,
    it is masked for everyone (these pages check no grant)."""
    return history_entries(records.select_related("history_user"), label=label, may_see_exempt=False)


def recommendation_history(recommendation: Recommendation) -> list[HistoryEntry]:
    action_ids = list(Action.history.filter(recommendation_id=recommendation.pk).values_list("id", flat=True))
    entries = _entries(Recommendation.history.filter(id=recommendation.pk), lambda r: "Recommendation")
    entries += _entries(Response.history.filter(recommendation_id=recommendation.pk), lambda r: "Response")
    entries += _entries(Action.history.filter(recommendation_id=recommendation.pk), lambda r: "Action")
    entries += _entries(ProgressUpdate.history.filter(action_id__in=action_ids), lambda r: "Progress update")
    entries += _entries(
        EvidenceLink.history.filter(recommendation_id=recommendation.pk), lambda r: "Evidence"
    )
    entries.sort(key=attrgetter("when"), reverse=True)
    return entries


def report_history(report: CabinetReport, *, may_see_exempt: bool) -> list[HistoryEntry]:
    """The report's history: an exempt appendix's content (core.exempt) is masked unless
    ``may_see_exempt``; ``core.history.exempt_fields_shown`` says what was shown, for the log."""
    entries = _entries(CabinetReport.history.filter(id=report.pk), lambda r: "Report")
    appendix_records = list(Appendix.history.filter(report_id=report.pk).select_related("history_user"))
    entries += history_entries(
        appendix_records, label=lambda r: f"Appendix {r.number}", may_see_exempt=may_see_exempt
    )
    # What each appendix named (the model guidance version put to the meeting), kept by the
    # app that owns it (scrutiny.extensions), under the appendix's latest number.
    numbers = {r.id: r.number for r in sorted(appendix_records, key=attrgetter("history_date", "history_id"))}
    entries += extensions.history(numbers)
    entries += _entries(DecisionRecord.history.filter(report_id=report.pk), lambda r: "Decision")
    entries += _entries(AgendaEntry.history.filter(item_id=report.agenda_item_id), lambda r: "Agenda entry")
    entries.sort(key=attrgetter("when"), reverse=True)
    return entries


#: Appendix kinds that show a review's cases one by one (the others show figures or text).
CASE_APPENDIX_KINDS = (Appendix.Kind.EXEMPT_CASE_LIST, Appendix.Kind.CASE_DETAILS)


def referrals_in_exempt_appendices(appendices) -> list[tuple[object, str]]:
    """The referrals whose cases the given exempt appendices show, as (referral, label): a read
    of those appendices is logged against each referral, so a child's record shows who read
    it in a cabinet paper too. One query."""
    from referrals.models import Referral
    from reviews.models import ScreeningDecision

    review_ids = {
        appendix.review_id
        for appendix in appendices
        if appendix.exempt and appendix.review_id and appendix.kind in CASE_APPENDIX_KINDS
    }
    if not review_ids:
        return []
    rows = (
        ScreeningDecision.objects.filter(
            review_id__in=review_ids, decision=ScreeningDecision.Decision.INCLUDE
        )
        .order_by("referral_id")
        .values_list("referral_id", "referral__reference")
        .distinct()
    )
    return [(Referral(pk=pk), reference) for pk, reference in rows]


# --- Published versions ---------------------------------------------------------------------


@dataclass(frozen=True)
class VersionRow:
    version: object  # ReportVersion
    warning: str
    packs: list
    guidance_version: object | None = None  # the model guidance version its appendix carried


def report_versions(report: CabinetReport, *, may_see_exempt: bool) -> list[VersionRow]:
    """The report's published versions, newest first, each with its finished packs (dated,
    with checksums; the exempt pack only for those who may see it), and the model guidance
    version each carried (kept by the app that owns it: scrutiny.extensions). Three queries."""
    from core.models import ExportJob
    from scrutiny.models import ReportVersion
    from scrutiny.services import late_publication_warning

    versions = list(ReportVersion.objects.filter(report=report).order_by("-number"))
    variants = [ExportJob.Variant.PUBLIC] + ([ExportJob.Variant.EXEMPT] if may_see_exempt else [])
    jobs: dict[int, list] = {}
    if versions:
        for job in ExportJob.objects.filter(
            kind="cabinet_report_version",
            object_id__in=[v.pk for v in versions],
            status=ExportJob.Status.DONE,
            variant__in=variants,
        ).order_by("finished_at", "pk"):
            jobs.setdefault(job.object_id, []).append(job)
    carried = extensions.carried(versions)
    return [
        VersionRow(v, late_publication_warning(v), jobs.get(v.pk, []), carried.get(v.pk)) for v in versions
    ]
