import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from core.timescales import (
    add_opening_hours,
    add_working_days,
    age_on,
    clock,
    decision_due_at,
    is_working_day,
    next_opening,
    rag_clock,
)

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
        # Wednesday 27 March 2019, open: red's 2 hours run within the day.
        (at(2019, 3, 27, 10, 0), 2, at(2019, 3, 27, 12, 0)),
        # Close at 5pm stops the clock: 4:30pm + 2 hours is 10:30am the next morning.
        (at(2019, 3, 27, 16, 30), 2, at(2019, 3, 28, 10, 30)),
        # Evening (the bug: red once came due at 11:30pm): the clock starts at 9am.
        (at(2019, 3, 27, 21, 30), 2, at(2019, 3, 28, 11, 0)),
        # Before opening on a working day: starts at 9am that day.
        (at(2019, 3, 27, 7, 15), 6, at(2019, 3, 27, 15, 0)),
        # Friday 4pm: an hour on Friday, the weekend shut, the rest on Monday.
        (at(2019, 3, 29, 16, 0), 2, at(2019, 4, 1, 10, 0)),
        # Saturday: the clock starts on Monday at 9am; green's 24 hours are three days.
        (at(2019, 3, 30, 10, 0), 24, at(2019, 4, 3, 17, 0)),
        # Thursday 18 April 2019 at 8pm: Good Friday and Easter Monday are shut.
        (at(2019, 4, 18, 20, 0), 6, at(2019, 4, 23, 15, 0)),
        # Exactly at closing time counts as closed.
        (at(2019, 3, 27, 17, 0), 2, at(2019, 3, 28, 11, 0)),
    ],
)
def test_rag_clock_runs_only_in_opening_hours(start, hours, expected):
    assert add_opening_hours(start, hours) == expected


def test_opening_hours_come_from_settings(settings):
    settings.MASH_OPENING_HOURS = {"opens": "08:00", "closes": "20:00", "days": [0, 1, 2, 3, 4, 5]}
    # Saturday 30 March 2019 is open in this MASH.
    assert add_opening_hours(at(2019, 3, 30, 19, 0), 2) == at(2019, 4, 1, 9, 0)
    assert next_opening(at(2019, 3, 31, 12, 0)) == at(2019, 4, 1, 8, 0)


def test_the_referral_page_can_say_how_the_target_was_worked_out():
    worked = rag_clock(at(2019, 3, 29, 18, 10), 2)
    assert worked.started_late
    assert worked.started_at == at(2019, 4, 1, 9, 0)
    assert worked.due_at == at(2019, 4, 1, 11, 0)
    assert worked.opening.describe() == "Monday to Friday, 9:00am to 5:00pm, except bank holidays"
    assert not rag_clock(at(2019, 4, 1, 10, 0), 2).started_late


def test_times_are_written_the_gov_uk_way():
    assert clock(dt.time(12, 0)) == "midday"
    assert clock(dt.time(0, 0)) == "midnight"
    assert clock(dt.time(17, 0)) == "5:00pm"
    assert clock(dt.time(9, 5)) == "9:05am"


def test_age_on_birthday_boundaries():
    assert age_on(dt.date(2005, 6, 1), dt.date(2019, 5, 31)) == 13
    assert age_on(dt.date(2005, 6, 1), dt.date(2019, 6, 1)) == 14
    assert age_on(dt.date(2004, 2, 29), dt.date(2019, 2, 28)) == 14
