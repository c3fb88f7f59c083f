import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core import permissions
from core.models import AccessLogEntry, AppendOnlyError
from core.roles import Role
from referrals import services
from referrals.models import Referral, ReferralUserGrant
from referrals.selectors import referrals_visible_to
from tests.conftest import sign_in_verified
from tests.factories import ReferralFactory
from tests.nplusone import set_up

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed_referral():
    return ReferralFactory(status=Referral.Status.CLOSED)


@pytest.fixture
def restricted_referral():
    """Closed and restricted: only named grants see it (the MASH team's standing read stops)."""
    return ReferralFactory(status=Referral.Status.CLOSED, restricted_at=timezone.now())


def test_creator_and_mash_team_hold_default_grants_on_live_referrals_only(practitioner, role_user):
    other_practitioner = role_user(Role.MASH_PRACTITIONER, username="other")
    reviewer = role_user(Role.REVIEWER, username="rev")
    referral = ReferralFactory(created_by=practitioner)
    assert permissions.has_grant(practitioner, referral)
    assert permissions.has_grant(other_practitioner, referral)  # the MASH team, by group
    assert permissions.has_grant(other_practitioner, referral, permissions.CHANGE)
    assert not permissions.has_grant(reviewer, referral)
    services.referral_start_screening(
        user=practitioner,
        referral_id=referral.pk,
        expected_version=1,
        rag=__import__("referrals.models", fromlist=["RagLevel"]).RagLevel.objects.get(code="red"),
    )


def test_closing_leaves_the_mash_team_read_only_and_reopening_restores_change(
    practitioner, manager, role_user
):
    from referrals.models import Outcome, RagLevel

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
    # History checks: the MASH team still reads a closed referral, but cannot change it ...
    assert permissions.has_grant(practitioner, referral)
    assert permissions.has_grant(manager, referral)
    assert not permissions.has_grant(practitioner, referral, permissions.CHANGE)
    assert not permissions.has_grant(manager, referral, permissions.CHANGE)
    # ... and the default grants are gone: the read is the standing rule, not a grant.
    assert not [g for g in permissions.grants_on(referral) if g.kind.startswith("Default")]
    # Reviewers, officers and information governance stay grant-based.
    for role in (Role.REVIEWER, Role.LEAD_REVIEWER, Role.REPORT_OFFICER, Role.INFORMATION_GOVERNANCE):
        assert not permissions.has_grant(role_user(role), referral)
    services.referral_reopen(user=manager, referral_id=referral.pk, expected_version=4, reason="new info")
    assert permissions.has_grant(practitioner, referral)
    assert permissions.has_grant(manager, referral, permissions.CHANGE)


def test_explicit_grant_records_who_why_when_and_expires_at_once(closed_referral, manager, role_user):
    reviewer = role_user(Role.REVIEWER, username="rev")
    expires_on = timezone.localdate() + dt.timedelta(days=3)
    services.referral_grant(
        granted_by=manager,
        referral_id=closed_referral.pk,
        user=reviewer,
        actions=[permissions.VIEW_EXEMPT],
        reason="Reviewing the case for the panel",
        expires_on=expires_on,
    )
    row = ReferralUserGrant.objects.get(user=reviewer)
    assert (row.granted_by, row.reason, row.kind) == (manager, "Reviewing the case for the panel", "explicit")
    assert row.history.count() == 1
    assert permissions.has_grant(reviewer, closed_referral)
    assert list(referrals_visible_to(user=reviewer)) == [closed_referral]
    with time_machine.travel(timezone.now() + dt.timedelta(days=4)):
        assert not permissions.has_grant(reviewer, closed_referral)
        assert list(referrals_visible_to(user=reviewer)) == []


def test_revoked_grant_stops_at_once_and_keeps_history(client, closed_referral, manager, role_user):
    reviewer = role_user(Role.REVIEWER, username="rev")
    services.referral_grant(
        granted_by=manager,
        referral_id=closed_referral.pk,
        user=reviewer,
        actions=[permissions.VIEW_EXEMPT],
        reason="Reviews the case for the panel",
    )
    sign_in_verified(client, reviewer)
    url = reverse("referrals:detail", args=[closed_referral.pk])
    assert client.get(url).status_code == 200
    row = ReferralUserGrant.objects.get(user=reviewer)
    services.referral_revoke_grant(
        revoked_by=manager,
        referral_id=closed_referral.pk,
        grant_id=row.pk,
        holder_kind="user",
        reason="Review over",
    )
    assert client.get(url).status_code == 404
    reasons = list(
        ReferralUserGrant.history.filter(id=row.pk)
        .order_by("history_date")
        .values_list("history_type", "history_change_reason")
    )
    assert reasons[-1] == ("-", "Revoked: Review over")


def test_only_managers_grant_and_a_reason_is_required(closed_referral, practitioner, manager, role_user):
    reviewer = role_user(Role.REVIEWER, username="rev")
    with pytest.raises(ValidationError):
        services.referral_grant(
            granted_by=practitioner,
            referral_id=closed_referral.pk,
            user=reviewer,
            actions=[permissions.VIEW_EXEMPT],
            reason="x",
        )
    with pytest.raises(ValidationError) as caught:
        services.referral_grant(
            granted_by=manager,
            referral_id=closed_referral.pk,
            user=reviewer,
            actions=[permissions.VIEW_EXEMPT],
            reason=" ",
        )
    assert "reason" in caught.value.message_dict


def test_a_manager_cannot_grant_to_themselves_and_uses_emergency_access(client, closed_referral, manager):
    """Once a manager could give themselves a grant with no end and a one-letter reason."""
    with pytest.raises(ValidationError) as caught:
        services.referral_grant(
            granted_by=manager,
            referral_id=closed_referral.pk,
            user=manager,
            actions=[permissions.VIEW_EXEMPT],
            reason="I need to see this case for my work",
        )
    assert "You cannot give yourself a grant" in caught.value.message_dict["user"][0]
    sign_in_verified(client, manager)
    url = reverse("referrals:grants", args=[closed_referral.pk])
    response = client.post(
        url, {"user": manager.pk, "actions": ["view_exempt"], "reason": "I need to see this case now"}
    )
    assert response.status_code == 400
    assert "You cannot give yourself a grant" in response.content.decode()
    assert not ReferralUserGrant.objects.filter(user=manager).exists()


def test_grant_pages_give_and_remove(client, closed_referral, manager, role_user):
    reviewer = role_user(Role.REVIEWER, username="rev")
    sign_in_verified(client, manager)
    url = reverse("referrals:grants", args=[closed_referral.pk])
    response = client.post(url, {"user": reviewer.pk, "actions": ["view_exempt"], "reason": ""})
    assert response.status_code == 400
    assert "Enter why this person needs to see the referral" in response.content.decode()
    response = client.post(url, {"user": reviewer.pk, "actions": ["view_exempt"], "reason": "aaaaaaaaaa"})
    assert response.status_code == 400
    assert "in at least 20 characters and 3 words" in response.content.decode()
    response = client.post(
        url, {"user": reviewer.pk, "actions": ["view_exempt"], "reason": "Case review for the panel"}
    )
    assert response.status_code == 302
    row = ReferralUserGrant.objects.get(user=reviewer)
    page = client.get(url).content.decode()
    assert "Case review for the panel" in page
    assert reviewer.username in page
    response = client.post(url, {"revoke": "1", "grant_id": row.pk, "holder_kind": "user", "reason": "Done"})
    assert response.status_code == 302
    assert not ReferralUserGrant.objects.filter(pk=row.pk).exists()
    history = client.get(url).content.decode()
    assert "Removed: see identities" in history
    assert "Revoked: Done" in history
    assert "Given: see identities" in history


def test_break_glass_works_at_once_is_logged_loudly_and_tells_information_governance(
    client, restricted_referral, manager, role_user, django_capture_on_commit_callbacks
):
    closed_referral = restricted_referral
    role_user(Role.INFORMATION_GOVERNANCE, username="ig", email="ig@council.example")
    sign_in_verified(client, manager)
    detail = reverse("referrals:detail", args=[closed_referral.pk])
    assert "Test narrative" not in client.get(detail).content.decode()
    url = reverse("referrals:break_glass", args=[closed_referral.pk])
    assert client.post(url, {"reason": "short"}).status_code == 400
    assert client.post(url, {"reason": "aaaaaaaaaaaaaaaaaaaaaaaa"}).status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"reason": "Police called: child missing tonight"})
    assert response.status_code == 302
    entry = AccessLogEntry.objects.get(break_glass=True)
    assert entry.channel == "break_glass"
    assert entry.user == manager
    assert entry.reason == "Police called: child missing tonight"
    assert "Test narrative" in client.get(detail).content.decode()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ig@council.example"]
    assert closed_referral.reference in message.subject
    assert "Test narrative" not in message.body
    assert "missing tonight" not in message.body
    log_page = client.get(reverse("referrals:access_log", args=[closed_referral.pk])).content.decode()
    assert "Emergency access" in log_page


def test_access_log_is_append_only(practitioner):
    referral = ReferralFactory()
    entry = AccessLogEntry.objects.create(
        user=practitioner,
        record_type="referrals.referral",
        record_id=referral.pk,
        record_label="X",
        channel="page",
    )
    entry.reason = "tamper"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AccessLogEntry.objects.filter(pk=entry.pk).update(reason="tamper")
    with pytest.raises(AppendOnlyError):
        AccessLogEntry.objects.all().delete()


@pytest.mark.postgres
def test_database_refuses_to_change_the_access_log(practitioner):
    from django.db import DatabaseError

    referral = ReferralFactory()
    entry = AccessLogEntry.objects.create(
        user=practitioner,
        record_type="referrals.referral",
        record_id=referral.pk,
        record_label="X",
        channel="page",
    )
    for sql in (
        "UPDATE core_accesslogentry SET reason = 'x' WHERE id = %s",
        "DELETE FROM core_accesslogentry WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [entry.pk])


def test_information_governance_searches_and_exports_the_log(client, role_user, practitioner):
    ig = role_user(Role.INFORMATION_GOVERNANCE, username="ig")
    referral = ReferralFactory(reference="MASH-2020-0777")
    AccessLogEntry.objects.create(
        user=practitioner,
        record_type="referrals.referral",
        record_id=referral.pk,
        record_label=referral.reference,
        channel="page",
    )
    sign_in_verified(client, ig)
    page = client.get(reverse("core:access_log"), {"record_label": "MASH-2020-07"}).content.decode()
    assert "MASH-2020-0777" in page
    csv = client.get(reverse("core:access_log"), {"record_label": "MASH-2020-07", "format": "csv"})
    assert csv["Content-Type"].startswith("text/csv")
    assert "MASH-2020-0777" in csv.content.decode()
    assert "practitioner" in csv.content.decode()


def test_permission_filtered_tray_uses_the_same_queries_at_10_and_many_rows(client, role_user, manager):
    reviewer = role_user(Role.REVIEWER, username="rev")
    sign_in_verified(client, reviewer)

    url = reverse("referrals:tray")

    def measure(params):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, params)
        return len(queries.captured_queries), response

    @set_up
    def named(count):
        # Referrals the reviewer may identify, each with a child called Smith.
        for _ in range(count):
            referral = ReferralFactory(status=Referral.Status.CLOSED)
            child = referral.children.get(label="A").child
            child.last_name = "Smith"
            child.save()
            permissions.grant(
                referral, action=permissions.VIEW_EXEMPT, user=reviewer, reason="r", granted_by=manager
            )

    named(10)
    small = {"list": measure({"view": "all"})[0], "name": measure({"view": "all", "q": "smith"})[0]}
    named(120)
    listing, response = measure({"view": "all"})
    assert len(response.context["page"].rows) == 25
    assert listing == small["list"]
    searching, response = measure({"view": "all", "q": "smith"})
    assert searching == small["name"]
    assert response.context["page"].count == 130


def test_housekeeping_removes_expired_grants_with_history(closed_referral, manager, role_user):
    from referrals.tasks import delete_expired_grants

    reviewer = role_user(Role.REVIEWER, username="rev")
    services.referral_grant(
        granted_by=manager,
        referral_id=closed_referral.pk,
        user=reviewer,
        actions=[permissions.VIEW_EXEMPT],
        reason="Reviews the case for the panel",
        expires_on=timezone.localdate() + dt.timedelta(days=1),
    )
    assert delete_expired_grants() == 0
    with time_machine.travel(timezone.now() + dt.timedelta(days=2)):
        assert delete_expired_grants() == 1
    assert not ReferralUserGrant.objects.exists()
    assert ReferralUserGrant.history.filter(history_type="-", history_change_reason="Expired").count() == 1


def test_a_search_the_access_log_cannot_understand_finds_and_exports_nothing(client, role_user, practitioner):
    ig = role_user(Role.INFORMATION_GOVERNANCE, username="ig")
    referral = ReferralFactory(reference="MASH-2020-0888")
    AccessLogEntry.objects.create(
        user=practitioner,
        record_type="referrals.referral",
        record_id=referral.pk,
        record_label=referral.reference,
        channel="page",
    )
    sign_in_verified(client, ig)
    backwards = {"start": "2026-12-04", "end": "2026-01-01"}
    page = client.get(reverse("core:access_log"), backwards)
    assert page.status_code == 400
    assert "MASH-2020-0888" not in page.content.decode()
    export = client.get(reverse("core:access_log"), {**backwards, "format": "csv"})
    assert not export["Content-Type"].startswith("text/csv")
    assert "MASH-2020-0888" not in export.content.decode()
    events = client.get(reverse("core:security_events"), backwards)
    assert events.status_code == 400


def test_the_grants_page_has_one_form_with_a_remove_button_per_row(
    client, closed_referral, manager, role_user
):
    from core import permissions as core_permissions

    holders = [role_user(Role.REVIEWER, username=f"rev{n}") for n in range(12)]
    for holder in holders:
        core_permissions.grant(
            closed_referral,
            user=holder,
            action=core_permissions.VIEW_EXEMPT,
            granted_by=manager,
            reason="Case review for the panel",
            expires_at=timezone.now() + dt.timedelta(days=30),
        )
    sign_in_verified(client, manager)
    url = reverse("referrals:grants", args=[closed_referral.pk])
    page = client.get(url).content.decode()
    assert page.count('name="reason"') == 2  # the remove form's one reason and the give form's
    assert page.count('name="revoke"') >= 12
    row = ReferralUserGrant.objects.get(user=holders[3])
    response = client.post(url, {"revoke": f"user-{row.pk}", "reason": ""})
    assert response.status_code == 400
    assert "Enter why the grant is being removed" in response.content.decode()
    assert ReferralUserGrant.objects.filter(pk=row.pk).exists()
    response = client.post(url, {"revoke": f"user-{row.pk}", "reason": "The review is finished"})
    assert response.status_code == 302
    assert not ReferralUserGrant.objects.filter(pk=row.pk).exists()
    assert ReferralUserGrant.objects.filter(user__in=holders).count() == 11


def test_after_emergency_access_the_pages_say_when_it_ends(
    client, restricted_referral, manager, role_user, django_capture_on_commit_callbacks
):
    role_user(Role.INFORMATION_GOVERNANCE, username="ig", email="ig@council.example")
    sign_in_verified(client, manager)
    url = reverse("referrals:break_glass", args=[restricted_referral.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"reason": "Police called: child missing tonight"}, follow=True)
    page = response.content.decode()
    assert "Emergency access given until" in page
    assert "Your emergency access to this referral ends" in page
    grants = client.get(reverse("referrals:grants", args=[restricted_referral.pk])).content.decode()
    assert "Your emergency access to this referral ends" in grants
