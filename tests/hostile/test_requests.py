"""Requests a browser would not make: no CSRF token, a GET that should not write, other ids.

Every URL pattern of the URLconf (public ones too), as every actor, so a page merged later
is covered without a change here. tests/test_access.py already checks which roles get each
page with real ids; this adds the requests around it.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import resolve, reverse

from tests.hostile.walk import (
    ACTORS,
    READS_LOGGED,
    Yardstick,
    body_of,
    build_world,
    forms_in,
    named_patterns,
)
from tests.support.access import POST_ONLY, SKIP_PREFIXES, app_urls

pytestmark = pytest.mark.django_db

UNSAFE = ("post", "put", "patch", "delete")
CSRF_PAGE = "Sorry, the form could not be sent"  # templates/403_csrf.html


def _body_for(client, url: str) -> dict[str, list[str]]:
    """What the page's own form would send (so the request would succeed but for the token)."""
    response = client.get(url)
    if response.status_code != 200 or getattr(response, "streaming", False):
        return {"reason": ["A reason long enough"]}
    for form in forms_in(url, body_of(response)):
        if form.method == "post" and form.action == url:
            return form.browser_data()
    return {"reason": ["A reason long enough"]}


@pytest.mark.parametrize("actor", [*ACTORS, "signed_out"])
def test_no_state_changing_request_without_a_csrf_token(role_user, actor):
    world = build_world(role_user)
    browser = Client()  # to read the pages' own forms
    attacker = Client(enforce_csrf_checks=True)  # the same user, from a page on another site
    if actor != "signed_out":
        world.sign_in(browser, actor)
        world.sign_in(attacker, actor)
    state = Yardstick()
    for name, url in world.urls().items():
        data = _body_for(browser, url)
        # Reading the page may log a read; after that, each refused request must leave the
        # state as it found it, so the state after one is the state before the next.
        state.refresh()
        for method in UNSAFE:
            if method == "post":
                response = attacker.post(url, data)
            else:
                response = getattr(attacker, method)(
                    url, "a=1", content_type="application/x-www-form-urlencoded"
                )
            changed = state.changed()
            assert not changed, (actor, name, method, changed)
            if getattr(resolve(url).func, "csrf_exempt", False):
                # A view that checks the token itself (the import, once its size limit is in
                # place) may refuse someone who cannot use it before it looks at the token.
                assert response.status_code in (302, 403, 404, 405), (
                    actor,
                    name,
                    method,
                    response.status_code,
                )
                if response.status_code == 302:
                    assert response["Location"].startswith(reverse("login")), (actor, name)
            elif method == "post":
                assert response.status_code == 403, (actor, name, response.status_code)
                assert CSRF_PAGE in body_of(response), (actor, name)
            else:
                assert response.status_code in (403, 405), (actor, name, method, response.status_code)


@pytest.mark.parametrize("actor", ACTORS)
def test_reading_a_page_changes_nothing(client, role_user, actor):
    """GET, HEAD and OPTIONS write nothing but the access log (a read of exempt data is logged)."""
    world = build_world(role_user)
    world.sign_in(client, actor)
    # Each request must leave the state as it found it, so the state after one request is
    # the state before the next (taken again only after signing in again).
    state = Yardstick(exclude=READS_LOGGED)
    for name, url in world.urls().items():
        for method in ("get", "head", "options"):
            response = getattr(client, method)(url)
            changed = state.changed()
            # The health check answers 503 by design while no worker has sent a heartbeat.
            healthy_or_said_so = name == "healthz" and response.status_code == 503
            assert response.status_code < 500 or healthy_or_said_so, (actor, name, method)
            assert not changed, (actor, name, method, changed)
        if name == "logout":
            world.sign_in(client, actor)
            state.refresh()


def _id_patterns():
    for name, pattern in named_patterns():
        if name.startswith(SKIP_PREFIXES):
            continue
        keys = list(pattern.pattern.regex.groupindex)
        if keys and all(pattern.pattern.converters.get(k).__class__.__name__ == "IntConverter" for k in keys):
            yield name, keys


def _max_ids() -> int:
    """A number above every id of every table: no record has it or anything after it."""
    from django.apps import apps

    top = 0
    for model in apps.get_models():
        if model._meta.pk.get_internal_type() in ("AutoField", "BigAutoField"):
            last = model._default_manager.order_by("-pk").values_list("pk", flat=True).first()
            top = max(top, last or 0)
    return top


def _main(response) -> str:
    """The page's main content (the navigation marks the section the URL is in)."""
    return re.search(r"<main.*?</main>", body_of(response), re.S).group(0)


@pytest.mark.parametrize("actor", ACTORS)
def test_guessed_ids_answer_not_found_and_say_nothing(client, role_user, actor):
    """Ids after the last record, and ids too big for any column, answer the same 404 page
    whatever the URL: nothing tells a guesser whether a record or page exists."""
    world = build_world(role_user)
    world.sign_in(client, actor)
    top = _max_ids()
    reference = _main(client.get("/no-such-page/"))
    for name, keys in _id_patterns():
        for guess in (top + 1, top + 2, top + 1000, 2**31, 2**63 - 1, 2**63, 10**30):
            url = reverse(name, kwargs=dict.fromkeys(keys, guess))
            response = client.get(url)
            if name in POST_ONLY:
                # Answered before any lookup, the same for every id; the POST looks it up.
                assert response.status_code == 405, (actor, name, guess, response.status_code)
                response = client.post(url, {"reason": "guess"})
                assert response.status_code == 404, (actor, name, guess, response.status_code)
                assert _main(response) == reference, (actor, name, guess)
                continue
            assert response.status_code == 404, (actor, name, guess, response.status_code)
            assert _main(response) == reference, (actor, name, guess)
            response = client.post(url, {"reason": "guess"})
            assert response.status_code in (404, 405), (actor, name, guess, response.status_code)


@pytest.mark.parametrize("actor", ACTORS)
def test_neighbouring_ids_of_records_out_of_reach_answer_not_found(client, role_user, actor):
    """A record made for someone else, and its neighbours either side, on every URL with an id:
    404 unless the page is one the role gets for any record (tests/test_access.py EXPECTED)."""
    from core.roles import Role
    from tests.support.access import EXPECTED

    world = build_world(role_user)
    other = build_world(role_user, tag="other")  # the same shapes again: another review, batch and referral
    world.sign_in(client, actor)
    role = {"review_lead": Role.LEAD_REVIEWER, "review_reviewer": Role.REVIEWER}.get(actor)
    role = role or Role(actor)
    mine = world.urls()
    for name, url in app_urls(other.referral_pk, **other.ids).items():
        if name not in mine or mine[name] == url or not any(ch.isdigit() for ch in url):
            continue
        response = client.get(url)
        own = client.get(mine[name]).status_code
        if response.status_code != 404:
            # Only a page the actor gets for its own world's record, and the role opens any of.
            assert own != 404, (actor, name, url, response.status_code)
            assert role in EXPECTED.get(name, frozenset()), (
                actor,
                name,
                url,
                response.status_code,
            )
