"""axe-core finds nothing on any page a MASH practitioner can reach, in each state it can be in.

Each test visits a group of pages and reports every page's violations at once.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from core.roles import Role
from referrals import selectors, services
from referrals.models import Outcome, RagLevel, Referral
from tests.browser.pages import (
    PASSWORD,
    add_authenticator,
    choose,
    current_code,
    fill_child,
    fill_referral,
    screenshot,
    sign_in,
)
from tests.factories import SchoolFactory
from tests.nplusone import unit_of_work
from tests.referrals.helpers import child_input, referral_input, two_children
from tests.support.axe import Audit
from tests.support.decisions import decide, screened


@pytest.fixture
def audit(page):
    return Audit(page)


@unit_of_work
def _referral(user, status: str, **changes) -> Referral:
    referral = services.referral_create(user=user, data=referral_input(**changes), children=two_children())
    if status == Referral.Status.RECEIVED:
        return referral
    services.referral_start_screening(
        user=user,
        referral_id=referral.pk,
        expected_version=referral.version,
        rag=RagLevel.objects.get(code="red"),
    )
    referral.refresh_from_db()
    if status == Referral.Status.SCREENING:
        return referral
    services.referral_record_decision(
        user=user,
        referral_id=referral.pk,
        expected_version=referral.version,
        decision=services.DecisionInput(
            outcomes=[Outcome.objects.get(code="early-help")],
            rationale="Both children are known to the school; early help offered.",
            advice={"dsl_informed": True, "separation_advised": True},
            advice_notes="Review the risk assessment in two weeks.",
            guidance_departure_reason="The police were told by the school the same day.",
        ),
        notify_referrer=False,
    )
    referral.refresh_from_db()
    note = services.case_note_add(
        user=user, referral_id=referral.pk, occurred_on=timezone.localdate(), text="Spoke to the DSL."
    )
    services.case_note_add(
        user=user,
        referral_id=referral.pk,
        occurred_on=timezone.localdate(),
        text="Spoke to the head of year, not the DSL.",
        corrects_id=note.pk,
    )
    if status == Referral.Status.DECIDED:
        return referral
    services.referral_close(
        user=user, referral_id=referral.pk, expected_version=referral.version, reason="No further concerns."
    )
    referral.refresh_from_db()
    return referral


def test_sign_in_pages(page, audit, practitioner):
    audit.visit("sign-in", "/sign-in/")
    page.get_by_label("Username").fill("practitioner")
    page.get_by_label("Password").fill("not-the-password")
    audit.submit("sign-in-errors", "Sign in", status=200)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    audit("sign-in-code")
    audit.submit("sign-in-code-errors", "Continue")
    page.get_by_label("Code from your authenticator app").fill(
        current_code(practitioner.totpdevice_set.get())
    )
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="Work tray").wait_for()
    audit.assert_clean()


def test_public_pages(page, audit):
    audit.visit("accessibility-signed-out", "/accessibility/")
    audit.visit("404-signed-out", "/no-such-page/", status=404)
    audit.assert_clean()


def test_non_mash_home_and_two_factor_setup(page, audit, role_user):
    reviewer = role_user(Role.REVIEWER, username="reviewer")
    sign_in(page, "reviewer")  # no authenticator yet: signing in leads straight to setting one up
    page.get_by_role("heading", name="Set up two-factor sign-in").wait_for()
    audit("two-factor-setup")
    audit.submit("two-factor-setup-errors", "Confirm")
    pending = reviewer.totpdevice_set.get(confirmed=False)
    page.get_by_label("Code from your authenticator app").fill(current_code(pending))
    audit.submit("two-factor-recovery-codes", "Confirm", status=200)
    page.get_by_role("heading", name="Your recovery codes").wait_for()
    page.get_by_role("link", name="Continue").click()
    page.wait_for_url(lambda url: "/account/" not in url)
    audit("home-non-mash-role")
    audit.visit("accessibility", "/accessibility/")
    audit.visit("404", "/referrals/999999/", status=404)
    audit.assert_clean()


def test_two_factor_replace_reset_and_security_event_pages(page, audit, practitioner, role_user):
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    StaticDevice.objects.create(user=practitioner, name="Recovery codes").token_set.create(token="recover1")
    sign_in(page, "practitioner")
    audit.visit("two-factor-replace-confirm", "/account/two-factor/replace/")
    audit.submit("two-factor-replace-confirm-errors", "Continue")
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_label("Code from your current authenticator app, or a recovery code").fill("recover1")
    audit.submit("two-factor-replace-new", "Continue", status=200)
    page.get_by_role("heading", name="Set up your new authenticator app").wait_for()
    audit.submit("two-factor-replace-new-errors", "Replace my authenticator app")
    new = TOTPDevice.objects.get(user=practitioner, confirmed=False)
    page.get_by_label("Code from your new authenticator app").fill(current_code(new))
    audit.submit("two-factor-replaced-recovery-codes", "Replace my authenticator app", status=200)
    page.get_by_role("heading", name="Your recovery codes").wait_for()

    add_authenticator(role_user(Role.ADMINISTRATOR, username="boss"))
    page.context.clear_cookies()
    sign_in(page, "boss")
    audit.visit("two-factor-reset", "/two-factor-reset/")
    audit.submit("two-factor-reset-errors", "Reset two-factor sign-in")
    page.get_by_label("Username of the person whose two-factor sign-in to reset").fill("practitioner")
    page.get_by_label("In person, with their staff ID card").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Reset two-factor sign-in").click()
    audit("two-factor-reset-done")

    add_authenticator(role_user(Role.INFORMATION_GOVERNANCE, username="ig"))
    page.context.clear_cookies()
    sign_in(page, "ig")
    audit.visit("security-events", "/security-events/")
    audit.visit("security-events-errors", "/security-events/?start=2024-13-40", status=400)
    audit.assert_clean()


def test_locked_out_page(page, audit, practitioner):
    page.goto("/sign-in/")
    for _ in range(5):
        page.get_by_label("Username").fill("practitioner")
        page.get_by_label("Password").fill("wrong")
        page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Your account is locked").wait_for()
    audit("locked-out")
    audit.assert_clean()


def test_work_tray(page, audit, practitioner, monkeypatch):
    monkeypatch.setattr(selectors, "PAGE_SIZE", 2)  # so the tray has pages to move between
    for status in Referral.Status.values:
        _referral(practitioner, status)
    long_ago = timezone.now() - dt.timedelta(days=10)
    _referral(practitioner, Referral.Status.RECEIVED, received_at=long_ago, incident_date=long_ago.date())
    sign_in(page, "practitioner")
    audit.visit("tray", "/referrals/?view=all", shot=True)
    page.get_by_role("link", name="Next page").click()
    audit("tray-page-2")
    for view in set(selectors.TrayView.LABELS) - {selectors.TrayView.ALL}:
        audit.visit(f"tray-{view}", f"/referrals/?view={view}")
    audit.visit("tray-filtered", "/referrals/?view=all&q=Alex&status=received&status=screening&rag=1")
    audit.visit("tray-filtered-empty", "/referrals/?view=all&q=Nobody")
    audit.visit("tray-filter-errors", "/referrals/?view=all&received_from=2024-05-02&received_to=2024-05-01")
    audit.assert_clean()


def test_create_pages(page, audit, practitioner):
    school = SchoolFactory(name="Test Academy")
    known = child_input("victim", first_name="Sam", last_name="Known", school=school)
    services.referral_create(user=practitioner, data=referral_input(), children=[known, two_children()[1]])
    sign_in(page, "practitioner")
    audit.visit("create", "/referrals/new/", shot=True)
    audit.submit("create-errors", "Save referral")
    screenshot(page, "create-errors")

    page.goto("/referrals/new/")
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    fill_referral(page, received=yesterday, incident=yesterday)
    fill_child(page, 1, first="Sam", last="Known", born=known.date_of_birth, gender="Female")
    fill_child(page, 2, first="Jo", last="New", born=known.date_of_birth, gender="Male")
    audit.submit("create-duplicate-offer", "Save referral", status=200)
    page.get_by_text("A child with this name and date of birth is already on record").wait_for()
    screenshot(page, "create-duplicate-offer")
    audit.submit("create-duplicate-unanswered", "Save referral", status=200)
    audit.assert_clean()


def test_referral_pages(page, audit, practitioner):
    received = _referral(practitioner, Referral.Status.RECEIVED)
    screening = _referral(practitioner, Referral.Status.SCREENING)
    decided = _referral(practitioner, Referral.Status.DECIDED)
    closed = _referral(practitioner, Referral.Status.CLOSED)
    sign_in(page, "practitioner")

    audit.visit("detail-received", f"/referrals/{received.pk}/")
    audit.visit("edit", f"/referrals/{received.pk}/edit/")
    audit.visit("add-child", f"/referrals/{received.pk}/children/add/")
    audit.visit("screen", f"/referrals/{received.pk}/screen/")
    audit.submit("screen-errors", "Start screening")

    audit.visit("detail-screening", f"/referrals/{screening.pk}/")
    audit.visit("decide", f"/referrals/{screening.pk}/decide/", shot=True)
    audit.submit("decide-errors", "Continue")
    page.get_by_role("checkbox", name="Early help").check()
    page.get_by_label("Reasons for the decision").fill(
        "Both children attend the school; it will separate them."
    )
    page.get_by_label("If the decision does not do what the guidance expects, why not?").fill(
        "The school informed the police the same day."
    )
    audit.submit("decide-check", "Continue", status=200)
    assert page.get_by_role("heading", name="Check your answers before recording the decision").is_visible()

    audit.visit("detail-decided", f"/referrals/{decided.pk}/", shot=True)
    audit.visit("close", f"/referrals/{decided.pk}/close/")
    audit.submit("close-errors", "Close referral")
    audit.visit("add-note", f"/referrals/{decided.pk}/notes/add/")
    audit.submit("add-note-errors", "Save note")
    audit.visit("history", f"/referrals/{decided.pk}/history/", shot=True)

    audit.visit("detail-closed", f"/referrals/{closed.pk}/")
    audit.visit("edit-closed", f"/referrals/{closed.pk}/edit/", status=404)
    audit.assert_clean()


def test_manager_pages(page, audit, manager, practitioner):
    """Reopening, grants, emergency access and the record's access log are a manager's."""
    live = _referral(practitioner, Referral.Status.RECEIVED)
    closed = _referral(practitioner, Referral.Status.CLOSED)
    sign_in(page, "manager")
    audit.visit("reopen", f"/referrals/{closed.pk}/reopen/")
    audit.submit("reopen-errors", "Reopen referral")
    audit.visit("grants", f"/referrals/{live.pk}/grants/")
    audit.submit("grants-errors", "Give grant")
    audit.visit("emergency-access", f"/referrals/{live.pk}/emergency-access/")
    audit.submit("emergency-access-errors", "Open identities now")
    audit.visit("record-access-log", f"/referrals/{live.pk}/access-log/")
    # No further action on sexual abuse waits for a manager other than the one who decided it.
    pending = screened(practitioner)
    decide(practitioner, pending, "nfa", guidance_departure_reason="Unfounded after the school's enquiry")
    audit.visit("detail-awaiting-authorisation", f"/referrals/{pending.pk}/")
    page.get_by_role("link", name="Authorise the decision").click()
    audit("authorise-decision")
    audit.submit("authorise-decision-errors", "Save")
    audit.assert_clean()


def test_information_governance_reviews_emergency_access(page, audit, role_user, manager, practitioner):
    """The queue of break-glass accesses, the review form with its errors, and the counts."""
    from django.test import RequestFactory

    closed = _referral(practitioner, Referral.Status.CLOSED)
    entry = services.referral_break_glass(
        request=RequestFactory().get("/"),
        user=manager,
        referral_id=closed.pk,
        reason="Police called: child missing tonight",
    )
    ig = role_user(Role.INFORMATION_GOVERNANCE, username="ig")
    add_authenticator(ig)
    sign_in(page, "ig")
    audit.visit("emergency-access-queue", "/emergency-access/")
    page.get_by_role("link", name=f"Review the emergency access to {closed.reference}").click()
    audit("emergency-access-review")
    audit.submit("emergency-access-review-errors", "Record the review")
    choose(page, "Was the emergency access justified?", "No, it was not justified")
    page.get_by_label("Note").fill("The child was already safe at home with a parent")
    page.get_by_role("button", name="Record the review").click()
    page.get_by_text(f"Review of the emergency access to {entry.record_label} recorded").wait_for()
    audit("emergency-access-reviewed")
    audit.assert_clean()


def test_conflict_page(page, audit, practitioner):
    referral = _referral(practitioner, Referral.Status.RECEIVED)
    sign_in(page, "practitioner")
    page.goto(f"/referrals/{referral.pk}/edit/")
    # Someone else changes the referral while this form is open.
    services.referral_start_screening(
        user=practitioner,
        referral_id=referral.pk,
        expected_version=referral.version,
        rag=RagLevel.objects.get(code="amber"),
    )
    audit.submit("conflict", "Save changes", status=409)
    audit.assert_clean()


def test_the_audit_reports_a_violation_whether_axe_came_in_with_the_page_or_not(browser, live_server, page):
    """A guard on the audit itself: axe-core loaded by the context as each page opens
    (``with_axe``, as the ``page`` fixture and the crawl do) and axe-core sent with the audit
    (any other context) both find an image without alternative text."""
    from tests.browser.pages import axe_violations

    bare = browser.new_context(base_url=live_server.url)
    try:
        for label, tab in (("loaded with the page", page), ("sent with the audit", bare.new_page())):
            tab.goto("/sign-in/")
            assert tab.evaluate("() => typeof window.axe !== 'undefined'") == (tab is page), label
            tab.evaluate("() => document.querySelector('main').append(document.createElement('img'))")
            assert "image-alt" in axe_violations(tab, label), label
    finally:
        bare.close()
