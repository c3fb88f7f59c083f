"""The cabinet report as a document pack: its parts, their digest, its classification and who
may download the exempt pack. The PDF pipeline (core.documents) renders what these return.

The report comes first, then its appendices in order. A generated appendix is rendered from
its sources when the pack is made, so it is always current. The digest is the sha256 of
everything that goes into the pack: the report's fields, each appendix's settings, the HTML
of each generated or text appendix as rendered from its current sources (a changed rating,
theme, response or child's name changes it; so does publishing a new version of the model
guidance, or a change to the forms of abuse), and each uploaded file's checksum.

core.documents (the PDF pipeline) is imported only where parts are made, so the pages that
share this module's contexts work without it.
"""

from __future__ import annotations

import hashlib
import json

from django.template.loader import render_to_string

from scrutiny import selectors
from scrutiny.models import Appendix, CabinetReport
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


def appendix_context(appendix: Appendix) -> dict:
    """What an appendix's body template needs, read from its current sources."""
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
        context |= guidance_context()
    elif appendix.kind == Kind.DEFINITIONS:
        context |= definitions_context()
    return context


def guidance_context() -> dict:
    """The published model guidance (Appendix 6), never a draft: guidance's own selector serves
    only the one published version (None before any is published), and guidance.packs says
    how a version is printed."""
    from guidance.packs import parts
    from guidance.selectors import published_version

    version = published_version()
    if version is None:
        return {"guidance_version": None}
    part = parts(guidance_version=version)[0]
    return {"guidance_template": part.template, **part.context}


def definitions_context() -> dict:
    """ "What is peer on peer abuse" (Appendix 7), from the forms-of-abuse taxonomy as it is now."""
    from guidance.packs import definitions_part

    part = definitions_part()
    return {"guidance_template": part.template, **part.context}


def _appendix_part(appendix: Appendix):
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
    return HtmlPart(template=template, context=appendix_context(appendix) | {"body": body}, **common)


def cabinet_report_parts(*, report: CabinetReport) -> list:
    """The report itself, then each appendix in order."""
    from core.documents import HtmlPart

    template, body = TEMPLATES["report"]
    parts = [HtmlPart(title=report.title, template=template, context=report_context(report) | {"body": body})]
    parts += [
        _appendix_part(appendix) for appendix in report.appendices.select_related("review").order_by("number")
    ]
    return parts


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
    for appendix in report.appendices.select_related("review").order_by("number"):
        add({name: getattr(appendix, name) for name in APPENDIX_FIELDS})
        if appendix.kind == Appendix.Kind.UPLOADED_PDF:
            add({"file_sha256": appendix.file_sha256, "size": appendix.file_size})
        else:
            _, body = TEMPLATES[appendix.kind]
            add(render_to_string(body, appendix_context(appendix)))
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
