"""Every form the product renders, fed what a hostile or careless user sends.

For each actor (one user per role, plus a review's own lead and reviewer) the walk opens every
page of the URLconf it can reach, reads every ``<form>`` in the HTML and submits values drawn
by Hypothesis: unicode, control characters, very long strings, numbers out of range,
impossible dates, fields left out, fields sent twice, extra fields, choices the page did not
offer, ids of other records, and a body that is not UTF-8. Whatever is sent:

- the answer is never a server error;
- a redirect goes to a page of this service;
- anything but a redirect changed nothing: the row count and checksum of every table are
  as they were (Post/Redirect/Get: only a success may write);
- a refusal (400) says what is wrong in a GOV.UK error summary with at least one message.

Forms of pages merged later (scrutiny, model guidance, export jobs) are found the same way.
"""

from __future__ import annotations

from itertools import product
from urllib.parse import quote, urlencode, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import given
from hypothesis import strategies as st

from tests.hostile.strategies import OMIT, form_submission, hostile_file
from tests.hostile.walk import (
    ACTORS,
    READS_LOGGED,
    Yardstick,
    body_of,
    build_world,
    discover_forms,
    plausible_data,
    repeating_rows,
)
from tests.support.form_errors import error_messages

pytestmark = pytest.mark.django_db


def submit(client, form, data: dict[str, list[str]], upload=None):
    if form.method == "get":
        return client.get(form.action, data)
    if form.multipart:
        payload = dict(data)
        for name, field in form.fields.items():
            if field.kind == "file" and upload is not OMIT and upload is not None:
                filename, content, content_type = upload
                payload[name] = SimpleUploadedFile(filename, content, content_type=content_type)
        return client.post(form.action, payload)
    return client.post(
        form.action, urlencode(data, doseq=True), content_type="application/x-www-form-urlencoded"
    )


#: The heading of the page a request refused outright gets (templates/400.html, core.views.bad_request).
BAD_REQUEST_PAGE = "Sorry, there is a problem with the request"


def refused_for_its_size(response) -> bool:
    """Whether the request sent more than the service reads (``DATA_UPLOAD_MAX_MEMORY_SIZE``):
    Django refuses it before any form sees it (RequestDataTooBig), with the bad-request page,
    which tells the user to shorten what they pasted. The one refusal the walk may get without
    an error summary; a file's bytes count here though Django leaves them out, and the walk's
    files are at most 2,000 bytes."""
    from django.conf import settings

    length = int(response.wsgi_request.META.get("CONTENT_LENGTH") or 0)
    return length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def short(value, limit: int = 300) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def check_answer(form, response, changed, what) -> None:
    what = short(what)
    status = response.status_code
    assert status < 500, (form.action_name, what, status)
    if 300 <= status < 400:
        location = urlsplit(response["Location"])
        assert not location.scheme, (form.action_name, what, response["Location"])
        assert not location.netloc, (form.action_name, what, response["Location"])
        assert location.path.startswith("/"), (form.action_name, what, response["Location"])
        return
    assert not changed, f"{form.action_name} answered {status} but changed {changed}: {what}"
    html = body_of(response)
    messages = error_messages(html)
    if status == 400:
        assert messages or (refused_for_its_size(response) and BAD_REQUEST_PAGE in html), (
            f"{form.action_name} refused ({status}) without an error summary: {what}"
        )
    if messages is not None:
        assert messages, f"{form.action_name}: the error summary says nothing: {what}"
        assert all(messages), (
            f"{form.action_name}: the error summary has an empty or missing message {messages}: {what}"
        )
    assert status in (200, 400, 403, 404, 405, 409), (form.action_name, status, what)


def refused_changes(response, state) -> list[str]:
    """What a refused submission changed (read inside its rolled-back block; an accepted one,
    which redirects, is allowed its changes)."""
    return [] if 300 <= response.status_code < 400 else state.changed()


def fuzz(client, form, world, state) -> None:
    has_file = any(f.kind == "file" for f in form.fields.values())

    @given(
        data=form_submission(form, world.other_ids),
        upload=hostile_file() if has_file else st.just(None),
    )
    def run(data, upload):
        with state.rolled_back():
            response = submit(client, form, data, upload)
            changed = refused_changes(response, state)
        check_answer(form, response, changed, (data, upload and upload[:1]))

    run()


EXTREMES = ["9" * 40, str(-(2**63) - 1), "", "\x00", "<script>alert(1)</script>" * 400]


def extremes(client, form, world, state) -> None:
    """Every field at once at an extreme Hypothesis may not draw in a few examples, with each
    of the form's buttons pressed in turn (a button may take its own path: "Add a section")."""
    for value, button in product(EXTREMES, form.buttons or [None]):
        data = {name: [value] for name, field in form.fields.items() if field.kind != "file"}
        if button:
            data.setdefault(button[0], []).append(button[1])
        with state.rolled_back():
            response = submit(client, form, data)
            changed = refused_changes(response, state)
        check_answer(form, response, changed, data)


def raw_bytes(client, form, state) -> None:
    """A body that is not UTF-8, with NUL bytes, in every field."""
    body = "&".join(f"{quote(name)}=%FF%FE%00%C3%28" for name in form.fields)
    with state.rolled_back():
        if form.method == "get":
            response = client.get(f"{form.action}?{body}")
        else:
            response = client.generic(
                "POST", form.action, body.encode(), content_type="application/x-www-form-urlencoded"
            )
        changed = refused_changes(response, state)
    check_answer(form, response, changed, body)


@pytest.mark.parametrize("actor", ACTORS)
def test_every_form_refuses_hostile_input_cleanly(client, role_user, actor):
    world = build_world(role_user)
    world.sign_in(client, actor)
    forms = discover_forms(client, world)
    assert forms, "every signed-in user has at least the two-factor forms"
    for form in forms:
        world.sign_in(client, actor)  # a submission may have signed the session out or in
        # Each submission is rolled back, so the state before each is the state before the
        # first. A refused form re-rendered beside a case's identities logs that read, as any
        # page does.
        state = Yardstick(exclude=READS_LOGGED)
        raw_bytes(client, form, state)
        extremes(client, form, world, state)
        fuzz(client, form, world, state)


def test_a_form_sent_with_more_than_the_service_reads_gets_the_bad_request_page(client, role_user):
    """The one refusal ``check_answer`` accepts without an error summary is the page such a
    request really gets, and it changes nothing; any other bad-request page is not accepted."""
    from types import SimpleNamespace

    from django.conf import settings
    from django.urls import reverse

    form = SimpleNamespace(action_name="referrals:create")
    world = build_world(role_user)
    world.sign_in(client, "mash_practitioner")
    state = Yardstick(exclude=READS_LOGGED)
    too_much = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = client.post(reverse("referrals:create"), {"narrative": too_much})
    assert response.status_code == 400
    assert BAD_REQUEST_PAGE in body_of(response)
    check_answer(form, response, state.changed(), "a narrative too long to read")

    # The same page for a small request (here a host the service does not answer to): no.
    response = client.post(reverse("referrals:create"), {"narrative": "x"}, HTTP_HOST="elsewhere.example")
    assert response.status_code == 400
    assert BAD_REQUEST_PAGE in body_of(response)
    with pytest.raises(AssertionError, match="without an error summary"):
        check_answer(form, response, state.changed(), "a small request from another host")


def test_the_walk_finds_the_forms_it_should(client, role_user):
    """A guard on the walk itself: if parsing broke, the fuzzing above would pass vacuously."""
    world = build_world(role_user)
    world.sign_in(client, "mash_manager")
    found = {form.action_name for form in discover_forms(client, world)}
    assert {
        "referrals:create",
        "referrals:edit",
        "referrals:decide",
        "referrals:grants",
        "referrals:import",
        "referrals:break_glass",
        "referrals:add_note",
        "referrals:tray",
        "core:verify",
    } <= found
    world.sign_in(client, "review_lead")
    # The world's review waits for moderation, so its page offers no "advance" button (which
    # has no fields to fuzz; tests/reviews covers when it is offered).
    assert {"reviews:create", "reviews:findings", "reviews:assignment"} <= {
        form.action_name for form in discover_forms(client, world)
    }


# --- Repeating rows: blank, partial and extra ------------------------------------------------


def _post(client, form, data, state):
    with state.rolled_back():
        response = client.post(
            form.action, urlencode(data, doseq=True), content_type="application/x-www-form-urlencoded"
        )
        changed = refused_changes(response, state)
    return response, changed


def rows_walk(client, form, world) -> bool:
    """Blank, partial and extra rows on every repeating-row form. Returns whether the form
    took the plausible filling (so the guard below knows the walk was not vacuous)."""
    filled = plausible_data(form)
    state = Yardstick(exclude=READS_LOGGED)  # each submission is rolled back
    base, changed = _post(client, form, filled, state)
    check_answer(form, base, changed, filled)
    accepted = 300 <= base.status_code < 400
    for rows in repeating_rows(form):
        run = _rows_property(client, form, filled, base, accepted, rows, state)
        run()
    return accepted


def _rows_property(client, form, filled, base, accepted, rows, state):
    """The Hypothesis property for one set of rows (a closure: @given takes no defaults)."""
    text_fields = [n for n in rows.names if rows.kinds[n] in ("text", "textarea")]

    @given(
        blank=st.integers(min_value=1, max_value=max(1, rows.max_num - rows.total) + 2),
        partial_field=st.sampled_from(text_fields) if text_fields else st.none(),
        typed=st.text("abcdefghijklmnopqrstuvwxyz", min_size=4, max_size=12).map(lambda t: f"Row{t}"),
    )
    def run(blank, partial_field, typed):
        total = f"{rows.prefix}-TOTAL_FORMS"
        # Blank extra rows (beyond the page's maximum too): ignored, the answer is the same.
        data = {**filled, total: [str(rows.total + blank)]}
        response, changed = _post(client, form, data, state)
        check_answer(form, response, changed, data)
        assert (300 <= response.status_code < 400) == accepted, (
            f"{form.action_name}: {blank} blank extra row(s) changed the answer "
            f"from {base.status_code} to {response.status_code}"
        )
        if partial_field is None or not accepted:
            return
        # One more row with one box typed in: refused, with everything typed still there.
        data = {**filled, total: [str(rows.total + 1)], rows.name(rows.total, partial_field): [typed]}
        response, changed = _post(client, form, data, state)
        check_answer(form, response, changed, data)
        assert response.status_code == 400, (
            f"{form.action_name}: a row with only {partial_field} answered {response.status_code}"
        )
        html = body_of(response)
        assert typed in html, f"{form.action_name}: the partial row's {partial_field} was lost"
        kept = [
            v for n, vs in filled.items() for v in vs if n in form.fields and form.fields[n].kind == "text"
        ]
        assert all(v in html for v in kept), f"{form.action_name}: what was typed was lost"

    return run


@pytest.mark.parametrize("actor", ACTORS)
def test_every_repeating_row_form_ignores_blank_rows_and_refuses_partial_ones(client, role_user, actor):
    world = build_world(role_user)
    world.sign_in(client, actor)
    for form in discover_forms(client, world, method="post"):
        if repeating_rows(form):
            world.sign_in(client, actor)
            rows_walk(client, form, world)


def test_the_rows_walk_fills_the_new_referral_form(client, role_user):
    """A guard on the rows walk: the new referral form is found as a repeating-row form and
    the plausible filling saves it, so the blank-row cases above really reach the save."""
    world = build_world(role_user)
    world.sign_in(client, "mash_manager")
    forms = {f.action_name: f for f in discover_forms(client, world, method="post") if repeating_rows(f)}
    assert "referrals:create" in forms
    assert rows_walk(client, forms["referrals:create"], world)
