"""Building blocks for the model guidance tests: a cabinet decision, an EqIA, a version."""

from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from modelguidance import services
from modelguidance.models import SafeguardingLead, TrainingRecord
from tests.factories import SchoolFactory
from tests.nplusone import unit_of_work

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def eqia_upload(content: bytes = PDF, name: str = "eqia.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


@unit_of_work
def cabinet_decision(user, *, status: str = "effective", decided_on: dt.date | None = None, **fields):
    """A decision record, as the scrutiny app records it: by default the cabinet's, made and in
    effect today (so after any version submitted in the test), not subject to call-in."""
    from scrutiny.models import AgendaItem, CabinetReport, Committee, DecisionRecord, Meeting

    day = decided_on or timezone.localdate()
    cabinet, _ = Committee.objects.get_or_create(name="Cabinet", defaults={"kind": "cabinet"})
    meeting, _ = Meeting.objects.get_or_create(committee=cabinet, date=day)
    item = AgendaItem.objects.create(title="Model guidance for schools")
    report = CabinetReport.objects.create(
        agenda_item=item,
        meeting=meeting,
        title="Model guidance for schools",
        report_by="Cabinet member children and families",
        decision_type="key",
        purpose="To approve the peer on peer model guidance.",
        recommendations="The executive approves the peer on peer model guidance set out in appendix 6",
        created_by=user,
    )
    return DecisionRecord.objects.create(
        **{
            "report": report,
            "decision_text": "Approved the model guidance.",
            "status": status,
            "decision_maker": "cabinet",
            "decision_maker_name": "Cabinet",
            "decided_on": day,
            "call_in": "not_subject",
            "published_on": day,
            "effective_on": day,
            "recorded_by": user,
        }
        | fields
    )


@unit_of_work
def second_officer(username: str = "approver"):
    """Another report officer: the one who records approval and publishes (not the drafter)."""
    from django.contrib.auth.models import Group

    from core.roles import GROUP_NAMES, Role
    from tests.factories import UserFactory

    User = UserFactory._meta.model
    user = User.objects.filter(username=username).first()
    if user is None:
        user = UserFactory(username=username)
        user.groups.add(Group.objects.get(name=GROUP_NAMES[Role.REPORT_OFFICER]))
    return user


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
def approved(user, *, approver=None, **kwargs):
    """Drafted and submitted by ``user``; approval recorded by ``approver`` (another officer)."""
    approver = approver or second_officer()
    version = draft(user, **kwargs)
    services.guidance_version_submit(user=user, version_id=version.pk)
    services.guidance_version_attach_eqia(
        user=user, version_id=version.pk, upload=eqia_upload(), summary="No adverse impact"
    )
    return services.guidance_version_approve(
        user=approver, version_id=version.pk, decision=cabinet_decision(user)
    )


@unit_of_work
def published(user, *, approver=None, **kwargs):
    approver = approver or second_officer()
    version = approved(user, approver=approver, **kwargs)
    return services.guidance_version_publish(user=approver, version_id=version.pk)


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
