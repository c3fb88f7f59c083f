"""Scrutiny services: numbering, lettering, paragraph numbering, classification, RAG, uploads."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction

from core.roles import Role
from scrutiny import selectors, services
from scrutiny.models import Action, Appendix, DecisionRecord, Recommendation, Response
from tests.nplusone import unit_of_work
from tests.scrutiny.helpers import add_appendix, make_report, meetings, pdf_bytes, pdf_upload, publish

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 6, 1)


@pytest.fixture
def officer(role_user):
    return role_user(Role.REPORT_OFFICER, username="officer")


def scrutiny_rec(user, meeting, text="Do something"):
    return services.recommendation_create(
        user=user, data=services.RecommendationInput(source="scrutiny", text=text, meeting=meeting)
    )


def test_scrutiny_recommendations_are_numbered_per_meeting(officer):
    scrutiny_meeting, _, _ = meetings()
    from scrutiny.models import Meeting

    other = Meeting.objects.create(committee=scrutiny_meeting.committee, date=dt.date(2021, 1, 12))
    numbers = [scrutiny_rec(officer, scrutiny_meeting).number for _ in range(3)]
    assert numbers == [1, 2, 3]
    assert scrutiny_rec(officer, other).number == 1
    assert scrutiny_rec(officer, scrutiny_meeting).label == "Scrutiny recommendation 4"


def test_each_source_needs_its_own_reference_and_bad_input_changes_nothing(officer):
    _, cabinet_meeting, _ = meetings()
    cases = [
        (services.RecommendationInput(source="scrutiny", text="x"), "meeting"),
        (services.RecommendationInput(source="scrutiny", text="x", meeting=cabinet_meeting), "meeting"),
        (services.RecommendationInput(source="case_review", text="x"), "review_recommendation"),
        (services.RecommendationInput(source="external_audit", text="x"), "source_reference"),
        (services.RecommendationInput(source="earlier_report", text=" "), "text"),
    ]
    for data, field in cases:
        with pytest.raises(ValidationError) as error:
            services.recommendation_create(user=officer, data=data)
        assert field in error.value.message_dict
    assert Recommendation.objects.count() == 0
    audit = services.recommendation_create(
        user=officer,
        data=services.RecommendationInput(
            source="external_audit", text="Audit", source_reference="NSPCC audit"
        ),
    )
    assert audit.number is None
    assert audit.meeting is None


def test_a_stale_edit_is_refused(officer):
    scrutiny_meeting, _, _ = meetings()
    rec = scrutiny_rec(officer, scrutiny_meeting)
    services.recommendation_update(
        user=officer, recommendation_id=rec.pk, expected_version=1, text="New", status="open"
    )
    with pytest.raises(services.Conflict):
        services.response_record(
            user=officer,
            recommendation_id=rec.pk,
            expected_version=1,
            decision="accepted",
            text="Agreed",
            responded_by="Cabinet member",
            responded_on=TODAY,
        )
    rec.refresh_from_db()
    assert rec.text == "New"
    assert not Response.objects.exists()
    assert rec.history.first().history_change_reason == "Recommendation changed"


def _action(user, rec, due, percent=None):
    rec.refresh_from_db()
    action = services.action_add(
        user=user,
        recommendation_id=rec.pk,
        expected_version=rec.version,
        description="Do",
        owner="Team",
        due_date=due,
    )
    if percent is not None:
        services.progress_add(
            user=user,
            action_id=action.pk,
            expected_version=action.version,
            date=TODAY,
            percent_complete=percent,
            text=".",
        )
    return action


@unit_of_work
def _rag(rec):
    return selectors.recommendations_with_rag(Recommendation.objects.filter(pk=rec.pk), today=TODAY).get().rag


@pytest.mark.parametrize(
    ("due_in_days", "percent", "expected"),
    [
        (-1, 50, "red"),  # past due and not done
        (0, 0, "amber"),  # due today, little progress
        (28, 74, "amber"),  # the last day of the amber window, below 75%
        (28, 75, "green"),  # enough progress
        (29, 0, "green"),  # outside the window
        (-10, 100, "complete"),  # done (100% completes it), late or not
    ],
)
def test_rag_arithmetic(officer, settings, due_in_days, percent, expected):
    settings.SCRUTINY_AMBER_DAYS = 28
    settings.SCRUTINY_AMBER_BELOW_PERCENT = 75
    scrutiny_meeting, _, _ = meetings()
    rec = scrutiny_rec(officer, scrutiny_meeting)
    assert _rag(rec) == "none"
    action = _action(officer, rec, TODAY + dt.timedelta(days=due_in_days), percent)
    assert _rag(rec) == expected
    assert selectors.actions_with_rag(Action.objects.filter(pk=action.pk), today=TODAY).get().rag == expected


def test_a_recommendation_takes_its_worst_live_action(officer):
    scrutiny_meeting, _, _ = meetings()
    rec = scrutiny_rec(officer, scrutiny_meeting)
    _action(officer, rec, TODAY + dt.timedelta(days=100))
    assert _rag(rec) == "green"
    _action(officer, rec, TODAY + dt.timedelta(days=5), 10)
    assert _rag(rec) == "amber"
    late = _action(officer, rec, TODAY - dt.timedelta(days=5))
    assert _rag(rec) == "red"
    late.refresh_from_db()
    services.action_update(
        user=officer,
        action_id=late.pk,
        expected_version=late.version,
        description="Do",
        owner="Team",
        due_date=late.due_date,
        status="dropped",
    )
    assert _rag(rec) == "amber"


def test_recommendations_are_lettered():
    assert selectors.lettered("(a) First\n\n- Second\nThird  ") == [
        ("a", "First"),
        ("b", "Second"),
        ("c", "Third"),
    ]


def test_paragraphs_are_numbered_continuously_from_alternative_options(officer):
    report = make_report(officer)
    sections = selectors.numbered_sections(report)
    assert [s.heading for s in sections][:2] == ["Alternative options", "Key considerations"]
    numbers = [(s.key, p.number) for s in sections for p in s.paragraphs]
    assert numbers == [
        ("alternative_options", 1),
        ("key_considerations", 2),
        ("key_considerations", 3),
        ("equality_duty", 4),
        ("equality_duty", 5),
        ("consultees", 6),
    ]
    duty = next(s for s in sections if s.key == "equality_duty").paragraphs[0]
    assert duty.continuation == ["A public authority must have due regard to the need to -"]
    assert duty.items == [("a", "eliminate discrimination;"), ("b", "advance equality;")]


def test_classification_follows_from_the_appendices(officer):
    report = make_report(officer)
    assert selectors.report_classification(report).short == "Open"
    add_appendix(officer, report, title="Public")
    assert selectors.report_classification(report).short == "Open"
    add_appendix(
        officer, report, title="Names", exempt=True, schedule_12a_paragraph=2, public_interest="Children"
    )
    assert selectors.report_classification(report).short == "Part exempt"
    text = selectors.report_classification(report).text
    assert "Appendix 2" in text
    assert "paragraph 2" in text
    assert "identity of an individual" in text


def test_an_exempt_appendix_names_its_paragraph_and_public_interest(officer):
    report = make_report(officer)
    with pytest.raises(ValidationError) as error:
        add_appendix(officer, report, exempt=True)
    assert {"schedule_12a_paragraph", "public_interest"} <= set(error.value.message_dict)
    with pytest.raises(ValidationError) as error:
        add_appendix(officer, report, kind="exempt_case_list", title="Cases", exempt=False)
    assert "exempt" in error.value.message_dict
    assert report.appendices.count() == 0


def test_a_pdf_upload_is_parsed_and_stored_under_its_checksum(officer, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    report = make_report(officer)
    appendix = add_appendix(
        officer, report, kind="uploaded_pdf", title="CSO report", upload=pdf_upload(pages=3)
    )
    assert appendix.file_pages == 3
    assert len(appendix.file_sha256) == 64
    assert appendix.file.name.endswith(f"{appendix.file_sha256}.pdf")
    assert "appendix.pdf" not in appendix.file.name  # never the uploaded name
    assert appendix.file.read()[:5] == b"%PDF-"


def test_a_non_pdf_with_a_pdf_name_is_refused(officer, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    report = make_report(officer)
    fake = SimpleUploadedFile("report.pdf", b"<html>not a pdf</html>", content_type="application/pdf")
    with pytest.raises(ValidationError) as error:
        add_appendix(officer, report, kind="uploaded_pdf", title="Fake", upload=fake)
    assert error.value.message_dict["upload"] == ["The selected file must be a PDF"]
    broken = SimpleUploadedFile(
        "broken.pdf", b"%PDF-1.7\n garbage without any objects", content_type="application/pdf"
    )
    with pytest.raises(ValidationError) as error:
        add_appendix(officer, report, kind="uploaded_pdf", title="Broken", upload=broken)
    assert "upload" in error.value.message_dict
    assert not Appendix.objects.exists()
    assert not list(tmp_path.rglob("*.pdf"))


def test_an_oversize_pdf_is_refused_before_it_is_parsed(officer, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    content = pdf_bytes(pages=2)
    settings.SCRUTINY_APPENDIX_MAX_BYTES = len(content) - 1
    report = make_report(officer)
    with pytest.raises(ValidationError) as error:
        add_appendix(
            officer, report, kind="uploaded_pdf", title="Big", upload=SimpleUploadedFile("big.pdf", content)
        )
    assert "smaller than" in error.value.message_dict["upload"][0]
    assert not Appendix.objects.exists()


def test_the_decision_record_checks_its_dates(officer):
    report = make_report(officer)
    no_papers = services.DecisionInput(
        decision_text="Approved",
        status="published",
        key_decision=False,
        call_in="open",
        published_on=dt.date(2020, 11, 27),
    )
    with pytest.raises(ValidationError) as error:
        services.decision_record(user=officer, report_id=report.pk, expected_version=None, data=no_papers)
    assert "Publish the report for the meeting" in error.value.message_dict["decision_text"][0]
    publish(officer, report)
    bad = services.DecisionInput(
        decision_text="Approved",
        status="effective",
        key_decision=False,
        call_in="not_called_in",
        published_on=dt.date(2020, 11, 27),
        effective_on=dt.date(2020, 11, 20),
    )
    with pytest.raises(ValidationError) as error:
        services.decision_record(user=officer, report_id=report.pk, expected_version=None, data=bad)
    assert "effective_on" in error.value.message_dict
    # Published on Friday 27 November: the call-in period runs five working days, to 4 December,
    # and the decision takes effect only after it.
    during = services.DecisionInput(**{**bad.__dict__, "effective_on": dt.date(2020, 12, 4)})
    with pytest.raises(ValidationError) as error:
        services.decision_record(user=officer, report_id=report.pk, expected_version=None, data=during)
    assert "ends on 4 December 2020" in error.value.message_dict["effective_on"][0]
    still_open = services.DecisionInput(
        **{**bad.__dict__, "effective_on": dt.date(2020, 12, 5), "call_in": "open"}
    )
    with pytest.raises(ValidationError) as error:
        services.decision_record(user=officer, report_id=report.pk, expected_version=None, data=still_open)
    assert "call_in" in error.value.message_dict
    good = services.DecisionInput(**{**bad.__dict__, "effective_on": dt.date(2020, 12, 5)})
    record = services.decision_record(user=officer, report_id=report.pk, expected_version=None, data=good)
    assert record.version == 1
    assert record.call_in_ends_on == dt.date(2020, 12, 4)
    assert (record.decided_on, record.decision_maker, record.decision_maker_name) == (
        dt.date(2020, 11, 26),
        "cabinet",
        "Cabinet",
    )
    assert record.report_version.number == 1
    report.refresh_from_db()
    assert report.status == "final"
    with pytest.raises(services.Conflict):
        services.decision_record(user=officer, report_id=report.pk, expected_version=0, data=good)


def test_evidence_links_stay_inside_the_service(officer):
    scrutiny_meeting, _, _ = meetings()
    rec = scrutiny_rec(officer, scrutiny_meeting)
    for path in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)", ""):
        with pytest.raises(ValidationError):
            services.evidence_add(user=officer, recommendation_id=rec.pk, kind="page", label="x", path=path)
    link = services.evidence_add(
        user=officer, recommendation_id=rec.pk, kind="training", label="DSL training", path="/guidance/"
    )
    assert link.path == "/guidance/"


# --- Status and RAG never contradict each other (issue 13, part 4) ----------------------------

#: Which recommendation statuses each derived RAG allows. The actions are the truth.
AGREES = {
    "none": set(Recommendation.Status.values),
    "complete": {Recommendation.Status.COMPLETE, Recommendation.Status.CLOSED},
    "red": {Recommendation.Status.OPEN, Recommendation.Status.IN_PROGRESS},
    "amber": {Recommendation.Status.OPEN, Recommendation.Status.IN_PROGRESS},
    "green": {Recommendation.Status.OPEN, Recommendation.Status.IN_PROGRESS},
}


@unit_of_work
def _agrees(rec):
    row = selectors.recommendations_with_rag(Recommendation.objects.filter(pk=rec.pk), today=TODAY).get()
    assert row.status in AGREES[row.rag], f"status {row.status} beside RAG {row.rag}"
    return row


def _set_status(user, rec, status):
    rec.refresh_from_db()
    return services.recommendation_update(
        user=user, recommendation_id=rec.pk, expected_version=rec.version, text=rec.text, status=status
    )


def test_in_progress_beside_complete_is_refused(officer):
    """The case in the issue: every action done, the recommendation typed back to in progress."""
    scrutiny_meeting, _, _ = meetings()
    rec = scrutiny_rec(officer, scrutiny_meeting)
    _action(officer, rec, TODAY + dt.timedelta(days=10), 100)
    assert _agrees(rec).status == Recommendation.Status.COMPLETE  # the status followed its actions
    with pytest.raises(ValidationError, match="add an action"):
        _set_status(officer, rec, Recommendation.Status.IN_PROGRESS)
    assert _agrees(rec).status == Recommendation.Status.COMPLETE


def test_complete_with_an_open_action_is_refused(officer):
    scrutiny_meeting, _, _ = meetings()
    rec = scrutiny_rec(officer, scrutiny_meeting)
    _action(officer, rec, TODAY + dt.timedelta(days=10))
    for status in (Recommendation.Status.COMPLETE, Recommendation.Status.CLOSED):
        with pytest.raises(ValidationError, match="actions still open"):
            _set_status(officer, rec, status)
    assert _agrees(rec).status == Recommendation.Status.IN_PROGRESS


def test_a_new_action_reopens_a_complete_recommendation(officer):
    scrutiny_meeting, _, _ = meetings()
    rec = scrutiny_rec(officer, scrutiny_meeting)
    _action(officer, rec, TODAY + dt.timedelta(days=10), 100)
    _action(officer, rec, TODAY + dt.timedelta(days=20))
    assert _agrees(rec).status == Recommendation.Status.IN_PROGRESS


STEPS = ["add", "done", "drop", *(f"status:{value}" for value in Recommendation.Status.values)]


def test_no_sequence_of_changes_leaves_status_and_rag_contradicting(officer):
    """Any sequence of the services an officer uses: after each, status and RAG agree."""
    import contextlib

    from django.db import transaction
    from hypothesis import given
    from hypothesis import strategies as st

    scrutiny_meeting, _, _ = meetings()

    @given(steps=st.lists(st.sampled_from(STEPS), min_size=1, max_size=8))
    def run(steps):
        with transaction.atomic():
            rec = scrutiny_rec(officer, scrutiny_meeting)
            for step in steps:
                _step(officer, rec, step, contextlib)
                _agrees(rec)
            transaction.set_rollback(True)

    run()


@unit_of_work
def _step(officer, rec, step, contextlib):
    live = list(rec.actions.filter(status__in=("not_started", "in_progress")).order_by("pk"))
    if step == "add":
        _action(officer, rec, TODAY + dt.timedelta(days=40))
    elif step in ("done", "drop") and live:
        action = live[0]
        services.action_update(
            user=officer,
            action_id=action.pk,
            expected_version=action.version,
            description="Do",
            owner="Team",
            due_date=action.due_date,
            status="done" if step == "done" else "dropped",
            completed_on=TODAY,
        )
    elif step.startswith("status:"):
        with contextlib.suppress(ValidationError):  # refused: never reaches the record
            _set_status(officer, rec, step.split(":")[1])


def test_a_published_decision_cannot_be_rewritten_and_a_called_in_one_says_so(officer):
    """Found by attack: a published, in-force decision was re-dated and re-typed afterwards and
    then cited as the approval of a different guidance version; and a decision could be
    "published" while its call-in said "called in"."""
    report = make_report(officer)
    publish(officer, report)
    published = services.DecisionInput(
        decision_text="Approved",
        status="published",
        key_decision=True,
        call_in="open",
        published_on=dt.date(2020, 11, 27),
    )
    record = services.decision_record(
        user=officer, report_id=report.pk, expected_version=None, data=published
    )
    rewrites = {
        "decision_text": {"decision_text": "Something else"},
        "published_on": {"published_on": dt.date(2026, 12, 4)},
        "decided_on": {"decided_on": dt.date(2026, 12, 4), "published_on": dt.date(2026, 12, 4)},
        "call_in": {"call_in": "not_subject"},
        "decision_maker": {"decision_maker": "cabinet_member", "decision_maker_name": "Cabinet member"},
        "key_decision": {"key_decision": False},
    }
    for field, change in rewrites.items():
        with pytest.raises(ValidationError) as error:
            services.decision_record(
                user=officer,
                report_id=report.pk,
                expected_version=record.version,
                data=services.DecisionInput(**{**published.__dict__, **change}),
            )
        assert field in error.value.message_dict, field
    record.refresh_from_db()
    assert (record.decision_text, record.published_on, record.call_in) == (
        "Approved",
        dt.date(2020, 11, 27),
        "open",
    )
    # It moves on as a decision does: the call-in period ends without a call-in, and it takes effect.
    effective = services.DecisionInput(
        **{
            **published.__dict__,
            "status": "effective",
            "call_in": "not_called_in",
            "effective_on": dt.date(2020, 12, 5),
        }
    )
    record = services.decision_record(
        user=officer, report_id=report.pk, expected_version=record.version, data=effective
    )
    assert record.status == "effective"
    called_in_but_published = services.DecisionInput(**{**published.__dict__, "call_in": "called_in"})
    other = make_report(officer, title="Another report")
    publish(officer, other)
    with pytest.raises(ValidationError) as error:
        services.decision_record(
            user=officer, report_id=other.pk, expected_version=None, data=called_in_but_published
        )
    assert "status" in error.value.message_dict


def test_a_key_decision_is_exempt_from_call_in_only_as_urgent_with_the_scrutiny_chair_named(officer):
    report = make_report(officer)
    publish(officer, report)
    exempted = services.DecisionInput(
        decision_text="Approved",
        status="published",
        key_decision=True,
        call_in="not_subject",
        published_on=dt.date(2020, 11, 27),
    )
    with pytest.raises(ValidationError) as error:
        services.decision_record(user=officer, report_id=report.pk, expected_version=None, data=exempted)
    assert set(error.value.message_dict) == {"call_in_exemption_reason", "call_in_exemption_agreed_by"}
    with pytest.raises(ValidationError) as error:  # blank is no reason
        services.decision_record(
            user=officer,
            report_id=report.pk,
            expected_version=None,
            data=services.DecisionInput(
                **{
                    **exempted.__dict__,
                    "call_in_exemption_reason": " ",
                    "call_in_exemption_agreed_by": "Cllr",
                }
            ),
        )
    assert set(error.value.message_dict) == {"call_in_exemption_reason"}
    # A non-key decision needs none (and keeps none).
    other = make_report(officer, title="Another report")
    publish(officer, other)
    non_key = services.decision_record(
        user=officer,
        report_id=other.pk,
        expected_version=None,
        data=services.DecisionInput(
            **{**exempted.__dict__, "key_decision": False, "call_in_exemption_reason": "Not needed"}
        ),
    )
    assert non_key.call_in_exemption_reason == ""
    with_reasons = services.DecisionInput(
        **{
            **exempted.__dict__,
            "call_in_exemption_reason": "Any delay would leave no service from 1 December.",
            "call_in_exemption_agreed_by": "Councillor Pat Jones",
        }
    )
    record = services.decision_record(
        user=officer, report_id=report.pk, expected_version=None, data=with_reasons
    )
    assert (record.call_in_exemption_reason, record.call_in_exemption_agreed_by) == (
        "Any delay would leave no service from 1 December.",
        "Councillor Pat Jones",
    )
    assert record.call_in_ends_on is None
    # Published, the reasons are part of the public record: they cannot be rewritten.
    with pytest.raises(ValidationError) as error:
        services.decision_record(
            user=officer,
            report_id=report.pk,
            expected_version=record.version,
            data=services.DecisionInput(
                **{**with_reasons.__dict__, "call_in_exemption_agreed_by": "Someone"}
            ),
        )
    assert "call_in_exemption_agreed_by" in error.value.message_dict
    # And the database refuses the record without them, however it is written.
    with pytest.raises(IntegrityError), transaction.atomic():
        DecisionRecord.objects.filter(pk=record.pk).update(call_in_exemption_reason="")
