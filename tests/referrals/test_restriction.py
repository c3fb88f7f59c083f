"""Restricting a referral (issue 12): only named grants see its identities; the MASH team's
default grants and standing read of closed referrals stop. Restricting and lifting need a
MASH manager and a reason, are logged, and information governance is e-mailed the reference."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from core import permissions
from core.models import SecurityEvent
from core.roles import Role
from referrals import services
from referrals.models import CaseNote, Outcome, RagLevel, Referral
from tests.factories import ReferralFactory

pytestmark = pytest.mark.django_db

REASON = "The child's parent works in the MASH team"


def _closed(practitioner) -> Referral:
    referral = ReferralFactory(created_by=practitioner)
    services.referral_start_screening(
        user=practitioner, referral_id=referral.pk, expected_version=1, rag=RagLevel.objects.get(code="red")
    )
    services.referral_record_decision(
        user=practitioner,
        referral_id=referral.pk,
        expected_version=2,
        decision=services.DecisionInput(outcomes=[Outcome.objects.get(code="police")], rationale="r"),
    )
    services.referral_close(user=practitioner, referral_id=referral.pk, expected_version=3, reason="done")
    referral.refresh_from_db()
    return referral


def test_restricting_a_live_referral_leaves_only_named_grants(practitioner, manager, role_user):
    reviewer = role_user(Role.REVIEWER, username="rev")
    referral = ReferralFactory(created_by=practitioner)
    permissions.grant(
        referral, action=permissions.VIEW_EXEMPT, user=reviewer, reason="named", granted_by=manager
    )
    services.referral_restrict(user=manager, referral_id=referral.pk, expected_version=1, reason=REASON)
    referral.refresh_from_db()
    assert referral.is_restricted
    assert referral.restricted_by == manager
    for user in (practitioner, manager):
        assert not permissions.has_grant(user, referral)
        assert not permissions.has_grant(user, referral, permissions.CHANGE)
    assert permissions.has_grant(reviewer, referral)  # a named grant stays
    assert CaseNote.objects.filter(referral=referral, text=f"Referral restricted: {REASON}").exists()


def test_restricting_a_closed_referral_stops_the_teams_read_and_lifting_restores_it(
    practitioner, manager, role_user, django_capture_on_commit_callbacks
):
    ig = role_user(Role.INFORMATION_GOVERNANCE, username="ig", email="ig@council.example")
    referral = _closed(practitioner)
    assert permissions.has_grant(practitioner, referral)
    with django_capture_on_commit_callbacks(execute=True):
        services.referral_restrict(
            user=manager, referral_id=referral.pk, expected_version=referral.version, reason=REASON
        )
    assert not permissions.has_grant(practitioner, referral)
    assert not permissions.has_grant(manager, referral)
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.RESTRICTED)
    assert event.actor == manager
    assert event.detail == f"Referral {referral.reference} restricted"
    [message] = mail.outbox
    assert message.to == [ig.email]
    assert referral.reference in message.body
    assert "parent" not in message.body  # the reason is not e-mailed
    assert "Test narrative" not in message.body

    referral.refresh_from_db()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.referral_lift_restriction(
            user=manager,
            referral_id=referral.pk,
            expected_version=referral.version,
            reason="Checked with information governance today",
        )
    assert permissions.has_grant(practitioner, referral)
    assert not permissions.has_grant(practitioner, referral, permissions.CHANGE)
    assert SecurityEvent.objects.filter(
        detail=f"Restriction lifted on referral {referral.reference}"
    ).exists()
    assert [m.to for m in mail.outbox] == [[ig.email]]


def test_reopening_a_restricted_referral_keeps_it_restricted(practitioner, manager):
    referral = _closed(practitioner)
    services.referral_restrict(user=manager, referral_id=referral.pk, expected_version=4, reason=REASON)
    services.referral_reopen(user=manager, referral_id=referral.pk, expected_version=5, reason="new info")
    assert not permissions.has_grant(practitioner, referral)
    assert not permissions.has_grant(manager, referral, permissions.CHANGE)
    services.referral_lift_restriction(
        user=manager, referral_id=referral.pk, expected_version=6, reason="The family have moved away now"
    )
    assert permissions.has_grant(practitioner, referral, permissions.CHANGE)


@pytest.mark.parametrize(
    ("reason", "ok"),
    [
        ("", False),
        ("Too short reason", False),  # three words, 16 characters
        ("Abcdefghijklmnopqrstuvwxyz", False),  # one long word
        ("Named in the case", False),  # four words, 17 characters
        ("Parent works in MASH team", True),
    ],
)
def test_the_reason_has_at_least_twenty_characters_and_three_words(reason, ok):
    assert (services.validate_restriction_reason(reason) is None) is ok


def test_only_a_manager_restricts_or_lifts_and_nothing_changes_otherwise(practitioner, manager):
    referral = ReferralFactory(created_by=practitioner)
    with pytest.raises(ValidationError):
        services.referral_restrict(
            user=practitioner, referral_id=referral.pk, expected_version=1, reason=REASON
        )
    with pytest.raises(ValidationError):
        services.referral_restrict(user=manager, referral_id=referral.pk, expected_version=1, reason="short")
    with pytest.raises(services.IllegalTransition):
        services.referral_lift_restriction(
            user=manager, referral_id=referral.pk, expected_version=1, reason=REASON
        )
    referral.refresh_from_db()
    assert not referral.is_restricted
    assert referral.version == 1
    assert permissions.has_grant(practitioner, referral, permissions.CHANGE)
    assert not SecurityEvent.objects.exists()
    referral.restricted_at = timezone.now()
    referral.save()
    with pytest.raises(ValidationError):
        services.referral_lift_restriction(
            user=practitioner, referral_id=referral.pk, expected_version=1, reason=REASON
        )


def test_restricting_and_lifting_through_the_page(client, practitioner, manager):
    from django.urls import reverse

    from referrals.models import ReferralChild
    from tests.conftest import sign_in_verified

    manager.first_name, manager.last_name = "Mona", "Manager"
    manager.save()
    earlier = _closed(practitioner)
    later = ReferralFactory(created_by=practitioner)  # a live referral about the same child
    shared = earlier.children.get(label="A").child
    ReferralChild.objects.create(referral=later, child=shared, role="victim", label="C")
    url = reverse("referrals:restriction", args=[earlier.pk])
    sign_in_verified(client, manager)
    response = client.post(url, {"reason": "too short", "version": earlier.version})
    assert response.status_code == 400
    assert "at least 20 characters" in response.content.decode()
    earlier.refresh_from_db()
    assert not earlier.is_restricted
    response = client.post(url, {"reason": REASON, "version": earlier.version})
    assert response.status_code == 302
    earlier.refresh_from_db()
    assert earlier.is_restricted

    sign_in_verified(client, practitioner)
    body = client.get(reverse("referrals:detail", args=[earlier.pk])).content.decode()
    assert "This referral is restricted" in body
    assert "Mona Manager" in body
    assert "Test narrative" not in body
    # History check: the live referral about the same child shows the restricted earlier one,
    # pseudonymously, and who to ask; never its identities.
    body = client.get(reverse("referrals:detail", args=[later.pk])).content.decode()
    section = body[body.index('id="other-referrals"') :]
    assert earlier.reference in section
    assert "Restricted" in section
    assert "Mona Manager" in section
    table = section.split("</table>")[0]
    assert earlier.forms_of_abuse.get().name in table
    assert Outcome.objects.get(code="police").name in table
    assert f'href="{reverse("referrals:detail", args=[earlier.pk])}"' not in section
    assert client.get(url).status_code == 404  # practitioners neither restrict nor lift

    sign_in_verified(client, manager)
    response = client.post(url, {"reason": "Checked with information governance", "version": earlier.version})
    assert response.status_code == 302
    sign_in_verified(client, practitioner)
    body = client.get(reverse("referrals:detail", args=[later.pk])).content.decode()
    section = body[body.index('id="other-referrals"') :]
    assert f'href="{reverse("referrals:detail", args=[earlier.pk])}"' in section


def test_a_name_search_says_restricted_referrals_are_never_found_by_name(practitioner_client):
    """Said for every name search, whatever it finds: a constant, so never a hint."""
    from django.urls import reverse

    body = practitioner_client.get(reverse("referrals:tray"), {"view": "all", "q": "Anyone"}).content.decode()
    assert "restricted referrals are never found by name" in body
    body = practitioner_client.get(reverse("referrals:tray"), {"view": "all"}).content.decode()
    assert "never found by name" not in body
