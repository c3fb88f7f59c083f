"""The tray's child-name search (referrals.selectors.referral_search_filter).

Each word is a prefix of the child's first or last name; only referrals whose identities the
user may see are matched; the work is a fixed number of queries; and on PostgreSQL the
children and their referrals come from the covering indexes alone (docs/performance.md).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core import permissions
from core.roles import Role
from referrals.models import Referral, ReferralChild
from referrals.selectors import _identifiable_referrals_named, referral_search_filter
from tests.factories import ChildFactory, ReferralFactory
from tests.nplusone import set_up

pytestmark = pytest.mark.django_db


@set_up
def name(referral: Referral, label: str, first: str, last: str):
    child = referral.children.get(label=label).child
    child.first_name, child.last_name = first, last
    child.save()
    return child


def verified(user):
    user.is_verified = lambda: True
    return user


def found(user, term: str) -> set[str]:
    matches = Referral.objects.filter(referral_search_filter(user=user, term=term))
    return set(matches.values_list("reference", flat=True))


def test_each_word_is_a_prefix_of_the_first_or_the_last_name(practitioner):
    user = verified(practitioner)
    zelda = ReferralFactory(reference="MASH-2024-0001")
    uma = ReferralFactory(reference="MASH-2024-0002")
    other = ReferralFactory(reference="MASH-2024-0003")
    name(zelda, "A", "Zelda", "Uniquename")
    name(uma, "B", "Uma", "Zellweger")
    name(other, "A", "Zelda", "Otherly")

    assert found(user, "zel") == {zelda.reference, uma.reference, other.reference}
    assert found(user, "ZELDA") == {zelda.reference, other.reference}
    assert found(user, "zelda uniq") == {zelda.reference}
    assert found(user, "uniq zelda") == {zelda.reference}  # the order of the words does not matter
    assert found(user, "  uma   zellw ") == {uma.reference}
    assert found(user, "uma zelda") == set()  # every word must match the same child
    assert found(user, "elda") == set()  # a prefix, not anywhere in the name
    assert found(user, "nobody") == set()


def test_a_child_on_several_referrals_finds_each_once(practitioner):
    first = ReferralFactory()
    second = ReferralFactory()
    child = name(first, "A", "Sam", "Samson")  # both names start with the word
    ReferralChild.objects.create(referral=second, child=child, role=ReferralChild.Role.OTHER, label="C")

    ids = _identifiable_referrals_named(user=practitioner, words=["sam"])

    assert ids == sorted([first.pk, second.pk])


def test_only_referrals_the_user_may_identify_match(role_user, manager):
    reviewer = verified(role_user(Role.REVIEWER, username="rev"))
    granted, ungranted, expired = (ReferralFactory(status=Referral.Status.CLOSED) for _ in range(3))
    for referral in (granted, ungranted, expired):
        name(referral, "A", "Quinn", "Hollowmere")
    permissions.grant(
        granted, action=permissions.VIEW_EXEMPT, user=reviewer, reason="Review", granted_by=manager
    )
    permissions.grant(
        expired,
        action=permissions.VIEW_EXEMPT,
        user=reviewer,
        reason="Review",
        granted_by=manager,
        expires_at=timezone.now() - dt.timedelta(minutes=1),
    )
    # A grant to change is not a grant to see identities.
    permissions.grant(
        ungranted, action=permissions.CHANGE, user=reviewer, reason="Review", granted_by=manager
    )

    assert found(reviewer, "hollow") == {granted.reference}
    assert found(reviewer, "quinn holl") == {granted.reference}


def test_an_unverified_session_searches_references_only(practitioner):
    referral = ReferralFactory()
    name(referral, "A", "Zelda", "Uniquename")

    assert found(practitioner, "uniquename") == set()  # practitioner.is_verified is not set


def test_the_name_search_is_one_query_however_many_children_match(practitioner):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            _identifiable_referrals_named(user=practitioner, words=["hollow"])
        return len(captured.captured_queries)

    for _ in range(2):
        name(ReferralFactory(), "A", "Quinn", "Hollowmere")
    _identifiable_referrals_named(user=practitioner, words=["hollow"])  # content types cached
    few = queries()
    for _ in range(15):
        name(ReferralFactory(), "B", "Robin", "Hollowmere")
    assert len(_identifiable_referrals_named(user=practitioner, words=["hollow"])) == 17
    assert queries() == few == 1


@pytest.mark.postgres
def test_postgresql_finds_the_children_and_their_referrals_from_the_indexes_alone(practitioner):
    """Index-only scans of child_last_first_idx, child_first_last_idx (prefix LIKE through the
    pattern operator classes, further words checked on the index entry, the id included) and
    referral_child_by_child_idx. A small table would be read whole, so sequential and bitmap
    scans are switched off for this transaction: what is left shows which indexes can answer
    the query without visiting the tables."""
    for index in range(5):
        name(ReferralFactory(), "A", "Quinn", f"Hollowmere{index}")
    ChildFactory(first_name="Hollis", last_name="Quayle")
    with CaptureQueriesContext(connection) as captured:
        _identifiable_referrals_named(user=practitioner, words=["hollow", "qu"])
    sql = captured.captured_queries[-1]["sql"]
    assert '"referrals_child"' in sql

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute(f"EXPLAIN {sql}")
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "Index Only Scan using child_last_first_idx" in plan, plan
    assert "Index Only Scan using child_first_last_idx" in plan, plan
    assert "Index Only Scan using referral_child_by_child_idx" in plan, plan
    assert "Seq Scan on referrals_referralchild" not in plan, plan
    # The grant check reads the materialised links, not the link table again per child.
    assert "MATERIALIZED" in sql
    assert "CTE Scan on named_links" in plan, plan


def test_a_search_that_begins_too_many_names_says_the_list_may_be_incomplete(
    practitioner, client, monkeypatch
):
    from referrals import selectors
    from tests.conftest import sign_in_verified

    monkeypatch.setattr(selectors, "NAME_MATCH_CAP", 3)
    for number in range(5):
        name(ReferralFactory(), "A", f"Ashley{number}", "Brookfield")
    name(ReferralFactory(), "A", "Ashton", "Zephyrine")
    sign_in_verified(client, practitioner)
    warning = "may be missing referrals"

    broad = client.get("/referrals/", {"view": "all", "q": "ash"})
    narrow = client.get("/referrals/", {"view": "all", "q": "ash zeph"})
    reference = client.get("/referrals/", {"view": "all", "q": "MASH-20"})

    assert warning in broad.content.decode()
    assert "More than 3 children" in broad.content.decode()
    assert warning not in narrow.content.decode()
    assert [r.pk for r in narrow.context["page"].rows] == [
        Referral.objects.get(children__child__first_name="Ashton").pk
    ]
    assert warning not in reference.content.decode()
    assert selectors.name_search_capped(user=verified(practitioner), term="ash") is True
    assert selectors.name_search_capped(user=verified(practitioner), term="ashton") is False
    # Without a verified session names are not searched at all, so nothing is left out.
    practitioner.is_verified = lambda: False
    assert selectors.name_search_capped(user=practitioner, term="ash") is False
