"""One date style for every page: ``{% load dates %}``.

``when``: a moment, with its weekday, in the service's time zone: "Wed 27 Dec 2017, 5:00pm";
noon is "midday" and 00:00 "midnight", never "12pm"/"12am".
``day``: a calendar date: "27 December 2017".
``due_day``: a date something is due on, with its weekday: "Wed 27 December 2017".
"""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.html import format_html

from core.timescales import clock

register = template.Library()


def format_when(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{local:%a} {local.day} {local:%b %Y}, {clock(local)}"


def format_day(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return f"{value.day} {value:%B %Y}"


def format_due_day(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return f"{value:%a} {format_day(value)}"


def format_when_compact(value: dt.datetime | None) -> str:
    """``when`` for narrow table cells: it may break between the date and the time only."""
    if value is None:
        return ""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return format_html(
        '<span class="app-nowrap">{} {} {},</span> <span class="app-nowrap">{}</span>',
        f"{local:%a}",
        local.day,
        f"{local:%b %Y}",
        clock(local),
    )


register.filter("when", format_when)
register.filter("when_compact", format_when_compact)
register.filter("day", format_day)
register.filter("due_day", format_due_day)
register.filter("clock", clock)
