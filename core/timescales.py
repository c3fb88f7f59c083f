"""Working-day arithmetic for statutory and local timescales.

Working days exclude Saturdays, Sundays and bank holidays in England and Wales. The
calendar comes from the ``holidays`` package (offline, substitute days included), never
from a hand-kept table.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from django.conf import settings


@lru_cache(maxsize=1)
def _calendar() -> holidays.HolidayBase:
    # England's calendar: Wales shares every bank holiday with it.
    return holidays.country_holidays("GB", subdiv="ENG")


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def is_working_day(day: dt.date) -> bool:
    return _calendar().is_working_day(day)


def add_working_days(day: dt.date, n: int) -> dt.date:
    """The n-th working day after ``day`` (``n`` >= 1)."""
    if n < 1:
        raise ValueError("n must be at least 1")
    return _calendar().get_nth_working_day(day, n)


def decision_due_at(received_at: dt.datetime, working_days: int = 1) -> dt.datetime:
    """When a decision on a referral is due: by the end of the given working day after receipt.

    Working Together 2018: a decision within one working day of receipt. A referral
    received on Friday is due by the end of Monday (Tuesday if Monday is a bank holiday).
    """
    local = received_at.astimezone(local_zone())
    due_day = add_working_days(local.date(), working_days)
    end_of_day = dt.datetime.combine(due_day, dt.time(23, 59, 59), tzinfo=local_zone())
    return end_of_day


def add_working_hours(start: dt.datetime, hours: int) -> dt.datetime:
    """Advance a clock that only runs on working days (local midnight to midnight).

    Used for local RAG response targets (e.g. green: 24 hours). Time on weekends and
    bank holidays does not count; a referral received on a Saturday starts its clock at
    midnight on the next working day.
    """
    zone = local_zone()
    current = start.astimezone(zone)
    remaining = dt.timedelta(hours=hours)
    while True:
        day = current.date()
        if not is_working_day(day):
            current = dt.datetime.combine(add_working_days(day, 1), dt.time(0), tzinfo=zone)
            continue
        next_midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
        available = next_midnight - current
        if remaining <= available:
            return current + remaining
        remaining -= available
        current = next_midnight


def age_on(date_of_birth: dt.date, on: dt.date) -> int:
    """Age in whole years on a date."""
    before_birthday = (on.month, on.day) < (date_of_birth.month, date_of_birth.day)
    return on.year - date_of_birth.year - before_birthday
