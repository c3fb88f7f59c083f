"""Canary exempt data: a referral and a case review whose every exempt field carries a marker,
and the check that no output leaks it."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from celery.app.task import Task
from django.utils import timezone

from core import permissions
from core.roles import Role
from referrals import services
from referrals.models import Outcome, RagLevel, Referral, School
from tests.referrals.helpers import child_input, referral_input

CANARY = "qzcnry"  # every exempt text value contains this; matched case-insensitively


DOB = dt.date(2012, 2, 29)


DOB_FORMS = ("29 February 2012", "2012-02-29", "29/02/2012", "Feb. 29, 2012")


def leaks(text: str) -> list[str]:
    """Each canary found, with the text around it (so a failure says where)."""
    lowered = text.lower()
    found = []
    for needle in (CANARY, *(form.lower() for form in DOB_FORMS)):
        at = lowered.find(needle)
        if at >= 0:
            found.append(text[max(0, at - 120) : at + 60])
    return found


@pytest.fixture
def published():
    """Every task queued while the fixture is active: (task name, args, kwargs)."""
    calls = []
    original = Task.apply_async

    def record(self, args=None, kwargs=None, **options):
        calls.append((self.name, args, kwargs))
        return original(self, args=args, kwargs=kwargs, **options)

    with mock.patch.object(Task, "apply_async", record):
        yield calls


@pytest.fixture
def canary_referral(role_user, django_capture_on_commit_callbacks, published):
    """A closed and restricted referral (so nobody holds a default grant, and the MASH team's
    standing read of closed referrals does not reach it) with a canary in every exempt field."""
    creator = role_user(Role.MASH_PRACTITIONER, username="creator")
    # The list of schools is public reference data (it fills the school pickers), so the
    # school's name is not a canary; that a child attends it is, checked on the case pages.
    school = School.objects.create(
        urn="LEAK0001", name="Leakcheck Academy", phase="secondary", local_authority="X"
    )
    data = referral_input(
        referrer_name="Qzcnry Referrer",
        referrer_role="Qzcnry Role",
        referrer_organisation="Qzcnry Organisation",
        referrer_contact="qzcnry@qzcnry.example",
        narrative="Qzcnry narrative of what happened",
        incident_place="Qzcnry Quarry",
        consent_sought=False,
        consent_not_sought_reason="Qzcnry consent reason",
        incident_date=timezone.localdate() - dt.timedelta(days=2),
    )
    children = [
        child_input(
            "victim",
            first_name="QzcnryFirstA",
            last_name="QzcnryLastA",
            date_of_birth=DOB,
            school=school,
            address="1 Qzcnry Street",
            postcode="QZCNRY1",
        ),
        child_input(
            "alleged_perpetrator",
            first_name="QzcnryFirstB",
            last_name="QzcnryLastB",
            date_of_birth=DOB,
            school=school,
            address="2 Qzcnry Street",
            postcode="QZCNRY2",
        ),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        referral = services.referral_create(user=creator, data=data, children=children)
        services.referral_update(
            user=creator,
            referral_id=referral.pk,
            expected_version=1,
            data=data.__class__(**{**data.__dict__, "narrative": "Qzcnry narrative, second version"}),
        )
        services.referral_start_screening(
            user=creator, referral_id=referral.pk, expected_version=2, rag=RagLevel.objects.get(code="red")
        )
        services.referral_record_decision(
            user=creator,
            referral_id=referral.pk,
            expected_version=3,
            decision=services.DecisionInput(
                outcomes=[Outcome.objects.get(code="police")],
                rationale="Qzcnry rationale",
                advice={"police_informed": True},
                advice_notes="Qzcnry advice notes",
            ),
        )
        services.case_note_add(
            user=creator, referral_id=referral.pk, occurred_on=timezone.localdate(), text="Qzcnry case note"
        )
        services.referral_close(
            user=creator, referral_id=referral.pk, expected_version=4, reason="Qzcnry closing"
        )
        services.referral_restrict(
            user=role_user(Role.MASH_MANAGER, username="restrictor"),
            referral_id=referral.pk,
            expected_version=5,
            reason="Qzcnry restriction reason, named in the case",
        )
    referral.refresh_from_db()
    assert referral.status == Referral.Status.CLOSED
    assert referral.is_restricted
    return referral


def canary_assessment(
    role_user, referral, *, name: str, accept: bool = True, comments: str = "Qzcnry comment"
):
    """A case review of ``referral`` (only it screened in) and its assessment, with a canary in
    every free-text field a reviewer writes (each criterion's evidence names the criterion),
    submitted and then accepted or returned by the lead with ``comments``. The one way tests
    build an assessment that must not leak. Returns ``(review, assessment, lead, reviewer)``;
    the accounts are ``<name>-lead`` and ``<name>-reviewer``."""
    from reviews import services as review_services

    lead = role_user(Role.LEAD_REVIEWER, username=f"{name}-lead")
    reviewer = role_user(Role.REVIEWER, username=f"{name}-reviewer")
    day = timezone.localtime(referral.received_at).date()
    review = review_services.review_create(
        user=lead,
        title=f"{name.capitalize()} review",
        terms_of_reference="Terms",
        lead_reviewer=lead,
        reviewers=[reviewer],
        periods=[review_services.PeriodInput("Now", day, day)],
        require_same_school=False,
        grants_end_on=timezone.localdate() + dt.timedelta(days=30),
    )
    review_services.review_start_screening(user=lead, review_id=review.pk)
    for decision in review.screening.all():
        review_services.screening_decide(
            user=lead, decision_id=decision.pk, include=decision.referral_id == referral.pk
        )
    review_services.review_start_reviewing(user=lead, review_id=review.pk)
    assessment = review_services.assessment_assign(
        user=lead, review_id=review.pk, referral_id=referral.pk, reviewer=reviewer
    )
    ratings = {
        r.criterion_id: review_services.RatingInput("met", f"Qzcnry evidence {r.criterion_id}")
        for r in assessment.ratings.all()
    }
    assert ratings
    assessment = review_services.assessment_save(
        user=reviewer,
        assessment_id=assessment.pk,
        expected_version=1,
        ratings=ratings,
        advice_matched="yes",
        overall_judgement="good",
        good_practice="Qzcnry good practice",
        areas_for_improvement="Qzcnry improvement",
    )
    review_services.assessment_submit(
        user=reviewer, assessment_id=assessment.pk, expected_version=assessment.version
    )
    review_services.assessment_decide(
        user=lead, assessment_id=assessment.pk, accept=accept, comments=comments
    )
    assessment.refresh_from_db()
    return review, assessment, lead, reviewer


@pytest.fixture
def canary_review(role_user, canary_referral):
    """A case review of the canary referral, with a canary in every free-text field."""
    review, assessment, lead, reviewer = canary_assessment(role_user, canary_referral, name="canary")
    # The reviewer's grant ends with the review, so nobody in the walk holds one.
    permissions.revoke_user_kind(
        canary_referral, user=reviewer, kind=permissions.GrantKind.REVIEW, revoked_by=lead, reason="test"
    )
    from tests.scrutiny.walk import scrutiny_walk_ids

    # A cabinet report whose exempt appendices hold the canary: a text appendix, and the case
    # list of this review (the canary referral's children by name). Nobody walking holds a grant.
    ids = scrutiny_walk_ids(role_user, review=review, canary="Qzcnry")
    from tests.support.access import records_walk_ids

    ids.update(records_walk_ids(role_user))
    return {"reviews": review.pk, "assessment_pk": assessment.pk, **ids}
