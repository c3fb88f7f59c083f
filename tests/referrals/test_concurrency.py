"""Concurrent edits on a real PostgreSQL: detected, never silently overwritten."""

from __future__ import annotations

import dataclasses
import threading

import pytest
from django.db import close_old_connections, connection

from core.roles import Role
from referrals import services
from referrals.models import Referral, ReferralDetail
from tests.referrals.helpers import referral_input, two_children

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _run_in_threads(count: int, target) -> list:
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int):
        try:
            barrier.wait(timeout=10)
            results[index] = target(index)
        except Exception as error:
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    close_old_connections()
    return results


def test_two_saves_of_the_same_version_one_wins_one_is_told(practitioner, manager):
    referral = services.referral_create(user=practitioner, data=referral_input(), children=two_children())
    users = [practitioner, manager]

    def save(index: int):
        return services.referral_update(
            user=users[index],
            referral_id=referral.pk,
            expected_version=1,
            data=referral_input(narrative=f"version from user {index}"),
        )

    results = _run_in_threads(2, save)
    wins = [r for r in results if isinstance(r, Referral)]
    conflicts = [r for r in results if isinstance(r, services.ReferralConflict)]
    assert len(wins) == 1, results
    assert len(conflicts) == 1, results
    referral.refresh_from_db()
    assert referral.version == 2
    assert ReferralDetail.objects.get(pk=referral.pk).narrative == wins[0].detail.narrative


def test_two_practitioners_saving_a_hundred_times_concurrently_lose_no_update(practitioner, role_user):
    """Two practitioners each save 100 times at once, re-reading after a conflict, as the page
    tells them: every one of the 200 saves is there, in each practitioner's order."""
    colleague = role_user(Role.MASH_PRACTITIONER, username="practitioner2")
    referral = services.referral_create(user=practitioner, data=referral_input(), children=two_children())
    users = [practitioner, colleague]
    per_user = 100

    def work(index: int) -> int:
        conflicts = 0
        saved = 0
        while saved < per_user:
            current = Referral.objects.select_related("detail").get(pk=referral.pk)
            lines = current.detail.narrative.splitlines()
            data = dataclasses.replace(
                referral_input(), narrative="\n".join([*lines, f"user{index}-save{saved}"])
            )
            try:
                services.referral_update(
                    user=users[index], referral_id=referral.pk, expected_version=current.version, data=data
                )
                saved += 1
            except services.ReferralConflict:
                conflicts += 1
        return conflicts

    results = _run_in_threads(2, work)
    assert all(isinstance(r, int) for r in results), results
    referral.refresh_from_db()
    assert referral.version == 1 + 2 * per_user
    lines = ReferralDetail.objects.get(pk=referral.pk).narrative.splitlines()
    for index in range(2):
        assert [line for line in lines if line.startswith(f"user{index}-")] == [
            f"user{index}-save{n}" for n in range(per_user)
        ]
    assert referral.history.count() == 1 + 2 * per_user
