"""Two disposals of the last two referrals naming a place, at once: the place's context row is
locked before either asks whether another referral still names the place, so the second waits
for the first to commit, sees it disposed of, and erases the key (neither may skip it)."""

import datetime as dt
import threading

import pytest
from django.db import transaction

from contexts.models import Context, PatternRule
from contexts.services import patterns_check_all
from core import retention
from tests.contexts.helpers import VICTIM, referral
from tests.factories import ChildFactory
from tests.support.threads import side_by_side

D = dt.date
REASON = "Disposed of under the retention schedule (race test)"


def _dispose_in(made, user):
    retention.erase_and_dispose("referral", record_id=made.pk, user=user, reason=REASON)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_disposals_of_the_last_referrals_naming_a_place_erase_its_key(manager):
    PatternRule.objects.exclude(kind=PatternRule.Kind.PLACE).update(active=False)
    made = [
        referral(day, [(ChildFactory(), VICTIM)], place="Qzrace Yard")
        for day in (D(2010, 1, 1), D(2010, 2, 1), D(2010, 3, 1))
    ]
    patterns_check_all()
    with transaction.atomic():
        _dispose_in(made[0], manager)
    assert Context.objects.get().place_key  # two referrals still name it

    first_done = threading.Event()

    def first():
        try:
            with transaction.atomic():
                _dispose_in(made[1], manager)
                first_done.set()
                threading.Event().wait(0.7)  # the second is now waiting on the context's lock
        finally:
            first_done.set()

    def second():
        first_done.wait(timeout=10)
        with transaction.atomic():
            _dispose_in(made[2], manager)

    errors = side_by_side(first, second)
    assert not errors, errors
    context = Context.objects.get()
    assert context.place_key == ""
    assert context.place_key_erased_at is not None
    assert not Context.history.filter(place_key__icontains="qzrace").exists()
