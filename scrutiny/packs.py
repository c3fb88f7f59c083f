"""The cabinet report as a document pack: its parts, their digest, its classification and who
may download the exempt pack. The PDF pipeline (core.documents) renders what these return.

Packs are made only from a published version of the report (``ReportVersion``): publishing
freezes the report's text and renders every appendix once, from its sources as they are that
day (``freeze``); the version keeps that HTML (an exempt appendix's apart, in
``ExemptAppendixSnapshot``) and a digest over all of it. A version's pack is rendered from what
it stored, never re-queried, so it is the same pack whatever happens to the review, the
responses or the model guidance afterwards (docs/adr/0021-versions-frozen-cabinet-papers.md).

The live report (``cabinet_report_digest``, ``appendix_context``) is what the composer pages
show while the report is drafted: the digest is the sha256 of everything that would go into
a version published now.

core.documents (the PDF pipeline) is imported only where parts are made, so the pages that
share this module's contexts work without it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from scrutiny import extensions, selectors
from scrutiny.models import (
    Appendix,
    CabinetReport,
    ExemptAppendixSnapshot,
    ReportVersion,
    ReportVersionAppendix,
)
from scrutiny.permissions import can_see_exempt_appendices

#: kind -> (print template under templates/scrutiny/pdf/, body include shared with the pages)
TEMPLATES = {
    "report": ("scrutiny/pdf/report.html", "scrutiny/includes/report_body.html"),
    Appendix.Kind.REVIEW_REPORT: ("scrutiny/pdf/appendix.html", "reviews/includes/report_body.html"),
    Appendix.Kind.CASE_DETAILS: ("scrutiny/pdf/appendix.html", "reviews/includes/case_details_body.html"),
    Appendix.Kind.EXEMPT_CASE_LIST: (
        "scrutiny/pdf/appendix.html",
        "scrutiny/includes/exempt_case_list_body.html",
    ),
    Appendix.Kind.RESPONSE_TABLE: (
        "scrutiny/pdf/appendix.html",
        "scrutiny/includes/response_table_body.html",
    ),
    Appendix.Kind.MODEL_GUIDANCE: (
        "scrutiny/pdf/appendix.html",
        "scrutiny/includes/model_guidance_body.html",
    ),
    Appendix.Kind.DEFINITIONS: ("scrutiny/pdf/appendix.html", "scrutiny/includes/definitions_body.html"),
    Appendix.Kind.TEXT: ("scrutiny/pdf/appendix.html", "scrutiny/includes/text_appendix_body.html"),
}


def report_context(report: CabinetReport) -> dict:
    appendices = list(report.appendices.all())
    return {
        "report": report,
        "meeting": report.meeting,
        "classification": selectors.classification(appendices),
        "lettered": selectors.lettered(report.recommendations),
        "sections": selectors.numbered_sections(report),
        "appendices": appendices,
    }


_ASK = object()


def appendix_context(appendix: Appendix, subject=_ASK) -> dict:
    """What an appendix's body template needs, read from its current sources. ``subject``:
    what the appendix names (the model guidance version put to the meeting), when the caller
    has read it already for many appendices at once; otherwise asked (scrutiny.extensions)."""
    from reviews.disclosure import case_details_context
    from reviews.figures import review_report_context

    Kind = Appendix.Kind
    context: dict = {"appendix": appendix, "number": appendix.number}
    if appendix.kind == Kind.REVIEW_REPORT:
        context |= review_report_context(review=appendix.review)
    elif appendix.kind == Kind.CASE_DETAILS:
        context |= case_details_context(review=appendix.review)
    elif appendix.kind == Kind.EXEMPT_CASE_LIST:
        context |= {"review": appendix.review, "cases": selectors.exempt_case_list(appendix.review)}
    elif appendix.kind == Kind.RESPONSE_TABLE:
        context |= {"recommendations": selectors.response_table(appendix.report)}
    elif appendix.kind == Kind.MODEL_GUIDANCE:
        context |= guidance_context(extensions.subject(appendix) if subject is _ASK else subject)
    elif appendix.kind == Kind.DEFINITIONS:
        context |= definitions_context()
    return context


def guidance_context(version=None) -> dict:
    """The model guidance (Appendix 6), as the app that owns it draws it (``scrutiny.extensions``):
    the version put to the meeting when the appendix names one (a version submitted for approval,
    say), otherwise the published one, never a draft. Without that app, an empty appendix."""
    source = extensions.appendix_source(Appendix.Kind.MODEL_GUIDANCE)
    if source is None:
        return {"guidance_version": None}
    return source.context(version)


def definitions_context() -> dict:
    """ "What is peer on peer abuse" (Appendix 7), from the forms-of-abuse taxonomy as it is now."""
    from guidance.packs import definitions_part

    part = definitions_part()
    return {"guidance_template": part.template, **part.context}


def _appendix_part(appendix: Appendix, subject=_ASK):
    from core.documents import HtmlPart, PdfPart

    common = {
        "title": f"Appendix {appendix.number} - {appendix.title}",
        "exempt": appendix.exempt,
        "schedule_12a_paragraph": appendix.schedule_12a_paragraph,
        "public_interest": appendix.public_interest,
    }
    if appendix.kind == Appendix.Kind.UPLOADED_PDF:
        return PdfPart(file=appendix.file.name, **common)
    template, body = TEMPLATES[appendix.kind]
    return HtmlPart(template=template, context=appendix_context(appendix, subject) | {"body": body}, **common)


def cabinet_report_parts(*, report: CabinetReport) -> list:
    """The report itself, then each appendix in order."""
    from core.documents import HtmlPart

    template, body = TEMPLATES["report"]
    parts = [HtmlPart(title=report.title, template=template, context=report_context(report) | {"body": body})]
    appendices = list(report.appendices.select_related("review").order_by("number"))
    subjects = extensions.chosen(appendices)
    parts += [_appendix_part(appendix, subjects.get(appendix.pk)) for appendix in appendices]
    return parts


def cabinet_report_preview(*, report: CabinetReport, appendix: Appendix | None, exempt_pack: bool) -> bytes:
    """One part of the live report (the report itself, or one appendix) as it will print: the
    same part, print templates, stylesheet and WeasyPrint settings as the packs, with the pack's
    running header, classification and page numbers. A preview, not a publication.

    Without ``exempt_pack`` an exempt appendix becomes the public pack's notice page: its
    context is never read and its template never rendered (core.documents.rendering).
    """
    from core.documents import HtmlPart, render_pack

    if appendix is None:
        template, body = TEMPLATES["report"]
        part = HtmlPart(
            title=report.title, template=template, context=report_context(report) | {"body": body}
        )
    elif appendix.exempt and not exempt_pack:
        part = HtmlPart(
            title=f"Appendix {appendix.number} - {appendix.title}",
            template="scrutiny/pdf/appendix.html",
            context={},
            exempt=True,
            schedule_12a_paragraph=appendix.schedule_12a_paragraph,
            public_interest=appendix.public_interest,
        )
    else:
        part = _appendix_part(appendix)
    return render_pack(
        parts=[part],
        classification=selectors.report_classification(report).short,
        exempt_pack=exempt_pack,
        title=f"Preview: {cabinet_report_title(report=report)}",
    )


REPORT_FIELDS = (
    "id",
    "title",
    "report_by",
    "decision_type",
    "wards_affected",
    "purpose",
    "recommendations",
    *(name for name, _ in CabinetReport.NUMBERED_SECTIONS),
    "background_papers",
    "status",
)
APPENDIX_FIELDS = (
    "number",
    "title",
    "kind",
    "review_id",
    "exempt",
    "schedule_12a_paragraph",
    "public_interest",
)


def cabinet_report_digest(*, report: CabinetReport) -> str:
    """sha256 over every input of the pack; a changed source changes it. Read afresh: a stale
    instance must never match a finished pack made from newer sources."""
    report = CabinetReport.objects.select_related("meeting__committee").get(pk=report.pk)
    digest = hashlib.sha256()

    def add(value) -> None:
        digest.update(json.dumps(value, sort_keys=True, default=str).encode())
        digest.update(b"\x00")

    add({name: getattr(report, name) for name in REPORT_FIELDS})
    add({"meeting": str(report.meeting), "meeting_date": report.meeting.date})
    appendices = list(report.appendices.select_related("review").order_by("number"))
    subjects = extensions.chosen(appendices)
    for appendix in appendices:
        add({name: getattr(appendix, name) for name in APPENDIX_FIELDS})
        if appendix.kind == Appendix.Kind.UPLOADED_PDF:
            add({"file_sha256": appendix.file_sha256, "size": appendix.file_size})
        else:
            _, body = TEMPLATES[appendix.kind]
            add(render_to_string(body, appendix_context(appendix, subjects.get(appendix.pk))))
    # The report's own body shows the appendix list and the classification that follows from it.
    add(render_to_string(TEMPLATES["report"][1], report_context(report)))
    return digest.hexdigest()


def cabinet_report_classification(*, report: CabinetReport) -> str:
    """ "Open" or "Part exempt", from the appendices."""
    return selectors.report_classification(report).short


def user_may_download_exempt(*, user, report: CabinetReport) -> bool:
    """A per-record grant on the report (and a two-factor session), through core.permissions."""
    return can_see_exempt_appendices(user, report)


def user_may_view(*, user, report: CabinetReport) -> bool:
    from scrutiny.permissions import can_read

    return can_read(user)


#: Appendix kinds whose figures come from a review's publication (reviews.disclosure).
FIGURE_APPENDIX_KINDS = (Appendix.Kind.REVIEW_REPORT, Appendix.Kind.CASE_DETAILS)


def cabinet_report_disclosure(*, report: CabinetReport) -> list[tuple[object, object, list[Appendix]]]:
    """Every figure the public pack publishes, as the disclosure policy decides it: for each
    review whose figures a public appendix shows, (review, its publication, those appendices).
    A review's appendices go through the policy together (one publication), so the pack
    shows each of its quantities once, shown or suppressed."""
    from reviews.disclosure import review_publication

    appendices = [
        a
        for a in report.appendices.select_related("review").order_by("number")
        if not a.exempt and a.review_id and a.kind in FIGURE_APPENDIX_KINDS
    ]
    by_review: dict[int, list[Appendix]] = {}
    for appendix in appendices:
        by_review.setdefault(appendix.review_id, []).append(appendix)
    return [
        (found[0].review, review_publication(review=found[0].review), found) for found in by_review.values()
    ]


def cabinet_report_title(*, report: CabinetReport) -> str:
    return f"{report.meeting.committee.name}, {report.meeting.date:%-d %B %Y}: {report.title}"


def cabinet_report_exempt_records(*, report: CabinetReport) -> list:
    """The referrals whose cases the report's exempt appendices show (logged on download)."""
    return selectors.referrals_in_exempt_appendices(report.appendices.filter(exempt=True))


# --- Published versions: frozen once, rendered from what they stored ---------------------------

#: The body template of a frozen part: the stored HTML, nothing re-queried.
FROZEN_BODY = "scrutiny/includes/frozen_body.html"


@dataclass(frozen=True)
class FrozenAppendix:
    number: int
    title: str
    kind: str
    exempt: bool
    schedule_12a_paragraph: int | None
    public_interest: str
    html: str = ""
    file: str = ""
    file_sha256: str = ""
    content_sha256: str = ""
    exempt_records: list = field(default_factory=list)


@dataclass(frozen=True)
class Frozen:
    report_fields: dict
    report_html: str
    classification: str
    guidance_version: object | None
    appendices: list[FrozenAppendix]
    digest: str


def _version_digest(report_fields: dict, report_html: str, appendices) -> str:
    digest = hashlib.sha256()

    def add(value) -> None:
        digest.update(json.dumps(value, sort_keys=True, default=str).encode())
        digest.update(b"\x00")

    add(report_fields)
    add(report_html)
    for a in appendices:
        add(
            {
                "number": a.number,
                "title": a.title,
                "kind": a.kind,
                "exempt": a.exempt,
                "schedule_12a_paragraph": a.schedule_12a_paragraph,
                "public_interest": a.public_interest,
                "content": a.content_sha256,
            }
        )
    return digest.hexdigest()


def freeze(report: CabinetReport) -> Frozen:
    """Render the report and every appendix from their sources as they are now, once."""
    appendices = list(report.appendices.select_related("review").order_by("number"))
    subjects = extensions.chosen(appendices)
    report_fields = {name: getattr(report, name) for name in REPORT_FIELDS} | {
        "meeting": str(report.meeting),
        "meeting_date": report.meeting.date.isoformat(),
    }
    report_html = render_to_string(TEMPLATES["report"][1], report_context(report))
    frozen, guidance_version = [], None
    for appendix in appendices:
        common = {
            "number": appendix.number,
            "title": appendix.title,
            "kind": appendix.kind,
            "exempt": appendix.exempt,
            "schedule_12a_paragraph": appendix.schedule_12a_paragraph,
            "public_interest": appendix.public_interest,
        }
        records = (
            [[referral.pk, label] for referral, label in selectors.referrals_in_exempt_appendices([appendix])]
            if appendix.exempt
            else []
        )
        if appendix.kind == Appendix.Kind.UPLOADED_PDF:
            frozen.append(
                FrozenAppendix(
                    **common,
                    file=appendix.file.name,
                    file_sha256=appendix.file_sha256,
                    content_sha256=appendix.file_sha256,
                    exempt_records=records,
                )
            )
            continue
        context = appendix_context(appendix, subjects.get(appendix.pk))
        if appendix.kind == Appendix.Kind.MODEL_GUIDANCE and context.get("guidance_version") is not None:
            guidance_version = context["guidance_version"]
        html = render_to_string(TEMPLATES[appendix.kind][1], context)
        frozen.append(
            FrozenAppendix(
                **common,
                html=html,
                content_sha256=hashlib.sha256(html.encode()).hexdigest(),
                exempt_records=records,
            )
        )
    return Frozen(
        report_fields=report_fields,
        report_html=report_html,
        classification=selectors.classification(appendices).short,
        guidance_version=guidance_version,
        appendices=frozen,
        digest=_version_digest(report_fields, report_html, frozen),
    )


class _ExemptBodies:
    """An exempt appendix's stored content, read only when a template renders it: the exempt
    pack does, for a grant holder whose request was checked (and whose download is logged);
    the public pack puts a notice in its place and never reads it. One query for all."""

    def __init__(self, report_version_id: int):
        self.report_version_id = report_version_id
        self._bodies: dict[int, str] | None = None

    def body(self, appendix_id: int) -> str:
        if self._bodies is None:
            self._bodies = dict(
                ExemptAppendixSnapshot.objects.filter(
                    appendix__report_version_id=self.report_version_id
                ).values_list("appendix_id", "body_html")
            )
        return mark_safe(self._bodies.get(appendix_id, ""))


def report_version_parts(*, report_version: ReportVersion) -> list:
    """The version as it was published: the report, then each appendix, from what it stored."""
    from core.documents import HtmlPart, PdfPart

    template = TEMPLATES["report"][0]
    parts = [
        HtmlPart(
            title=report_version.report_fields["title"],
            template=template,
            context={"body": FROZEN_BODY, "frozen_html": mark_safe(report_version.report_html)},
        )
    ]
    exempt = _ExemptBodies(report_version.pk)
    for appendix in report_version.appendices.order_by("number"):
        common = {
            "title": f"Appendix {appendix.number} - {appendix.title}",
            "exempt": appendix.exempt,
            "schedule_12a_paragraph": appendix.schedule_12a_paragraph,
            "public_interest": appendix.public_interest,
        }
        if appendix.kind == Appendix.Kind.UPLOADED_PDF:
            parts.append(PdfPart(file=appendix.file, **common))
            continue
        # An exempt appendix's content is read only if the exempt pack renders it.
        html = _lazy_body(exempt, appendix.pk) if appendix.exempt else _stored(appendix.body_html)
        parts.append(
            HtmlPart(
                template="scrutiny/pdf/appendix.html",
                context={"body": FROZEN_BODY, "frozen_html": html},
                **common,
            )
        )
    return parts


def _stored(html: str):
    """HTML this service rendered with its own (autoescaping) templates when the version was
    published: safe to place as it is."""
    return mark_safe(html)


def _lazy_body(exempt: _ExemptBodies, appendix_id: int):
    return lambda: exempt.body(appendix_id)


def report_version_digest(*, report_version: ReportVersion) -> str:
    """Fixed when the version was published: the same version always gives the same pack."""
    return report_version.digest


def report_version_classification(*, report_version: ReportVersion) -> str:
    return report_version.classification


def report_version_title(*, report_version: ReportVersion) -> str:
    return f"{report_version.title} (version {report_version.number})"


def report_version_may_view(*, user, report_version: ReportVersion) -> bool:
    from scrutiny.permissions import can_read

    return can_read(user)


def report_version_may_download_exempt(*, user, report_version: ReportVersion) -> bool:
    return can_see_exempt_appendices(user, report_version.report)


def report_version_exempt_access(*, report_version: ReportVersion) -> str:
    """How someone without a grant comes to download the exempt pack (the exports page says)."""
    exempt = list(
        ReportVersionAppendix.objects.filter(report_version=report_version, exempt=True).values_list(
            "number", flat=True
        )
    )
    if not exempt:
        return ""
    numbers = [str(number) for number in exempt]
    names = (
        f"Appendix {numbers[0]}"
        if len(numbers) == 1
        else f"Appendices {', '.join(numbers[:-1])} and {numbers[-1]}"
    )
    return (
        f"There is also an exempt pack, with {names} in full. Only people with a grant on "
        "this report's exempt appendices may make or download it. Information governance gives "
        "grants, with a reason and for at most 90 days: ask them if your work needs it."
    )


def report_version_exempt_records(*, report_version: ReportVersion) -> list:
    """The report itself and the referrals whose cases the exempt appendices showed when the
    version was published (a download is logged against each)."""
    from referrals.models import Referral

    records: list = [(report_version.report, f"Cabinet report {report_version.report_id}")]
    seen = set()
    for rows in ReportVersionAppendix.objects.filter(report_version=report_version, exempt=True).values_list(
        "exempt_records", flat=True
    ):
        for pk, label in rows:
            if pk not in seen:
                seen.add(pk)
                records.append((Referral(pk=pk), label))
    return records
