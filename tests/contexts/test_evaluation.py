"""The sliding window and the month arithmetic the rules share."""

import datetime as dt

from contexts.evaluation import Item, months_after, months_before, windows


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
