# ruff: noqa: E501  (the published report's prose, kept as it was written)
"""Demo data: the 26 November 2020 cabinet report rebuilt from the demo review.

The same headings in the same order and the same appendix list as
/work/shared/domain/cabinet-report-2020-11-26.txt; the committee, its 15 September 2020
meeting and the cabinet meeting; the scrutiny committee's recommendations with the
executive's responses; the review's own recommendations ("paragraph 3 of appendix 1"), the
NSPCC audit's and the April 2017 report's (Appendix 4), all in the tracker with actions,
progress and evidence. Appendices 6 and 7 are generated from the guidance app (the model
guidance version put to cabinet, and the forms of abuse). Recommendation and response wording is synthetic (marked DEMO); the
report's own text is the published report's. Idempotent: run twice, changes nothing.

2020 is rebuilt as it happened, on a clock set back to each day (time-machine): the review
closed in September with every assessment accepted and a completed moderation; model guidance
version 1 drafted and submitted by an administrator in early November; the papers published
on 18 November (five clear days before the meeting) and frozen as version 1 of the report;
cabinet's decision on 26 November, published the next day, effective after the call-in
period. devtools.demo.guidance then records version 1's approval (another officer) citing it.
"""

from __future__ import annotations

import datetime as dt
import random
from contextlib import contextmanager
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from scrutiny import services
from scrutiny.models import AgendaEntry, AgendaItem, CabinetReport, Committee, Meeting, Recommendation

REPORT_TITLE = "Review of peer on peer abuse cases"

REPORT = {
    "title": REPORT_TITLE,
    "report_by": "Cabinet member children and families",
    "decision_type": CabinetReport.DecisionType.NON_KEY,
    "wards_affected": "(All Wards);",
    "purpose": (
        "To receive the outcomes of the review; to agree the recommendations arising from the review; to "
        "approve the executive response to the scrutiny committees recommendations on the report of the "
        "review and to approve the peer on peer model guidance for use in all schools."
    ),
    "recommendations": "\n".join(
        [
            "The executive note the contents and recommendations set out in the Peer on Peer Review MASH "
            "Report (appendix 1).",
            "The executive agree the recommendations set out in paragraph 3 of appendix 1;",
            "The executive approves the executive response to the children and young people's scrutiny "
            "committees recommendations set out in appendix 5;",
            "The executive approves the peer on peer model guidance set out in appendix 6 for use in all "
            "schools.",
        ]
    ),
    "alternative_options": (
        "There no alternative options to the above recommendations; Cabinet may choose to request amendments "
        "to the peer on peer model guidance; or request alternative actions to address any identified areas "
        "of underperformance"
    ),
    "key_considerations": "\n\n".join(
        [
            "On 15th September 2020, the children and young people's scrutiny committee reviewed the draft "
            "report of the review of multi-agency safeguarding hub (MASH) peer on peer abuse cases and made a "
            "series of recommendations to the Executive to be considered before this report was finalised.",
            "The review looked at historic cases that were referred into the MASH of known recorded peer on "
            "peer sexual abuse where there was sexual assault/rape/or alleged cases (appendix 2 (exempt). It "
            "covered the years Jan 2017- Oct 2018 and Oct 2018 Nov 19. The methodology involved reviewing over "
            "300 cases reported to MASH and then identifying peer on peer sexual abuse cases from the period "
            "January 2017-November 2019 where pupils attended the same schools (appendix 3). The advice given "
            "by MASH, in those cases identified and where it was recorded, and was assessed against the "
            "guidance available from the Department for Education (DFE) on peer on peer abuse at the time",
            "Furthermore the review considered the April 2017 (appendix 4) report that was commissioned by a "
            "school to consider the approach taken and make recommendations to the senior leadership team of "
            "the school.",
            "The local authority's role is the provision of support, advice and guidance in relation to "
            "safeguarding in early years settings, schools and colleges and to develop, implement and monitor "
            "quality assurance processes across schools, colleges and settings. This service is provided by "
            "the learning and achievement team who work with the organisations, not individual pupils.",
            "The council recognises that issues of harm are a significant concern for individuals, families "
            "and schools in circumstances where peer on peer abuse takes place. As a result of the "
            "recommendations set out in this report, the council has committed to strengthened mechanisms, "
            "support, guidance and engagement with families and schools and partners, so as to more "
            "effectively mitigate and prevent circumstances of harm from occurring. The Council regrets that "
            "in some instances its processes have not supported individuals, families and schools as well as "
            "they could have done, and apologises for any hurt caused.",
            "The council has committed to keeping training and guidance to schools a priority in all such "
            "cases for the future - and has accordingly - led training for all Designated Safeguarding Leads "
            "in all schools. There is also a set of recommendations agreed to strengthen the review of any "
            "such fresh cases as they arise. This will adopt a multiagency approach and we will apply "
            "rigorously any changes to DfE and legal advice in these cases. We will also implement any further "
            "service changes as a result of the findings of the National Society for the Protection of Cruelty "
            "to Children (NSPCC) audit work. The cabinet member has also agreed the response to the "
            "recommendations of the Children and Young People's Scrutiny Committee Spotlight review into peer "
            "on peer abuse and these will be implemented.",
            "The recommendations of the Children and Young People's scrutiny committee are to be considered by "
            "the executive and are set out in appendix 5 and agreed by the executive as their response to the "
            "scrutiny recommendations. In addition the executive are asked to consider the draft model "
            "guidance attached as appendix 6 for handling peer on peer abuse cases.",
        ]
    ),
    "community_impact": (
        "The approach to peer on peer abuse for children and families is an important and integral part in "
        "the provision of safeguarding, education, health and care services for vulnerable children and their "
        "families. This enables the council to work with children, young people and their families where this "
        "is possible to keep children and young people safe and give them a great start in life; and secure "
        "better services, quality of life and value for money."
    ),
    "environmental_impact": (
        "The council provides and purchases a wide range of services. Together with partner organisations in "
        "the private, public and voluntary sectors we share a strong commitment to improving our environmental "
        "sustainability, achieving carbon neutrality and to protect and enhance the county's natural "
        "environment."
    ),
    "equality_duty": "\n\n".join(
        [
            "Under section 149 of the Equality Act 2010, the 'general duty' on public authorities is set out "
            "as follows:",
            "> A public authority must, in the exercise of its functions, have due regard to the need to -",
            "(a) eliminate discrimination, harassment, victimisation and any other conduct that is prohibited "
            "by or under this Act;",
            "(b) advance equality of opportunity between persons who share a relevant protected characteristic "
            "and persons who do not share it;",
            "(c) foster good relations between persons who share a relevant protected characteristic and "
            "persons who do not share it.",
            "The public sector equality duty (specific duty) requires us to consider how we can positively "
            "contribute to the advancement of equality and good relations, and demonstrate that we are paying "
            "'due regard' in our decision making in the design of policies and in the delivery of services. "
            "This is a factual report highlighting the outcomes of the review into historic cases of peer on "
            "peer abuse, including areas of good practice, areas for improvement and the next steps that "
            "council will take.",
        ]
    ),
    "resource_implications": (
        "The outcomes arising from the review largely reflect work that is already underway. There are no "
        "additional cost implications to the outcomes as actions will be met from existing budgets."
    ),
    "legal_implications": "\n\n".join(
        [
            "The council, working with partner organisations and agencies, has specific duties to safeguard "
            "and promote the welfare of all children in their area. The Children Acts of 1989 and 2004 set out "
            "specific duties: section 17 of the Children Act 1989 places a duty on the council to provide "
            "services to children in need in their area. Section 47 of the Children Act 1989 requires "
            "councils to undertake enquiries if they believe a child has suffered or is likely to suffer "
            "significant harm.",
            "These duties placed on the council can only be discharged with the full cooperation of other "
            "partners, many of whom have individual duties when carrying out their functions under section 11 "
            "of the Children Act 2004. Under section 10 of the same Act, the council is under a duty to make "
            "arrangements to promote cooperation between itself and organisations and agencies to improve the "
            "wellbeing of local children.",
            "In dealing with Peer on Peer abuse, government guidance 'Keeping Children Safe in Education' "
            "(updated in September 2019 and again in June 2020) provides statutory guidance for schools and "
            "colleges who must have regard to the guidance when carrying out their duties to safeguard and "
            "promote the wellbeing of children",
            "The legal basis for the recommendations in the draft report to the executive are commented upon "
            "in appendix 8",
        ]
    ),
    "risk_management": (
        "There are no risks associated with agreeing the content of this report which provides information "
        "regarding the review of historic cases of peer on peer abuse and indicate how the work is being taken "
        "forward."
    ),
    "consultees": (
        "The Children and Young People's scrutiny committee met on the 15 September 2020 and made a number of "
        "recommendations for the executive to consider and approve as the executive response shown in the "
        "appendix 5."
    ),
    "background_papers": "None",
}

EXEMPT = {
    "exempt": True,
    "schedule_12a_paragraph": 2,
    "public_interest": (
        "The appendix is likely to reveal the identity of children: the public interest in maintaining the "
        "exemption outweighs the public interest in disclosing the information."
    ),
}

#: The 2020 report's appendix list, in order, with how the demo makes each one.
APPENDICES = [
    (
        "review_report",
        "Report on peer on peer abuse review of historic cases dealt with by the Multi-Agency "
        "Safeguarding Hub (MASH)",
        {},
    ),
    ("exempt_case_list", "Historic cases of peer on peer", EXEMPT),
    ("case_details", "Details of cases under the review period", {}),
    ("uploaded_pdf", "Redacted CSO report April 2017 and Recommendations", {}),
    ("response_table", "Executive response to scrutiny recommendations", {}),
    # Appendices 6 and 7 are drawn from the guidance app: the published model guidance and the
    # forms-of-abuse taxonomy (the 2020 titles are kept so the list matches the report's).
    ("model_guidance", "Draft model guidance for handling peer on peer abuse cases in Herefordshire.", {}),
    ("definitions", "What is Peer on Peer Abuse", {}),
    ("text", "Legal basis for recommendations", {}),
]

TEXTS = {
    "Legal basis for recommendations": (
        "DEMO: The recommendations rest on the council's duties under sections 10, 11, 17 and 47 of the "
        "Children Acts 1989 and 2004 and on the statutory guidance Keeping Children Safe in Education."
    ),
}

SCRUTINY_RECOMMENDATIONS = [
    (
        "DEMO: Every designated safeguarding lead completes training on peer-on-peer abuse within a year.",
        "accepted",
        "Training for all designated safeguarding leads has been arranged for the spring term.",
    ),
    (
        "DEMO: MASH records the advice given to a school in every peer-on-peer referral.",
        "accepted",
        "The MASH decision now records the advice to the school as a checklist.",
    ),
    (
        "DEMO: A model policy for handling peer-on-peer abuse is issued to every school.",
        "accepted",
        "The draft model guidance is attached as appendix 6.",
    ),
    (
        "DEMO: The council reports to the committee on progress every six months.",
        "partially_accepted",
        "Progress will be reported annually, with an interim update by e-mail.",
    ),
    (
        "DEMO: An independent advocate is offered to every family in a peer-on-peer case.",
        "not_accepted",
        "Support is offered through existing early help services; no new service is funded.",
    ),
]


def _pdf() -> bytes:
    """A small real PDF standing in for the redacted April 2017 report (WeasyPrint if present)."""
    try:
        from weasyprint import HTML

        return HTML(
            string="<h1>Redacted CSO report April 2017 and Recommendations</h1>"
            "<p>DEMO: a stand-in for the redacted report commissioned by a school in April 2017.</p>"
        ).write_pdf()
    except ImportError:  # pragma: no cover - WeasyPrint is pinned; a blank page will do otherwise
        import io

        from pypdf import PdfWriter

        writer, out = PdfWriter(), io.BytesIO()
        writer.add_blank_page(width=595, height=842)
        writer.write(out)
        return out.getvalue()


@contextmanager
def on(day: dt.date, hour: int = 12):
    """Run as if it were that day (the services stamp their own times)."""
    import time_machine

    with time_machine.travel(
        dt.datetime.combine(day, dt.time(hour), tzinfo=ZoneInfo(settings.TIME_ZONE)), tick=False
    ):
        yield


def close_review(*, lead, reviewer, review) -> None:
    """Finish the demo review as it finished in 2020: every case assessed and accepted, a blind
    second rating of the moderation share with each disagreement resolved, the report written,
    the review closed."""
    from reviews import services as reviews
    from reviews.models import CaseAssessment, CriterionRating, Review
    from reviews.selectors import moderation_agreement

    if review.status == Review.Status.CLOSED:
        return
    rnd = random.Random(20200901)  # noqa: S311 - deterministic demo data
    ratings = [c for c, _ in CriterionRating.Rating.choices]

    def complete(assessment, by, copy_from=None):
        given = {}
        for r in assessment.ratings.all():
            rating = rnd.choice(ratings)
            if copy_from is not None and rnd.random() < 0.8:
                rating = copy_from.get(r.criterion_id, rating)
            given[r.criterion_id] = reviews.RatingInput(rating, "DEMO: see the MASH record.")
        assessment = reviews.assessment_save(
            user=by,
            assessment_id=assessment.pk,
            expected_version=assessment.version,
            ratings=given,
            advice_matched=assessment.advice_matched or rnd.choice(["yes", "partly", "no"]),
            overall_judgement=assessment.overall_judgement or "requires_improvement",
            good_practice=assessment.good_practice or "DEMO: decision made within a working day.",
            areas_for_improvement=assessment.areas_for_improvement or "DEMO: record the risk assessment.",
        )
        return reviews.assessment_submit(
            user=by, assessment_id=assessment.pk, expected_version=assessment.version
        )

    with on(dt.date(2020, 8, 28)):
        for assessment in review.assessments.filter(kind=CaseAssessment.Kind.PRIMARY).order_by("pk"):
            if assessment.status in (CaseAssessment.Status.ASSIGNED, CaseAssessment.Status.RETURNED):
                assessment = complete(assessment, assessment.reviewer)
            if assessment.status == CaseAssessment.Status.SUBMITTED:
                reviews.assessment_decide(user=lead, assessment_id=assessment.pk, accept=True)
        review.refresh_from_db()
    with on(dt.date(2020, 9, 1)):
        for second in reviews.review_start_moderation(user=lead, review_id=review.pk):
            primary = review.assessments.get(kind=CaseAssessment.Kind.PRIMARY, referral_id=second.referral_id)
            first = dict(primary.ratings.values_list("criterion_id", "rating"))
            second = complete(second, second.reviewer, copy_from=first)
            reviews.assessment_decide(user=lead, assessment_id=second.pk, accept=True)
        for a, b, resolved in moderation_agreement(review=review).disagreements:
            if resolved is None:
                reviews.moderation_resolve(
                    user=lead, primary_rating_id=a.pk, second_rating_id=b.pk, resolved_rating=a.rating
                )
        reviews.review_advance(user=lead, review_id=review.pk, to=Review.Status.REPORTING)
    with on(dt.date(2020, 9, 4)):
        if not review.recommendations.exists():
            for text in (
                "DEMO: Refresh MASH training on the DfE guidance in force for peer-on-peer abuse.",
                "DEMO: Quality-assure a sample of peer-on-peer decisions every quarter.",
                "DEMO: Record the advice to the school in every case.",
            ):
                reviews.review_recommendation_save(user=lead, review_id=review.pk, text=text)
        reviews.review_advance(user=lead, review_id=review.pk, to=Review.Status.CLOSED)
    review.refresh_from_db()


def _add_appendix_then(officer, report, review, kind, title, extra, guidance_v1) -> None:
    with on(dt.date(2020, 11, 10)):
        upload = (
            SimpleUploadedFile("cso-report-2017.pdf", _pdf(), content_type="application/pdf")
            if kind == "uploaded_pdf"
            else None
        )
        services.appendix_add(
            user=officer,
            report_id=report.pk,
            expected_version=report.version,
            data=services.AppendixInput(
                kind=kind,
                title=title,
                review=review if kind in ("review_report", "case_details", "exempt_case_list") else None,
                text=TEXTS.get(title, ""),
                upload=upload,
                guidance_version=guidance_v1 if kind == "model_guidance" else None,
                **extra,
            ),
        )


@transaction.atomic
def seed_cabinet_report(*, officer, lead, review, reviewer=None, admin=None) -> CabinetReport:
    existing = CabinetReport.objects.filter(title=REPORT_TITLE, meeting__date=dt.date(2020, 11, 26)).first()
    if existing is not None:
        return existing
    scrutiny_committee, _ = Committee.objects.get_or_create(
        name="Children and Young People Scrutiny Committee", defaults={"kind": Committee.Kind.SCRUTINY}
    )
    cabinet, _ = Committee.objects.get_or_create(name="Cabinet", defaults={"kind": Committee.Kind.CABINET})
    scrutiny_meeting, _ = Meeting.objects.get_or_create(
        committee=scrutiny_committee, date=dt.date(2020, 9, 15)
    )
    cabinet_meeting, _ = Meeting.objects.get_or_create(committee=cabinet, date=dt.date(2020, 11, 26))
    item, _ = AgendaItem.objects.get_or_create(
        title=REPORT_TITLE, defaults={"summary": "Review of MASH peer on peer abuse cases, 2017 to 2019."}
    )
    AgendaEntry.objects.get_or_create(
        item=item,
        meeting=scrutiny_meeting,
        defaults={"number": 6, "outcome": "Recommendations to the executive"},
    )

    # The review closes with its own recommendations: section 3 of appendix 1.
    close_review(lead=lead, reviewer=reviewer, review=review)

    Source = Recommendation.Source
    due = dt.date(2021, 9, 1)
    for text, decision, response in SCRUTINY_RECOMMENDATIONS:
        rec = services.recommendation_create(
            user=officer,
            data=services.RecommendationInput(
                source=Source.SCRUTINY, text=text, meeting=scrutiny_meeting, agenda_item=item
            ),
        )
        services.response_record(
            user=officer,
            recommendation_id=rec.pk,
            expected_version=rec.version,
            decision=decision,
            text=f"DEMO: {response}",
            responded_by="Cabinet member children and families",
            responded_on=dt.date(2020, 11, 26),
        )
    others = [
        services.RecommendationInput(
            source=Source.CASE_REVIEW, text=r.text, review_recommendation=r, agenda_item=item
        )
        for r in review.recommendations.all()
    ] + [
        services.RecommendationInput(
            source=Source.EXTERNAL_AUDIT,
            text="DEMO: Implement the service changes the NSPCC audit recommends.",
            source_reference="NSPCC audit 2020",
            agenda_item=item,
        ),
        services.RecommendationInput(
            source=Source.EARLIER_REPORT,
            text="DEMO: The school's senior leadership team reviews its safeguarding policy.",
            source_reference="April 2017 report (Appendix 4)",
            agenda_item=item,
        ),
    ]
    for data in others:
        services.recommendation_create(user=officer, data=data)

    # Actions: one done, one on track, one due soon with little progress, one overdue.
    plans = [
        ("Train every designated safeguarding lead", "Learning and achievement team", due, 100),
        ("Add the advice checklist to the MASH decision", "MASH manager", dt.date(2030, 3, 31), 40),
        (
            "Issue the model guidance to every school",
            "Head of learning and achievement",
            dt.date(2020, 12, 18),
            20,
        ),
        ("Quarterly quality assurance of decisions", "Head of service", dt.date(2021, 3, 31), 0),
    ]
    recs = list(Recommendation.objects.filter(agenda_item=item).order_by("id"))
    for rec, (description, owner, when, percent) in zip(recs, plans, strict=False):
        rec.refresh_from_db()
        action = services.action_add(
            user=officer,
            recommendation_id=rec.pk,
            expected_version=rec.version,
            description=description,
            owner=owner,
            due_date=when,
        )
        if percent:
            services.progress_add(
                user=officer,
                action_id=action.pk,
                expected_version=action.version,
                date=dt.date(2020, 12, 1),
                percent_complete=percent,
                text="DEMO: progress reported to the committee.",
            )
    services.evidence_add(
        user=officer,
        recommendation_id=recs[0].pk,
        kind="training",
        label="DSL training coverage",
        path="/guidance/",
    )
    services.evidence_add(
        user=officer,
        recommendation_id=recs[1].pk,
        kind="review_findings",
        label="Review findings",
        review=review,
    )

    # Model guidance version 1, drafted and submitted for cabinet's approval (Appendix 6).
    from devtools.demo.guidance import seed_guidance_for_cabinet

    guidance_v1 = seed_guidance_for_cabinet(admin=admin or officer)

    with on(dt.date(2020, 11, 10)):
        report = services.cabinet_report_create(
            user=officer, agenda_item=item, meeting=cabinet_meeting, values=REPORT
        )
    for kind, title, extra in APPENDICES:
        report.refresh_from_db()
        _add_appendix_then(officer, report, review, kind, title, extra, guidance_v1)
    # The papers, published five clear days before the meeting and frozen as they were.
    report.refresh_from_db()
    with on(dt.date(2020, 11, 18), hour=9):
        services.report_version_publish(
            user=officer,
            report_id=report.pk,
            expected_version=report.version,
        )
    # The decision: made on 26 November, published the next day, effective after call-in.
    with on(dt.date(2020, 12, 7)):
        services.decision_record(
            user=officer,
            report_id=report.pk,
            expected_version=None,
            data=services.DecisionInput(
                decision_text="DEMO: The executive agreed recommendations (a) to (d).",
                status="effective",
                key_decision=False,
                call_in="not_called_in",
                decision_maker="cabinet",
                decided_on=dt.date(2020, 11, 26),
                published_on=dt.date(2020, 11, 27),
                effective_on=dt.date(2020, 12, 5),
            ),
        )
    return report
