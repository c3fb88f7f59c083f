"""The hostile walk's yardstick for "nothing changed" (tests/hostile/walk.py): it must see
every write that stays, and only those, whether or not it reads the checksums again."""

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction

from tests.hostile.walk import Yardstick, write_counts

pytestmark = pytest.mark.django_db


def test_no_write_no_change_and_the_counts_say_so():
    state = Yardstick()
    Group.objects.count()
    assert state.changed() == []
    assert state.writes is not None, "inside the test's transaction the writes are counted"


def test_a_write_that_stays_is_seen():
    state = Yardstick()
    Group.objects.create(name="Yardstick")
    assert state.changed() == ["auth_group"]


def test_an_update_to_the_same_table_is_seen():
    group = Group.objects.create(name="Before")
    state = Yardstick()
    Group.objects.filter(pk=group.pk).update(name="After")
    assert state.changed() == ["auth_group"]


def test_a_write_put_back_by_a_savepoint_is_no_change():
    Group.objects.create(name="Twice")
    state = Yardstick()
    with pytest.raises(IntegrityError), transaction.atomic():
        Group.objects.bulk_create([Group(name="Once more"), Group(name="Twice")])
    assert state.changed() == []
    Group.objects.create(name="After the savepoint")  # and later writes are still seen
    assert state.changed() == ["auth_group"]


def test_a_rolled_back_block_leaves_the_state_current():
    state = Yardstick()
    with state.rolled_back():
        Group.objects.create(name="Rolled back")
        assert state.changed() == ["auth_group"]
    assert state.changed() == []
    with state.rolled_back():
        assert state.changed() == []
    Group.objects.create(name="Kept")
    assert state.changed() == ["auth_group"]


def test_excluded_tables_are_not_counted():
    state = Yardstick(exclude={"auth_group"})
    Group.objects.create(name="Excluded")
    assert state.changed() == []
    assert write_counts(exclude={"auth_group"}) == state.writes


def test_refresh_reads_again_after_a_write():
    state = Yardstick()
    Group.objects.create(name="Between")
    state.refresh()
    assert state.changed() == []


def test_the_counts_see_a_write_without_reading_the_checksums(monkeypatch):
    """The shortcut itself: no write, no checksums read; a write, and they are."""
    from tests.hostile import walk

    state = Yardstick()
    reads = []
    monkeypatch.setattr(walk, "db_state", lambda **kw: reads.append(kw) or {})
    assert state.changed() == []
    assert reads == []
    Group.objects.create(name="Counted")
    state.changed()
    assert len(reads) == 1
