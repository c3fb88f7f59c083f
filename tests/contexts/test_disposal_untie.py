"""Disposal unties a referral from every alert: its evidence rows and their history go, the
alert its save raised no longer names it, and each alert's history says a referral was
disposed of, without its reference."""

import datetime as dt

import pytest
from django.db import transaction

from contexts.models import Alert, AlertEvidence, PatternRule
from contexts.retention import DISPOSED
from contexts.services import patterns_check_referral
from core import retention
from tests.contexts.helpers import school_referral
from tests.factories import SchoolFactory
from tests.nplusone import unit_of_work

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
D = dt.date


@unit_of_work
def _dispose(made, user):
    reason = "Disposed of under the retention schedule (test)"
    with transaction.atomic():
        retention.erase_and_dispose("referral", record_id=made.pk, user=user, reason=reason)


def test_a_disposed_referral_is_in_no_alert_nor_its_history(manager):
    PatternRule.objects.exclude(kind=PatternRule.Kind.SCHOOL).update(active=False)
    school = SchoolFactory(name="Qzuntie School")
    made = [school_referral(school, d) for d in (D(2010, 3, 1), D(2010, 4, 1), D(2010, 5, 1))]
    patterns_check_referral(referral_id=made[2].pk)
    alert = Alert.objects.get()
    assert alert.raised_by_referral_id == made[2].pk
    _dispose(made[2], manager)
    assert not AlertEvidence.objects.filter(referral_id=made[2].pk).exists()
    assert not AlertEvidence.history.filter(referral_id=made[2].pk).exists()
    assert not Alert.objects.filter(raised_by_referral_id=made[2].pk).exists()
    assert not Alert.history.filter(raised_by_referral_id=made[2].pk).exists()
    latest = alert.history.order_by("-history_date", "-history_id").first()
    assert latest.history_change_reason == DISPOSED
    assert made[2].reference not in DISPOSED
    assert AlertEvidence.objects.filter(alert=alert).count() == 2  # the kept referrals stay
