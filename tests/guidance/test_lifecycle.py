"""The model guidance lifecycle: draft -> submitted -> approved -> published -> superseded.

The rule the 2020 incident broke is tried on every path that could publish a draft: the
service, the page (form POST), the admin, and the ORM writing the row directly.
"""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from core.roles import Role
from modelguidance import services
from modelguidance.models import ModelGuidanceVersion
from tests.conftest import sign_in_verified
from tests.guidance.helpers import (
    approved,
    cabinet_decision,
    draft,
    eqia_upload,
    published,
    second_officer,
)

pytestmark = pytest.mark.django_db
Status = ModelGuidanceVersion.Status


@pytest.fixture
def officer(role_user):
    return role_user(Role.REPORT_OFFICER, username="officer", first_name="Olu", last_name="Officer")


def test_the_whole_lifecycle_records_who_and_when(officer):
    version = draft(officer)
    assert version.status == Status.DRAFT
    assert version.number == 1
    services.guidance_version_submit(user=officer, version_id=version.pk)
    services.guidance_version_attach_eqia(
        user=officer, version_id=version.pk, upload=eqia_upload(), summary="No adverse impact"
    )
    decision = cabinet_decision(officer)
    approver = second_officer()
    services.guidance_version_approve(user=approver, version_id=version.pk, decision=decision)
    services.guidance_version_publish(user=approver, version_id=version.pk)
    version.refresh_from_db()
    assert version.status == Status.PUBLISHED
    assert version.decision == decision
    assert version.created_by == version.submitted_by == officer
    assert version.approved_by == version.published_by == approver
    assert version.submitted_at <= version.approved_at <= version.published_at
    reasons = list(version.history.order_by("history_date").values_list("history_change_reason", flat=True))
    assert reasons[0].startswith("Draft started")
    assert reasons[-4:] == [
        "Submitted for approval",
        "Equality impact assessment attached",
        f"Approved: {decision}",
        "Published",
    ]
    assert {h.history_user for h in version.history.select_related("history_user")} == {officer, approver}


def test_publishing_the_next_version_supersedes_the_last(officer):
    first = published(officer, title="First")
    second = services.guidance_version_create(user=officer)
    headings = list(second.sections.values_list("heading", flat=True))
    assert headings == list(first.sections.values_list("heading", flat=True))
    services.guidance_version_update(
        user=officer,
        version_id=second.pk,
        expected_version=second.version,
        title="Second",
        change_summary="Says victim, not alleged victim",
        sections=[services.SectionInput("Purpose", "Changed")],
    )
    services.guidance_version_submit(user=officer, version_id=second.pk)
    services.guidance_version_attach_eqia(
        user=officer, version_id=second.pk, upload=eqia_upload(), summary="x"
    )
    services.guidance_version_approve(
        user=second_officer(), version_id=second.pk, decision=cabinet_decision(officer)
    )
    services.guidance_version_publish(user=second_officer(), version_id=second.pk)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == Status.SUPERSEDED
    assert first.superseded_at == second.published_at
    assert second.status == Status.PUBLISHED
    assert ModelGuidanceVersion.objects.filter(status=Status.PUBLISHED).count() == 1


@pytest.mark.parametrize("stage", ["draft", "submitted", "submitted_with_eqia"])
def test_the_service_refuses_to_publish_anything_unapproved(officer, stage):
    version = draft(officer)
    if stage != "draft":
        services.guidance_version_submit(user=officer, version_id=version.pk)
    if stage == "submitted_with_eqia":
        services.guidance_version_attach_eqia(
            user=officer, version_id=version.pk, upload=eqia_upload(), summary="x"
        )
    with pytest.raises(ValidationError, match="Only an approved version can be published"):
        services.guidance_version_publish(user=officer, version_id=version.pk)
    version.refresh_from_db()
    assert version.published_at is None
    assert version.status != Status.PUBLISHED


def test_a_published_or_superseded_version_cannot_be_published_again(officer):
    version = published(officer)
    with pytest.raises(ValidationError):
        services.guidance_version_publish(user=officer, version_id=version.pk)


def test_the_eqia_gate_approval_needs_the_assessment_first(officer):
    version = draft(officer)
    services.guidance_version_submit(user=officer, version_id=version.pk)
    with pytest.raises(ValidationError) as refused:
        services.guidance_version_approve(
            user=officer, version_id=version.pk, decision=cabinet_decision(officer)
        )
    assert refused.value.code == "no_eqia"
    version.refresh_from_db()
    assert version.status == Status.SUBMITTED
    assert version.approved_at is None


def test_approval_needs_the_cabinet_decision(officer):
    version = draft(officer)
    services.guidance_version_submit(user=officer, version_id=version.pk)
    services.guidance_version_attach_eqia(
        user=officer, version_id=version.pk, upload=eqia_upload(), summary="x"
    )
    with pytest.raises(ValidationError) as refused:
        services.guidance_version_approve(user=second_officer(), version_id=version.pk, decision=None)
    assert refused.value.code == "no_decision"


def test_a_draft_cannot_be_approved_without_being_submitted(officer):
    version = draft(officer)
    services.guidance_version_attach_eqia(
        user=officer, version_id=version.pk, upload=eqia_upload(), summary="x"
    )
    with pytest.raises(ValidationError):
        services.guidance_version_approve(
            user=officer, version_id=version.pk, decision=cabinet_decision(officer)
        )


@pytest.mark.parametrize(
    ("content", "code"),
    [(b"<html>not a pdf</html>", "eqia_not_pdf"), (b"%PDF-" + b"0" * (10 * 1024 * 1024), "eqia_too_big")],
)
def test_the_eqia_must_be_a_pdf_of_reasonable_size(officer, content, code):
    version = draft(officer)
    with pytest.raises(ValidationError) as refused:
        services.guidance_version_attach_eqia(
            user=officer, version_id=version.pk, upload=eqia_upload(content), summary="x"
        )
    assert refused.value.code == code
    version.refresh_from_db()
    assert not version.has_eqia


def test_the_eqia_is_fixed_once_approved(officer):
    version = approved(officer)
    with pytest.raises(ValidationError):
        services.guidance_version_attach_eqia(
            user=officer, version_id=version.pk, upload=eqia_upload(), summary="x"
        )


def test_only_a_draft_can_be_edited_and_concurrent_edits_are_detected(officer):
    version = draft(officer)
    stale = version.version
    services.guidance_version_update(
        user=officer,
        version_id=version.pk,
        expected_version=version.version,
        title="Changed",
        change_summary="x",
        sections=[services.SectionInput("One", "Body")],
    )
    with pytest.raises(services.GuidanceConflict):
        services.guidance_version_update(
            user=officer,
            version_id=version.pk,
            expected_version=stale,
            title="Lost update",
            change_summary="x",
            sections=[services.SectionInput("One", "Other")],
        )
    version.refresh_from_db()
    assert version.title == "Changed"
    assert [s.heading for s in version.sections.all()] == ["One"]
    services.guidance_version_submit(user=officer, version_id=version.pk)
    version.refresh_from_db()
    with pytest.raises(ValidationError, match="Only a draft can be edited"):
        services.guidance_version_update(
            user=officer,
            version_id=version.pk,
            expected_version=version.version,
            title="After submission",
            change_summary="x",
            sections=[services.SectionInput("One", "Body")],
        )


def test_submitting_needs_sections_and_a_change_summary(officer):
    version = services.guidance_version_create(user=officer, title="Empty")
    with pytest.raises(ValidationError) as refused:
        services.guidance_version_submit(user=officer, version_id=version.pk)
    assert refused.value.code == "no_sections"


# --- the database backs the rule, whatever writes the row --------------------------------------


def _integrity_error(save):
    with pytest.raises(IntegrityError), transaction.atomic():
        save()


def test_the_orm_cannot_save_a_published_draft(officer):
    version = draft(officer)
    version.status = Status.PUBLISHED
    version.published_at = timezone.now()
    _integrity_error(version.save)


def test_the_orm_cannot_set_a_publication_date_without_approval(officer):
    version = draft(officer)
    services.guidance_version_submit(user=officer, version_id=version.pk)
    services.guidance_version_attach_eqia(
        user=officer, version_id=version.pk, upload=eqia_upload(), summary="x"
    )
    _integrity_error(
        lambda: ModelGuidanceVersion.objects.filter(pk=version.pk).update(
            status=Status.PUBLISHED, published_at=timezone.now()
        )
    )
    # Approved in name only: a date but no decision record.
    _integrity_error(
        lambda: ModelGuidanceVersion.objects.filter(pk=version.pk).update(
            status=Status.PUBLISHED, published_at=timezone.now(), approved_at=timezone.now()
        )
    )


def test_the_orm_cannot_approve_without_the_eqia(officer):
    version = draft(officer)
    decision = cabinet_decision(officer)
    _integrity_error(
        lambda: ModelGuidanceVersion.objects.filter(pk=version.pk).update(
            status=Status.APPROVED, approved_at=timezone.now(), decision=decision
        )
    )


def test_the_orm_cannot_remove_the_eqia_from_a_published_version(officer):
    version = published(officer)
    _integrity_error(lambda: ModelGuidanceVersion.objects.filter(pk=version.pk).update(eqia_file=""))
    _integrity_error(lambda: ModelGuidanceVersion.objects.filter(pk=version.pk).update(decision=None))


def test_the_database_allows_one_published_version(officer):
    first = published(officer, title="First")
    second = approved(officer, title="Second")
    _integrity_error(
        lambda: ModelGuidanceVersion.objects.filter(pk=second.pk).update(
            status=Status.PUBLISHED, published_at=timezone.now()
        )
    )
    first.refresh_from_db()
    assert first.status == Status.PUBLISHED


# --- the pages --------------------------------------------------------------------------------


@pytest.fixture
def officer_client(client, officer):
    return sign_in_verified(client, officer)


@pytest.mark.parametrize("stage", ["draft", "submitted"])
def test_a_form_post_cannot_publish_an_unapproved_version(officer, officer_client, stage):
    version = draft(officer)
    if stage == "submitted":
        services.guidance_version_submit(user=officer, version_id=version.pk)
    response = officer_client.post(reverse("modelguidance:version_publish", args=[version.pk]))
    assert response.status_code == 400
    assert "Only an approved version can be published" in response.content.decode()
    assert "There is a problem" in response.content.decode()
    version.refresh_from_db()
    assert version.status == stage
    assert version.published_at is None


def test_a_form_post_cannot_approve_without_the_eqia(officer, officer_client):
    version = draft(officer)
    services.guidance_version_submit(user=officer, version_id=version.pk)
    decision = cabinet_decision(officer)
    response = officer_client.post(
        reverse("modelguidance:version_approve", args=[version.pk]), {"decision": decision.pk}
    )
    assert response.status_code == 400
    assert "Attach the equality impact assessment before recording approval" in response.content.decode()
    version.refresh_from_db()
    assert version.status == Status.SUBMITTED


def test_a_draft_decision_record_is_not_offered_for_approval(officer, officer_client):
    version = draft(officer)
    services.guidance_version_submit(user=officer, version_id=version.pk)
    services.guidance_version_attach_eqia(
        user=officer, version_id=version.pk, upload=eqia_upload(), summary="x"
    )
    undecided = cabinet_decision(officer, status="draft")
    response = officer_client.post(
        reverse("modelguidance:version_approve", args=[version.pk]), {"decision": undecided.pk}
    )
    assert response.status_code == 400
    version.refresh_from_db()
    assert version.status == Status.SUBMITTED


def test_administrators_draft_but_do_not_approve_or_publish(client, role_user, officer):
    admin_user = role_user(Role.ADMINISTRATOR)
    version = approved(officer)
    sign_in_verified(client, admin_user)
    assert client.get(reverse("modelguidance:version_detail", args=[version.pk])).status_code == 200
    assert client.post(reverse("modelguidance:version_publish", args=[version.pk])).status_code == 404
    version.refresh_from_db()
    assert version.status == Status.APPROVED


def test_the_admin_cannot_change_or_publish_a_version(admin_client, officer):
    version = approved(officer)
    change = reverse("admin:modelguidance_modelguidanceversion_change", args=[version.pk])
    page = admin_client.get(change)
    assert page.status_code == 200  # readable
    assert 'name="status"' not in page.content.decode()
    response = admin_client.post(change, {"status": "published", "title": "x"})
    assert response.status_code == 403
    assert admin_client.get(reverse("admin:modelguidance_modelguidanceversion_add")).status_code == 403
    version.refresh_from_db()
    assert version.status == Status.APPROVED
    assert version.published_at is None


def test_the_full_journey_through_the_pages(officer, officer_client):
    response = officer_client.post(reverse("modelguidance:versions"))
    version = ModelGuidanceVersion.objects.get()
    assert response["Location"] == reverse("modelguidance:version_edit", args=[version.pk])
    edit = reverse("modelguidance:version_edit", args=[version.pk])
    data = {
        "title": "Model guidance",
        "change_summary": "First version",
        "version": version.version,
        "section-TOTAL_FORMS": "2",
        "section-INITIAL_FORMS": "0",
        "section-0-heading": "Purpose",
        "section-0-body": "Why this guidance exists.",
        "section-1-heading": "",
        "section-1-body": "",
        "save": "1",
    }
    bad = officer_client.post(edit, {**data, "section-0-body": ""})
    assert bad.status_code == 400
    assert "Enter the text of the section" in bad.content.decode()
    assert officer_client.post(edit, data).status_code == 302
    assert [s.heading for s in version.sections.all()] == ["Purpose"]
    assert officer_client.post(reverse("modelguidance:version_submit", args=[version.pk])).status_code == 302
    eqia = officer_client.post(
        reverse("modelguidance:version_eqia", args=[version.pk]),
        {"file": eqia_upload(), "summary": "No adverse impact"},
    )
    assert eqia.status_code == 302
    decision = cabinet_decision(officer)
    # The drafter may not approve their own version; another officer records it.
    own = officer_client.post(
        reverse("modelguidance:version_approve", args=[version.pk]), {"decision": decision.pk}
    )
    assert own.status_code == 400
    assert "someone else must approve it" in own.content.decode()
    sign_in_verified(officer_client, second_officer())
    approve = officer_client.post(
        reverse("modelguidance:version_approve", args=[version.pk]), {"decision": decision.pk}
    )
    assert approve.status_code == 302
    assert officer_client.post(reverse("modelguidance:version_publish", args=[version.pk])).status_code == 302
    version.refresh_from_db()
    assert version.status == Status.PUBLISHED


def _edit_data(version, **changes):
    data = {
        "title": version.title,
        "change_summary": "x",
        "version": version.version,
        "section-TOTAL_FORMS": "1",
        "section-INITIAL_FORMS": "0",
        "section-0-heading": "Purpose",
        "section-0-body": "Words",
        "save": "1",
    }
    return {**data, **changes}


def test_a_stale_edit_page_changes_nothing_and_says_so(officer, officer_client):
    version = draft(officer)
    stale = _edit_data(version, **{"section-0-body": "My change"})
    services.guidance_version_update(
        user=officer,
        version_id=version.pk,
        expected_version=version.version,
        title="Someone else's",
        change_summary="y",
        sections=[services.SectionInput("Theirs", "Their words")],
    )
    response = officer_client.post(reverse("modelguidance:version_edit", args=[version.pk]), stale)
    assert response.status_code == 409
    assert "Someone else changed this version while you were editing it" in response.content.decode()
    assert [(s.heading, s.body) for s in version.sections.all()] == [("Theirs", "Their words")]


def test_adding_a_section_redraws_the_form_without_errors_or_saving(officer, officer_client):
    version = draft(officer)
    before = version.version
    response = officer_client.post(
        reverse("modelguidance:version_edit", args=[version.pk]),
        {**_edit_data(version, **{"section-0-body": ""}), "add_section": "1"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" not in body
    assert "Section 2" in body
    version.refresh_from_db()
    assert version.version == before


def test_removing_every_section_is_refused(officer, officer_client):
    version = draft(officer)
    response = officer_client.post(
        reverse("modelguidance:version_edit", args=[version.pk]),
        _edit_data(version, **{"section-0-remove": "on"}),
    )
    assert response.status_code == 400
    assert "Add at least one section" in response.content.decode()
    assert version.sections.count() == 2


def test_a_submitted_version_can_go_back_to_draft(officer):
    version = draft(officer)
    services.guidance_version_submit(user=officer, version_id=version.pk)
    services.guidance_version_return_to_draft(user=officer, version_id=version.pk)
    version.refresh_from_db()
    assert version.status == Status.DRAFT
    assert version.submitted_at is None


# --- separation of duties and a real approval (issue 13, part 2) -----------------------------------


def _submitted(user, **kwargs):
    version = draft(user, **kwargs)
    services.guidance_version_submit(user=user, version_id=version.pk)
    return services.guidance_version_attach_eqia(
        user=user, version_id=version.pk, upload=eqia_upload(), summary="x"
    )


def test_nobody_approves_or_publishes_what_they_drafted_or_submitted(officer, role_user):
    """The 2026 incident: one officer drafted, submitted, approved and published version 3."""
    version = _submitted(officer)
    with pytest.raises(ValidationError) as refused:
        services.guidance_version_approve(
            user=officer, version_id=version.pk, decision=cabinet_decision(officer)
        )
    assert refused.value.code == "own_work"
    # Someone who only edited the draft's text counts as a drafter too.
    editor = role_user(Role.REPORT_OFFICER, username="editor")
    other = draft(officer, title="Other")
    services.guidance_version_update(
        user=editor,
        version_id=other.pk,
        expected_version=other.version,
        title="Other",
        change_summary="Edited",
        sections=[services.SectionInput("Purpose", "Edited by someone else")],
    )
    services.guidance_version_submit(user=officer, version_id=other.pk)
    services.guidance_version_attach_eqia(
        user=officer, version_id=other.pk, upload=eqia_upload(), summary="x"
    )
    with pytest.raises(ValidationError) as refused:
        services.guidance_version_approve(
            user=editor, version_id=other.pk, decision=cabinet_decision(officer)
        )
    assert refused.value.code == "own_work"
    # The approver may publish; the drafter may not.
    approver = second_officer()
    services.guidance_version_approve(
        user=approver, version_id=version.pk, decision=cabinet_decision(officer)
    )
    with pytest.raises(ValidationError) as refused:
        services.guidance_version_publish(user=officer, version_id=version.pk)
    assert refused.value.code == "own_work"
    version.refresh_from_db()
    assert version.status == Status.APPROVED


@pytest.mark.parametrize("column", ["approved_by", "published_by"])
@pytest.mark.parametrize("same_as", ["created_by", "submitted_by"])
def test_the_database_refuses_self_approval_and_self_publication(officer, column, same_as):
    version = published(officer)
    value = getattr(version, f"{same_as}_id")
    _integrity_error(
        lambda: ModelGuidanceVersion.objects.filter(pk=version.pk).update(**{f"{column}_id": value})
    )


def test_the_approval_cites_a_decision_made_after_submission(officer):
    """Citing the 2020 cabinet decision for a version submitted in 2026 is refused."""
    import datetime as dt

    version = _submitted(officer)
    old = cabinet_decision(officer, decided_on=dt.date(2020, 11, 26))
    with pytest.raises(ValidationError) as refused:
        services.guidance_version_approve(user=second_officer(), version_id=version.pk, decision=old)
    assert refused.value.code == "decision_before_submission"
    assert "26 November 2020" in refused.value.messages[0]
    version.refresh_from_db()
    assert (version.status, version.decision) == (Status.SUBMITTED, None)


def test_an_officer_decision_names_its_delegation_and_a_called_in_one_is_refused(officer):
    version = _submitted(officer)
    called_in = cabinet_decision(officer, status="called_in", call_in="called_in")
    with pytest.raises(ValidationError) as refused:
        services.guidance_version_approve(user=second_officer(), version_id=version.pk, decision=called_in)
    assert refused.value.code == "no_decision"
    # The database will not hold an officer's decision without its delegation.
    _integrity_error(
        lambda: cabinet_decision(officer, decision_maker="officer", decision_maker_name="Director")
    )
    delegated = cabinet_decision(
        officer,
        decision_maker="officer",
        decision_maker_name="Director of children's services",
        delegation="Delegated by cabinet on 26 November 2020, minute 45",
    )
    services.guidance_version_approve(user=second_officer(), version_id=version.pk, decision=delegated)
    version.refresh_from_db()
    assert version.decision == delegated


def test_publication_waits_for_the_decision_to_take_effect(officer):
    import datetime as dt

    version = _submitted(officer)
    today = timezone.localdate()
    pending = cabinet_decision(
        officer, status="published", call_in="open", effective_on=today + dt.timedelta(days=9)
    )
    services.guidance_version_approve(user=second_officer(), version_id=version.pk, decision=pending)
    with pytest.raises(ValidationError) as refused:
        services.guidance_version_publish(user=second_officer(), version_id=version.pk)
    assert refused.value.code == "decision_not_effective"


def test_the_public_page_shows_the_real_approval_chain(officer, client):
    import datetime as dt

    version = _submitted(officer)
    today = timezone.localdate()
    decision = cabinet_decision(
        officer,
        decision_maker="cabinet_member",
        decision_maker_name="Cabinet member children and families",
        call_in="not_called_in",
        call_in_ends_on=today - dt.timedelta(days=1),
        published_on=today - dt.timedelta(days=1),
    )
    approver = second_officer()
    services.guidance_version_approve(user=approver, version_id=version.pk, decision=decision)
    services.guidance_version_publish(user=approver, version_id=version.pk)
    page = " ".join(client.get(reverse("modelguidance:published")).content.decode().split())
    assert "Approved by cabinet" not in page
    assert "Cabinet member children and families (a cabinet member)" in page
    assert f"on {today:%-d %B %Y}" in page
    assert "Submitted for approval</dt>" in page.replace("</dt> <dd", "</dt><dd")
    assert f"Call-in period ended {today - dt.timedelta(days=1):%-d %B %Y}, not called in" in page
    assert "Decision took effect" in page


def test_the_approval_chain_says_why_a_key_decision_was_not_subject_to_call_in(officer, client):
    version = _submitted(officer)
    decision = cabinet_decision(
        officer,
        key_decision=True,
        call_in_exemption_reason="Schools needed the guidance before the new term.",
        call_in_exemption_agreed_by="Councillor Pat Jones",
    )
    approver = second_officer()
    services.guidance_version_approve(user=approver, version_id=version.pk, decision=decision)
    services.guidance_version_publish(user=approver, version_id=version.pk)
    page = " ".join(client.get(reverse("modelguidance:published")).content.decode().split())
    assert (
        "Not subject to call-in (urgent, agreed by the chair of the scrutiny committee, Councillor Pat "
        "Jones: Schools needed the guidance before the new term.)"
    ) in page


@pytest.mark.parametrize("count", ["abc", "9" * 40, "-5", "60"])
def test_adding_a_section_with_a_tampered_count_redraws_at_most_sixty(officer, officer_client, count):
    """The hidden count of sections is the page's own: anything else is read as no sections
    (it once reached int() unguarded and answered 500), and no more than 60 rows are built."""
    version = draft(officer)
    response = officer_client.post(
        reverse("modelguidance:version_edit", args=[version.pk]),
        {**_edit_data(version), "section-TOTAL_FORMS": count, "add_section": "1"},
    )
    assert response.status_code == 200
    rows = re.findall(r'name="section-(\d+)-heading"', response.content.decode())
    assert 1 <= len(rows) <= 60, len(rows)
