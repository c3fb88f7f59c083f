"""Referrals taken through screening to a decision."""

from django.utils import timezone

from referrals import services
from referrals.models import (
    AbuseForm,
    Outcome,
    RagLevel,
)
from tests.nplusone import unit_of_work
from tests.referrals.helpers import referral_input, two_children


def outcomes(*codes):
    return list(Outcome.objects.filter(code__in=codes))


@unit_of_work
def screened(user, form="sexual-assault", received_at=None):
    changes = {"forms_of_abuse": [AbuseForm.objects.get(code=form)]}
    if received_at is not None:
        changes |= {"received_at": received_at, "incident_date": timezone.localtime(received_at).date()}
    referral = services.referral_create(user=user, data=referral_input(**changes), children=two_children())
    return services.referral_start_screening(
        user=user, referral_id=referral.pk, expected_version=1, rag=RagLevel.objects.get(code="red")
    )


@unit_of_work
def decide(user, referral, *codes, expected_version=None, **changes):
    referral.refresh_from_db()
    return services.referral_record_decision(
        user=user,
        referral_id=referral.pk,
        expected_version=expected_version or referral.version,
        decision=services.DecisionInput(
            outcomes=outcomes(*codes), rationale=changes.pop("rationale", "r"), **changes
        ),
    )
