"""The demo data raises at least one alert of every rule; the 2017-2019 same-school cases raise
school alerts."""

import datetime as dt

import pytest
from django.core.management import call_command as _call_command

from contexts.models import Alert, AlertEvidence, Context, PatternRule
from tests.nplusone import set_up

call_command = set_up(_call_command)

pytestmark = pytest.mark.django_db


def test_the_demo_raises_an_alert_of_every_rule(demo_data, settings):
    raised = set(Alert.objects.values_list("rule__kind", flat=True))
    assert raised == set(PatternRule.Kind.values)
    historic = AlertEvidence.objects.filter(
        referral__received_at__date__gte=dt.date(2017, 1, 1),
        referral__received_at__date__lte=dt.date(2019, 11, 30),
    )
    for kind in (PatternRule.Kind.SAME_SCHOOL, PatternRule.Kind.SCHOOL):
        assert historic.filter(alert__rule__kind=kind).exists(), kind
    assert Context.objects.filter(kind=Context.Kind.PLACE).count() == 1

    # A second run of the seed raises nothing more.
    settings.DEBUG = True
    before = Alert.objects.count(), AlertEvidence.objects.count()
    call_command("seed_demo", verbosity=0)
    assert (Alert.objects.count(), AlertEvidence.objects.count()) == before
