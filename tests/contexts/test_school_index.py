"""The school index (contexts.school_index): the per-referral check of the school rules reads
the window's rows by school and date. What it holds must be what the referrals say, however
they came to say it: a save, a child's school corrected on another referral, the nightly
rebuild, the migration that made it, and a disposal."""

import datetime as dt
import importlib

import pytest
from django.apps import apps
from django.db import connection, transaction

from contexts import school_index
from contexts.models import Alert, PatternRule, SchoolReferral
from contexts.services import patterns_check_all, patterns_check_referral
from core import retention
from referrals import changes
from referrals.models import Child, Referral
from tests.contexts.helpers import ALLEGED, OTHER, VICTIM, at, pupils, referral
from tests.factories import ChildFactory, SchoolFactory
from tests.nplusone import unit_of_work

pytestmark = pytest.mark.django_db
D = dt.date
Kind = PatternRule.Kind


def _rows() -> set[tuple]:
    return set(SchoolReferral.objects.values_list("school_id", "referral_id", "received_at", "same_school"))


def _schools_of(made) -> set[int]:
    return set(SchoolReferral.objects.filter(referral=made).values_list("school_id", flat=True))


def test_a_row_for_each_school_a_victim_or_alleged_perpetrator_attends():
    first, second, third = SchoolFactory(), SchoolFactory(), SchoolFactory()
    victim, alleged = pupils(first)
    made = referral(
        D(2019, 1, 1),
        [
            (victim, VICTIM),
            (alleged, ALLEGED),
            (ChildFactory(school=second), OTHER),  # another child involved: not counted
            (ChildFactory(school=third), VICTIM),
            (ChildFactory(school=None), ALLEGED),
        ],
    )
    assert _rows() == {
        (first.pk, made.pk, made.received_at, True),
        (third.pk, made.pk, made.received_at, False),
    }


def test_the_nightly_rebuild_and_the_migration_write_what_the_checks_wrote():
    schools = [SchoolFactory() for _ in range(3)]
    for n in range(12):
        kids = [ChildFactory(school=schools[(n + k) % 3] if (n + k) % 4 else None) for k in range(3)]
        referral(
            D(2019, 1, 1) + dt.timedelta(days=40 * n),
            list(zip(kids, (VICTIM, ALLEGED, (OTHER, VICTIM)[n % 2]), strict=True)),
        )
    written = _rows()
    assert len(written) > 12
    # What the checks wrote is what the referrals say: the nightly run writes nothing.
    assert school_index.rebuild() == school_index.Rebuilt(added=0, removed=0)
    assert _rows() == written
    # A row the referrals no longer say goes, and one missing comes back.
    first = SchoolReferral.objects.order_by("pk").first()
    stray = SchoolReferral.objects.create(
        school=first.school, referral=first.referral, received_at=at(D(2001, 1, 1)), same_school=False
    )
    first.delete()
    assert school_index.rebuild() == school_index.Rebuilt(added=1, removed=1)
    assert _rows() == written
    assert not SchoolReferral.objects.filter(pk=stray.pk).exists()
    SchoolReferral.objects.all().delete()
    assert school_index.rebuild() == school_index.Rebuilt(added=len(written), removed=0)
    assert _rows() == written

    SchoolReferral.objects.all().delete()
    migration = importlib.import_module("contexts.migrations.0006_school_index")
    migration.populate(apps, _Editor())
    assert _rows() == written


class _Editor:
    """What the migration's function uses of a schema editor (SQLite's cannot be opened inside
    the test's transaction)."""

    @staticmethod
    def execute(sql, params=()):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def test_a_childs_school_corrected_on_one_referral_moves_the_other_referrals_rows():
    """A child's school is the child's, not one referral's: corrected while another referral
    was saved, the first referral's rows move with it, so its school is counted at the new
    school by the next check (and not at the old one)."""
    PatternRule.objects.exclude(kind=Kind.SCHOOL).update(active=False)
    PatternRule.objects.filter(kind=Kind.SCHOOL).update(threshold=2)
    old, new = SchoolFactory(), SchoolFactory()
    child = ChildFactory(school=old)
    earlier = referral(D(2019, 1, 1), [(child, ALLEGED)])
    Child.objects.filter(pk=child.pk).update(school=new)  # corrected on the next referral's form
    later = referral(D(2019, 3, 1), [(child, ALLEGED), (ChildFactory(school=new), VICTIM)])
    # The earlier referral's rows still say the old school, until the later referral's save
    # refreshes every referral sharing a child with it (in its transaction).
    assert _schools_of(earlier) == {old.pk}
    changes.referrals_saved(referral_ids=[later.pk])
    assert _schools_of(earlier) == {new.pk}
    patterns_check_referral(referral_id=later.pk)
    assert _schools_of(earlier) == {new.pk}
    alert = Alert.objects.get()
    assert alert.context.school_id == new.pk
    assert set(alert.referrals.values_list("pk", flat=True)) == {earlier.pk, later.pk}


def test_a_referral_received_on_another_day_is_read_at_its_new_date():
    PatternRule.objects.exclude(kind=Kind.SCHOOL).update(active=False)
    school = SchoolFactory()
    made = [
        referral(day, [(pupils(school, 1)[0], VICTIM)])
        for day in (D(2015, 1, 1), D(2019, 1, 1), D(2019, 2, 1))
    ]
    # The first was received years before; corrected, it is in the window of the other two.
    Referral.objects.filter(pk=made[0].pk).update(received_at=at(D(2019, 3, 1)))
    changes.referrals_saved(referral_ids=[made[0].pk])  # as the correction's save announces it
    patterns_check_referral(referral_id=made[0].pk)
    assert set(Alert.objects.get().referrals.values_list("pk", flat=True)) == {m.pk for m in made}


@unit_of_work
def _dispose(made, user):
    with transaction.atomic():
        retention.erase_and_dispose("referral", record_id=made.pk, user=user, reason="Disposed of (test)")


def test_a_disposed_referral_leaves_the_index_and_its_check_does_not_put_it_back(manager):
    """Which school a child attends is exempt: nothing may keep it once the referral goes."""
    school = SchoolFactory()
    victim, alleged = pupils(school)
    made = referral(D(2019, 1, 1), [(victim, VICTIM), (alleged, ALLEGED)])
    kept = referral(D(2019, 1, 2), [(pupils(school, 1)[0], VICTIM)])
    _dispose(made, manager)
    assert set(SchoolReferral.objects.values_list("referral_id", flat=True)) == {kept.pk}
    changes.referrals_saved(referral_ids=[made.pk])  # a save announced after all
    patterns_check_referral(referral_id=made.pk)
    assert set(SchoolReferral.objects.values_list("referral_id", flat=True)) == {kept.pk}
    school_index.rebuild()
    assert set(SchoolReferral.objects.values_list("referral_id", flat=True)) == {kept.pk}


def test_the_nightly_run_rebuilds_what_was_changed_another_way():
    school = SchoolFactory()
    made = referral(D(2019, 1, 1), [(pupils(school, 1)[0], VICTIM)])
    SchoolReferral.objects.all().delete()  # e.g. a bulk change that queued no check
    patterns_check_all()
    assert _rows() == {(school.pk, made.pk, made.received_at, False)}
