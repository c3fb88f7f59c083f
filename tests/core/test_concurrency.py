"""core.concurrency: the one version check every editable record's service uses."""

from __future__ import annotations

import pytest
from django.db import transaction

from core.concurrency import Conflict, lock_for_change
from modelguidance.services import GuidanceConflict
from referrals.models import Referral
from referrals.services import ReferralConflict
from scrutiny import services as scrutiny_services
from tests.factories import ReferralFactory

pytestmark = pytest.mark.django_db


def test_the_current_version_is_locked_and_returned():
    referral = ReferralFactory()
    with transaction.atomic():
        assert lock_for_change(Referral, referral.pk, referral.version) == referral


def test_no_expected_version_checks_nothing_and_a_queryset_narrows_the_lock():
    referral = ReferralFactory()
    Referral.objects.filter(pk=referral.pk).update(version=referral.version + 5)
    with transaction.atomic():
        assert lock_for_change(Referral.objects.filter(status=referral.status), referral.pk, None) == referral


def test_an_old_version_is_refused_with_the_record_and_the_version_the_user_had():
    referral = ReferralFactory()
    Referral.objects.filter(pk=referral.pk).update(version=referral.version + 1)
    with transaction.atomic(), pytest.raises(Conflict) as caught:
        lock_for_change(Referral, referral.pk, referral.version)
    assert caught.value.record.pk == referral.pk
    assert caught.value.expected_version == referral.version


def test_an_app_raises_its_own_conflict_with_its_own_message():
    referral = ReferralFactory()
    Referral.objects.filter(pk=referral.pk).update(version=referral.version + 1)
    with transaction.atomic(), pytest.raises(ReferralConflict) as caught:
        lock_for_change(Referral, referral.pk, referral.version, conflict=ReferralConflict)
    assert caught.value.referral.pk == referral.pk
    assert referral.reference in str(caught.value)


def test_every_app_raises_the_one_conflict():
    # The views of each app catch their own name; anything may catch them all as Conflict.
    assert issubclass(ReferralConflict, Conflict)
    assert issubclass(GuidanceConflict, Conflict)
    assert scrutiny_services.Conflict is Conflict
