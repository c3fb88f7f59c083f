import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from referrals import services
from referrals.models import (
    CaseNote,
    Child,
    Outcome,
    RagLevel,
    Referral,
    ReferralChild,
    ReferralDecision,
    ReferralDetail,
)
from tests.factories import ChildFactory, ReferralFactory
from tests.referrals.helpers import child_input, referral_input, two_children

pytestmark = pytest.mark.django_db


def create(user, **changes):
    return services.referral_create(user=user, data=referral_input(**changes), children=two_children())


def test_create_records_pseudonymous_row_detail_children_and_history(practitioner):
    referral = create(practitioner)

    assert referral.reference == f"MASH-{timezone.localtime(referral.received_at).year}-0001"
    assert referral.status == Referral.Status.RECEIVED
    assert referral.version == 1
    assert referral.detail.referrer_name == "Rita Referrer"
    links = list(referral.children.order_by("label"))
    assert [(c.label, c.role) for c in links] == [("A", "victim"), ("B", "alleged_perpetrator")]
    record = referral.history.get()
    assert record.history_user == practitioner
    assert record.history_change_reason == "Referral recorded"
    assert referral.decision_due_at > referral.received_at


def test_references_are_sequential_per_year_and_never_reused(practitioner):
    first = create(practitioner)
    second = create(practitioner)
    assert first.reference.endswith("-0001")
    assert second.reference.endswith("-0002")
    old = create(
        practitioner,
        received_at=dt.datetime(2018, 5, 1, 10, tzinfo=dt.UTC),
        incident_date=dt.date(2018, 4, 30),
    )
    assert old.reference == "MASH-2018-0001"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"received_at": timezone.now() + dt.timedelta(days=1)},
            "received_at",
            "must be today or in the past",
        ),
        (
            {"incident_date": timezone.localdate() + dt.timedelta(days=3)},
            "incident_date",
            "today or in the past",
        ),
        ({"forms_of_abuse": []}, "forms_of_abuse", "Select at least one form of abuse"),
        ({"consent_sought": False}, "consent_not_sought_reason", "Enter the reason consent was not sought"),
    ],
)
def test_create_refuses_bad_input_and_saves_nothing(practitioner, changes, field, message):
    with pytest.raises(ValidationError) as caught:
        create(practitioner, **changes)
    assert message in " ".join(caught.value.message_dict[field])
    assert Referral.objects.count() == 0
    assert ReferralDetail.objects.count() == 0
    assert Child.objects.count() == 0


def test_incident_after_receipt_is_refused(practitioner):
    received = timezone.now() - dt.timedelta(days=5)
    with pytest.raises(ValidationError) as caught:
        create(practitioner, received_at=received, incident_date=timezone.localdate())
    assert "on or before the date the referral was received" in caught.value.message_dict["incident_date"][0]


def test_peer_on_peer_needs_victim_and_alleged_perpetrator(practitioner):
    with pytest.raises(ValidationError) as caught:
        services.referral_create(
            user=practitioner, data=referral_input(), children=[child_input("victim"), child_input("other")]
        )
    assert "at least one victim and one alleged perpetrator" in caught.value.message_dict["children"][0]
    assert Referral.objects.count() == 0
    assert Child.objects.count() == 0
    # Not peer-on-peer: one child is enough.
    referral = services.referral_create(
        user=practitioner, data=referral_input(is_peer_on_peer=False), children=[child_input("victim")]
    )
    assert referral.children.count() == 1


def test_implausible_date_of_birth_is_refused_and_nothing_saved(practitioner):
    too_old = child_input("victim", date_of_birth=dt.date(1990, 1, 1))
    with pytest.raises(ValidationError) as caught:
        services.referral_create(
            user=practitioner, data=referral_input(), children=[too_old, child_input("alleged_perpetrator")]
        )
    assert "18 or younger" in caught.value.message_dict["date_of_birth"][0]
    assert Referral.objects.count() == 0
    assert Child.objects.count() == 0


def test_existing_child_is_reused_not_duplicated(practitioner):
    earlier = ReferralFactory(created_by=practitioner)  # the team may identify its children
    existing = earlier.children.get(label="A").child
    referral = services.referral_create(
        user=practitioner,
        data=referral_input(),
        children=[child_input("victim", existing_child_id=existing.pk), child_input("alleged_perpetrator")],
    )
    assert referral.children.get(label="A").child == existing
    assert Child.objects.count() == 3  # the earlier referral's two, and one new


def test_a_child_named_by_id_must_be_one_the_user_may_identify(practitioner, manager):
    """The attack: posting any child's id attached them to the attacker's referral, whose pages
    then showed who they are. Hidden (restricted) and missing ids are refused alike."""
    hidden = ReferralFactory(created_by=practitioner)
    services.referral_restrict(
        user=manager,
        referral_id=hidden.pk,
        expected_version=hidden.version,
        reason="The child's parent works in the MASH team",
    )
    secret = hidden.children.get(label="A").child
    orphan = ChildFactory()
    messages = set()
    for child_id in (secret.pk, orphan.pk, 10**9, 2**63):
        with pytest.raises(ValidationError) as caught:
            services.referral_create(
                user=practitioner,
                data=referral_input(),
                children=[
                    child_input("victim", existing_child_id=child_id),
                    child_input("alleged_perpetrator"),
                ],
            )
        messages.add(str(caught.value.message_dict))
    assert len(messages) == 1
    assert not ReferralChild.objects.filter(child=secret).exclude(referral=hidden).exists()
    mine = ReferralFactory(created_by=practitioner)
    with pytest.raises(ValidationError):
        services.referral_add_child(
            user=practitioner,
            referral_id=mine.pk,
            expected_version=mine.version,
            child=child_input("other", existing_child_id=secret.pk),
        )
    assert not ReferralChild.objects.filter(referral=mine, child=secret).exists()


def test_workflow_received_screening_decided_closed_reopened(practitioner, manager, mailoutbox):
    referral = create(practitioner)
    green = RagLevel.objects.get(code="green")
    referral = services.referral_start_screening(
        user=practitioner, referral_id=referral.pk, expected_version=1, rag=green
    )
    assert referral.status == Referral.Status.SCREENING
    assert referral.screening_started_by == practitioner
    assert referral.rag_due_at is not None

    decision = services.referral_record_decision(
        user=manager,
        referral_id=referral.pk,
        expected_version=referral.version,
        decision=services.DecisionInput(
            outcomes=list(Outcome.objects.filter(code__in=["police", "strategy-s47"]).order_by("code")),
            rationale="Starting point for sexual assault is a police report.",
            advice={"dsl_informed": True, "police_informed": True},
        ),
    )
    referral.refresh_from_db()
    assert referral.status == Referral.Status.DECIDED
    assert referral.decided_by == manager
    assert decision.within_timescale is True
    assert decision.dsl_informed
    assert decision.police_informed
    assert not decision.separation_advised

    closed = services.referral_close(
        user=manager, referral_id=referral.pk, expected_version=referral.version, reason="Police leading"
    )
    assert closed.status == Referral.Status.CLOSED
    assert closed.closed_by == manager
    reopened = services.referral_reopen(
        user=manager, referral_id=referral.pk, expected_version=closed.version, reason="New information"
    )
    assert reopened.status == Referral.Status.SCREENING
    assert reopened.reopened_by == manager
    assert list(CaseNote.objects.filter(referral=referral).values_list("text", flat=True)) == [
        "Referral closed: Police leading",
        "Referral reopened: New information",
    ]
    reasons = list(referral.history.order_by("history_date").values_list("history_change_reason", flat=True))
    assert reasons == [
        "Referral recorded",
        "Screening started, rated Green",
        "Decision recorded",
        "Referral closed",
        "Referral reopened",
    ]


@pytest.mark.parametrize(
    ("service", "kwargs"),
    [
        (services.referral_record_decision, {"decision": services.DecisionInput(outcomes=[], rationale="x")}),
        (services.referral_close, {"reason": "x"}),
        (services.referral_reopen, {"reason": "x"}),
    ],
)
def test_illegal_transitions_are_refused(practitioner, service, kwargs):
    referral = create(practitioner)
    with pytest.raises(services.IllegalTransition):
        service(user=practitioner, referral_id=referral.pk, expected_version=1, **kwargs)
    referral.refresh_from_db()
    assert referral.status == Referral.Status.RECEIVED
    assert referral.version == 1


def test_screening_twice_is_refused(practitioner):
    referral = create(practitioner)
    rag = RagLevel.objects.get(code="red")
    services.referral_start_screening(user=practitioner, referral_id=referral.pk, expected_version=1, rag=rag)
    with pytest.raises(services.IllegalTransition, match="this one is screening"):
        services.referral_start_screening(
            user=practitioner, referral_id=referral.pk, expected_version=2, rag=rag
        )


def test_stale_edit_is_refused_and_changes_nothing(practitioner, manager):
    referral = create(practitioner)
    services.referral_update(
        user=manager,
        referral_id=referral.pk,
        expected_version=1,
        data=referral_input(location="online", narrative="Manager's account"),
    )
    with pytest.raises(services.ReferralConflict) as caught:
        services.referral_update(
            user=practitioner,
            referral_id=referral.pk,
            expected_version=1,
            data=referral_input(location="home", narrative="Practitioner's account"),
        )
    assert caught.value.referral.version == 2
    referral.refresh_from_db()
    assert referral.location == "online"
    assert referral.detail.narrative == "Manager's account"


def test_decision_late_is_recorded_as_outside_timescale(practitioner):
    referral = create(
        practitioner,
        received_at=timezone.now() - dt.timedelta(days=10),
        incident_date=timezone.localdate() - dt.timedelta(days=11),
    )
    rag = RagLevel.objects.get(code="amber")
    services.referral_start_screening(user=practitioner, referral_id=referral.pk, expected_version=1, rag=rag)
    decision = services.referral_record_decision(
        user=practitioner,
        referral_id=referral.pk,
        expected_version=2,
        decision=services.DecisionInput(
            outcomes=[Outcome.objects.get(code="advice")],
            rationale="Advice given",
            guidance_departure_reason="Police already involved",
        ),
    )
    assert decision.within_timescale is False


def test_case_notes_are_append_only_with_corrections(practitioner):
    referral = create(practitioner)
    first = services.case_note_add(
        user=practitioner, referral_id=referral.pk, occurred_on=timezone.localdate(), text="Spoke to DSL"
    )
    correction = services.case_note_add(
        user=practitioner,
        referral_id=referral.pk,
        occurred_on=timezone.localdate(),
        text="Spoke to deputy DSL, not DSL",
        corrects_id=first.pk,
    )
    first.refresh_from_db()
    assert first.text == "Spoke to DSL"
    assert correction.corrects == first
    assert correction.history.get().history_change_reason == "Correction recorded"
    with pytest.raises(ValidationError):
        services.case_note_add(
            user=practitioner, referral_id=referral.pk, occurred_on=timezone.localdate(), text=" "
        )


def test_add_child_gets_next_label_and_bumps_version(practitioner):
    referral = create(practitioner)
    link = services.referral_add_child(
        user=practitioner, referral_id=referral.pk, expected_version=1, child=child_input("other")
    )
    assert link.label == "C"
    referral.refresh_from_db()
    assert referral.version == 2
    assert ReferralChild.objects.filter(referral=referral).count() == 3


def test_decision_feedback_emails_referrer_once_without_identities(
    practitioner, mailoutbox, django_capture_on_commit_callbacks
):
    referral = create(practitioner)
    services.referral_start_screening(
        user=practitioner, referral_id=referral.pk, expected_version=1, rag=RagLevel.objects.get(code="red")
    )
    with django_capture_on_commit_callbacks(execute=True):
        decision = services.referral_record_decision(
            user=practitioner,
            referral_id=referral.pk,
            expected_version=2,
            decision=services.DecisionInput(
                outcomes=[Outcome.objects.get(code="early-help")],
                rationale="Early help",
                guidance_departure_reason="Police already involved",
            ),
        )
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["dsl@school.example"]
    assert referral.reference in message.subject
    assert "Early help" in message.body
    for secret in ("Alex", "Testperson", "Rita Referrer", "in their words"):
        assert secret not in message.body
    assert services.decision_send_feedback(decision_id=decision.pk) is False  # already sent
    assert len(mail.outbox) == 1
    assert ReferralDecision.objects.get(pk=decision.pk).feedback_sent_at is not None
