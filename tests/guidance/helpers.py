"""Building blocks for the model guidance tests: a cabinet decision, an EqIA, a version."""

from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile

from guidance import services
from guidance.models import SafeguardingLead, TrainingRecord
from tests.factories import SchoolFactory
from tests.nplusone import unit_of_work

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def eqia_upload(content: bytes = PDF, name: str = "eqia.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


@unit_of_work
def cabinet_decision(user, *, status: str = "published"):
    """A cabinet meeting's decision record, as the scrutiny app records it."""
    from scrutiny.models import AgendaItem, CabinetReport, Committee, DecisionRecord, Meeting

    cabinet, _ = Committee.objects.get_or_create(name="Cabinet", defaults={"kind": "cabinet"})
    meeting, _ = Meeting.objects.get_or_create(committee=cabinet, date=dt.date(2020, 11, 26))
    item = AgendaItem.objects.create(title="Review of peer on peer abuse cases")
    report = CabinetReport.objects.create(
        agenda_item=item,
        meeting=meeting,
        title="Review of peer on peer abuse cases",
        report_by="Cabinet member children and families",
        decision_type="key",
        purpose="To approve the peer on peer model guidance.",
        recommendations="The executive approves the peer on peer model guidance set out in appendix 6",
        created_by=user,
    )
    return DecisionRecord.objects.create(
        report=report,
        decision_text="Approved the model guidance.",
        status=status,
        effective_on=dt.date(2020, 12, 4),
        recorded_by=user,
    )


SECTIONS = [
    services.SectionInput("Purpose", "This guidance helps schools respond to **peer on peer abuse**."),
    services.SectionInput("Responding to a report", "* Take the report seriously\n* Tell the DSL at once"),
]


@unit_of_work
def draft(user, *, title: str = "Model guidance", sections=None, summary: str = "First version"):
    version = services.guidance_version_create(user=user, title=title)
    return services.guidance_version_update(
        user=user,
        version_id=version.pk,
        expected_version=version.version,
        title=title,
        change_summary=summary,
        sections=sections or SECTIONS,
    )


@unit_of_work
def approved(user, **kwargs):
    version = draft(user, **kwargs)
    services.guidance_version_submit(user=user, version_id=version.pk)
    services.guidance_version_attach_eqia(
        user=user, version_id=version.pk, upload=eqia_upload(), summary="No adverse impact"
    )
    return services.guidance_version_approve(
        user=user, version_id=version.pk, decision=cabinet_decision(user)
    )


@unit_of_work
def published(user, **kwargs):
    version = approved(user, **kwargs)
    return services.guidance_version_publish(user=user, version_id=version.pk)


@unit_of_work
def school_with_dsl(*, trained_on: dt.date | None = None, email: str | None = None, **school):
    s = SchoolFactory(**school)
    lead = SafeguardingLead.objects.create(
        school=s,
        role=SafeguardingLead.Role.DSL,
        name=f"DSL of {s.name}",
        email=email or f"dsl{s.urn}@school.example",
    )
    if trained_on:
        TrainingRecord.objects.create(
            lead=lead, course="DSL training", provider="Council", completed_on=trained_on
        )
    return s, lead
