"""Subject access: every record about a child, the third-party redactions to propose, and the
pack (a document kind of ``core.documents``, registered in ``RecordsConfig.ready``).

Redaction is true redaction: the pack is rendered from text that has each withheld string
replaced before it reaches the template, so the withheld text is never in the PDF at all.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field

from core.documents import HtmlPart
from core.models import AccessLogEntry
from core.roles import Role, has_role
from records.models import Redaction, SubjectAccessRequest
from referrals.models import CaseNote, Child, Referral, ReferralChild, ReferralDecision, ReferralDetail
from reviews.models import CaseAssessment, CriterionRating

#: Referral sources whose referrer is a member of the public (withheld by default); the
#: professionals' names (school, police, health...) are not withheld by default.
PUBLIC_REFERRER_SOURCES = frozenset({"parent-carer", "child", "anonymous"})

SHORT_CODES = {
    Redaction.Code.THIRD_PARTY: "third party",
    Redaction.Code.SERIOUS_HARM: "serious harm",
    Redaction.Code.CRIME: "crime",
    Redaction.Code.LEGAL_PRIVILEGE: "legal privilege",
}


def _date_forms(value) -> list[str]:
    return [f"{value:%-d %B %Y}", f"{value:%d/%m/%Y}", value.isoformat()]


@dataclass
class Proposal:
    text: str
    about: str
    code: str = Redaction.Code.THIRD_PARTY


@dataclass
class CaseRecord:
    """One referral the subject appears in, with everything written about it."""

    referral: Referral
    role: str
    detail: ReferralDetail | None
    links: list[ReferralChild]
    notes: list[CaseNote]
    decisions: list[ReferralDecision]
    assessments: list[CaseAssessment]
    ratings: list[CriterionRating]
    access: list[AccessLogEntry] = field(default_factory=list)


def gather(sar: SubjectAccessRequest) -> list[CaseRecord]:
    """Every referral the subject appears in (any role), its notes, decisions, case review
    assessments and the access log's entries about it."""
    if sar.subject_id is None:
        return []
    involvements = {
        link.referral_id: link.role
        for link in ReferralChild.objects.filter(child_id=sar.subject_id).only("referral_id", "role")
    }
    referrals = list(
        Referral.objects.filter(pk__in=involvements)
        .select_related("source")
        .prefetch_related("forms_of_abuse")
        .order_by("received_at", "pk")
    )
    ids = [r.pk for r in referrals]
    details = {d.referral_id: d for d in ReferralDetail.objects.filter(referral_id__in=ids)}
    links, notes, decisions, assessments, ratings, access = ({} for _ in range(6))
    for link in ReferralChild.objects.filter(referral_id__in=ids).select_related("child__school"):
        links.setdefault(link.referral_id, []).append(link)
    for note in CaseNote.objects.filter(referral_id__in=ids).select_related("recorded_by"):
        notes.setdefault(note.referral_id, []).append(note)
    for decision in (
        ReferralDecision.objects.filter(referral_id__in=ids)
        .select_related("decided_by")
        .prefetch_related("outcomes")
    ):
        decisions.setdefault(decision.referral_id, []).append(decision)
    for assessment in CaseAssessment.objects.filter(referral_id__in=ids):
        assessments.setdefault(assessment.referral_id, []).append(assessment)
    for rating in CriterionRating.objects.filter(assessment__referral_id__in=ids).select_related(
        "assessment", "criterion"
    ):
        ratings.setdefault(rating.assessment.referral_id, []).append(rating)
    for entry in AccessLogEntry.objects.filter(
        record_type="referrals.referral", record_id__in=ids
    ).select_related("user"):
        access.setdefault(entry.record_id, []).append(entry)
    return [
        CaseRecord(
            referral=r,
            role=involvements[r.pk],
            detail=details.get(r.pk),
            links=links.get(r.pk, []),
            notes=notes.get(r.pk, []),
            decisions=decisions.get(r.pk, []),
            assessments=assessments.get(r.pk, []),
            ratings=ratings.get(r.pk, []),
            access=access.get(r.pk, []),
        )
        for r in referrals
    ]


def propose(sar: SubjectAccessRequest, records: list[CaseRecord]) -> list[Proposal]:
    """Third-party redactions: other children's names, dates of birth, addresses, and schools
    that identify them (not the subject's own school); members of the public who referred."""
    subject = Child.objects.select_related("school").get(pk=sar.subject_id) if sar.subject_id else None
    proposals: dict[str, Proposal] = {}

    def add(text: str | None, about: str) -> None:
        text = (text or "").strip()
        if len(text) >= 2 and text.lower() not in proposals:
            proposals[text.lower()] = Proposal(text=text, about=about)

    for record in records:
        reference = record.referral.reference
        for link in record.links:
            if link.child_id == sar.subject_id:
                continue
            child = link.child
            who = f"{reference}, Child {link.label} ({link.get_role_display().lower()})"
            add(f"{child.first_name} {child.last_name}", f"{who}: name")
            add(child.first_name, f"{who}: first name")
            add(child.last_name, f"{who}: last name")
            for form in _date_forms(child.date_of_birth):
                add(form, f"{who}: date of birth")
            add(child.address, f"{who}: address")
            add(child.postcode, f"{who}: postcode")
            if child.school_id and (subject is None or child.school_id != subject.school_id):
                add(child.school.name, f"{who}: school")
        detail = record.detail
        if detail is not None and record.referral.source.code in PUBLIC_REFERRER_SOURCES:
            who = f"{reference}, referrer ({record.referral.source.name.lower()})"
            add(detail.referrer_name, f"{who}: name")
            add(detail.referrer_contact, f"{who}: contact details")
            add(detail.referrer_organisation, f"{who}: organisation")
    return list(proposals.values())


def redactor(redactions: list[Redaction]):
    """A function that withholds every active redaction's text from a string (any case,
    longest first, so a full name goes before its parts)."""
    active = sorted((r for r in redactions if r.active), key=lambda r: -len(r.text))
    if not active:
        return lambda text: text or ""
    pattern = re.compile("|".join(re.escape(r.text) for r in active), re.IGNORECASE)
    codes = {r.text.lower(): r.code for r in active}

    def apply(text) -> str:
        text = "" if text is None else str(text)
        return pattern.sub(lambda m: f"[Withheld: {SHORT_CODES[codes[m.group(0).lower()]]}]", text)

    return apply


def contexts(
    redaction: Redaction, records: list[CaseRecord], *, width: int = 50
) -> list[tuple[str, str, str]]:
    """Where a redaction's text appears in the records: (before, text, after) snippets."""
    found = []
    needle = re.compile(re.escape(redaction.text), re.IGNORECASE)
    for text in _texts(records):
        for match in needle.finditer(text):
            found.append(
                (
                    text[max(0, match.start() - width) : match.start()],
                    match.group(0),
                    text[match.end() : match.end() + width],
                )
            )
            if len(found) >= 5:
                return found
    return found


def _texts(records: list[CaseRecord]):
    for record in records:
        if record.detail is not None:
            d = record.detail
            yield from (d.referrer_name, d.referrer_organisation, d.referrer_contact, d.narrative)
            yield d.consent_not_sought_reason
        for link in record.links:
            c = link.child
            yield from (
                f"{c.first_name} {c.last_name}",
                c.address,
                c.postcode,
                f"{c.date_of_birth:%-d %B %Y}",
            )
            if c.school_id:
                yield c.school.name
        for note in record.notes:
            yield note.text
        for decision in record.decisions:
            yield from (decision.rationale, decision.advice_notes, decision.guidance_departure_reason)
        for assessment in record.assessments:
            yield from (assessment.good_practice, assessment.areas_for_improvement, assessment.lead_comments)
        for rating in record.ratings:
            yield rating.evidence


# --- The pack ------------------------------------------------------------------------------------------

PUBLIC_INTEREST = (
    "Personal data disclosed to its subject under Article 15 of the UK GDPR: not for publication. "
    "Third-party information and other exempt information has been withheld."
)


def _active_redactions(sar: SubjectAccessRequest, records: list[CaseRecord] | None = None) -> list[Redaction]:
    """The redactions in force, and (when ``records`` are given) every third-party redaction
    the records call for that the request has never had: a child added to a referral between
    sign-off and the worker's rendering is withheld, never disclosed unreviewed."""
    saved = list(Redaction.objects.filter(request_id=sar.pk))
    active = [r for r in saved if r.active]
    if records is not None:
        known = {r.text.lower() for r in saved}
        active += [
            Redaction(
                request=sar,
                text=p.text[:500],
                about=p.about[:200],
                code=p.code,
                origin=Redaction.Origin.PROPOSED,
            )
            for p in propose(sar, records)
            if p.text[:500].lower() not in known
        ]
    return active


def sar_pack_parts(*, sar: SubjectAccessRequest) -> list[HtmlPart]:
    records = gather(sar)
    redactions = _active_redactions(sar, records)
    withhold = redactor(redactions)
    sections = []
    for record in records:
        r = record.referral
        paragraphs = [
            f"Received {r.received_at:%-d %B %Y}. Incident on {r.incident_date:%-d %B %Y}. "
            f"Forms of abuse: {', '.join(f.name for f in r.forms_of_abuse.all())}.",
            f"The subject is recorded as the {dict(ReferralChild.Role.choices)[record.role].lower()}.",
        ]
        if record.detail is not None:
            d = record.detail
            paragraphs.append(
                withhold(f"Referred by {d.referrer_name} ({d.referrer_role}, {d.referrer_organisation}).")
            )
            paragraphs.append(withhold(f"What was reported: {d.narrative}"))
        for link in record.links:
            c = link.child
            school = c.school.name if c.school_id else "not recorded"
            paragraphs.append(
                withhold(
                    f"Child {link.label} ({link.get_role_display().lower()}): {c.first_name} {c.last_name}, "
                    f"born {c.date_of_birth:%-d %B %Y}, school {school}, address {c.address} {c.postcode}."
                )
            )
        for note in record.notes:
            paragraphs.append(withhold(f"Note of {note.occurred_on:%-d %B %Y}: {note.text}"))
        for decision in record.decisions:
            outcomes = ", ".join(o.name for o in decision.outcomes.all())
            paragraphs.append(
                withhold(
                    f"Decision of {decision.decided_at:%-d %B %Y} ({outcomes}): {decision.rationale} "
                    f"{decision.advice_notes}"
                )
            )
        for assessment in record.assessments:
            paragraphs.append(
                withhold(
                    f"Case review assessment: {assessment.good_practice} {assessment.areas_for_improvement} "
                    f"{assessment.lead_comments}"
                )
            )
        for rating in record.ratings:
            if rating.evidence:
                paragraphs.append(withhold(f"Review evidence ({rating.criterion}): {rating.evidence}"))
        for entry in record.access:
            who, channel = entry.user.get_username(), entry.get_channel_display()
            paragraphs.append(f"Read by {who} on {entry.at:%-d %B %Y} ({channel}).")
        sections.append({"heading": f"Referral {r.reference}", "paragraphs": paragraphs})
    counts = Counter(r.code for r in redactions)
    schedule = [[Redaction.Code(code).label, str(count)] for code, count in sorted(counts.items())]
    return [
        HtmlPart(
            title=f"Subject access request {sar.reference}",
            template="core/pdf/parts/text.html",
            context={"sections": sections},
            exempt=True,
            schedule_12a_paragraph=1,
            public_interest=PUBLIC_INTEREST,
        ),
        HtmlPart(
            title="Schedule of exemptions applied",
            template="core/pdf/parts/table.html",
            context={
                "intro": "Information withheld from this pack, by the exemption that applies.",
                "caption": "Exemptions applied",
                "headers": ["Exemption", "Times applied"],
                "rows": schedule or [["None", "0"]],
            },
            exempt=True,
            schedule_12a_paragraph=1,
            public_interest=PUBLIC_INTEREST,
        ),
    ]


def sar_pack_digest(*, sar: SubjectAccessRequest) -> str:
    redactions = sorted(
        Redaction.objects.filter(request_id=sar.pk).values_list("pk", "text", "code", "removed_at")
    )
    referrals = (
        sorted(Referral.objects.filter(children__child_id=sar.subject_id).values_list("pk", "version"))
        if sar.subject_id
        else []
    )
    payload = json.dumps([sar.pk, sar.version, sar.status, redactions, referrals], default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def sar_pack_classification(*, sar: SubjectAccessRequest) -> str:
    return "Personal data for its subject: disclose only to the verified requester"


def sar_pack_may_view(*, user, sar: SubjectAccessRequest) -> bool:
    return has_role(user, Role.INFORMATION_GOVERNANCE)


def sar_pack_may_download(*, user, sar: SubjectAccessRequest) -> bool:
    return (
        has_role(user, Role.INFORMATION_GOVERNANCE) and sar.status == SubjectAccessRequest.Status.SIGNED_OFF
    )


def sar_pack_title(*, sar: SubjectAccessRequest) -> str:
    return f"Subject access pack {sar.reference}"


def sar_pack_records(*, sar: SubjectAccessRequest):
    if sar.subject_id is None:
        return []
    return [(r, r.reference) for r in Referral.objects.filter(children__child_id=sar.subject_id)]


def redactions_erase(*, record_id: int, user, reason: str) -> None:
    """A disposed referral's children's names leave the redactions proposed from it."""
    from core import retention

    reference = Referral.objects.values_list("reference", flat=True).get(pk=record_id)
    for redaction in Redaction.objects.filter(about__startswith=f"{reference},"):
        retention.erase(redaction, user=user, reason=reason)
