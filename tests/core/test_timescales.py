import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from core.timescales import add_working_days, add_working_hours, age_on, decision_due_at, is_working_day

LONDON = ZoneInfo("Europe/London")


def at(*args):
    return dt.datetime(*args, tzinfo=LONDON)


@pytest.mark.parametrize(
    ("received", "due_day"),
    [
        (at(2019, 3, 27, 14, 30), dt.date(2019, 3, 28)),  # ordinary Wednesday
        (at(2019, 3, 29, 9, 0), dt.date(2019, 4, 1)),  # Friday -> Monday
        (at(2019, 3, 30, 11, 0), dt.date(2019, 4, 1)),  # received on a Saturday
        (at(2019, 12, 24, 16, 0), dt.date(2019, 12, 27)),  # Christmas Eve -> after Boxing Day
        (at(2019, 12, 20, 16, 0), dt.date(2019, 12, 23)),
        (at(2021, 12, 24, 10, 0), dt.date(2021, 12, 29)),  # Christmas on a weekend: substitute days
        (at(2019, 4, 18, 10, 0), dt.date(2019, 4, 23)),  # Maundy Thursday -> after Easter Monday
        (at(2016, 12, 30, 10, 0), dt.date(2017, 1, 3)),  # New Year's Day substitute, 2 Jan 2017
        (at(2020, 5, 7, 10, 0), dt.date(2020, 5, 11)),  # VE Day bank holiday moved to Friday 8 May 2020
    ],
)
def test_decision_due_by_end_of_next_working_day(received, due_day):
    due = decision_due_at(received)
    assert due.date() == due_day
    assert (due.hour, due.minute) == (23, 59)


def test_bank_holidays_are_not_working_days():
    assert not is_working_day(dt.date(2019, 4, 19))  # Good Friday
    assert not is_working_day(dt.date(2019, 4, 22))  # Easter Monday
    assert not is_working_day(dt.date(2017, 1, 2))  # substitute for New Year's Day
    assert is_working_day(dt.date(2019, 4, 23))


def test_add_working_days_counts_only_working_days():
    # 45 working days from 2 Dec 2019 skips Christmas, Boxing Day and New Year's Day.
    assert add_working_days(dt.date(2019, 12, 2), 45) == dt.date(2020, 2, 6)
    with pytest.raises(ValueError, match="at least 1"):
        add_working_days(dt.date(2019, 12, 2), 0)


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        (at(2019, 3, 27, 10, 0), 2, at(2019, 3, 27, 12, 0)),
        (at(2019, 3, 29, 16, 0), 24, at(2019, 4, 1, 16, 0)),  # Friday: the weekend does not count
        (at(2019, 3, 29, 23, 0), 2, at(2019, 4, 1, 1, 0)),
        (at(2019, 3, 30, 10, 0), 24, at(2019, 4, 2, 0, 0)),  # Saturday: clock starts on Monday
        (at(2019, 4, 18, 20, 0), 6, at(2019, 4, 23, 2, 0)),  # Easter weekend skipped
    ],
)
def test_rag_clock_runs_on_working_days_only(start, hours, expected):
    assert add_working_hours(start, hours) == expected


def test_age_on_birthday_boundaries():
    assert age_on(dt.date(2005, 6, 1), dt.date(2019, 5, 31)) == 13
    assert age_on(dt.date(2005, 6, 1), dt.date(2019, 6, 1)) == 14
    assert age_on(dt.date(2004, 2, 29), dt.date(2019, 2, 28)) == 14
