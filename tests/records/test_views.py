"""Information governance's records pages: a hold placed and lifted, a record decided, a batch
made by one officer and approved by another, GOV.UK errors on each form."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.roles import Role
from records import services
from records.models import DisposalBatch, DisposalCandidate, LegalHold
from tests.conftest import sign_in_verified

pytestmark = pytest.mark.django_db


@pytest.fixture
def officers(role_user, settings, tmp_path):
    settings.RETENTION_SCHEDULE = [
        {"record_type": "referral", "trigger": "last_activity", "years": 1, "source": "Test schedule"}
    ]
    settings.DISPOSAL_REGISTER_PATH = str(tmp_path / "register.jsonl")
    first = role_user(Role.INFORMATION_GOVERNANCE, username="ig-one")
    second = role_user(Role.INFORMATION_GOVERNANCE, username="ig-two")
    return sign_in_verified(Client(), first), sign_in_verified(Client(), second)


def test_place_and_lift_a_legal_hold(officers, canary_referral):
    client, second = officers
    response = client.post(reverse("records:hold_create"), {"name": "", "reason": "x"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "There is a problem" in html
    assert "Enter the name of the legal hold" in html
    response = client.post(
        reverse("records:hold_create"),
        {
            "name": "Independent inquiry",
            "reason": "The inquiry instructed that no records about child sexual abuse are destroyed",
            "references": f"{canary_referral.reference}\nMASH-1999-99999",
        },
    )
    assert response.status_code == 400
    assert "There is no referral MASH-1999-99999" in response.content.decode()
    response = client.post(
        reverse("records:hold_create"),
        {
            "name": "Independent inquiry",
            "reason": "The inquiry instructed that no records about child sexual abuse are destroyed",
            "references": canary_referral.reference,
        },
    )
    hold = LegalHold.objects.get()
    assert response["Location"] == reverse("records:hold", kwargs={"hold_pk": hold.pk})
    page = client.get(response["Location"]).content.decode()
    assert canary_referral.reference in page
    assert "Qzcnry" not in page  # the records pages show references, never identities
    url = reverse("records:hold", kwargs={"hold_pk": hold.pk})
    response = client.post(url, {"reason": "The inquiry has reported and released the instruction"})
    assert response.status_code == 302
    hold.refresh_from_db()
    assert hold.in_force  # proposed: a second officer must approve it
    assert second.post(url, {"approve": "yes"}).status_code == 302
    hold.refresh_from_db()
    assert not hold.in_force


def test_decide_batch_and_approve_by_a_second_officer(
    officers, canary_referral, django_capture_on_commit_callbacks
):
    first, second = officers
    services.disposal_review_list(today=timezone.localdate() + dt.timedelta(days=800))
    candidate = DisposalCandidate.objects.get()
    review = first.get(reverse("records:disposal_review")).content.decode()
    assert canary_referral.reference in review
    url = reverse("records:candidate", kwargs={"candidate_pk": candidate.pk})
    response = first.post(url, {"decision": "extend"})
    assert response.status_code == 400
    assert "Enter the date the record is kept until" in response.content.decode()
    assert first.post(url, {"decision": "dispose"}).status_code == 302
    response = first.post(reverse("records:disposal_review"))
    batch = DisposalBatch.objects.get()
    assert response["Location"] == reverse("records:batch", kwargs={"batch_pk": batch.pk})
    batch_url = response["Location"]
    # The officer who made it sees no approval form, and a forged approval is refused.
    assert "another information governance officer must approve it" in first.get(batch_url).content.decode()
    refused = first.post(batch_url, {"approve": "yes"})
    assert refused.status_code == 400
    assert "Another information governance officer must approve this batch" in refused.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        assert second.post(batch_url, {"approve": "yes"}).status_code == 302
    batch.refresh_from_db()
    assert batch.status == DisposalBatch.Status.DISPOSED
    certificate = second.get(batch_url).content.decode()
    assert f"Disposal certificate {batch.certificate_number}" in certificate
    assert "Qzcnry" not in certificate
    # The disposed referral still opens (pseudonymous, with nothing left to show).
    disposed = second.get(reverse("referrals:detail", args=[canary_referral.pk]))
    assert disposed.status_code == 200
    assert "Qzcnry" not in disposed.content.decode()


def test_a_disposed_referral_says_so_wherever_it_appears_and_cannot_be_changed(
    officers, canary_referral, role_user, django_capture_on_commit_callbacks
):
    """Its page names the date, the certificate and the rule and shows only the tombstone; its
    tray row and a search by its reference say it was disposed of; no page that adds, changes,
    grants or reopens opens on it, and the services refuse (a manager could otherwise reopen it
    and the team write new identities into a record the certificate says is gone)."""
    from referrals import services as referral_services
    from referrals.models import Referral
    from tests.referrals.helpers import child_input

    first, second = officers
    services.disposal_review_list(today=timezone.localdate() + dt.timedelta(days=800))
    candidate = DisposalCandidate.objects.get()
    first.post(reverse("records:candidate", kwargs={"candidate_pk": candidate.pk}), {"decision": "dispose"})
    first.post(reverse("records:disposal_review"))
    batch = DisposalBatch.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        second.post(reverse("records:batch", kwargs={"batch_pk": batch.pk}), {"approve": "yes"})
    canary_referral.refresh_from_db()
    assert canary_referral.disposed_at is not None

    manager = role_user(Role.MASH_MANAGER, username="disposed-manager")
    client = sign_in_verified(Client(), manager)
    page = client.get(reverse("referrals:detail", args=[canary_referral.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Disposed of" in html
    assert f"disposal certificate {batch.certificate_number}" in html
    assert "Last activity on the record + 1 year" in html  # the rule, as the review described it
    assert "Child A (victim)" in html
    assert "Qzcnry" not in html
    assert "Reopen the referral" not in html
    assert (
        "Disposed of" in client.get(reverse("referrals:history", args=[canary_referral.pk])).content.decode()
    )

    for view in ("all",):
        tray = client.get(reverse("referrals:tray"), {"view": view, "q": canary_referral.reference})
        row = tray.content.decode()
        assert canary_referral.reference in row
        assert batch.certificate_number in row
        assert "Qzcnry" not in row

    for name in ("reopen", "add_note", "grants", "break_glass", "restriction", "edit", "add_child"):
        response = client.get(reverse(f"referrals:{name}", args=[canary_referral.pk]))
        assert response.status_code == 404, name
    assert (
        client.post(reverse("referrals:reopen", args=[canary_referral.pk]), {"reason": "x"}).status_code
        == 404
    )
    with pytest.raises(ValidationError):
        referral_services.referral_reopen(
            user=manager,
            referral_id=canary_referral.pk,
            expected_version=canary_referral.version,
            reason="The family has asked for the referral to be looked at again",
        )
    with pytest.raises(ValidationError):
        referral_services.case_note_add(
            user=manager, referral_id=canary_referral.pk, occurred_on=timezone.localdate(), text="A new note"
        )
    with pytest.raises(ValidationError):
        referral_services.referral_add_child(
            user=manager,
            referral_id=canary_referral.pk,
            expected_version=canary_referral.version,
            child=child_input("other", first_name="New", last_name="Child"),
        )
    assert Referral.objects.get(pk=canary_referral.pk).children.count() == 0
