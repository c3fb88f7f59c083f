"""Working-day arithmetic for statutory and local timescales.

Working days exclude Saturdays, Sundays and bank holidays in England and Wales. RAG response
targets count only the MASH's opening hours (settings.MASH_OPENING_HOURS). The
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
    """When the MASH is open: weekdays (Monday is 0) and the hours it opens and closes."""

    weekdays: frozenset[int]
    opens: dt.time
    closes: dt.time

    def is_open_day(self, day: dt.date) -> bool:
        return day.weekday() in self.weekdays and day not in _calendar()


def opening_hours() -> OpeningHours:
    """The MASH's opening hours from settings.MASH_OPENING_HOURS (default Mon-Fri 9:00-17:00)."""
    conf = getattr(settings, "MASH_OPENING_HOURS", {}) or {}
    hours = OpeningHours(
        weekdays=frozenset(conf.get("weekdays", (0, 1, 2, 3, 4))),
        opens=dt.time.fromisoformat(conf.get("opens", "09:00")),
        closes=dt.time.fromisoformat(conf.get("closes", "17:00")),
    )
    if not hours.weekdays or hours.opens >= hours.closes:
        raise ValueError("MASH_OPENING_HOURS needs at least one weekday and opens before it closes")
    return hours


def clock_starts_at(received_at: dt.datetime, hours: OpeningHours | None = None) -> dt.datetime:
    """When a clock counted in opening hours starts: at once if the MASH is open, else at the
    next opening (a referral received on Friday evening starts on Monday at 9:00)."""
    hours = hours or opening_hours()
    zone = local_zone()
    current = received_at.astimezone(zone)
    day = current.date()
    while True:
        if hours.is_open_day(day):
            opens = dt.datetime.combine(day, hours.opens, tzinfo=zone)
            closes = dt.datetime.combine(day, hours.closes, tzinfo=zone)
            if current < opens:
                return opens
            if current < closes:
                return current
        day += dt.timedelta(days=1)
        current = dt.datetime.combine(day, dt.time(0), tzinfo=zone)


def add_opening_hours(
    start: dt.datetime, hours_to_add: float, hours: OpeningHours | None = None
) -> dt.datetime:
    """Advance a clock that runs only while the MASH is open (RAG response targets).

    Evenings, weekends and bank holidays do not count; out of hours the clock starts at the
    next opening; time left at closing carries over to the next opening.
    """
    hours = hours or opening_hours()
    zone = local_zone()
    current = clock_starts_at(start, hours)
    remaining = dt.timedelta(hours=hours_to_add)
    while True:
        closes = dt.datetime.combine(current.date(), hours.closes, tzinfo=zone)
        available = closes - current
        if remaining <= available:
            return current + remaining
        remaining -= available
        current = clock_starts_at(closes, hours)


_WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def describe_opening_hours(hours: OpeningHours | None = None) -> str:
    """Monday to Friday, 9:00am to 5:00pm, except bank holidays."""
    from core.templatetags.dates import clock

    hours = hours or opening_hours()
    days = sorted(hours.weekdays)
    if days == list(range(days[0], days[-1] + 1)) and len(days) > 2:
        span = f"{_WEEKDAYS[days[0]]} to {_WEEKDAYS[days[-1]]}"
    else:
        span = ", ".join(_WEEKDAYS[d] for d in days)
    return f"{span}, {clock(hours.opens)} to {clock(hours.closes)}, except bank holidays"


def explain_opening_hours_due(received_at: dt.datetime, hours_to_add: float) -> str:
    """How a due time counted in opening hours was worked out, as a sentence for the page."""
    from core.templatetags.dates import format_when

    hours = opening_hours()
    starts = clock_starts_at(received_at, hours)
    due = add_opening_hours(received_at, hours_to_add, hours)
    amount = f"{hours_to_add:g} working hour{'' if hours_to_add == 1 else 's'}"
    if starts == received_at:
        opening = f"Received {format_when(received_at)}, within opening hours; the {amount} run from then"
    else:
        opening = (
            f"Received {format_when(received_at)}, outside opening hours; "
            f"the {amount} start {format_when(starts)}"
        )
    return f"{opening} and end {format_when(due)}. Working hours are {describe_opening_hours(hours)}."


def age_on(date_of_birth: dt.date, on: dt.date) -> int:
    """Age in whole years on a date."""
    before_birthday = (on.month, on.day) < (date_of_birth.month, date_of_birth.day)
    return on.year - date_of_birth.year - before_birthday
