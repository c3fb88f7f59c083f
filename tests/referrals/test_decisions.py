"""MASH decisions that cannot contradict themselves (issue 13, part 3): contradictory
outcomes refused, departures from the guidance in force explained, a manager's
authorisation where a rule asks for it (never the author's own), amendments that keep both
versions, and a check-your-answers step before anything is recorded."""

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from referrals import services
from referrals.models import (
    AbuseForm,
    DecisionAuthorisationRule,
    Outcome,
    Referral,
    ReferralDecision,
)
from tests.conftest import sign_in_verified
from tests.nplusone import unit_of_work
from tests.referrals.helpers import referral_input
from tests.support.decisions import decide, outcomes, screened

pytestmark = pytest.mark.django_db


# --- Contradictions ------------------------------------------------------------------------


@pytest.mark.parametrize("other", ["immediate-protection", "police", "early-help", "advice"])
def test_no_further_action_with_any_action_is_refused(practitioner, other):
    referral = screened(practitioner, form="bullying")
    with pytest.raises(ValidationError) as refused:
        decide(practitioner, referral, "nfa", other)
    assert "not both" in str(refused.value.message_dict["outcomes"])
    referral.refresh_from_db()
    assert referral.status == Referral.Status.SCREENING
    assert not ReferralDecision.objects.exists()


def test_the_reported_decision_is_refused_and_nobody_is_emailed(
    practitioner, mailoutbox, django_capture_on_commit_callbacks
):
    """The case in the issue: sexual assault, NFA with immediate protection, reason "test", no advice."""
    referral = screened(practitioner)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError):
        decide(practitioner, referral, "nfa", "immediate-protection", rationale="test")
    assert mail.outbox == []


# --- The guidance in force ----------------------------------------------------------------


def test_departing_from_the_guidance_in_force_needs_a_reason(practitioner):
    referral = screened(practitioner)  # sexual assault: the police are the starting point
    with pytest.raises(ValidationError) as refused:
        decide(practitioner, referral, "early-help")
    assert "guidance_departure_reason" in refused.value.message_dict
    decision = decide(
        practitioner, referral, "early-help", guidance_departure_reason="Victim's wishes, police aware"
    )
    assert "SV21.6" in decision.guidance_expected
    assert decision.guidance_departure_reason == "Victim's wishes, police aware"


@pytest.mark.parametrize(
    ("codes", "advice"),
    [(("police",), {}), (("strategy-s47",), {}), (("early-help",), {"police_informed": True})],
)
def test_doing_what_the_guidance_expects_needs_no_reason(practitioner, codes, advice):
    referral = screened(practitioner)
    decision = decide(practitioner, referral, *codes, advice=advice)
    assert decision.guidance_expected == ""


def test_the_guidance_is_the_one_in_force_on_the_received_date(practitioner):
    """Received in 2017 (before the first edition naming the police starting point): nothing expected."""
    referral = screened(practitioner, received_at=dt.datetime(2017, 3, 1, 10, tzinfo=dt.UTC))
    decision = decide(practitioner, referral, "early-help")
    assert decision.guidance_expected == ""
    later = screened(practitioner, received_at=dt.datetime(2019, 3, 1, 10, tzinfo=dt.UTC))
    with pytest.raises(ValidationError):
        decide(practitioner, later, "early-help")
    assert (
        "K18.6"
        in decide(practitioner, later, "early-help", guidance_departure_reason="why").guidance_expected
    )


def test_a_form_the_guidance_says_nothing_about_needs_no_reason(practitioner):
    referral = screened(practitioner, form="bullying")
    assert decide(practitioner, referral, "advice").guidance_expected == ""


# --- Manager authorisation -----------------------------------------------------------------


def test_nfa_on_a_sexual_abuse_referral_waits_for_another_manager(
    practitioner, manager, role_user, mailoutbox, django_capture_on_commit_callbacks
):
    referral = screened(practitioner)
    with django_capture_on_commit_callbacks(execute=True):
        decision = decide(practitioner, referral, "nfa", guidance_departure_reason="Unfounded")
    assert decision.status == ReferralDecision.Status.AWAITING_AUTHORISATION
    referral.refresh_from_db()
    assert referral.status == Referral.Status.SCREENING
    assert mail.outbox == []  # the referrer is told only once it is authorised
    with pytest.raises(ValidationError, match="awaiting"):
        decide(practitioner, referral, "police")

    with pytest.raises(ValidationError, match="Only a MASH manager"):
        services.referral_authorise_decision(
            user=practitioner,
            referral_id=referral.pk,
            expected_version=referral.version,
            decision_id=decision.pk,
            authorise=True,
        )
    with django_capture_on_commit_callbacks(execute=True):
        services.referral_authorise_decision(
            user=manager,
            referral_id=referral.pk,
            expected_version=referral.version,
            decision_id=decision.pk,
            authorise=True,
        )
    decision.refresh_from_db()
    referral.refresh_from_db()
    assert decision.status == ReferralDecision.Status.IN_FORCE
    assert decision.authorised_by == manager
    assert referral.status == Referral.Status.DECIDED
    assert len(mail.outbox) == 1


def test_the_author_cannot_authorise_their_own_decision(manager):
    referral = screened(manager)
    decision = decide(manager, referral, "nfa", guidance_departure_reason="Unfounded")
    referral.refresh_from_db()
    with pytest.raises(ValidationError, match="another manager"):
        services.referral_authorise_decision(
            user=manager,
            referral_id=referral.pk,
            expected_version=referral.version,
            decision_id=decision.pk,
            authorise=True,
        )
    decision.refresh_from_db()
    assert decision.status == ReferralDecision.Status.AWAITING_AUTHORISATION


def test_a_decision_not_authorised_never_takes_effect(practitioner, manager, mailoutbox):
    referral = screened(practitioner)
    decision = decide(practitioner, referral, "nfa", guidance_departure_reason="Unfounded")
    referral.refresh_from_db()
    with pytest.raises(ValidationError):
        services.referral_authorise_decision(
            user=manager,
            referral_id=referral.pk,
            expected_version=referral.version,
            decision_id=decision.pk,
            authorise=False,
            note=" ",
        )
    services.referral_authorise_decision(
        user=manager,
        referral_id=referral.pk,
        expected_version=referral.version,
        decision_id=decision.pk,
        authorise=False,
        note="Police must be involved",
    )
    decision.refresh_from_db()
    referral.refresh_from_db()
    assert decision.status == ReferralDecision.Status.NOT_AUTHORISED
    assert referral.status == Referral.Status.SCREENING
    assert decide(practitioner, referral, "police").status == ReferralDecision.Status.IN_FORCE


def test_authorisation_rules_are_configuration(practitioner):
    bullying = screened(practitioner, form="bullying")
    assert decide(practitioner, bullying, "nfa").status == ReferralDecision.Status.IN_FORCE
    DecisionAuthorisationRule.objects.create(
        outcome=Outcome.objects.get(code="early-help"), abuse_form=AbuseForm.objects.get(code="bullying")
    )
    other = screened(practitioner, form="bullying")
    assert decide(practitioner, other, "early-help").status == ReferralDecision.Status.AWAITING_AUTHORISATION


# --- Amendments ------------------------------------------------------------------------------


@unit_of_work
def amend(user, referral, *codes, reason="New information", **changes):
    referral.refresh_from_db()
    return services.referral_amend_decision(
        user=user,
        referral_id=referral.pk,
        expected_version=referral.version,
        decision=services.DecisionInput(outcomes=outcomes(*codes), rationale="r2", **changes),
        reason=reason,
    )


def test_an_amendment_keeps_both_versions_and_tells_the_referrer_again_if_the_outcome_changed(
    practitioner, mailoutbox, django_capture_on_commit_callbacks
):
    referral = screened(practitioner)
    with django_capture_on_commit_callbacks(execute=True):
        first = decide(practitioner, referral, "police")
    assert len(mail.outbox) == 1
    with pytest.raises(ValidationError) as refused:
        amend(practitioner, referral, "police", "s17", reason=" ")
    assert "amendment_reason" in refused.value.message_dict
    with django_capture_on_commit_callbacks(execute=True):
        second = amend(practitioner, referral, "police", "s17")
    first.refresh_from_db()
    assert first.status == ReferralDecision.Status.SUPERSEDED
    assert second.status == ReferralDecision.Status.IN_FORCE
    assert second.amends == first
    assert second.amendment_reason == "New information"
    assert len(mail.outbox) == 2
    with django_capture_on_commit_callbacks(execute=True):
        amend(practitioner, referral, "s17", "police", reason="Typo in the reasons")
    assert len(mail.outbox) == 2  # same outcome: not told again
    assert referral.decisions.count() == 3
    assert referral.decisions.in_force().count() == 1


def test_an_amendment_to_nfa_on_sexual_abuse_waits_for_a_manager(practitioner, manager):
    referral = screened(practitioner)
    first = decide(practitioner, referral, "police")
    pending = amend(practitioner, referral, "nfa", guidance_departure_reason="Allegation withdrawn")
    assert pending.status == ReferralDecision.Status.AWAITING_AUTHORISATION
    first.refresh_from_db()
    assert first.status == ReferralDecision.Status.IN_FORCE  # until authorised
    referral.refresh_from_db()
    services.referral_authorise_decision(
        user=manager,
        referral_id=referral.pk,
        expected_version=referral.version,
        decision_id=pending.pk,
        authorise=True,
    )
    first.refresh_from_db()
    assert first.status == ReferralDecision.Status.SUPERSEDED


# --- The pages ------------------------------------------------------------------------------


def form_data(referral, *codes, **extra):
    return {
        "outcomes": [str(o.pk) for o in outcomes(*codes)],
        "rationale": "Reasons typed in full",
        "advice": ["dsl_informed"],
        "version": str(referral.version),
        **extra,
    }


def test_check_your_answers_comes_before_anything_is_recorded(practitioner_client, practitioner):
    referral = screened(practitioner)
    referral.refresh_from_db()
    url = reverse("referrals:decide", args=[referral.pk])
    page = practitioner_client.get(url).content.decode()
    assert "SV21.6" in page  # the page says which guidance expects what
    data = form_data(referral, "police")
    check = practitioner_client.post(url, data)
    assert check.status_code == 200
    body = check.content.decode()
    assert "Check your answers" in body
    assert "Reasons typed in full" in body
    assert not ReferralDecision.objects.exists()
    back = practitioner_client.post(url, {**data, "change": "1"})
    assert "Reasons typed in full" in back.content.decode()
    assert "Check your answers" not in back.content.decode()
    done = practitioner_client.post(url, {**data, "confirm": "1"})
    assert done.status_code == 302
    assert ReferralDecision.objects.get().status == ReferralDecision.Status.IN_FORCE


def test_a_contradictory_decision_is_refused_on_the_page_with_everything_kept(
    practitioner_client, practitioner
):
    referral = screened(practitioner)
    referral.refresh_from_db()
    url = reverse("referrals:decide", args=[referral.pk])
    response = practitioner_client.post(url, form_data(referral, "nfa", "immediate-protection", confirm="1"))
    assert response.status_code == 400
    body = response.content.decode()
    assert "There is a problem" in body
    assert "not both" in body
    assert "Reasons typed in full" in body
    response = practitioner_client.post(url, form_data(referral, "early-help", confirm="1"))
    assert response.status_code == 400
    assert "Enter why the decision does not do what the guidance expects" in response.content.decode()
    assert not ReferralDecision.objects.exists()


def test_the_authorising_page_is_a_second_managers(client, practitioner, manager, role_user):
    referral = screened(practitioner)
    decide(practitioner, referral, "nfa", guidance_departure_reason="Unfounded")
    referral.refresh_from_db()
    url = reverse("referrals:authorise_decision", args=[referral.pk])
    sign_in_verified(client, practitioner)
    assert client.get(url).status_code == 404
    sign_in_verified(client, manager)
    assert "Unfounded" in client.get(url).content.decode()
    response = client.post(
        url, {"authorise": "True", "note": "", "version": str(referral.version), "save": "1"}
    )
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.status == Referral.Status.DECIDED
    assert "No decision on this referral is awaiting authorisation" in client.get(url).content.decode()


def test_the_amend_page_records_an_amendment_after_checking(client, practitioner):
    referral = screened(practitioner)
    decide(practitioner, referral, "police")
    referral.refresh_from_db()
    sign_in_verified(client, practitioner)
    url = reverse("referrals:amend_decision", args=[referral.pk])
    assert client.get(url).status_code == 200
    data = form_data(referral, "police", "s17", amendment_reason="New information")
    assert "Check your answers" in client.post(url, data).content.decode()
    assert client.post(url, {**data, "confirm": "1"}).status_code == 302
    assert referral.decisions.count() == 2


# --- The forms of abuse a decision was judged on -------------------------------------------


@pytest.mark.parametrize("pending", [False, True], ids=["in-force", "awaiting-authorisation"])
def test_the_forms_of_abuse_cannot_change_under_a_decision(practitioner, pending):
    """Found by attack: NFA decided on "physical abuse", then the forms changed to rape, left a
    rape referral with no further action that no manager authorised and no guidance reason."""
    referral = screened(practitioner, form="sexual-assault" if pending else "bullying")
    if pending:
        decide(practitioner, referral, "nfa", guidance_departure_reason="Unfounded on investigation")
    else:
        decide(practitioner, referral, "nfa")
    referral.refresh_from_db()
    decided_version = referral.version
    with pytest.raises(ValidationError) as refused:
        services.referral_update(
            user=practitioner,
            referral_id=referral.pk,
            expected_version=referral.version,
            data=referral_input(forms_of_abuse=[AbuseForm.objects.get(code="rape")]),
        )
    assert "cannot change once a decision has been recorded" in str(
        refused.value.message_dict["forms_of_abuse"]
    )
    referral.refresh_from_db()
    assert referral.version == decided_version
    assert [f.code for f in referral.forms_of_abuse.all()] == ["sexual-assault" if pending else "bullying"]


def test_other_details_still_change_under_a_decision(practitioner):
    referral = screened(practitioner, form="bullying")
    decide(practitioner, referral, "nfa")
    referral.refresh_from_db()
    services.referral_update(
        user=practitioner,
        referral_id=referral.pk,
        expected_version=referral.version,
        data=referral_input(forms_of_abuse=[AbuseForm.objects.get(code="bullying")], location="online"),
    )
    referral.refresh_from_db()
    assert referral.location == "online"


def test_the_amend_page_starts_from_the_decision_in_force_with_only_the_reason_empty(client, practitioner):
    """Found by attack: the amend page started with its reasons blank, so an amendment meant to
    change one outcome wiped the reasons, the advice notes and the guidance departure."""
    referral = screened(practitioner)
    decide(
        practitioner,
        referral,
        "s17",
        rationale="Qzrationale as decided",
        advice_notes="Qzadvice notes as decided",
        guidance_departure_reason="Qzdeparture as decided",
        advice={"dsl_informed": True},
    )
    referral.refresh_from_db()
    sign_in_verified(client, practitioner)
    url = reverse("referrals:amend_decision", args=[referral.pk])
    response = client.get(url)
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["rationale"] == "Qzrationale as decided"
    assert form.initial["advice_notes"] == "Qzadvice notes as decided"
    assert form.initial["guidance_departure_reason"] == "Qzdeparture as decided"
    assert form.initial["amendment_reason"] == ""
    body = response.content.decode()
    for text in ("Qzrationale as decided", "Qzadvice notes as decided", "Qzdeparture as decided"):
        assert f"{text}</textarea>" in body
    assert 'name="amendment_reason"' in body
    # The amendment reason is still required: blank is refused, nothing recorded.
    data = form_data(referral, "s17", rationale="Qzrationale as decided", amendment_reason="")
    refused = client.post(url, data)
    assert refused.status_code == 400
    assert "Enter why the decision is being amended" in refused.content.decode()
    assert referral.decisions.count() == 1


def test_the_amend_page_shows_the_reasons_only_to_a_verified_holder_and_logs_it(client, practitioner):
    from core.models import AccessLogEntry

    referral = screened(practitioner)
    decide(practitioner, referral, "s17", rationale="Qzrationale secret", guidance_departure_reason="Why")
    url = reverse("referrals:amend_decision", args=[referral.pk])
    client.force_login(practitioner)  # signed in without the second factor
    response = client.get(url)
    assert response.status_code == 302  # to the second factor first
    assert "Qzrationale secret" not in response.content.decode()
    sign_in_verified(client, practitioner)
    before = AccessLogEntry.objects.count()
    assert "Qzrationale secret" in client.get(url).content.decode()
    assert AccessLogEntry.objects.count() == before + 1
