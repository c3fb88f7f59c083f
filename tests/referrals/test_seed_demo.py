import datetime as dt

import pytest
from django.core.management import CommandError
from django.core.management import call_command as _call_command
from django.utils import timezone

from referrals.models import Child, Referral, ReferralChild, School
from referrals.selectors import referral_view
from tests.nplusone import set_up

# The demo seed builds its data referral by referral through the services, on purpose.
call_command = set_up(_call_command)

pytestmark = pytest.mark.django_db


def test_demo_data_shape_and_idempotence(settings, django_user_model, demo_data):
    """The shared seed (tests/support/demo.py: ``seed_demo`` run once for the run's demo tests)."""
    settings.DEBUG = True
    historic = Referral.objects.filter(received_at__date__lte=dt.date(2019, 11, 30))
    assert historic.count() == 320
    assert School.objects.count() == 60
    assert all("(demo)" in name for name in School.objects.values_list("name", flat=True))

    practitioner = django_user_model.objects.get(username="practitioner")
    same_school_sexual = 0
    for referral in historic.filter(is_peer_on_peer=True, forms_of_abuse__is_sexual=True).distinct():
        same_school_sexual += bool(referral_view(user=practitioner, pk=referral.pk).same_school)
    assert 28 <= same_school_sexual <= 40

    current = Referral.objects.filter(received_at__gt=timezone.now() - dt.timedelta(days=30))
    assert current.filter(status__in=Referral.OPEN_STATUSES, decision_due_at__lt=timezone.now()).exists()
    assert current.filter(status__in=Referral.OPEN_STATUSES, decision_due_at__gte=timezone.now()).exists()

    from reviews.models import Review
    from reviews.selectors import review_funnel

    funnel = review_funnel(review=Review.objects.get())
    assert funnel.received == 320
    assert 25 <= funnel.included <= funnel.candidates <= 40

    from modelguidance.models import Acknowledgement, ModelGuidanceVersion, SafeguardingLead
    from modelguidance.selectors import training_coverage

    statuses = list(ModelGuidanceVersion.objects.order_by("number").values_list("status", flat=True))
    assert statuses == ["superseded", "published", "draft"]
    assert SafeguardingLead.objects.filter(role="dsl").count() == 57
    coverage = training_coverage(on=timezone.localdate())
    assert coverage.total == 60
    assert 30 <= coverage.covered <= 50
    assert any(row.dsl is None for row in coverage.gaps)
    assert any(row.dsl and row.last_trained and not row.current for row in coverage.gaps)
    current = ModelGuidanceVersion.objects.get(status="published")
    acks = Acknowledgement.objects.filter(guidance_version=current)
    assert acks.count() == 57
    assert 0 < acks.filter(acknowledged_at__isnull=False).count() < 57

    # No demo account is a superuser; the administrator works with its role's permissions.
    assert not django_user_model.objects.filter(is_superuser=True).exists()
    assert list(django_user_model.objects.filter(is_staff=True).values_list("username", flat=True)) == [
        "admin"
    ]
    # One emergency access by the manager waits for information governance's review.
    from core.selectors import break_glass_queue

    queue = break_glass_queue()
    assert queue.awaiting_count == 1
    assert queue.awaiting[0].user.username == "manager"
    # A child is named as alleged perpetrator in a second, current referral: the child record
    # has a history to show.
    from django.db.models import Count

    repeated = (
        ReferralChild.objects.filter(role=ReferralChild.Role.ALLEGED_PERPETRATOR)
        .values("child_id")
        .annotate(referrals=Count("referral_id"))
        .filter(referrals__gte=2)
    )
    # Plus the two children of contextual safeguarding's group (devtools.demo.contexts), named
    # as alleged perpetrators in both of its referrals.
    assert repeated.count() == 3

    counts = (
        Referral.objects.count(),
        Child.objects.count(),
        ReferralChild.objects.count(),
        ModelGuidanceVersion.objects.count(),
        SafeguardingLead.objects.count(),
        Acknowledgement.objects.count(),
    )
    call_command("seed_demo")
    assert (
        Referral.objects.count(),
        Child.objects.count(),
        ReferralChild.objects.count(),
        ModelGuidanceVersion.objects.count(),
        SafeguardingLead.objects.count(),
        Acknowledgement.objects.count(),
    ) == counts


def test_demo_data_refuses_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="Demo data is for local use"):
        call_command("seed_demo")
