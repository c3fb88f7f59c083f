"""Issue 17 and the retention schedule: a place's key (exempt: what referrers wrote, normalised)
outlives no referral naming the place. The last one disposed of takes it from the context, and
from the context's history (contexts.retention, a core.retention eraser)."""

import datetime as dt

import pytest
from django.db import transaction

from contexts.models import Alert, Context, PatternRule
from contexts.services import patterns_check_all
from core import retention
from tests.contexts.helpers import VICTIM, referral
from tests.factories import ChildFactory
from tests.nplusone import unit_of_work

pytestmark = pytest.mark.django_db
D = dt.date


@unit_of_work
def _dispose(made, user):
    """As records.services does: every eraser of a referral, then the referral's own disposal."""
    reason = "Disposed of under the retention schedule (test)"
    with transaction.atomic():
        retention.erase_and_dispose("referral", record_id=made.pk, user=user, reason=reason)


def test_the_last_referral_naming_a_place_takes_its_key_when_disposed_of(manager, verified_client):
    PatternRule.objects.exclude(kind=PatternRule.Kind.PLACE).update(active=False)
    made = [
        referral(day, [(ChildFactory(), VICTIM)], place="Qzplace Yard")
        for day in (D(2010, 1, 1), D(2010, 2, 1), D(2010, 3, 1))
    ]
    # Much later, one more referral names the place (not in the alert: outside its window).
    later = referral(D(2016, 6, 1), [(ChildFactory(), VICTIM)], place="qzplace  yard")
    patterns_check_all()
    context = Context.objects.get()
    key = context.place_key
    assert key
    assert "qzplace" in key

    for gone in made:
        _dispose(gone, manager)
    context.refresh_from_db()
    assert context.place_key == key  # a kept referral still names the place
    assert context.place_key_erased_at is None

    _dispose(later, manager)
    context.refresh_from_db()
    assert context.place_key == ""
    assert context.place_key_erased_at is not None
    history = Context.history.model.objects.filter(id=context.pk)
    assert history.exists()
    assert not history.filter(place_key__icontains="qzplace").exists()
    # The alert is kept (nothing deletes an alert); no page shows it any more.
    assert Alert.objects.filter(context=context).exists()
    assert verified_client(manager).get(f"/contexts/{context.pk}/").status_code == 404


def test_a_place_named_again_after_its_key_went_opens_a_new_context(manager):
    PatternRule.objects.exclude(kind=PatternRule.Kind.PLACE).update(active=False)
    first = [
        referral(day, [(ChildFactory(), VICTIM)], place="Qzplace Lane")
        for day in (D(2010, 1, 1), D(2010, 2, 1), D(2010, 3, 1))
    ]
    patterns_check_all()
    for gone in first:
        _dispose(gone, manager)
    again = [
        referral(day, [(ChildFactory(), VICTIM)], place="Qzplace Lane")
        for day in (D(2024, 1, 1), D(2024, 2, 1), D(2024, 3, 1))
    ]
    patterns_check_all()
    old, new = Context.objects.order_by("id")
    assert old.place_key == ""
    assert new.place_key
    assert new.pk != old.pk
    assert set(Alert.objects.get(context=new).referrals.values_list("pk", flat=True)) == {r.pk for r in again}
