"""The sliding window and the month arithmetic the rules share."""

import datetime as dt
import random

import pytest

from contexts.evaluation import ALLEGED, VICTIM, Item, Threshold, months_after, months_before, windows


def test_months_before_keeps_the_day_or_takes_the_months_last():
    assert months_before(dt.date(2019, 3, 15), 12) == dt.date(2018, 3, 15)
    assert months_before(dt.date(2019, 3, 31), 1) == dt.date(2019, 2, 28)
    assert months_before(dt.date(2020, 3, 31), 1) == dt.date(2020, 2, 29)
    assert months_before(dt.date(2019, 1, 10), 1) == dt.date(2018, 12, 10)
    assert months_after(dt.date(2019, 12, 10), 1) == dt.date(2020, 1, 10)


def _count(n):
    return lambda window: len(window) >= n


def test_a_window_of_twelve_months_includes_the_same_day_a_year_before():
    items = [Item(dt.date(2018, 3, 1), 1), Item(dt.date(2018, 9, 1), 2), Item(dt.date(2019, 3, 1), 3)]
    assert windows(items, months=12, qualifies=_count(3)) == [frozenset({1, 2, 3})]


def test_a_day_more_than_the_window_is_no_pattern():
    items = [Item(dt.date(2018, 3, 1), 1), Item(dt.date(2018, 9, 1), 2), Item(dt.date(2019, 3, 2), 3)]
    assert windows(items, months=12, qualifies=_count(3)) == []


def test_overlapping_windows_make_one_pattern_and_separate_ones_two():
    items = [Item(dt.date(2017, 1, d), d) for d in (1, 2, 3, 4)] + [
        Item(dt.date(2019, 6, d), 10 + d) for d in (1, 2, 3)
    ]
    found = windows(items, months=12, qualifies=_count(3))
    assert found == [frozenset({1, 2, 3, 4}), frozenset({11, 12, 13})]


def test_items_in_any_order():
    items = [Item(dt.date(2018, 9, 1), 2), Item(dt.date(2019, 3, 1), 3), Item(dt.date(2018, 3, 1), 1)]
    assert windows(items, months=12, qualifies=_count(3)) == [frozenset({1, 2, 3})]


def _windows_as_first_written(items, *, months, qualifies):
    """The sliding window as it was first written (a set of each window's referrals): what
    :func:`windows` must still answer, however it counts."""
    items = sorted(items, key=lambda i: (i.on, i.referral_id))
    found = []
    start = 0
    for end, last in enumerate(items):
        earliest = months_before(last.on, months)
        while items[start].on < earliest:
            start += 1
        window = items[start : end + 1]
        if not qualifies(window):
            continue
        ids = {i.referral_id for i in window}
        if found and found[-1] & ids:
            found[-1] |= ids
        else:
            found.append(ids)
    return [frozenset(ids) for ids in found]


@pytest.mark.parametrize("seed", range(40))
def test_the_running_counts_find_what_a_set_of_each_window_finds(seed):
    """Random subjects (a referral's items share its day, some name the subject twice, some as
    alleged perpetrator), every threshold and window: the same patterns, in the same order."""
    rnd = random.Random(seed)
    start = dt.date(2018, 1, 1)
    items = []
    for referral_id in rnd.sample(range(1, 1000), rnd.randint(0, 60)):
        on = start + dt.timedelta(days=rnd.randint(0, 3 * 365))
        for _ in range(rnd.choice((1, 1, 1, 2))):
            items.append(Item(on, referral_id, rnd.choice((VICTIM, ALLEGED, "other"))))
    rnd.shuffle(items)
    for months in (1, 3, 12, 24):
        for referrals in (1, 2, 3, 5):
            for alleged in (False, True):
                rule = Threshold(referrals, alleged=alleged)
                expected = _windows_as_first_written(items, months=months, qualifies=rule)
                assert windows(items, months=months, qualifies=rule) == expected
                plain = _windows_as_first_written(items, months=months, qualifies=_count(referrals))
                assert windows(items, months=months, qualifies=_count(referrals)) == plain


def test_a_referral_on_two_days_is_still_one_referral():
    """Hand-made items naming one referral on two days (the rules never make them) are counted
    as before."""
    items = [Item(dt.date(2018, 1, d), r) for d, r in ((1, 1), (2, 2), (3, 1), (4, 3))]
    expected = _windows_as_first_written(items, months=1, qualifies=Threshold(3))
    assert windows(items, months=1, qualifies=Threshold(3)) == expected == [frozenset({1, 2, 3})]
