"""The assessment page and its form hold no exempt text for someone who may not see it.

Masking happens in ``reviews.selectors.assessment_page`` (core.exempt): the template and the
form only get masked values. A canary goes into every exempt field of the assessment (each
rating's evidence, good practice, areas for improvement, the lead reviewer's comments) and
of the referral; a reviewer whose grant has ended still has the assessment in their hands,
and the page they get carries none of it, not even in a form's initial values.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from core import permissions
from core.exempt import MASK
from core.models import AccessLogEntry
from core.roles import Role
from reviews import services as review_services
from reviews.models import CaseAssessment
from tests.conftest import sign_in_verified
from tests.support.canary import canary_assessment, leaks

pytestmark = pytest.mark.django_db


@pytest.fixture
def returned_assessment(role_user, canary_referral):
    """An assessment of the canary referral, canaries in all its free text, returned to the
    reviewer by the lead with a canary comment (so the reviewer may change it again)."""
    _, assessment, lead, reviewer = canary_assessment(
        role_user, canary_referral, name="mask", accept=False, comments="Qzcnry comment from the lead"
    )
    assessment.refresh_from_db()
    assert assessment.status == CaseAssessment.Status.RETURNED
    return assessment, reviewer, lead


def _without_csrf(body: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", body)


def test_the_reviewer_with_a_grant_sees_every_exempt_field_and_the_log_names_them(
    client, returned_assessment
):
    assessment, reviewer, _lead = returned_assessment
    sign_in_verified(client, reviewer)
    body = client.get(reverse("reviews:assessment", args=[assessment.pk])).content.decode()
    for text in (
        "Qzcnry good practice",
        "Qzcnry improvement",
        "Qzcnry comment from the lead",
        "QzcnryFirstA",
        # The whole referral: the advice given and the case notes too.
        "Qzcnry advice notes",
        "Qzcnry case note",
        "Police informed: Yes",
    ):
        assert text in body
    assert "Qzcnry evidence" in body
    entry = AccessLogEntry.objects.latest("id")
    assert entry.record_id == assessment.referral_id
    # What the page printed, not the whole boundary: no address, date of birth or referrer.
    assert entry.fields == [
        "CaseAssessment.areas_for_improvement",
        "CaseAssessment.good_practice",
        "CaseAssessment.lead_comments",
        "CaseNote.text",
        "Child.first_name",
        "Child.last_name",
        # The victim and the alleged perpetrator attend the same school: the page links the
        # school's context record (contexts, through reviews.panels).
        "Child.school",
        "CriterionRating.evidence",
        "ReferralDecision.advice_notes",
        "ReferralDecision.rationale",
        "ReferralDetail.narrative",
    ]


def test_a_reviewer_whose_grant_ended_gets_a_page_and_form_without_any_exempt_text(
    client, returned_assessment
):
    assessment, reviewer, lead = returned_assessment
    permissions.revoke_user_kind(
        assessment.referral, user=reviewer, kind=permissions.GrantKind.REVIEW, revoked_by=lead, reason="ended"
    )
    sign_in_verified(client, reviewer)
    url = reverse("reviews:assessment", args=[assessment.pk])
    before = AccessLogEntry.objects.count()
    response = client.get(url)
    assert response.status_code == 200
    body = _without_csrf(response.content.decode())
    assert not leaks(body), leaks(body)  # the canary is nowhere: text, inputs, hidden values
    assert MASK in body  # the lead's comments and the evidence are there, masked
    assert 'name="good_practice"' not in body
    assert 'name="evidence_' not in body
    assert 'name="rating_' in body  # the ratings may still be given
    assert AccessLogEntry.objects.count() == before  # nothing exempt was shown

    # Saving from that page keeps the stored text: the mask is never written back.
    data = {
        "version": assessment.version,
        "save": "1",
        "advice_matched": "partly",
        "overall_judgement": "good",
    }
    for rating in assessment.ratings.all():
        data[f"rating_{rating.criterion_id}"] = "partly_met"
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assessment.refresh_from_db()
    assert assessment.advice_matched == "partly"
    assert assessment.good_practice == "Qzcnry good practice"
    assert assessment.areas_for_improvement == "Qzcnry improvement"
    for rating in assessment.ratings.all():
        assert rating.rating == "partly_met"
        assert rating.evidence == f"Qzcnry evidence {rating.criterion_id}"


def test_the_lead_without_a_grant_reads_the_submitted_assessment_masked(client, returned_assessment):
    assessment, reviewer, lead = returned_assessment
    review_services.assessment_submit(
        user=reviewer, assessment_id=assessment.pk, expected_version=assessment.version
    )
    sign_in_verified(client, lead)
    body = _without_csrf(client.get(reverse("reviews:assessment", args=[assessment.pk])).content.decode())
    assert not leaks(body), leaks(body)
    assert "Accept or return" in body


def test_the_lead_with_access_sees_each_ratings_evidence_beside_its_criterion_and_it_is_logged(
    client, returned_assessment, role_user
):
    assessment, reviewer, lead = returned_assessment
    review_services.assessment_submit(
        user=reviewer, assessment_id=assessment.pk, expected_version=assessment.version
    )
    officer = role_user(Role.INFORMATION_GOVERNANCE, username="mask-ig")
    permissions.grant(
        assessment.referral,
        action=permissions.VIEW_EXEMPT,
        user=lead,
        kind=permissions.GrantKind.REVIEW,
        reason="Lead reviewer reads the evidence",
        granted_by=officer,
        expires_at=timezone.now() + dt.timedelta(days=1),
    )
    sign_in_verified(client, lead)
    body = client.get(reverse("reviews:assessment", args=[assessment.pk])).content.decode()
    assert "Accept or return" in body
    rows = re.findall(r'<tr class="govuk-table__row"><td class="govuk-table__cell">(.*?)</tr>', body, re.S)
    rated = [row for row in rows if "Met" in row]
    assert rated, "the ratings table is missing"
    for rating in assessment.ratings.select_related("criterion"):
        row = next(r for r in rated if f"{rating.criterion.code}:" in r)
        assert f"Qzcnry evidence {rating.criterion_id}" in row
    assert "Qzcnry case note" in body
    entry = AccessLogEntry.objects.latest("id")
    assert entry.user_id == lead.pk
    assert "CriterionRating.evidence" in entry.fields
    assert "CaseNote.text" in entry.fields
