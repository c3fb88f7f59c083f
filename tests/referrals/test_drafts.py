"""Drafts of new referrals (issue 13, part 4): a long form can be saved part-way and finished
later; a draft is not a referral, belongs to its author alone, and expires."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from core.roles import Role
from referrals import services
from referrals.models import Referral, ReferralDraft
from referrals.tasks import delete_expired_drafts
from tests.conftest import sign_in_verified
from tests.support.referral_form import payload

pytestmark = pytest.mark.django_db


def _save_draft(client, data):
    return client.post(reverse("referrals:create"), {**data, "save_draft": "1", "save": ""})


def test_a_half_typed_referral_is_saved_as_a_draft_and_finished_later(
    practitioner_client,
    practitioner,
    source_and_form_ids,
):
    full = payload(source_and_form_ids)
    half = {k: v for k, v in full.items() if not k.startswith("child-1-")} | {"narrative": "", "junk": "x"}
    response = _save_draft(practitioner_client, half)
    assert response.status_code == 302
    assert response["Location"] == reverse("referrals:drafts")
    draft = ReferralDraft.objects.get()
    assert draft.author == practitioner
    assert "junk" not in draft.data
    assert "csrfmiddlewaretoken" not in draft.data
    assert not Referral.objects.exists()  # not a referral: no reference, no clock
    assert draft.expires_at > timezone.now() + dt.timedelta(days=13)

    listing = practitioner_client.get(reverse("referrals:drafts")).content.decode()
    assert f"?draft={draft.pk}" in listing
    page = practitioner_client.get(reverse("referrals:create") + f"?draft={draft.pk}")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Rita Referrer" in body
    assert "Firstname0" in body
    assert f'name="draft" value="{draft.pk}"' in body

    done = practitioner_client.post(reverse("referrals:create"), {**full, "draft": str(draft.pk)})
    assert done.status_code == 302
    assert Referral.objects.count() == 1
    assert not ReferralDraft.objects.exists()  # finished: the draft is gone


def test_a_draft_is_its_authors_alone(client, role_user, practitioner, source_and_form_ids):
    draft = services.referral_draft_save(user=practitioner, data={"referrer_name": ["Secret Name"]})
    for role in (Role.MASH_PRACTITIONER, Role.MASH_MANAGER):
        other = role_user(role)
        sign_in_verified(client, other)
        assert client.get(reverse("referrals:create") + f"?draft={draft.pk}").status_code == 404
        assert "Secret Name" not in client.get(reverse("referrals:drafts")).content.decode()
        assert client.post(reverse("referrals:drafts"), {"delete": draft.pk}).status_code == 404
        # Saving over someone else's draft id starts the user's own instead.
        _save_draft(client, {"draft": str(draft.pk), "referrer_name": "Mine"})
    draft.refresh_from_db()
    assert draft.data == {"referrer_name": ["Secret Name"]}
    sign_in_verified(client, practitioner)
    assert client.post(reverse("referrals:drafts"), {"delete": draft.pk}).status_code == 302
    assert not ReferralDraft.objects.filter(pk=draft.pk).exists()


def test_expired_drafts_are_deleted_by_housekeeping(practitioner, settings):
    settings.REFERRAL_DRAFT_DAYS = 14
    old = services.referral_draft_save(user=practitioner, data={"narrative": ["a"]})
    fresh = services.referral_draft_save(user=practitioner, data={"narrative": ["b"]})
    ReferralDraft.objects.filter(pk=old.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    assert "referrals.tasks.delete_expired_drafts" in {
        entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }
    assert delete_expired_drafts() == 1
    assert list(ReferralDraft.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert delete_expired_drafts() == 0  # safe to run twice


def test_a_nul_in_a_draft_is_dropped_not_a_server_error(practitioner_client):
    response = _save_draft(practitioner_client, {"narrative": "a\x00b"})
    assert response.status_code == 302
    assert ReferralDraft.objects.get().data["narrative"] == ["ab"]
