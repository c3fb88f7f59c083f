"""Query counts that do not grow with the data: every list, search and detail page.

Each page is requested with 3 referrals in the service (the one looked at has 1 note, 1 grant
holder and 1 access-log entry), then again once there are 30 (10 notes, 10 holders, 10 more
access-log entries). The page must use exactly the same number of queries both times. A
warm-up request before each count keeps one-off caches (content types) out of it.

django-zeal (tests/nplusone.py) is on here as everywhere, so a row-by-row relation load
would also raise.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core import permissions
from core.roles import Role
from referrals import services
from tests.conftest import sign_in_verified
from tests.factories import ReferralFactory
from tests.nplusone import set_up

pytestmark = pytest.mark.django_db

SMALL, LARGE = 3, 30


@set_up
def grow(*, watched, to: int, practitioner, manager, reader_clients) -> None:
    """Referrals up to ``to``; notes, grant holders and logged reads on the watched one."""
    from referrals.models import Referral

    for _ in range(to - Referral.objects.count()):
        ReferralFactory()
    notes = watched.notes.count()
    for index in range(to // 3 - notes):
        services.case_note_add(
            user=practitioner, referral_id=watched.pk, occurred_on=timezone.localdate(), text=f"Note {index}"
        )
    for index in range(to // 3 - permissions.grants_on(watched).__len__()):
        from tests.factories import UserFactory

        permissions.grant(
            watched,
            action=permissions.VIEW_EXEMPT,
            user=UserFactory(username=f"holder-{to}-{index}"),
            reason="Query-count test",
            granted_by=manager,
        )
    for client in reader_clients:  # each opening of the page logs one read
        client.get(reverse("referrals:detail", args=[watched.pk]))


def page_urls(watched) -> dict[str, tuple[str, dict]]:
    tray = reverse("referrals:tray")
    return {
        "tray (awaiting)": (tray, {}),
        "tray (all)": (tray, {"view": "all"}),
        "tray search by reference": (tray, {"view": "all", "q": "MASH-2019"}),
        "tray search by name": (tray, {"view": "all", "q": "smi"}),
        "tray export (CSV)": (reverse("referrals:export"), {"view": "all"}),
        "referral": (reverse("referrals:detail", args=[watched.pk]), {}),
        "referral history": (reverse("referrals:history", args=[watched.pk]), {}),
        "referral grants": (reverse("referrals:grants", args=[watched.pk]), {}),
        "referral access log": (reverse("referrals:access_log", args=[watched.pk]), {}),
        "referral notes": (reverse("referrals:add_note", args=[watched.pk]), {}),
        "reviews list": (reverse("reviews:list"), {}),
        "guidance timeline": (reverse("guidance:timeline"), {}),
    }


def count(client: Client, url: str, params: dict) -> int:
    client.get(url, params)  # warm-up
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200, (url, response.status_code)
    return len(queries.captured_queries)


def test_list_search_and_detail_pages_use_the_same_queries_at_3_and_30_records(role_user):
    practitioner = role_user(Role.MASH_PRACTITIONER, username="practitioner")
    manager = role_user(Role.MASH_MANAGER, username="manager")
    infogov = role_user(Role.INFORMATION_GOVERNANCE, username="infogov")
    watched = ReferralFactory()
    for user in (practitioner, manager):
        for action in (permissions.VIEW_EXEMPT, permissions.CHANGE):
            permissions.grant(watched, action=action, user=user, reason="Works the case", granted_by=manager)
    manager_client = sign_in_verified(Client(), manager)
    infogov_client = sign_in_verified(Client(), infogov)
    readers = [sign_in_verified(Client(), practitioner)]
    context = {"watched": watched, "practitioner": practitioner, "manager": manager}

    grow(to=SMALL, reader_clients=readers, **context)
    pages = page_urls(watched)
    access_log = (reverse("core:access_log"), {})
    small = {name: count(manager_client, url, params) for name, (url, params) in pages.items()}
    small["information governance access log"] = count(infogov_client, *access_log)

    grow(to=LARGE, reader_clients=readers * (LARGE // 3), **context)
    large = {name: count(manager_client, url, params) for name, (url, params) in pages.items()}
    large["information governance access log"] = count(infogov_client, *access_log)

    assert watched.notes.count() == LARGE // 3
    grown = {name: (small[name], large[name]) for name in small if small[name] != large[name]}
    assert not grown, f"query counts that grow with the data (3 records, 30 records): {grown}"
