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


def test_the_list_says_what_each_draft_is(practitioner_client, practitioner, source_and_form_ids):
    """Found by attack: the list showed only when each draft was started and saved, so an
    author with several could not tell them apart."""
    full = payload(source_and_form_ids)
    received = dt.date(
        int(full["received_date_2"]), int(full["received_date_1"]), int(full["received_date_0"])
    )
    _save_draft(practitioner_client, {k: v for k, v in full.items() if not k.startswith("child-")})
    _save_draft(practitioner_client, full)
    about_only = {k: v for k, v in full.items() if not k.startswith("child-")} | {"narrative": ""}
    _save_draft(practitioner_client, about_only)
    body = practitioner_client.get(reverse("referrals:drafts")).content.decode()
    assert body.count("No children entered yet") >= 2
    assert "Firstname0 Lastname0 and Firstname1 Lastname1" in body
    assert f"{received:%-d %B %Y}" in body
    assert "Last section completed" in body
    for last in ("About the referral", "Referrer and what was reported", "Children"):
        assert f"{last} <span" in body
    with_children = ReferralDraft.objects.get(data__has_key="child-0-first_name")
    assert (
        f'?draft={with_children.pk}">Continue<span class="govuk-visually-hidden"> the draft about '
        f"Firstname0 Lastname0 and Firstname1 Lastname1, received {received:%-d %B %Y}, last saved "
    ) in body


def test_a_draft_summary_reads_only_what_was_typed():
    from referrals.forms import draft_summary

    empty = draft_summary({})
    assert (empty.children_label, empty.received_on, empty.last_section, empty.sections_done) == (
        "No children entered yet",
        None,
        "",
        0,
    )
    partial = draft_summary(
        {
            "received_date_0": ["31"],
            "received_date_1": ["2"],
            "received_date_2": ["2026"],  # not a real date
            "referrer_name": ["Rita"],
            "narrative": ["What happened"],
            "child-0-first_name": ["Ann"],
            "child-0-last_name": [""],
            "child-2-last_name": ["Bell"],
        }
    )
    assert partial.children == ("Ann", "Bell")
    assert partial.children_label == "Ann and Bell"
    assert partial.received_on is None
    assert (partial.last_section, partial.sections_done) == ("Referrer and what was reported", 1)


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_nobody_but_the_author_sees_a_draft_in_any_role(client, role_user, practitioner, role):
    draft = services.referral_draft_save(
        user=practitioner,
        data={
            "child-0-first_name": ["Zebedee"],
            "child-0-last_name": ["Quartermaine"],
            "narrative": ["Secret"],
        },
    )
    other = role_user(role, username=f"other-{role.value}")
    sign_in_verified(client, other)
    for url in (reverse("referrals:drafts"), reverse("referrals:create") + f"?draft={draft.pk}"):
        response = client.get(url)
        body = response.content.decode()
        assert "Zebedee" not in body
        assert "Quartermaine" not in body
        assert f"?draft={draft.pk}" not in body
    assert client.get(reverse("referrals:create") + f"?draft={draft.pk}").status_code in (403, 404)
    assert client.post(reverse("referrals:drafts"), {"delete": draft.pk}).status_code in (403, 404)
    assert ReferralDraft.objects.filter(pk=draft.pk).exists()
    from django.contrib import admin

    assert ReferralDraft not in admin.site._registry  # not even an administrator's to browse
    sign_in_verified(client, practitioner)
    assert "Zebedee Quartermaine" in client.get(reverse("referrals:drafts")).content.decode()
