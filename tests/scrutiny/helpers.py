"""Builders for scrutiny tests: a committee, meetings, an agenda item, a report."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

from django.core.files.uploadedfile import SimpleUploadedFile

from scrutiny import services
from scrutiny.models import AgendaItem, Committee, Meeting
from tests.nplusone import unit_of_work


def pdf_bytes(pages: int = 1, text: str = "") -> bytes:
    """A real PDF made with pypdf (blank pages; ``text`` goes into the document info)."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    if text:
        writer.add_metadata({"/Title": text})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_upload(name: str = "appendix.pdf", **kwargs) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, pdf_bytes(**kwargs), content_type="application/pdf")


@unit_of_work
def meetings():
    scrutiny_committee, _ = Committee.objects.get_or_create(
        name="Children and young people scrutiny committee", defaults={"kind": Committee.Kind.SCRUTINY}
    )
    cabinet, _ = Committee.objects.get_or_create(name="Cabinet", defaults={"kind": Committee.Kind.CABINET})
    scrutiny_meeting, _ = Meeting.objects.get_or_create(
        committee=scrutiny_committee, date=dt.date(2020, 9, 15)
    )
    cabinet_meeting, _ = Meeting.objects.get_or_create(committee=cabinet, date=dt.date(2020, 11, 26))
    item, _ = AgendaItem.objects.get_or_create(title="Review of peer on peer abuse cases")
    return scrutiny_meeting, cabinet_meeting, item


REPORT_VALUES = {
    "title": "Review of peer on peer abuse cases",
    "report_by": "Cabinet member children and families",
    "decision_type": "non_key",
    "wards_affected": "(All Wards);",
    "purpose": "To receive the outcomes of the review.",
    "recommendations": "The executive note the report\nThe executive agree the recommendations",
    "alternative_options": "There are no alternative options.",
    "key_considerations": "First consideration.\n\nSecond consideration.",
    "equality_duty": "Under section 149:\n\n> A public authority must have due regard to the need to -\n\n"
    "(a) eliminate discrimination;\n\n(b) advance equality;\n\nThe specific duty paragraph.",
    "consultees": "The scrutiny committee.",
}


@unit_of_work
def make_report(user, **values):
    _, cabinet_meeting, item = meetings()
    return services.cabinet_report_create(
        user=user, agenda_item=item, meeting=cabinet_meeting, values=REPORT_VALUES | values
    )


@unit_of_work
def add_appendix(user, report, **kwargs):
    report.refresh_from_db()
    data = services.AppendixInput(
        **({"kind": "text", "title": "Text appendix", "text": "Some text"} | kwargs)
    )
    return services.appendix_add(user=user, report_id=report.pk, expected_version=report.version, data=data)


def chosen_guidance(appendix):
    """The model guidance version an appendix names (None: the published one), as the app above
    scrutiny keeps it (docs/adr/0019-layers.md)."""
    from modelguidance.models import AppendixGuidanceVersion

    link = AppendixGuidanceVersion.objects.filter(appendix_id=appendix.pk).select_related("guidance_version")
    return link[0].guidance_version if link else None


def carried_guidance(report_version):
    """The model guidance version a published version of a report carried, as the app above
    scrutiny keeps it."""
    from modelguidance.models import ReportVersionGuidanceVersion

    link = ReportVersionGuidanceVersion.objects.filter(report_version_id=report_version.pk).select_related(
        "guidance_version"
    )
    return link[0].guidance_version if link else None


def travel_to(day: dt.date, hour: int = 9):
    """Be on that day (local time), as time_machine makes it: a version is dated the day it is
    published, by the system, so a test publishes "on" a day by being there."""
    import time_machine
    from django.conf import settings

    return time_machine.travel(
        dt.datetime.combine(day, dt.time(hour), tzinfo=ZoneInfo(settings.TIME_ZONE)), tick=False
    )


@unit_of_work
def publish(
    user,
    report,
    *,
    on: dt.date | None = None,
    kind: str = "original",
    reason: str = "",
    urgency_reasons: str = "",
    urgency_agreed_by: str = "",
):
    """Publish the report's papers on a day: a frozen version (the first on 18 November 2020 by
    default, five clear days before the 26 November meeting). The test travels to that day; the
    date is never passed in."""
    report.refresh_from_db()
    with travel_to(on or dt.date(2020, 11, 18)):
        return services.report_version_publish(
            user=user,
            report_id=report.pk,
            expected_version=report.version,
            kind=kind,
            reason=reason,
            urgency_reasons=urgency_reasons,
            urgency_agreed_by=urgency_agreed_by,
        )
