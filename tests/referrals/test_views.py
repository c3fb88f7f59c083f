import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from referrals.models import Child, RagLevel, Referral, ReferralDetail
from tests.conftest import sign_in_verified
from tests.factories import ReferralFactory, SchoolFactory
from tests.support.referral_form import date_parts, payload

pytestmark = pytest.mark.django_db


def test_practitioner_records_referral_with_two_children(practitioner_client, source_and_form_ids):
    school = SchoolFactory()
    response = practitioner_client.post(
        reverse("referrals:create"), payload(source_and_form_ids, school=school)
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    referral = Referral.objects.get()
    assert response["Location"] == reverse("referrals:detail", args=[referral.pk])
    assert referral.children.count() == 2
    detail = practitioner_client.get(response["Location"])
    body = detail.content.decode()
    assert referral.reference in body
    assert "Firstname0 Lastname0" in body
    assert "Children attend the same school" in body


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"received_date_0": "", "received_date_1": "", "received_date_2": ""},
            "Enter the date the referral was received",
        ),
        (
            {"received_date_0": "31", "received_date_1": "2", "received_date_2": "2019"},
            "The date the referral was received must be a real date",
        ),
        ({"received_time": "25:99"}, "Enter a real time, for example 14:30"),
        ({"narrative": ""}, "Enter what was reported"),
        ({"forms_of_abuse": []}, "Select at least one form of abuse"),
        ({"consent_sought": "False"}, "Enter the reason consent was not sought"),
        (
            {"child-1-role": "other"},
            "A peer-on-peer referral needs at least one victim and one alleged perpetrator",
        ),
        ({"child-0-date_of_birth_2": "1970"}, "Date of birth must make the child 18 or younger"),
        ({"child-0-first_name": ""}, "Enter the child&#x27;s first name"),
    ],
)
def test_bad_input_gets_govuk_error_and_saves_nothing(
    practitioner_client, source_and_form_ids, change, message
):
    data = payload(source_and_form_ids)
    data.update(change)
    response = practitioner_client.post(reverse("referrals:create"), data)
    assert response.status_code == 400
    body = response.content.decode()
    assert "There is a problem" in body
    assert message in body
    assert "<title>Error: " in body
    assert Referral.objects.count() == 0
    assert ReferralDetail.objects.count() == 0
    assert Child.objects.count() == 0


def test_future_received_date_is_refused(practitioner_client, source_and_form_ids):
    tomorrow = timezone.localdate() + dt.timedelta(days=2)
    data = payload(source_and_form_ids)
    data.update(date_parts("received_date", tomorrow))
    response = practitioner_client.post(reverse("referrals:create"), data)
    assert response.status_code == 400
    assert "The date the referral was received must be today or in the past" in response.content.decode()


def test_add_another_child_keeps_what_was_typed(practitioner_client, source_and_form_ids):
    data = payload(source_and_form_ids)
    del data["save"]
    data["add_child"] = "1"
    response = practitioner_client.post(reverse("referrals:create"), data)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Child 3" in body
    assert 'value="Firstname1"' in body
    assert "There is a problem" not in body
    assert Referral.objects.count() == 0


def test_likely_existing_child_is_offered_before_creating_a_duplicate(
    practitioner_client, source_and_form_ids
):
    today = timezone.localdate()
    live = ReferralFactory()  # a live referral: the MASH team may see its children
    existing = live.children.get(label="A").child
    existing.first_name, existing.last_name = "Firstname0", "Lastname0"
    existing.date_of_birth = dt.date(today.year - 13, 5, 4)
    existing.save()
    response = practitioner_client.post(reverse("referrals:create"), payload(source_and_form_ids))
    assert response.status_code == 200
    body = response.content.decode()
    assert "already on record" in body
    assert f"record {existing.pk}" in body
    assert Referral.objects.count() == 1

    data = payload(source_and_form_ids)
    data["child-0-existing_child"] = str(existing.pk)
    response = practitioner_client.post(reverse("referrals:create"), data)
    assert response.status_code == 302
    referral = Referral.objects.exclude(pk=live.pk).get()
    assert referral.children.get(label="A").child == existing
    assert Child.objects.count() == 3  # live's two, and one new


def test_a_child_the_user_may_not_see_is_never_offered(practitioner_client, source_and_form_ids):
    """Offering a match would reveal that MASH knows a child on a referral the user cannot see."""
    today = timezone.localdate()
    # Restricted: only named grants see it, so the MASH team may not identify it.
    hidden = ReferralFactory(status=Referral.Status.CLOSED, restricted_at=timezone.now())
    child = hidden.children.get(label="A").child
    child.first_name, child.last_name = "Firstname0", "Lastname0"
    child.date_of_birth = dt.date(today.year - 13, 5, 4)
    child.save()
    response = practitioner_client.post(reverse("referrals:create"), payload(source_and_form_ids))
    assert response.status_code == 302
    assert "already on record" not in response.content.decode()


def test_a_child_on_a_closed_referral_is_offered_for_the_history_check(
    practitioner_client, source_and_form_ids
):
    """Has this child been referred before? A closed referral still answers for the MASH team."""
    today = timezone.localdate()
    closed = ReferralFactory(status=Referral.Status.CLOSED)
    child = closed.children.get(label="A").child
    child.first_name, child.last_name = "Firstname0", "Lastname0"
    child.date_of_birth = dt.date(today.year - 13, 5, 4)
    child.save()
    response = practitioner_client.post(reverse("referrals:create"), payload(source_and_form_ids))
    assert response.status_code == 200
    assert "already on record" in response.content.decode()
    assert Referral.objects.count() == 1


def test_screen_decide_close_reopen_through_the_pages(practitioner_client, manager, source_and_form_ids):
    from referrals.models import Outcome

    practitioner_client.post(reverse("referrals:create"), payload(source_and_form_ids))
    referral = Referral.objects.get()
    red = RagLevel.objects.get(code="red")
    r = practitioner_client.post(
        reverse("referrals:screen", args=[referral.pk]), {"rag": red.pk, "version": 1}
    )
    assert r.status_code == 302
    r = practitioner_client.post(
        reverse("referrals:decide", args=[referral.pk]),
        {
            "outcomes": [Outcome.objects.get(code="police").pk],
            "rationale": "Police report is the starting point",
            "advice": ["dsl_informed", "police_informed"],
            "version": 2,
            "confirm": "1",  # the check-your-answers page's button
        },
    )
    assert r.status_code == 302
    r = practitioner_client.post(reverse("referrals:close", args=[referral.pk]), {"reason": "", "version": 3})
    assert r.status_code == 400
    assert "Enter why the referral is being closed" in r.content.decode()
    r = practitioner_client.post(
        reverse("referrals:close", args=[referral.pk]), {"reason": "Done", "version": 3}
    )
    assert r.status_code == 302
    # Closing removed the default grants: the practitioner can no longer change it; a manager reopens.
    assert practitioner_client.get(reverse("referrals:reopen", args=[referral.pk])).status_code == 404
    sign_in_verified(practitioner_client, manager)
    r = practitioner_client.post(
        reverse("referrals:reopen", args=[referral.pk]), {"reason": "New info", "version": 4}
    )
    assert r.status_code == 302
    referral.refresh_from_db()
    assert referral.status == Referral.Status.SCREENING
    history = practitioner_client.get(reverse("referrals:history", args=[referral.pk])).content.decode()
    for reason in (
        "Referral recorded",
        "Screening started, rated Red",
        "Decision recorded",
        "Referral closed",
        "Referral reopened",
    ):
        assert reason in history


def test_stale_edit_shows_what_changed_and_overwrites_nothing(
    client, practitioner, manager, source_and_form_ids
):
    sign_in_verified(client, practitioner)
    client.post(reverse("referrals:create"), payload(source_and_form_ids))
    referral = Referral.objects.get()
    edit_url = reverse("referrals:edit", args=[referral.pk])
    form_page = client.get(edit_url)
    assert 'name="version" value="1"' in form_page.content.decode()

    base = payload(source_and_form_ids)
    mine = {k: v for k, v in base.items() if not k.startswith("child-")} | {"version": "1"}

    sign_in_verified(client, manager)
    first = client.post(edit_url, mine | {"location": "online", "narrative": "Manager's version"})
    assert first.status_code == 302

    sign_in_verified(client, practitioner)
    second = client.post(edit_url, mine | {"location": "home", "narrative": "Practitioner's version"})
    assert second.status_code == 409
    body = second.content.decode()
    assert "Your changes have not been saved" in body
    assert "Location" in body
    assert "Online" in body
    assert manager.get_username() in body or manager.get_full_name() in body
    referral.refresh_from_db()
    assert referral.location == "online"
    assert referral.detail.narrative == "Manager's version"


def test_tray_search_by_reference_and_name(practitioner_client):
    a = ReferralFactory(reference="MASH-2019-0042")
    b = ReferralFactory(reference="MASH-2019-0043")
    child = a.children.get(label="A").child
    child.first_name, child.last_name = "Zelda", "Uniquename"
    child.save()
    url = reverse("referrals:tray")

    body = practitioner_client.get(url, {"view": "all", "q": "2019-0042"}).content.decode()
    assert "MASH-2019-0042" in body
    assert "MASH-2019-0043" not in body
    body = practitioner_client.get(url, {"view": "all", "q": "uniquen"}).content.decode()
    assert "MASH-2019-0042" in body
    assert "MASH-2019-0043" not in body
    body = practitioner_client.get(url, {"view": "all", "q": "zelda uniq"}).content.decode()
    assert "MASH-2019-0042" in body
    body = practitioner_client.get(url, {"view": "all", "q": "nobody"}).content.decode()
    assert "No referrals to show" in body
    assert b.reference not in body


def test_tray_filters_and_overdue_flag(practitioner_client):
    overdue = ReferralFactory(received_at=timezone.now() - dt.timedelta(days=6))
    fresh = ReferralFactory()
    closed = ReferralFactory(
        status=Referral.Status.CLOSED, received_at=timezone.now() - dt.timedelta(days=30)
    )
    url = reverse("referrals:tray")
    body = practitioner_client.get(url, {"view": "overdue"}).content.decode()
    assert overdue.reference in body
    assert fresh.reference not in body
    assert closed.reference not in body
    assert "Overdue" in body
    body = practitioner_client.get(url, {"view": "all", "status": "closed"}).content.decode()
    assert closed.reference in body
    assert fresh.reference not in body
    body = practitioner_client.get(url, {"view": "awaiting"}).content.decode()
    assert body.index(overdue.reference) < body.index(fresh.reference)  # ordered by due time
    body = practitioner_client.get(url, {"view": "all", "received_from": "2999-01-01"}).content.decode()
    assert "No referrals to show" in body
    response = practitioner_client.get(url, {"view": "all", "received_from": "not-a-date"})
    assert response.status_code == 200
    assert "Enter a real date" in response.content.decode()


def test_tray_keyset_pages_cover_every_row_once(practitioner_client):
    start = timezone.now() - dt.timedelta(days=40)
    made = {
        ReferralFactory(with_children=False, received_at=start + dt.timedelta(hours=i % 7)).reference
        for i in range(60)
    }
    url = reverse("referrals:tray")
    seen, cursor = [], None
    for _ in range(10):
        params = {"view": "all"} | ({"cursor": cursor} if cursor else {})
        page = practitioner_client.get(url, params).context["page"]
        seen.extend(r.reference for r in page.rows)
        cursor = page.next_cursor
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 60
    assert set(seen) == made
    # and back again
    previous = practitioner_client.get(url, {"view": "all", "cursor": page.previous_cursor}).context["page"]
    assert [r.reference for r in previous.rows] == seen[25:50]


def test_a_garbled_cursor_is_ignored(practitioner_client):
    ReferralFactory()
    response = practitioner_client.get(reverse("referrals:tray"), {"view": "all", "cursor": "!!!garbage"})
    assert response.status_code == 200


def test_tray_query_count_does_not_grow_with_rows(practitioner_client, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = reverse("referrals:tray")
    for _ in range(3):
        ReferralFactory()
    with CaptureQueriesContext(connection) as small:
        practitioner_client.get(url, {"view": "all"})
    for _ in range(40):
        ReferralFactory()
    with CaptureQueriesContext(connection) as large:
        practitioner_client.get(url, {"view": "all", "q": "mash"})
        practitioner_client.get(url, {"view": "all"})
    assert len(large.captured_queries) - len(small.captured_queries) <= len(small.captured_queries)
    with CaptureQueriesContext(connection) as again:
        practitioner_client.get(url, {"view": "all"})
    assert len(again.captured_queries) == len(small.captured_queries)


def test_detail_query_count_does_not_grow_with_children_and_notes(practitioner_client, practitioner):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from referrals import services

    referral = ReferralFactory()
    url = reverse("referrals:detail", args=[referral.pk])
    with CaptureQueriesContext(connection) as before:
        practitioner_client.get(url)
    for index in range(5):
        services.case_note_add(
            user=practitioner, referral_id=referral.pk, occurred_on=timezone.localdate(), text=f"n{index}"
        )
    with CaptureQueriesContext(connection) as after:
        practitioner_client.get(url)
    assert len(after.captured_queries) == len(before.captured_queries)


def test_red_rag_due_time_counts_opening_hours_and_the_page_says_how(practitioner_client):
    from zoneinfo import ZoneInfo

    london = ZoneInfo("Europe/London")
    # Friday 29 March 2019, 6:10pm: after closing. Red is "respond within 2 working hours".
    referral = ReferralFactory(received_at=dt.datetime(2019, 3, 29, 18, 10, tzinfo=london))
    red = RagLevel.objects.get(code="red")
    r = practitioner_client.post(
        reverse("referrals:screen", args=[referral.pk]), {"rag": red.pk, "version": referral.version}
    )
    assert r.status_code == 302
    referral.refresh_from_db()
    # Not Friday 8:10pm, nor Monday 2:00am: Monday 9:00am plus two working hours.
    assert referral.rag_due_at == dt.datetime(2019, 4, 1, 11, 0, tzinfo=london)
    page = practitioner_client.get(reverse("referrals:detail", args=[referral.pk])).content.decode()
    assert "Mon 1 Apr 2019, 11:00am" in page
    assert (
        "Received Fri 29 Mar 2019, 6:10pm, outside opening hours; the 2 working hours start "
        "Mon 1 Apr 2019, 9:00am" in page
    )


def test_tray_names_children_only_where_the_user_may_identify_the_referral(practitioner_client, manager):
    from core.models import AccessLogEntry
    from referrals import services

    open_one = ReferralFactory(reference="MASH-2019-0101")
    child = open_one.children.get(label="A").child
    child.first_name, child.last_name = "Zara", "Trayname"
    child.save()
    restricted = ReferralFactory(reference="MASH-2019-0102")
    hidden = restricted.children.get(label="A").child
    hidden.first_name, hidden.last_name = "Yusuf", "Hiddenname"
    hidden.save()
    services.referral_restrict(
        user=manager, referral_id=restricted.pk, expected_version=1, reason="A parent works in the MASH"
    )
    body = practitioner_client.get(reverse("referrals:tray"), {"view": "all"}).content.decode()
    assert "Zara Trayname" in body
    assert "Hiddenname" not in body
    assert "Yusuf" not in body
    assert "Child A" in body  # the restricted referral's children by pseudonym only
    logged = AccessLogEntry.objects.filter(path=reverse("referrals:tray"))
    assert set(logged.values_list("record_label", flat=True)) == {"MASH-2019-0101"}
    assert logged.get().fields == ["Child.first_name", "Child.last_name"]


def test_search_results_tell_children_of_the_same_name_apart(practitioner_client, manager):
    """A name search's results show each identifiable child's date of birth and school (logged),
    and link the name to the child record; a restricted referral's children stay pseudonyms."""
    import datetime as dt

    from core.models import AccessLogEntry
    from referrals import services
    from referrals.models import Child

    first = ReferralFactory(reference="MASH-2019-0201")
    second = ReferralFactory(reference="MASH-2019-0202")
    for referral, born in ((first, dt.date(2011, 3, 1)), (second, dt.date(2012, 7, 9))):
        Child.objects.filter(involvements__referral=referral, involvements__label="A").update(
            first_name="Zara",
            last_name="Samename",
            first_name_key="zara",
            last_name_key="samename",
            date_of_birth=born,
        )
    hidden = ReferralFactory(reference="MASH-2019-0203")
    services.referral_restrict(
        user=manager, referral_id=hidden.pk, expected_version=1, reason="A parent works in the MASH"
    )
    plain = practitioner_client.get(reverse("referrals:tray"), {"view": "all"}).content.decode()
    assert "born 1 March 2011" not in plain
    body = practitioner_client.get(reverse("referrals:tray"), {"view": "all", "q": "zara samename"})
    body = body.content.decode()
    assert "born 1 March 2011" in body
    assert "born 9 July 2012" in body
    child = Child.objects.select_related("school").get(involvements__referral=first, involvements__label="A")
    assert reverse("referrals:child", args=[child.pk]) in body
    assert child.school.name in body
    assert "MASH-2019-0203" not in body
    logged = AccessLogEntry.objects.filter(path=reverse("referrals:tray")).order_by("-pk").first()
    assert sorted(logged.fields) == [
        "Child.date_of_birth",
        "Child.first_name",
        "Child.last_name",
        "Child.school",
    ]


def test_the_close_page_says_first_what_happens_to_access(practitioner_client):
    referral = ReferralFactory(status=Referral.Status.DECIDED)
    body = practitioner_client.get(reverse("referrals:close", args=[referral.pk])).content.decode()
    assert "What closing does to access" in body
    assert body.index("What closing does to access") < body.index('name="reason"')
    assert "The MASH team keeps read-only access" in body
    assert "the team&#x27;s access to change it ends" in body or "the team's access to change it ends" in body


def test_new_referral_form_says_received_now_in_london(practitioner_client):
    before = timezone.localtime()
    body = practitioner_client.get(reverse("referrals:create")).content.decode()
    after = timezone.localtime()
    assert timezone.get_current_timezone_name() == "Europe/London"
    assert any(f'value="{t:%H:%M}"' in body for t in (before, after))
    assert f'value="{after.year}"' in body
    assert f'value="{after.day}"' in body


def test_a_case_note_has_a_type_and_the_time_of_the_event(practitioner_client):
    from referrals.models import CaseNote

    referral = ReferralFactory()
    url = reverse("referrals:add_note", args=[referral.pk])
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    day = {"occurred_on_0": yesterday.day, "occurred_on_1": yesterday.month, "occurred_on_2": yesterday.year}
    r = practitioner_client.post(url, {**day, "text": "Rang the DSL", "occurred_time": "25:00"})
    assert r.status_code == 400
    body = r.content.decode()
    assert "Select the type of note" in body
    assert "Enter a real time, for example 14:30" in body
    r = practitioner_client.post(
        url,
        {
            **day,
            "text": "Strategy meeting with police",
            "kind": "strategy_discussion",
            "occurred_time": "12:00",
        },
    )
    assert r.status_code == 302
    note = CaseNote.objects.get(referral=referral)
    assert (note.kind, note.occurred_time) == ("strategy_discussion", dt.time(12, 0))
    page = practitioner_client.get(reverse("referrals:detail", args=[referral.pk])).content.decode()
    assert f"Strategy discussion: {yesterday:%a} {yesterday.day} {yesterday:%B %Y}, midday" in page


def test_a_search_under_one_tab_says_how_many_match_in_the_others(practitioner_client):
    closed = ReferralFactory(reference="MASH-2019-0201", status=Referral.Status.CLOSED)
    child = closed.children.get(label="A").child
    child.first_name, child.last_name = "Zara", "Elsewhere"
    child.save()
    url = reverse("referrals:tray")
    body = practitioner_client.get(url, {"view": "awaiting", "q": "zara elsewhere"}).content.decode()
    assert "MASH-2019-0201" not in body
    assert "1 more referral in other statuses matches the search." in body
    assert "?view=all&amp;q=zara+elsewhere" in body
    body = practitioner_client.get(url, {"view": "all", "q": "zara elsewhere"}).content.decode()
    assert "MASH-2019-0201" in body
    assert "in other statuses" not in body


def test_the_decision_page_repeats_the_case_summary(practitioner_client):
    referral = ReferralFactory(status=Referral.Status.SCREENING, rag=RagLevel.objects.get(code="amber"))
    body = practitioner_client.get(reverse("referrals:decide", args=[referral.pk])).content.decode()
    assert "The referral you are deciding on" in body
    assert "Sexual assault" in body or "sexual assault" in body.lower()
    assert "Amber" in body
    assert "Child A (victim)" in body


def test_why_consent_was_not_sought_is_revealed_by_answering_no(practitioner_client, source_and_form_ids):
    body = practitioner_client.get(reverse("referrals:create")).content.decode()
    assert 'data-aria-controls="conditional-consent-not-sought"' in body
    assert 'class="govuk-radios__conditional govuk-radios__conditional--hidden"' in body
    assert body.index('id="id_consent_sought_2"') < body.index("Why was consent not sought?")
    data = payload(source_and_form_ids)
    data["consent_sought"] = "False"
    data["consent_not_sought_reason"] = ""
    body = practitioner_client.post(reverse("referrals:create"), data).content.decode()
    assert 'class="govuk-radios__conditional" id="conditional-consent-not-sought"' in body
    assert 'value="False" checked' in body


@pytest.mark.parametrize("button", ["add_child", "remove_child", "save"])
def test_a_posted_child_count_far_beyond_twelve_builds_a_bounded_number_of_rows(
    practitioner_client, source_and_form_ids, button
):
    """A hostile count (the hidden TOTAL_FORMS field) once made the page build and render 1,012
    children's rows (11 MB, 25 s) when "Remove the last child" was pressed."""
    data = payload(source_and_form_ids)
    data.pop("save", None)
    data[button] = "1"
    data["child-TOTAL_FORMS"] = "9" * 40
    response = practitioner_client.post(reverse("referrals:create"), data)
    assert response.status_code in (200, 400)
    rows = re.findall(r'name="child-(\d+)-first_name"', response.content.decode())
    assert 1 <= len(rows) <= 24, len(rows)
    assert Referral.objects.count() == 0
