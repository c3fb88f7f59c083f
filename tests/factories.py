"""factory_boy factories with en_GB Faker. Names are prefixed so they read as test data."""

from __future__ import annotations

import datetime as dt

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone
from zeal import zeal_context

from core.timescales import decision_due_at
from referrals.models import (
    AbuseForm,
    Child,
    Referral,
    ReferralChild,
    ReferralDetail,
    ReferralSource,
    School,
)

factory.Faker._DEFAULT_LOCALE = "en_GB"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@council.example")
    password = factory.django.Password("a-long-test-password")


class SchoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = School

    urn = factory.Sequence(lambda n: f"{800000 + n}")
    name = factory.Sequence(lambda n: f"Test School {n}")
    phase = School.Phase.SECONDARY
    local_authority = "Testshire"


class ChildFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Child

    first_name = factory.Faker("first_name")
    last_name = factory.Sequence(lambda n: f"Testchild{n}")
    date_of_birth = dt.date(2005, 6, 1)
    gender = Child.Gender.FEMALE
    school = factory.SubFactory(SchoolFactory)
    year_group = "9"


class UnitFactory(factory.django.DjangoModelFactory):
    """Each factory call is its own unit for the N+1 detector (tests/nplusone.py): making ten
    referrals in a test is ten separate set-ups, not a page loading rows one by one."""

    class Meta:
        abstract = True

    @classmethod
    def _generate(cls, strategy, params):
        with zeal_context():
            return super()._generate(strategy, params)


class ReferralFactory(UnitFactory):
    """A referral row with its detail and a victim and alleged perpetrator (no services)."""

    class Meta:
        model = Referral
        skip_postgeneration_save = True

    reference = factory.Sequence(lambda n: f"MASH-2019-{n + 1:04d}")
    received_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(hours=3))
    source = factory.LazyFunction(lambda: ReferralSource.objects.get(code="school"))
    incident_date = factory.LazyAttribute(lambda r: timezone.localtime(r.received_at).date())
    location = Referral.Location.SCHOOL
    consent_sought = True
    decision_due_at = factory.LazyAttribute(lambda r: decision_due_at(r.received_at))
    created_by = factory.SubFactory(UserFactory)

    @factory.post_generation
    def with_children(self, create, extracted, **kwargs):
        if not create:
            return
        self.forms_of_abuse.set([AbuseForm.objects.get(code="sexual-assault")])
        ReferralDetail.objects.create(
            referral=self, referrer_name="Test Referrer", narrative="Test narrative", referrer_contact=""
        )
        if self.status != Referral.Status.CLOSED:
            from referrals.services import referral_grant_defaults

            referral_grant_defaults(self, user=self.created_by, acting=self.created_by)
        if extracted is False:
            return
        school = SchoolFactory()
        ReferralChild.objects.create(
            referral=self, child=ChildFactory(school=school), role=ReferralChild.Role.VICTIM, label="A"
        )
        ReferralChild.objects.create(
            referral=self,
            child=ChildFactory(school=school),
            role=ReferralChild.Role.ALLEGED_PERPETRATOR,
            label="B",
        )
