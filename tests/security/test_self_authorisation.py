"""Issue 11 (3): nobody authorises their own access to identities.

A MASH manager once gave themselves a grant on any referral (no end, a one-letter reason, no
alert), and a report officer gave themselves the exempt appendices the same way. Now: nobody
grants to themselves (the services and a CHECK constraint on every user grant table), access
to exempt appendices is information governance's to give with an end date, every reason says
something, every grant tells its holder, and every emergency access waits for IG's review.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.apps import apps
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from core import permissions
from core.models import AccessLogEntry, BreakGlassReview, SecurityEvent
from core.reasons import ReasonValidator, reason_error
from core.roles import Role
from referrals import services as referral_services
from referrals.models import Referral, ReferralUserGrant
from scrutiny import services as scrutiny_services
from tests.conftest import sign_in_verified
from tests.factories import ReferralFactory
from tests.scrutiny.helpers import make_report

pytestmark = pytest.mark.django_db

GOOD_REASON = "Allocated to the case review panel"


# --- Reasons ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reason",
    [
        "",
        "x",
        ".",
        "aaaaaaaaaa",
        "a" * 40,
        "aaa aaa aaa aaa aaa aaa",
        "Review",
        "Case review",
        "ok ok ok ok ok ok ok",
    ],
)
def test_a_reason_that_says_nothing_is_refused_with_a_clear_message(reason):
    assert reason_error(reason, what="the reason") == (
        "Enter the reason, in at least 20 characters and 3 words"
    )
    with pytest.raises(ValidationError):
        ReasonValidator("the reason")(reason)


@pytest.mark.parametrize(
    "reason",
    [
        GOOD_REASON,
        "Police called: child missing tonight",
        "Presenting officer at cabinet",
        "Strategy discussion with police on 3 March",
        "LADO consultation planned for Tuesday",
        "Needs access to complete the strategy discussion",
    ],
)
def test_a_reason_that_says_something_is_accepted(reason):
    assert reason_error(reason) is None


@pytest.mark.parametrize(
    "reason",
    [
        "asdf qwer zxcv jklm uiop",
        "asdf qwer zxcv jkl asdf",
        "qwerty asdfgh zxcvbn poiuyt",
        "lorem ipsum dolor sit amet",
        "blah blah blah blargh flibble",
        "hellooo the caseeee worlddd reviewww",  # repeated letters are not words
    ],
)
def test_made_up_words_are_refused_with_a_clear_message(reason):
    """The finding: three made-up "words" passed as a reason."""
    assert reason_error(reason, what="the reason") in (
        "Enter the reason in plain words that someone else can read, in at least 3 words",
        "Enter the reason, in at least 20 characters and 3 words",
    )
    with pytest.raises(ValidationError):
        ReasonValidator("the reason")(reason)


@pytest.mark.parametrize(
    "reason",
    [
        "please let me in right now ok",
        "I need access now, urgent please",
        "just need to get in there asap",
        "Can you give me access to this please",
    ],
)
def test_common_words_that_say_nothing_are_refused(reason):
    """The gap: real words strung together without saying what the access is for."""
    assert reason_error(reason, what="why you need access") == (
        "Enter why you need access: say what it is for, for example the case work or the check it is "
        "needed for"
    )
    with pytest.raises(ValidationError):
        ReasonValidator("why you need access")(reason)


def test_keyboard_mash_of_the_right_length_gets_the_plain_words_message():
    assert reason_error("asdf qwer zxcv jklm uiop") == (
        "Enter the reason in plain words that someone else can read, in at least 3 words"
    )


@pytest.mark.parametrize(
    ("form_class", "field", "message"),
    [
        ("referrals.forms.GrantForm", "reason", "Enter why this person needs to see the referral"),
        ("referrals.forms.BreakGlassForm", "reason", "Enter the reason for emergency access"),
        ("scrutiny.forms.GrantForm", "reason", "Enter why this person needs the exempt appendices"),
        ("records.forms.LegalHoldForm", "reason", "Enter why the records must be kept"),
        ("core.forms.BreakGlassReviewForm", "note", "Enter a note on why it was or was not justified"),
    ],
)
def test_every_form_that_gives_or_explains_access_asks_for_a_reason_that_says_something(
    form_class, field, message
):
    """One way to ask for a reason (core.forms.reason_field): each of these forms refuses a
    blank reason and one that says nothing, naming what was asked for."""
    from django.utils.module_loading import import_string

    cls = import_string(form_class)
    form_field = cls.base_fields[field]
    assert form_field.error_messages["required"] == message
    assert any(isinstance(v, ReasonValidator) for v in form_field.validators)
    with pytest.raises(ValidationError):
        form_field.clean("ok ok ok ok ok ok ok")
    assert form_field.clean(GOOD_REASON) == GOOD_REASON


def test_every_grant_and_emergency_access_service_refuses_an_empty_reason(role_user):
    manager = role_user(Role.MASH_MANAGER, username="grantor")
    reader = role_user(Role.MASH_PRACTITIONER, username="reader")
    ig = role_user(Role.INFORMATION_GOVERNANCE, username="ig")
    officer = role_user(Role.REPORT_OFFICER, username="officer")
    referral = ReferralFactory(status=Referral.Status.CLOSED)
    report = make_report(officer)
    calls = [
        lambda reason: referral_services.referral_grant(
            granted_by=manager, referral_id=referral.pk, user=reader, actions=["view_exempt"], reason=reason
        ),
        lambda reason: referral_services.referral_break_glass(
            request=RequestFactory().get("/"), user=manager, referral_id=referral.pk, reason=reason
        ),
        lambda reason: scrutiny_services.report_grant(
            granted_by=ig, report_id=report.pk, user=officer, reason=reason
        ),
    ]
    for call in calls:
        with pytest.raises(ValidationError) as caught:
            call("aaaaaaaaaa")
        assert "at least 20 characters and 3 words" in caught.value.message_dict["reason"][0]
    assert not ReferralUserGrant.objects.exists()
    assert not AccessLogEntry.objects.filter(break_glass=True).exists()
    assert not permissions.grants_on(report)


# --- Nobody grants to themselves ----------------------------------------------------------------


def _user_grant_tables():
    return [
        model
        for model in apps.get_models()
        if issubclass(model, permissions.UserGrantBase) and not model.__name__.startswith("Historical")
    ]


def test_the_database_refuses_a_grant_given_to_oneself_on_every_user_grant_table(role_user):
    """Whatever code writes the row: the CHECK constraint on each direct-foreign-key table."""
    person = role_user(Role.MASH_MANAGER, username="self-granter")
    other = role_user(Role.MASH_MANAGER, username="other-manager")
    records = {
        "referrals.Referral": lambda: ReferralFactory(status=Referral.Status.CLOSED),
        "scrutiny.CabinetReport": lambda: make_report(role_user(Role.REPORT_OFFICER, username="author")),
    }
    tables = _user_grant_tables()
    # A new guarded model's table is added here, so it cannot escape the check.
    assert {t._meta.get_field("content_object").related_model._meta.label for t in tables} == set(records)
    for table in tables:
        record = records[table._meta.get_field("content_object").related_model._meta.label]()
        [permission] = permissions._permissions(type(record), [permissions.VIEW_EXEMPT]).values()
        row = {"content_object": record, "permission": permission, "user": person, "reason": GOOD_REASON}
        ends = timezone.now() + dt.timedelta(days=30)
        with pytest.raises(IntegrityError), transaction.atomic():
            table.objects.create(
                **row, granted_by=person, kind=permissions.GrantKind.EXPLICIT, expires_at=ends
            )
        # A case review's grant is given by its lead to someone else, never to oneself.
        with pytest.raises(IntegrityError), transaction.atomic():
            table.objects.create(**row, granted_by=person, kind=permissions.GrantKind.REVIEW, expires_at=ends)
        # Emergency access with no end is refused too; with an end, and by another, it stands.
        with pytest.raises(IntegrityError), transaction.atomic():
            table.objects.create(**row, granted_by=person, kind=permissions.GrantKind.BREAK_GLASS)
        table.objects.create(
            **row,
            granted_by=person,
            kind=permissions.GrantKind.BREAK_GLASS,
            expires_at=timezone.now() + dt.timedelta(hours=4),
        )
        table.objects.filter(user=person).delete()
        table.objects.create(**row, granted_by=other, expires_at=ends)


def _grant_tables():
    return [
        model
        for model in apps.get_models()
        if issubclass(model, permissions.UserGrantBase | permissions.GroupGrantBase)
        and not model.__name__.startswith("Historical")
    ]


def test_the_database_refuses_a_grant_a_person_gives_with_no_end_on_every_grant_table(role_user):
    """The finding: a manager's grant on a referral could have no end date."""
    from django.contrib.auth.models import Group

    manager = role_user(Role.MASH_MANAGER, username="grantor")
    holder = role_user(Role.REVIEWER, username="holder")
    group = Group.objects.get(name="Reviewer")
    records = {
        "referrals.Referral": lambda: ReferralFactory(status=Referral.Status.CLOSED),
        "scrutiny.CabinetReport": lambda: make_report(role_user(Role.REPORT_OFFICER, username="author")),
    }
    tables = _grant_tables()
    assert len(tables) == 4
    for table in tables:
        record = records[table._meta.get_field("content_object").related_model._meta.label]()
        [permission] = permissions._permissions(type(record), [permissions.VIEW_EXEMPT]).values()
        holder_field = "user" if issubclass(table, permissions.UserGrantBase) else "group"
        row = {
            "content_object": record,
            "permission": permission,
            holder_field: holder if holder_field == "user" else group,
            "reason": GOOD_REASON,
            "granted_by": manager,
        }
        with pytest.raises(IntegrityError), transaction.atomic():
            table.objects.create(**row, kind=permissions.GrantKind.EXPLICIT)
        table.objects.create(**row, kind=permissions.GrantKind.EXPLICIT, expires_at=timezone.now())
        # A live referral's default grants are given by rule, and end when it closes.
        table.objects.all().delete()
        table.objects.create(**row, kind=permissions.GrantKind.DEFAULT)


def test_a_referral_grant_ends_30_days_by_default_and_never_after_90(manager, role_user):
    reviewer = role_user(Role.REVIEWER, username="reviewer")
    referral = ReferralFactory(status=Referral.Status.CLOSED)
    today = timezone.localdate()

    def give(**extra):
        referral_services.referral_grant(
            granted_by=manager,
            referral_id=referral.pk,
            user=reviewer,
            actions=[permissions.VIEW_EXEMPT],
            reason=GOOD_REASON,
            **extra,
        )
        return ReferralUserGrant.objects.filter(user=reviewer).first()

    assert timezone.localtime(give().expires_at).date() == today + dt.timedelta(days=30)
    for too_far in (today + dt.timedelta(days=91), today + dt.timedelta(days=3650)):
        with pytest.raises(ValidationError) as caught:
            give(expires_on=too_far)
        assert caught.value.message_dict["expires_on"] == [
            "The date the grant ends must be within 90 days of today"
        ]
    with pytest.raises(ValidationError):
        give(expires_on=today)
    assert timezone.localtime(give(expires_on=today + dt.timedelta(days=90)).expires_at).date() == (
        today + dt.timedelta(days=90)
    )


def test_the_grant_wrapper_gives_every_explicit_grant_an_end_and_refuses_one_past_90_days(manager, role_user):
    reviewer = role_user(Role.REVIEWER, username="reviewer")
    referral = ReferralFactory(status=Referral.Status.CLOSED)
    row = permissions.grant(
        referral, action=permissions.VIEW_EXEMPT, user=reviewer, reason=GOOD_REASON, granted_by=manager
    )
    assert timezone.localtime(row.expires_at).date() == timezone.localdate() + dt.timedelta(days=30)
    with pytest.raises(permissions.GrantRefused, match="within 90 days"):
        permissions.grant(
            referral,
            action=permissions.VIEW_EXEMPT,
            user=reviewer,
            reason=GOOD_REASON,
            granted_by=manager,
            expires_at=timezone.now() + dt.timedelta(days=120),
        )


def test_the_grant_page_says_a_blank_end_is_30_days(client, manager):
    referral = ReferralFactory(status=Referral.Status.CLOSED)
    sign_in_verified(client, manager)
    page = client.get(reverse("referrals:grants", args=[referral.pk])).content.decode()
    assert "Leave blank to end it in 30 days" in page
    assert "no end date" not in page


def test_the_grant_wrapper_refuses_a_grant_given_to_oneself(manager):
    referral = ReferralFactory(status=Referral.Status.CLOSED)
    with pytest.raises(permissions.SelfGrantError):
        permissions.grant(
            referral, action=permissions.VIEW_EXEMPT, user=manager, reason=GOOD_REASON, granted_by=manager
        )
    assert not ReferralUserGrant.objects.exists()


def test_a_manager_cannot_grant_themselves_a_referral_and_breaks_glass_instead(client, manager):
    referral = ReferralFactory(status=Referral.Status.CLOSED)
    with pytest.raises(ValidationError) as caught:
        referral_services.referral_grant(
            granted_by=manager,
            referral_id=referral.pk,
            user=manager,
            actions=["view_exempt"],
            reason=GOOD_REASON,
        )
    assert caught.value.message_dict["user"] == [
        "You cannot give yourself a grant. Ask another MASH manager, or use emergency access"
    ]
    sign_in_verified(client, manager)
    response = client.post(
        reverse("referrals:break_glass", args=[referral.pk]),
        {"reason": "Police called: child missing tonight"},
    )
    assert response.status_code == 302
    grant = ReferralUserGrant.objects.get(user=manager)
    assert grant.kind == permissions.GrantKind.BREAK_GLASS
    assert grant.expires_at is not None


def test_report_officers_no_longer_grant_and_information_governance_cannot_grant_to_itself(role_user):
    officer = role_user(Role.REPORT_OFFICER, username="officer")
    ig = role_user(Role.INFORMATION_GOVERNANCE, username="ig")
    report = make_report(officer)
    with pytest.raises(ValidationError, match="Only information governance"):
        scrutiny_services.report_grant(
            granted_by=officer, report_id=report.pk, user=officer, reason=GOOD_REASON
        )
    with pytest.raises(ValidationError) as caught:
        scrutiny_services.report_grant(granted_by=ig, report_id=report.pk, user=ig, reason=GOOD_REASON)
    assert "You cannot give yourself access" in caught.value.message_dict["user"][0]
    assert not permissions.grants_on(report)


def test_access_to_exempt_appendices_always_ends_30_days_by_default_and_never_after_90(role_user):
    officer = role_user(Role.REPORT_OFFICER, username="officer")
    ig = role_user(Role.INFORMATION_GOVERNANCE, username="ig")
    report = make_report(officer)
    today = timezone.localdate()
    for too_far in (today + dt.timedelta(days=91), today + dt.timedelta(days=3650)):
        with pytest.raises(ValidationError) as caught:
            scrutiny_services.report_grant(
                granted_by=ig, report_id=report.pk, user=officer, reason=GOOD_REASON, expires_on=too_far
            )
        assert caught.value.message_dict["expires_on"] == [
            "The date access ends must be within 90 days of today"
        ]
    with pytest.raises(ValidationError):
        scrutiny_services.report_grant(
            granted_by=ig, report_id=report.pk, user=officer, reason=GOOD_REASON, expires_on=today
        )
    row = scrutiny_services.report_grant(granted_by=ig, report_id=report.pk, user=officer, reason=GOOD_REASON)
    assert timezone.localtime(row.expires_at).date() == today + dt.timedelta(days=30)
    row = scrutiny_services.report_grant(
        granted_by=ig,
        report_id=report.pk,
        user=officer,
        reason=GOOD_REASON,
        expires_on=today + dt.timedelta(days=90),
    )
    assert timezone.localtime(row.expires_at).date() == today + dt.timedelta(days=90)


# --- Grants tell their holder -------------------------------------------------------------------


def test_every_grant_given_writes_a_security_event_for_the_grantee(
    role_user, django_capture_on_commit_callbacks
):
    manager = role_user(Role.MASH_MANAGER, username="grantor")
    reader = role_user(Role.MASH_PRACTITIONER, username="reader", email="reader@council.example")
    ig = role_user(Role.INFORMATION_GOVERNANCE, username="ig")
    officer = role_user(Role.REPORT_OFFICER, username="officer", email="officer@council.example")
    referral = ReferralFactory(status=Referral.Status.CLOSED)
    with django_capture_on_commit_callbacks(execute=True):
        referral_services.referral_grant(
            granted_by=manager,
            referral_id=referral.pk,
            user=reader,
            actions=["view_exempt"],
            reason=GOOD_REASON,
        )
        scrutiny_services.report_grant(
            granted_by=ig, report_id=make_report(officer).pk, user=officer, reason=GOOD_REASON
        )
    events = list(
        SecurityEvent.objects.filter(kind=SecurityEvent.Kind.GRANT_GIVEN).values_list(
            "user__username", "actor__username"
        )
    )
    assert sorted(events) == [("officer", "ig"), ("reader", "grantor")]
    told = sorted(address for message in mail.outbox for address in message.to)
    assert told == ["officer@council.example", "reader@council.example"]
    assert all(referral.reference not in m.body for m in mail.outbox)


# --- Emergency access is reviewed by information governance --------------------------------------


@pytest.fixture
def broken_glass(manager, django_capture_on_commit_callbacks):
    referral = ReferralFactory(status=Referral.Status.CLOSED)
    return referral_services.referral_break_glass(
        request=RequestFactory().get("/"),
        user=manager,
        referral_id=referral.pk,
        reason="Police called: child missing tonight",
    )


def test_every_emergency_access_waits_for_review_and_ig_records_whether_it_was_justified(
    client, role_user, broken_glass
):
    ig = role_user(Role.INFORMATION_GOVERNANCE, username="ig")
    sign_in_verified(client, ig)
    queue = reverse("core:break_glass_reviews")
    page = client.get(queue).content.decode()
    assert broken_glass.record_label in page
    assert "Police called: child missing tonight" in page
    url = reverse("core:break_glass_review", args=[broken_glass.pk])
    response = client.post(url, {"justified": "no", "note": "aaaaaaaaaa"})
    assert response.status_code == 400
    assert "Enter a note on why it was or was not justified, in at least 20 characters and 3 words" in (
        response.content.decode()
    )
    response = client.post(url, {"note": "The child was found before the access"})
    assert "Select whether the emergency access was justified" in response.content.decode()
    assert not BreakGlassReview.objects.exists()
    response = client.post(url, {"justified": "no", "note": "The child was already safe at home"})
    assert response.status_code == 302
    review = BreakGlassReview.objects.get()
    assert (review.entry, review.justified, review.reviewed_by) == (broken_glass, False, ig)
    assert review.broke_glass_by == broken_glass.user
    assert review.reviewed_at is not None
    queue_page = client.get(queue)
    assert queue_page.context["queue"].awaiting_count == 0
    assert queue_page.context["queue"].unjustified_count == 1
    assert "found not justified" in queue_page.content.decode()
    # Once only; and the review cannot be changed.
    assert client.post(url, {"justified": "yes", "note": "Second thoughts about this one"}).status_code == 400
    assert BreakGlassReview.objects.count() == 1


def test_nobody_reviews_their_own_emergency_access(client, role_user, manager, broken_glass):
    from django.contrib.auth.models import Group

    from core.roles import GROUP_NAMES
    from core.services import break_glass_review_record

    manager.groups.add(Group.objects.get(name=GROUP_NAMES[Role.INFORMATION_GOVERNANCE]))
    manager._mash_roles = None  # a MASH manager who is also in information governance
    with pytest.raises(ValidationError, match="cannot review your own"):
        break_glass_review_record(
            reviewer=manager, entry_id=broken_glass.pk, justified=True, note="It was an emergency, clearly"
        )
    sign_in_verified(client, manager)
    url = reverse("core:break_glass_review", args=[broken_glass.pk])
    assert "This is your own emergency access" in client.get(url).content.decode()
    response = client.post(url, {"justified": "yes", "note": "It was an emergency, clearly"})
    assert response.status_code == 400
    assert not BreakGlassReview.objects.exists()
    # The database refuses it too.
    with pytest.raises(IntegrityError), transaction.atomic():
        BreakGlassReview.objects.create(
            entry=broken_glass, broke_glass_by=manager, reviewed_by=manager, justified=True, note="x"
        )


def test_only_information_governance_reviews_emergency_access(role_user, broken_glass):
    from django.core.exceptions import PermissionDenied

    from core.services import break_glass_review_record

    other_manager = role_user(Role.MASH_MANAGER, username="other-manager")
    with pytest.raises(PermissionDenied):
        break_glass_review_record(
            reviewer=other_manager,
            entry_id=broken_glass.pk,
            justified=True,
            note="Looks fine to me, honestly",
        )


def test_an_administrator_is_never_given_a_grant_on_case_data(client, manager, role_user):
    """Found by attack: a manager could grant the Administrator a referral, and the person who
    manages roles then read children's identities."""
    administrator = role_user(Role.ADMINISTRATOR, username="ada", is_staff=True)
    referral = ReferralFactory()
    with pytest.raises(ValidationError) as refused:
        referral_services.referral_grant(
            granted_by=manager,
            referral_id=referral.pk,
            user=administrator,
            actions=["view_exempt"],
            reason="Needs access to complete the strategy discussion",
        )
    assert "Administrators cannot be given access" in refused.value.message_dict["user"][0]
    # Refused as a grant the rules refuse, not as a grant to oneself (it is not one).
    with pytest.raises(permissions.GrantRefused) as wrapper_refused:
        permissions.grant(
            referral,
            action=permissions.VIEW_EXEMPT,
            user=administrator,
            reason="Needs access to complete the strategy discussion",
            granted_by=manager,
        )
    assert not isinstance(wrapper_refused.value, permissions.SelfGrantError)
    assert not permissions.has_grant(administrator, referral)
    sign_in_verified(client, manager)
    page = client.get(reverse("referrals:grants", args=[referral.pk])).content.decode()
    assert "(ada)" not in page


def test_the_exempt_appendix_grant_page_does_not_offer_information_governance_itself(client, role_user):
    """The finding: the grantee list offered the officer giving access (the service refused)."""
    officer = role_user(Role.REPORT_OFFICER, username="officer")
    ig = role_user(Role.INFORMATION_GOVERNANCE, username="ig-self")
    other_ig = role_user(Role.INFORMATION_GOVERNANCE, username="ig-other")
    report = make_report(officer)
    url = reverse("scrutiny:report_grants", args=[report.pk])
    sign_in_verified(client, ig)
    choices = client.get(url).context["form"].fields["user"].queryset
    assert ig not in choices
    assert {officer, other_ig} <= set(choices)
    ends = timezone.localdate() + dt.timedelta(days=30)
    forged = client.post(
        url,
        {
            "user": ig.pk,
            "reason": GOOD_REASON,
            "expires_on_0": ends.day,
            "expires_on_1": ends.month,
            "expires_on_2": ends.year,
        },
    )
    assert forged.status_code in (200, 400)
    assert "Select a valid choice" in forged.content.decode()
    assert not permissions.has_grant(ig, report)


def test_a_lead_reviewer_never_assesses_a_case_of_their_review_so_never_grants_to_themselves(
    client, role_user
):
    """The lead accepts each assessment and resolves moderation, so a case is never assigned to
    them (which would give them a grant they authorised and work they approve): refused when the
    review is set up, when a case is assigned (page and service), and never chosen by moderation."""
    from reviews import services as review_services
    from reviews.models import Review
    from tests.support.reviews import _review_in_reviewing

    lead, reviewer, referral, review = _review_in_reviewing(role_user)
    with pytest.raises(ValidationError) as refused:
        review_services.review_create(
            user=lead,
            title="A second review",
            terms_of_reference="Assess MASH advice against the guidance in force at the time.",
            lead_reviewer=lead,
            reviewers=[reviewer, lead],
            periods=[review_services.PeriodInput("2018", dt.date(2018, 1, 1), dt.date(2018, 12, 31))],
            grants_end_on=timezone.localdate() + dt.timedelta(days=30),
        )
    assert "cannot assess a case" in refused.value.message_dict["reviewers"][0]
    assert Review.objects.count() == 1

    # The lead is not offered on the assignment page, and posting their id anyway is refused.
    sign_in_verified(client, lead)
    url = reverse("reviews:assignment", args=[review.pk])
    page = client.get(url).content.decode()
    assert f'<option value="{lead.pk}">' not in page
    assert f'<option value="{reviewer.pk}">' in page
    response = client.post(url, {"referral_id": referral.pk, "reviewer": lead.pk})
    assert response.status_code == 400
    # Ids beyond any column's range are refused by the form, not the database (a 500 on SQLite).
    for huge in (str(-(2**63) - 1), str(2**63)):
        response = client.post(url, {"referral_id": huge, "reviewer": reviewer.pk})
        assert response.status_code == 400, huge
    with pytest.raises(ValidationError, match="cannot assess a case"):
        review_services.assessment_assign(
            user=lead, review_id=review.pk, referral_id=referral.pk, reviewer=lead
        )
    assert not review.assessments.exists()
    assert not ReferralUserGrant.objects.filter(user=lead).exists()


def test_moderation_never_makes_the_lead_the_second_reviewer(role_user):
    from tests.support.reviews import _review_in_moderation

    lead, first_reviewer, _referral, review = _review_in_moderation(role_user, disagree=0)
    seconds = review.assessments.filter(kind="moderation")
    assert seconds.exists()
    assert not seconds.filter(reviewer__in=[lead, first_reviewer]).exists()
    assert not ReferralUserGrant.objects.filter(user=lead).exists()


def test_an_administrator_who_also_holds_the_reviewer_role_is_never_assigned_a_case(client, role_user):
    """Found by attack: assigning a case to an administrator holding the reviewer role answered
    500 (the grant wrapper refuses administrators); now they are not offered, and refused with a
    GOV.UK message."""
    from django.contrib.auth.models import Group

    from core.roles import GROUP_NAMES
    from reviews import services as review_services
    from tests.support.reviews import _review_in_reviewing

    lead, _reviewer, referral, review = _review_in_reviewing(role_user)
    admin = role_user(Role.ADMINISTRATOR, username="admin-reviewer")
    admin.groups.add(Group.objects.get(name=GROUP_NAMES[Role.REVIEWER]))
    review.reviewers.add(admin)
    sign_in_verified(client, lead)
    url = reverse("reviews:assignment", args=[review.pk])
    assert f'value="{admin.pk}"' not in client.get(url).content.decode()
    response = client.post(url, {"referral_id": referral.pk, "reviewer": admin.pk})
    assert response.status_code == 400
    with pytest.raises(ValidationError, match="Administrators hold no access"):
        review_services.assessment_assign(
            user=lead, review_id=review.pk, referral_id=referral.pk, reviewer=admin
        )
    assert not review.assessments.exists()
