"""Contextual safeguarding in the browser: a manager goes from the dashboard's alert to the
school's context record and records what was done, by keyboard alone; axe on every page and
no sideways scroll at 320 px."""

from __future__ import annotations

import datetime as dt
import re

from django.utils import timezone

from contexts.models import Alert, AlertAction, PatternRule
from contexts.services import patterns_check_all
from tests.browser.pages import (
    axe_violations,
    key_choose,
    key_date,
    key_press_on,
    key_type,
    screenshot,
    sign_in,
)
from tests.contexts.helpers import school_referral
from tests.factories import SchoolFactory
from tests.nplusone import set_up


def _at_320(page, name: str) -> None:
    page.set_viewport_size({"width": 320, "height": 800})
    assert page.evaluate("document.querySelector('main').scrollWidth") <= 320, name
    screenshot(page, f"{name}-320")
    page.set_viewport_size({"width": 1280, "height": 900})


@set_up
def _school_alert() -> Alert:
    PatternRule.objects.exclude(kind=PatternRule.Kind.SCHOOL).update(active=False)
    school = SchoolFactory(name="Keyboard Academy")
    for day in (dt.date(2018, 3, 1), dt.date(2018, 6, 1), dt.date(2018, 9, 1)):
        school_referral(school, day)
    patterns_check_all()
    return Alert.objects.get()


def test_a_manager_goes_from_an_alert_to_a_recorded_action_by_keyboard(page, live_server, manager):
    alert = _school_alert()
    reports = []
    sign_in(page, "manager")
    page.goto("/referrals/dashboard/")
    page.get_by_role("heading", name="Contextual safeguarding alerts").wait_for()
    reports.append(axe_violations(page, "dashboard-alerts"))

    key_press_on(page, page.get_by_role("link", name=re.compile(rf"^Alert {alert.pk}: ")))
    page.get_by_role("heading", name="Repeated referrals about a school").wait_for()
    page.get_by_role("table", name="The referrals that form the pattern").wait_for()
    reports.append(axe_violations(page, "alert"))
    _at_320(page, "alert")

    key_press_on(page, page.get_by_role("link", name="Open the context record for Keyboard Academy"))
    page.get_by_role("heading", name="Keyboard Academy").wait_for()
    page.get_by_role("heading", name="Designated safeguarding lead and model guidance").wait_for()
    reports.append(axe_violations(page, "context"))
    _at_320(page, "context")

    key_press_on(page, page.get_by_role("link", name=f"Record what was done about alert {alert.pk}"))
    page.get_by_role("heading", name="Record what was done").wait_for()
    reports.append(axe_violations(page, "alert-action"))
    key_press_on(page, page.get_by_role("button", name="Record"))
    page.get_by_text("There is a problem").wait_for()
    reports.append(axe_violations(page, "alert-action-errors"))
    _at_320(page, "alert-action-errors")

    key_choose(page, page, "What was done?", "Advice or training for the school")
    # On or after the day the alert was raised (it was raised today).
    key_date(page, page, "Date it was done", timezone.localdate())
    key_type(
        page,
        page.get_by_label("What was done, or why no action is needed"),
        "The designated safeguarding lead was offered harmful sexual behaviour training.",
    )
    key_press_on(page, page.get_by_role("button", name="Record"))
    page.get_by_text(f"Advice or training for the school recorded on alert {alert.pk}").wait_for()
    assert page.get_by_text("Acted on").count() >= 1
    reports.append(axe_violations(page, "alert-acted-on"))

    action = AlertAction.objects.get()
    assert action.recorded_by == manager
    assert action.kind == AlertAction.Kind.SCHOOL_ADVICE

    page.goto("/contexts/figures/")
    page.get_by_role("table", name="Alerts raised and acted on, by month").wait_for()
    reports.append(axe_violations(page, "figures"))
    _at_320(page, "figures")
    page.goto("/contexts/rules/")
    reports.append(axe_violations(page, "rules"))
    assert not "".join(reports), "".join(reports)
