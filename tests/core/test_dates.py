import datetime as dt
from zoneinfo import ZoneInfo

from django.template import Context, Template

from core.templatetags.dates import clock, format_day, format_due_day, format_when

LONDON = ZoneInfo("Europe/London")


def test_when_writes_weekday_short_month_and_clock():
    assert format_when(dt.datetime(2017, 12, 27, 17, 0, tzinfo=LONDON)) == "Wed 27 Dec 2017, 5:00pm"


def test_when_is_local_time_in_summer():
    # 16:30 UTC is 5:30pm in London in British Summer Time.
    assert format_when(dt.datetime(2024, 7, 1, 16, 30, tzinfo=dt.UTC)) == "Mon 1 Jul 2024, 5:30pm"


def test_noon_is_midday_and_zero_hour_is_midnight():
    assert format_when(dt.datetime(2024, 3, 1, 12, 0, tzinfo=LONDON)) == "Fri 1 Mar 2024, midday"
    assert format_when(dt.datetime(2024, 3, 1, 0, 0, tzinfo=LONDON)) == "Fri 1 Mar 2024, midnight"
    assert clock(dt.time(12, 30)) == "12:30pm"
    assert clock(dt.time(0, 5)) == "12:05am"
    assert clock(dt.time(9, 0)) == "9:00am"


def test_day_and_due_day():
    assert format_day(dt.date(2017, 12, 27)) == "27 December 2017"
    assert format_due_day(dt.date(2017, 12, 27)) == "Wed 27 December 2017"
    assert format_day(None) == ""
    assert format_when(None) == ""


def test_template_library_overrides_older_filters_when_loaded_after():
    rendered = Template("{% load mash %}{% load dates %}{{ at|when }}").render(
        Context({"at": dt.datetime(2017, 12, 27, 17, 0, tzinfo=LONDON)})
    )
    assert rendered == "Wed 27 Dec 2017, 5:00pm"


def test_compact_when_breaks_only_between_date_and_time():
    from core.templatetags.dates import format_when_compact

    assert format_when_compact(dt.datetime(2017, 12, 27, 12, 0, tzinfo=LONDON)) == (
        '<span class="app-nowrap">Wed 27 Dec 2017,</span> <span class="app-nowrap">midday</span>'
    )
