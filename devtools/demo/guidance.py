"""Demo data for the model guidance: three versions, DSLs for every demo school, training with
some gaps, and acknowledgements. Called by ``manage.py seed_demo``; idempotent (does nothing
once a version exists) and deterministic (a fixed random seed, dates relative to today).

Everything goes through the services, as a real officer's work would. The demo's e-mails go
to Django's in-memory backend, so seeding prints no e-mails; the links in them are used to
record some schools' acknowledgements.
"""

from __future__ import annotations

import datetime as dt
import random
import re

from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from modelguidance import services
from modelguidance.models import ModelGuidanceVersion, SafeguardingLead, TrainingRecord
from referrals.models import School

SEED = 20201126 + 6
LINK = re.compile(r"/guidance/acknowledge/(?P<urn>[^/]+)/(?P<token>[^/\s]+)/")
EQIA = b"%PDF-1.4\n% Demo equality impact assessment (synthetic)\n%%EOF\n"

SECTIONS_V1 = [
    (
        "Purpose",
        "This model guidance helps schools in Exampleshire respond to **peer on peer abuse**: abuse "
        "of a child by another child. Every school adapts it into its own child protection policy.",
    ),
    (
        "Principles",
        "* Peer on peer abuse is never acceptable and is never passed off as banter or growing up.\n"
        "* The designated safeguarding lead (DSL) leads the school's response.\n"
        "* The alleged victim is taken seriously, supported and kept safe.",
    ),
    (
        "Responding to a report",
        "1. Listen, do not promise confidentiality, and record the facts, not opinion.\n"
        "2. Tell the DSL at once.\n"
        "3. The DSL considers the alleged victim's wishes, the nature of the incident, ages, "
        "any power imbalance and ongoing risks.",
    ),
    (
        "Deciding what to do",
        "The DSL chooses one of four responses and records why: manage internally, early help, a "
        "referral to children's social care (the MASH), or a report to the police. For rape, assault "
        "by penetration or sexual assault the starting point is a report to the police, alongside a "
        "referral to the MASH.",
    ),
    (
        "Risk assessment and separation",
        "Assess risk straight away for sexual violence, covering the alleged victim, the alleged "
        "perpetrator and other children. During a criminal investigation, keep the children apart in "
        "classes, on site and on transport; this is not a judgement of guilt.",
    ),
    (
        "Further reading",
        "[Keeping children safe in education](https://www.gov.uk/government/publications/"
        "keeping-children-safe-in-education--2) and the council's "
        "definitions of the forms of peer on peer abuse.",
    ),
]


def _v2_sections():
    sections = [(h, b.replace("alleged victim", "victim")) for h, b in SECTIONS_V1]
    sections.insert(
        5,
        (
            "Training",
            "Every DSL and deputy completes the council's DSL training at least every two years, and "
            "the school keeps a record of it.",
        ),
    )
    return sections


def _draft(admin, *, title, summary, sections):
    version = services.guidance_version_create(user=admin, title=title)
    return services.guidance_version_update(
        user=admin,
        version_id=version.pk,
        expected_version=version.version,
        title=title,
        change_summary=summary,
        sections=[services.SectionInput(h, b) for h, b in sections],
    )


def _submit(admin, version):
    """An administrator submits the draft with its equality impact assessment."""
    services.guidance_version_submit(user=admin, version_id=version.pk)
    return services.guidance_version_attach_eqia(
        user=admin,
        version_id=version.pk,
        upload=SimpleUploadedFile("eqia.pdf", EQIA, content_type="application/pdf"),
        summary="DEMO: no adverse impact on any group sharing a protected characteristic.",
    )


V1_TITLE = "Model guidance for handling peer on peer abuse in schools (demo)"


def seed_guidance_for_cabinet(*, admin):
    """Version 1 as it went to cabinet: drafted and submitted by an administrator in early
    November 2020 (the 26 November 2020 report's Appendix 6). Returns it; idempotent."""
    from devtools.demo.scrutiny import on

    existing = ModelGuidanceVersion.objects.filter(number=1).first()
    if existing is not None:
        return existing
    with on(dt.date(2020, 11, 2)):
        version = _draft(
            admin,
            title=V1_TITLE,
            summary="First version, for cabinet's approval on 26 November 2020.",
            sections=SECTIONS_V1,
        )
        return _submit(admin, version)


def _approve_and_publish(officer, version, decision, *, on_day):
    """Another officer (not the drafter) records the approval and publishes, once the
    decision has taken effect."""
    from devtools.demo.scrutiny import on

    with on(on_day):
        services.guidance_version_approve(user=officer, version_id=version.pk, decision=decision)
        services.guidance_version_publish(user=officer, version_id=version.pk)


def _cabinet_decision(user):
    """The cabinet decision that approved version 1: the scrutiny demo's if it has one."""
    from scrutiny.models import DecisionRecord

    existing = (
        DecisionRecord.objects.filter(report__meeting__date=dt.date(2020, 11, 26))
        .exclude(status=DecisionRecord.Status.DRAFT)
        .order_by("pk")
        .first()
    )
    if existing:
        return existing
    return _decision(
        user,
        committee=("Cabinet", "cabinet"),
        meeting=dt.date(2020, 11, 26),
        title="Review of peer on peer abuse cases (demo)",
        purpose="To approve the peer on peer model guidance for use in all schools.",
        maker=("cabinet", ""),
        published=dt.date(2020, 11, 18),
        decided=dt.date(2020, 11, 26),
        effective=dt.date(2020, 12, 5),
    )


def _decision(user, *, committee, meeting, title, purpose, maker, published, decided, effective):
    """A decision made the proper way: its report published, then the decision recorded."""
    from devtools.demo.scrutiny import on
    from scrutiny import services as scrutiny
    from scrutiny.models import AgendaItem, Committee, Meeting

    body, _ = Committee.objects.get_or_create(name=committee[0], defaults={"kind": committee[1]})
    day, _ = Meeting.objects.get_or_create(committee=body, date=meeting)
    with on(published, hour=9):
        report = scrutiny.cabinet_report_create(
            user=user,
            agenda_item=AgendaItem.objects.create(title=title),
            meeting=day,
            values={
                "title": title,
                "report_by": "Director of children's services (demo)",
                "decision_type": "non_key",
                "purpose": purpose,
                "recommendations": "Approve the model guidance for use in all schools",
            },
        )
        scrutiny.report_version_publish(user=user, report_id=report.pk, expected_version=report.version)
    with on(effective):
        return scrutiny.decision_record(
            user=user,
            report_id=report.pk,
            expected_version=None,
            data=scrutiny.DecisionInput(
                decision_text="DEMO: approved the model guidance for use in all schools.",
                status="effective",
                key_decision=False,
                call_in="not_called_in",
                decision_maker=maker[0],
                decision_maker_name=maker[1],
                decided_on=decided,
                published_on=decided + dt.timedelta(days=1),
                effective_on=effective,
            ),
        )


def _leads(rnd, first_names, surnames) -> None:
    today = timezone.localdate()
    schools = list(School.objects.filter(urn__startswith="99").order_by("urn"))
    for index, school in enumerate(schools):
        if index % 20 == 7:
            continue  # three schools have no DSL on record: a gap the coverage page shows
        people = [("dsl", 0)] + [("deputy", n) for n in range(1, 1 + rnd.choice((0, 1, 1, 2)))]
        for role, n in people:
            name = f"{rnd.choice(first_names)} {rnd.choice(surnames)}"
            lead = SafeguardingLead(
                school=school,
                role=role,
                name=name,
                email=f"{role}{n}.{school.urn}@school.example",
            )
            lead._change_reason = "Demo data"
            lead.save()
            kind = rnd.random()
            if kind < 0.72:  # current: trained within the last two years
                done = today - dt.timedelta(days=rnd.randrange(20, 700))
            elif kind < 0.9:  # lapsed
                done = today - dt.timedelta(days=rnd.randrange(760, 1400))
            else:
                continue  # never trained
            record = TrainingRecord(
                lead=lead,
                course="Designated safeguarding lead training (demo)",
                provider=rnd.choice(["Exampleshire Council (demo)", "Safeguarding Partnership (demo)"]),
                completed_on=done,
            )
            record._change_reason = "Demo data"
            record.save()


def _acknowledge(rnd, share: float) -> int:
    count = 0
    for message in list(mail.outbox):
        link = LINK.search(message.body)
        if link and rnd.random() < share:
            try:
                services.acknowledgement_confirm(
                    urn=link["urn"], token=link["token"], name=f"{message.to[0].split('@')[0]} (demo)"
                )
                count += 1
            except services.LinkRefused:
                pass
    mail.outbox.clear()
    return count


def _send_pending(version) -> None:
    for ack in version.acknowledgements.filter(sent_at__isnull=True):
        services.acknowledgement_send(acknowledgement_id=ack.pk)


def seed_model_guidance(*, users, first_names, surnames) -> bool:
    """Load the demo's model guidance unless it is there. Returns whether it loaded.

    Version 1 went to cabinet in November 2020 (seeded with the cabinet report, or here if
    that report is missing): approved by cabinet's decision of 26 November, published once the
    decision took effect. Version 2 (the "victim" wording cabinet asked for, and a training
    section) was approved by the cabinet member in January 2021. Version 3 is a draft. An
    administrator drafts and submits; the report officer records approval and publishes."""
    if ModelGuidanceVersion.objects.filter(number__gte=2).exists():
        return False
    from devtools.demo.scrutiny import on

    rnd = random.Random(SEED)  # noqa: S311 - deterministic demo data, not security
    officer, admin = users["officer"], users["admin"]
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        mail.outbox = []
        with transaction.atomic():
            _leads(rnd, first_names, surnames)
            first = seed_guidance_for_cabinet(admin=admin)
            decision = _cabinet_decision(officer)
            _approve_and_publish(officer, first, decision, on_day=dt.date(2020, 12, 7))
            with on(dt.date(2020, 12, 8)):
                _send_pending(first)
                _acknowledge(rnd, 0.8)
            with on(dt.date(2021, 1, 4)):
                second = _submit(
                    admin,
                    _draft(
                        admin,
                        title=V1_TITLE,
                        summary='Says "victim" rather than "alleged victim" throughout, as cabinet asked; '
                        "adds a section on DSL training.",
                        sections=_v2_sections(),
                    ),
                )
            member = _decision(
                officer,
                committee=("Cabinet member decisions (demo)", "other"),
                meeting=dt.date(2021, 1, 20),
                title="Model guidance for schools: version 2 (demo)",
                purpose="To approve version 2 of the model guidance, with the wording cabinet asked for.",
                maker=("cabinet_member", "Cabinet member children and families"),
                published=dt.date(2021, 1, 8),
                decided=dt.date(2021, 1, 20),
                effective=dt.date(2021, 1, 29),
            )
            _approve_and_publish(officer, second, member, on_day=dt.date(2021, 2, 1))
            _send_pending(second)  # the links go out (again) now, so some are acknowledged now
            _acknowledge(rnd, 0.65)
            _draft(
                admin,
                title="Model guidance for handling child on child abuse in schools (demo draft)",
                summary='Draft: follows KCSIE 2022 in saying "child on child" rather than "peer on peer".',
                sections=[
                    (h.replace("peer on peer", "child on child"), b.replace("peer on peer", "child on child"))
                    for h, b in _v2_sections()
                ],
            )
    return True
