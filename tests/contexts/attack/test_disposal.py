"""Attack on issue 17: a disposed referral stays tied to its school in the alert and context."""

import datetime as dt

import pytest
from django.db import transaction

from contexts.models import Alert, PatternRule
from contexts.services import patterns_check_all
from tests.contexts.helpers import school_referral
from tests.factories import SchoolFactory
from tests.nplusone import unit_of_work

pytestmark = pytest.mark.django_db
D = dt.date


def test_a_disposed_referral_is_no_longer_listed_under_its_school(manager, verified_client):
    """MEDIUM (retention). Disposal removes the children (and so which school they attended),
    but the school alert and context keep listing the disposed referral's reference under the
    school's name, and a disposed referral's alert stays open for action."""
    from referrals.retention import referral_dispose

    PatternRule.objects.exclude(kind=PatternRule.Kind.SCHOOL).update(active=False)
    school = SchoolFactory(name="Gone Academy")
    made = [school_referral(school, day) for day in (D(2010, 3, 1), D(2010, 4, 1), D(2010, 5, 1))]
    patterns_check_all()
    alert = Alert.objects.get()

    @unit_of_work
    def dispose(pk):
        with transaction.atomic():
            referral_dispose(record_id=pk, user=manager, reason="Retention period over")

    for r in made:
        dispose(r.pk)
    html = verified_client(manager).get(f"/contexts/{alert.context_id}/").content.decode()
    assert not ("Gone Academy" in html and made[0].reference in html)
