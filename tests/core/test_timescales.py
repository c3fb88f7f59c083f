import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from core.timescales import (
    add_opening_hours,
    add_working_days,
    age_on,
    decision_due_at,
    describe_opening_hours,
    explain_opening_hours_due,
    is_working_day,
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
        (at(2019, 3, 27, 10, 0), 2, at(2019, 3, 27, 12, 0)),  # within opening hours
        (at(2019, 3, 27, 21, 30), 2, at(2019, 3, 28, 11, 0)),  # red at 9:30pm: not 11:30pm
        (at(2019, 3, 27, 7, 45), 2, at(2019, 3, 27, 11, 0)),  # before opening: starts at 9:00
        (at(2019, 3, 27, 16, 0), 2, at(2019, 3, 28, 10, 0)),  # crosses closing: 1h + 1h
        (at(2019, 3, 29, 18, 10), 2, at(2019, 4, 1, 11, 0)),  # Friday evening -> Monday
        (at(2019, 3, 30, 10, 0), 6, at(2019, 4, 1, 15, 0)),  # Saturday: Monday at 9:00
        (at(2019, 3, 29, 16, 0), 24, at(2019, 4, 3, 16, 0)),  # 1h Fri, 8h Mon, 8h Tue, 7h Wed
        (at(2019, 4, 18, 16, 0), 6, at(2019, 4, 23, 14, 0)),  # Easter: Good Friday, Easter Monday
        (at(2019, 12, 24, 16, 30), 2, at(2019, 12, 27, 10, 30)),  # Christmas and Boxing Day
        (at(2019, 3, 27, 17, 0), 2, at(2019, 3, 28, 11, 0)),  # at closing time: next opening
    ],
)
def test_rag_clock_runs_in_opening_hours_only(start, hours, expected):
    assert add_opening_hours(start, hours) == expected


def test_opening_hours_are_configurable(settings):
    settings.MASH_OPENING_HOURS = {"weekdays": [0, 1, 2, 3, 4, 5], "opens": "08:00", "closes": "20:00"}
    assert add_opening_hours(at(2019, 3, 30, 19, 0), 2) == at(2019, 4, 1, 9, 0)  # Saturday open
    assert describe_opening_hours() == "Monday to Saturday, 8:00am to 8:00pm, except bank holidays"


def test_opening_hours_must_make_sense(settings):
    settings.MASH_OPENING_HOURS = {"opens": "17:00", "closes": "09:00"}
    with pytest.raises(ValueError, match="opens before it closes"):
        add_opening_hours(at(2019, 3, 27, 10, 0), 2)


def test_due_time_explained_out_of_hours():
    assert explain_opening_hours_due(at(2019, 3, 29, 18, 10), 2) == (
        "Received Fri 29 Mar 2019, 6:10pm, outside opening hours; the 2 working hours start "
        "Mon 1 Apr 2019, 9:00am and end Mon 1 Apr 2019, 11:00am. "
        "Working hours are Monday to Friday, 9:00am to 5:00pm, except bank holidays."
    )


def test_due_time_explained_in_hours():
    assert explain_opening_hours_due(at(2019, 3, 27, 10, 0), 2).startswith(
        "Received Wed 27 Mar 2019, 10:00am, within opening hours; the 2 working hours run from "
        "then and end Wed 27 Mar 2019, midday."
    )


def test_age_on_birthday_boundaries():
    assert age_on(dt.date(2005, 6, 1), dt.date(2019, 5, 31)) == 13
    assert age_on(dt.date(2005, 6, 1), dt.date(2019, 6, 1)) == 14
    assert age_on(dt.date(2004, 2, 29), dt.date(2019, 2, 28)) == 14
