"""Working-day arithmetic for statutory and local timescales.

Working days exclude Saturdays, Sundays and bank holidays in England and Wales. The
calendar comes from the ``holidays`` package (offline, substitute days included), never
from a hand-kept table.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
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


@dataclass(frozen=True)
class OpeningHours:
    """When the MASH is open: the RAG response clock runs only then (settings.MASH_OPENING_HOURS)."""

    opens: dt.time
    closes: dt.time
    days: frozenset[int]  # Monday is 0

    def describe(self) -> str:
        names = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
        days = sorted(self.days)
        if days == list(range(days[0], days[-1] + 1)) and len(days) > 2:
            span = f"{names[days[0]]} to {names[days[-1]]}"
        else:
            span = ", ".join(names[d] for d in days)
        return f"{span}, {clock(self.opens)} to {clock(self.closes)}, except bank holidays"


def clock(value: dt.time | dt.datetime) -> str:
    """9:00am, 5:30pm, midday, midnight: the GOV.UK style for times (of a time or a datetime)."""
    if isinstance(value, dt.datetime):
        value = value.time().replace(second=0, microsecond=0)
    if value == dt.time(12, 0):
        return "midday"
    if value == dt.time(0, 0):
        return "midnight"
    hour = value.hour % 12 or 12
    return f"{hour}:{value.minute:02d}{'am' if value.hour < 12 else 'pm'}"


def opening_hours() -> OpeningHours:
    config = settings.MASH_OPENING_HOURS
    return OpeningHours(
        opens=dt.time.fromisoformat(config["opens"]),
        closes=dt.time.fromisoformat(config["closes"]),
        days=frozenset(config["days"]),
    )


def _is_open_day(day: dt.date, hours: OpeningHours) -> bool:
    return day.weekday() in hours.days and day not in _calendar()


def next_opening(moment: dt.datetime) -> dt.datetime:
    """``moment`` itself if the MASH is open then, otherwise the next time it opens."""
    hours = opening_hours()
    zone = local_zone()
    current = moment.astimezone(zone)
    day = current.date()
    if _is_open_day(day, hours) and hours.opens <= current.time() < hours.closes:
        return current
    if _is_open_day(day, hours) and current.time() < hours.opens:
        return dt.datetime.combine(day, hours.opens, tzinfo=zone)
    day += dt.timedelta(days=1)
    while not _is_open_day(day, hours):
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, hours.opens, tzinfo=zone)


def add_opening_hours(start: dt.datetime, hours: int) -> dt.datetime:
    """The RAG response target: ``hours`` of the MASH's opening hours after ``start``.

    Out of hours the clock starts at the next opening; it stops at closing time and on
    days the MASH is shut (weekends and bank holidays by default). Red's 2 working hours
    from a referral received at 4:30pm on a Monday end at 10:30am on Tuesday.
    """
    if hours < 0:
        raise ValueError("hours must not be negative")
    schedule = opening_hours()
    zone = local_zone()
    current = next_opening(start)
    remaining = dt.timedelta(hours=hours)
    while True:
        closing = dt.datetime.combine(current.date(), schedule.closes, tzinfo=zone)
        available = closing - current
        if remaining <= available:
            return current + remaining
        remaining -= available
        current = next_opening(closing)


@dataclass(frozen=True)
class RagClock:
    """How a RAG response target was worked out, for the referral page."""

    received_at: dt.datetime
    started_at: dt.datetime
    hours: int
    due_at: dt.datetime
    opening: OpeningHours

    @property
    def started_late(self) -> bool:
        return self.started_at > self.received_at


def rag_clock(received_at: dt.datetime, hours: int) -> RagClock:
    return RagClock(
        received_at=received_at,
        started_at=next_opening(received_at),
        hours=hours,
        due_at=add_opening_hours(received_at, hours),
        opening=opening_hours(),
    )


def age_on(date_of_birth: dt.date, on: dt.date) -> int:
    """Age in whole years on a date."""
    before_birthday = (on.month, on.day) < (date_of_birth.month, date_of_birth.day)
    return on.year - date_of_birth.year - before_birthday
