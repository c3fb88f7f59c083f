"""Subject access requests: the ICO's month-end rule, extensions, the other child's identity
proposed for redaction and truly absent from the pack (pdftotext), the schedule of exemptions,
the disclosure log, and every step in the access log."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.models import AccessLogEntry, ExportJob
from core.roles import Role
from records import services
from records.models import DisclosureLogEntry, Redaction, SubjectAccessRequest
from referrals import services as referral_services
from referrals.models import ReferralSource
from tests.conftest import sign_in_verified
from tests.referrals.helpers import child_input, referral_input

pytestmark = pytest.mark.django_db

PERPETRATOR = "Qzperp"  # the alleged perpetrator's canary: in their name and in the narrative


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (dt.date(2026, 1, 31), dt.date(2026, 2, 28)),
        (dt.date(2028, 1, 31), dt.date(2028, 2, 29)),
        (dt.date(2026, 3, 31), dt.date(2026, 4, 30)),
        (dt.date(2026, 9, 3), dt.date(2026, 10, 3)),
    ],
)
def test_due_one_calendar_month_later_by_the_icos_month_end_rule(received, due):
    assert services.sar_due_on(received) == due


@pytest.fixture
def victim_request(role_user, settings, tmp_path):
    """A referral from a parent (a member of the public) naming the alleged perpetrator, and the
    victim's own request about it."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    creator = role_user(Role.MASH_PRACTITIONER, username="sar-creator")
    referral = referral_services.referral_create(
        user=creator,
        data=referral_input(
            source=ReferralSource.objects.get(code="parent-carer"),
            referrer_name="Pat Referrerparent",
            narrative=f"Amy said that {PERPETRATOR}boy Smithperp took her phone at break.",
        ),
        children=[
            child_input("victim", first_name="Amy", last_name="Victimson", address="1 Own Street"),
            child_input(
                "alleged_perpetrator",
                first_name=f"{PERPETRATOR}boy",
                last_name="Smithperp",
                address=f"2 {PERPETRATOR} Road",
                postcode="QZ1 1PP",
                date_of_birth=dt.date(2011, 7, 19),
            ),
        ],
    )
    officer = role_user(Role.INFORMATION_GOVERNANCE, username="sar-officer")
    sar = services.sar_log(
        user=officer,
        reference=referral.reference,
        label=referral.children.get(role="victim").label,
        requester_name="Mrs Victimson",
        relation=SubjectAccessRequest.Relation.PARENT,
        identity_verified="Passport and a council tax bill seen at the front desk",
        received_on=timezone.localdate(),
    )
    return referral, officer, sar


def test_the_other_child_is_proposed_and_absent_from_every_page_of_the_pack(
    victim_request, django_capture_on_commit_callbacks
):
    from tests.core.pdf_helpers import pdf_pages_text

    referral, officer, sar = victim_request
    proposed = {r.text for r in sar.redactions.all()}
    assert f"{PERPETRATOR}boy Smithperp" in proposed
    assert f"{PERPETRATOR}boy" in proposed
    assert f"2 {PERPETRATOR} Road" in proposed
    assert "19 July 2011" in proposed
    assert "Pat Referrerparent" in proposed  # a parent who referred: a member of the public
    assert not any("Amy" in text or "Victimson" in text for text in proposed)  # the subject's own

    # The reviewer's view shows the canary proposed, in context.
    client = sign_in_verified(Client(), officer)
    page = client.get(reverse("records:sar_redactions", kwargs={"sar_pk": sar.pk})).content.decode()
    assert f"<mark>{PERPETRATOR}boy Smithperp</mark>" in page
    assert "took her phone" in page  # in context
    assert AccessLogEntry.objects.filter(
        record_type="referrals.referral", record_id=referral.pk, user=officer
    ).exists()

    # The reviewer withholds more (serious harm), and discloses nothing proposed.
    services.sar_redaction_add(
        user=officer,
        sar_id=sar.pk,
        text="at break",
        code=Redaction.Code.SERIOUS_HARM,
        reason="Saying when it happened would let the other family work out who reported it",
    )
    with django_capture_on_commit_callbacks(execute=True):
        sar, job_id = services.sar_sign_off(user=officer, sar_id=sar.pk)
    job = ExportJob.objects.get(pk=job_id)
    assert job.status == ExportJob.Status.DONE
    with default_storage.open(job.file.name, "rb") as handle:
        pages = pdf_pages_text(handle.read())
    assert len(pages) >= 2
    for number, text in enumerate(pages, start=1):
        lowered = text.lower()
        assert PERPETRATOR.lower() not in lowered, f"page {number}"
        assert "smithperp" not in lowered, f"page {number}"
        assert "19 july 2011" not in lowered, f"page {number}"
        assert "referrerparent" not in lowered, f"page {number}"
        assert "at break" not in lowered, f"page {number}"
    whole = "\n".join(pages)
    assert "Amy Victimson" in whole  # the subject's own data is disclosed
    assert "[Withheld: third party]" in whole
    assert "Schedule of exemptions applied" in whole
    assert "Serious harm" in whole
    entry = DisclosureLogEntry.objects.get(request=sar)
    assert entry.references == [referral.reference]
    assert entry.exemptions["serious_harm"] == 1
    assert entry.export_job_id == job.pk


def test_a_removed_redaction_is_disclosed_and_an_extension_is_bounded(victim_request):
    _, officer, sar = victim_request
    referrer = sar.redactions.get(text="Pat Referrerparent")
    services.sar_redaction_remove(
        user=officer,
        redaction_id=referrer.pk,
        reason="The parent who referred is the requester and consents to their own name",
    )
    referrer.refresh_from_db()
    assert not referrer.active
    with pytest.raises(ValidationError) as refused:
        services.sar_extend(
            user=officer,
            sar_id=sar.pk,
            extended_to=sar.received_on + dt.timedelta(days=120),
            reason="The request covers many records held across several teams",
        )
    assert "three months after receipt" in refused.value.message_dict["extended_to"][0]
    services.sar_extend(
        user=officer,
        sar_id=sar.pk,
        extended_to=sar.due_on + dt.timedelta(days=30),
        reason="The request covers many records held across several teams",
    )
    sar.refresh_from_db()
    assert sar.deadline == sar.due_on + dt.timedelta(days=30)


def test_an_overdue_request_shows_on_the_information_governance_page(victim_request):
    _, officer, sar = victim_request
    SubjectAccessRequest.objects.filter(pk=sar.pk).update(
        received_on=dt.date(2020, 1, 1), due_on=dt.date(2020, 2, 1)
    )
    page = sign_in_verified(Client(), officer).get(reverse("records:home")).content.decode()
    assert "1 subject access request overdue" in page
    assert sar.reference in page


LATE = "Qzlate"  # a child added to the referral after the request was logged


def _add_late_child(referral):
    referral.refresh_from_db()
    referral_services.referral_add_child(
        user=referral.created_by,
        referral_id=referral.pk,
        expected_version=referral.version,
        child=child_input("other", first_name=f"{LATE}girl", last_name="Latecomer", address="3 Qzlate Lane"),
    )


def _pack_text(job_id) -> str:
    from tests.core.pdf_helpers import pdf_pages_text

    job = ExportJob.objects.get(pk=job_id)
    assert job.status == ExportJob.Status.DONE
    with default_storage.open(job.file.name, "rb") as handle:
        return "\n".join(pdf_pages_text(handle.read())).lower()


def test_a_child_added_after_logging_is_proposed_before_the_pack_is_signed_off(
    victim_request, django_capture_on_commit_callbacks
):
    """The finding: redactions were proposed only when the request was logged, so another child
    added to the referral before sign-off went into the pack unredacted."""
    referral, officer, sar = victim_request
    _add_late_child(referral)
    with pytest.raises(ValidationError) as refused:
        services.sar_sign_off(user=officer, sar_id=sar.pk)
    assert "more redactions were proposed" in refused.value.messages[0]
    sar.refresh_from_db()
    assert sar.status == SubjectAccessRequest.Status.OPEN
    assert sar.redactions.filter(text=f"{LATE}girl Latecomer", origin="proposed").exists()
    with django_capture_on_commit_callbacks(execute=True):
        sar, job_id = services.sar_sign_off(user=officer, sar_id=sar.pk)
    text = _pack_text(job_id)
    assert LATE.lower() not in text
    assert "latecomer" not in text


def test_a_child_added_between_sign_off_and_rendering_is_withheld(
    victim_request, django_capture_on_commit_callbacks
):
    """The pipeline refuses to render a pack whose sources changed after sign-off (its digest);
    and the pack's text itself withholds any third party never proposed (defence in depth)."""
    from records import subject_access

    referral, officer, sar = victim_request
    with django_capture_on_commit_callbacks(execute=False) as queued:
        sar, job_id = services.sar_sign_off(user=officer, sar_id=sar.pk)
    _add_late_child(referral)
    parts = subject_access.sar_pack_parts(sar=sar)
    text = " ".join(p for section in parts[0].context["sections"] for p in section["paragraphs"]).lower()
    assert LATE.lower() not in text
    assert "latecomer" not in text
    assert "amy victimson" in text
    for callback in queued:
        callback()
    job = ExportJob.objects.get(pk=job_id)
    assert job.status == ExportJob.Status.FAILED
    assert not job.file
