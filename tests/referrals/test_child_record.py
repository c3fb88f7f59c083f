"""The child record (issue 14): one page per child with every referral they appear in that the
viewer may know of, under the disclosure rules (issue 12); linked from the referral page and
the duplicate check; each read logged against the referrals it identifies."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from core import permissions
from core.models import AccessLogEntry
from core.roles import Role
from referrals import services
from referrals.models import Outcome, RagLevel, ReferralChild
from tests.conftest import sign_in_verified
from tests.factories import ChildFactory, ReferralFactory

pytestmark = pytest.mark.django_db


def _main(response) -> str:
    return re.search(r"<main.*?</main>", response.content.decode(), re.S).group(0)


def _child_in_three_referrals(practitioner, manager):
    """A child who is the victim in one live referral, the alleged perpetrator in another, and
    another child in a third that a manager restricted; and a fourth referral about others."""
    child = ChildFactory(first_name="Zara", last_name="Qzcnrychild")
    first = ReferralFactory(created_by=practitioner, reference="MASH-2019-0101")
    second = ReferralFactory(created_by=practitioner, reference="MASH-2020-0202")
    restricted = ReferralFactory(created_by=practitioner, reference="MASH-2021-0303")
    for referral, role, label in (
        (first, ReferralChild.Role.VICTIM, "C"),
        (second, ReferralChild.Role.ALLEGED_PERPETRATOR, "C"),
        (restricted, ReferralChild.Role.OTHER, "C"),
    ):
        ReferralChild.objects.create(referral=referral, child=child, role=role, label=label)
    services.referral_restrict(
        user=manager,
        referral_id=restricted.pk,
        expected_version=restricted.version,
        reason="The child's parent works in the MASH team",
    )
    unrelated = ReferralFactory(created_by=practitioner, reference="MASH-2022-0404")
    return child, first, second, restricted, unrelated


def test_the_mash_team_sees_every_referral_about_the_child_and_whom_to_ask_for_a_restricted_one(
    client, practitioner, manager
):
    child, first, second, restricted, unrelated = _child_in_three_referrals(practitioner, manager)
    sign_in_verified(client, practitioner)
    response = client.get(reverse("referrals:child", args=[child.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Zara Qzcnrychild" in page
    for referral in (first, second):
        assert reverse("referrals:detail", args=[referral.pk]) in page
    assert "Victim (Child C)" in page
    assert "Alleged perpetrator (Child C)" in page
    # The restricted one: its reference, date and form of abuse, who to ask; no link.
    assert restricted.reference in page
    assert reverse("referrals:detail", args=[restricted.pk]) not in page
    assert "Restricted" in page
    assert manager.get_full_name() in page or manager.get_username() in page
    assert unrelated.reference not in page
    # Of the restricted one, only what the rules allow: not the child's part in it, or age then.
    row = re.search(rf"<tr[^>]*>(?:(?!</tr>).)*{restricted.reference}.*?</tr>", page, re.S).group(0)
    assert "Other child involved" not in row
    assert "Child C" not in row
    assert "Not shown" in row


def test_each_read_is_logged_against_the_referrals_it_identifies(client, practitioner, manager):
    child, first, second, _restricted, _ = _child_in_three_referrals(practitioner, manager)
    sign_in_verified(client, practitioner)
    client.get(reverse("referrals:child", args=[child.pk]))
    rows = AccessLogEntry.objects.filter(user=practitioner, reason="Child record")
    assert {row.record_id for row in rows} == {first.pk, second.pk}
    for row in rows:
        assert {"Child.first_name", "Child.last_name", "Child.date_of_birth"} <= set(row.fields)
        assert row.channel == AccessLogEntry.Channel.PAGE


def test_someone_with_a_grant_on_one_referral_sees_only_that_one(client, practitioner, manager, role_user):
    child, first, second, restricted, _ = _child_in_three_referrals(practitioner, manager)
    reviewer = role_user(Role.REVIEWER, username="a-reviewer")
    permissions.grant(
        first,
        action=permissions.VIEW_EXEMPT,
        user=reviewer,
        reason="Assigned to the case review of 2019",
        granted_by=manager,
        expires_at=timezone.now() + dt.timedelta(days=5),
    )
    sign_in_verified(client, reviewer)
    page = client.get(reverse("referrals:child", args=[child.pk])).content.decode()
    assert first.reference in page
    assert second.reference not in page
    assert restricted.reference not in page  # only the MASH team is told of restricted ones
    assert "Restricted" not in page


@pytest.mark.parametrize(
    "role",
    [Role.REVIEWER, Role.LEAD_REVIEWER, Role.REPORT_OFFICER, Role.INFORMATION_GOVERNANCE, Role.ADMINISTRATOR],
)
def test_without_a_referral_to_identify_the_child_is_not_found(
    client, practitioner, manager, role_user, role
):
    child, *_ = _child_in_three_referrals(practitioner, manager)
    sign_in_verified(client, role_user(role, username=f"someone-{role.value}"))
    missing = client.get(reverse("referrals:child", args=[10**9]))
    response = client.get(reverse("referrals:child", args=[child.pk]))
    assert response.status_code == 404
    assert _main(response) == _main(missing)  # nothing says the child exists
    assert not AccessLogEntry.objects.filter(reason="Child record").exists()


def test_missing_and_out_of_reach_children_cost_the_same_one_query(client, practitioner, role_user):
    """No timing hint either: the 404 is decided by one query, the same whether the child exists."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    child = ReferralFactory(created_by=practitioner).children.get(label="A").child
    sign_in_verified(client, role_user(Role.REVIEWER, username="a-reviewer"))
    client.get(reverse("referrals:child", args=[10**9]))  # warm the session
    with CaptureQueriesContext(connection) as missing:
        assert client.get(reverse("referrals:child", args=[10**9])).status_code == 404
    with CaptureQueriesContext(connection) as hidden:
        assert client.get(reverse("referrals:child", args=[child.pk])).status_code == 404
    assert len(missing.captured_queries) == len(hidden.captured_queries)
    assert client.get(reverse("referrals:child", args=[2**63])).status_code == 404


def test_a_child_only_in_a_restricted_referral_is_not_found_by_the_team(client, practitioner, manager):
    referral = ReferralFactory(created_by=practitioner)
    services.referral_restrict(
        user=manager,
        referral_id=referral.pk,
        expected_version=referral.version,
        reason="The child's parent works in the MASH team",
    )
    child = referral.children.get(label="A").child
    sign_in_verified(client, practitioner)
    assert client.get(reverse("referrals:child", args=[child.pk])).status_code == 404


def test_the_referral_page_links_each_child_to_their_record(client, practitioner, manager):
    child, first, *_ = _child_in_three_referrals(practitioner, manager)
    sign_in_verified(client, practitioner)
    page = client.get(reverse("referrals:detail", args=[first.pk])).content.decode()
    assert reverse("referrals:child", args=[child.pk]) in page


def test_the_page_costs_the_same_queries_for_one_referral_or_many(
    client, practitioner, manager, django_assert_max_num_queries
):
    child, *_ = _child_in_three_referrals(practitioner, manager)
    sign_in_verified(client, practitioner)
    url = reverse("referrals:child", args=[child.pk])
    client.get(url)  # warm the session
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for number in range(6):
        extra = ReferralFactory(created_by=practitioner, reference=f"MASH-2023-05{number:02d}")
        ReferralChild.objects.create(referral=extra, child=child, role=ReferralChild.Role.VICTIM, label="C")
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert response.content.decode().count("MASH-2023-05") == 6
    assert len(many.captured_queries) == len(few.captured_queries)


def test_closed_referrals_stay_on_the_teams_history_check(client, practitioner, manager):
    child, first, *_ = _child_in_three_referrals(practitioner, manager)
    services.referral_start_screening(
        user=practitioner, referral_id=first.pk, expected_version=1, rag=RagLevel.objects.get(code="red")
    )
    services.referral_record_decision(
        user=practitioner,
        referral_id=first.pk,
        expected_version=2,
        decision=services.DecisionInput(outcomes=[Outcome.objects.get(code="police")], rationale="r"),
    )
    services.referral_close(user=practitioner, referral_id=first.pk, expected_version=3, reason="done")
    assert not permissions.has_grant(practitioner, first, permissions.CHANGE)
    sign_in_verified(client, practitioner)
    page = client.get(reverse("referrals:child", args=[child.pk])).content.decode()
    assert reverse("referrals:detail", args=[first.pk]) in page
