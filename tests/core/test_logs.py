"""Structured logs: one JSON line a request, and never an exempt value in any line.

The output is read from the configured console handler itself (its JSON formatter and both
filters), not from pytest's capture, so the test sees exactly what production would write.
"""

from __future__ import annotations

import io
import json
import logging
import re

import pytest
from django.db import connection
from django.urls import reverse

from core import logs
from core.roles import Role
from referrals import services
from referrals.models import Child
from tests.conftest import sign_in_verified
from tests.support.access import app_urls
from tests.support.canary import CANARY, leaks

pytestmark = pytest.mark.django_db


@pytest.fixture
def log_output():
    """Everything the configured handlers write, at DEBUG, with SQL logging on."""
    root = logging.getLogger()
    handlers = [h for h in root.handlers if isinstance(h.formatter, logs.JsonFormatter)]
    assert handlers, "the console handler should use core.logs.JsonFormatter"
    buffer = io.StringIO()
    previous = [h.setStream(buffer) for h in handlers]
    level, root.level = root.level, logging.DEBUG
    quiet = {name: logging.getLogger(name).level for name in ("django.request", "django.db.backends")}
    for name in quiet:
        logging.getLogger(name).setLevel(logging.DEBUG)
    connection.force_debug_cursor = True  # django.db.backends logs every query with its values
    try:
        yield buffer
    finally:
        connection.force_debug_cursor = False
        for name, old in quiet.items():
            logging.getLogger(name).setLevel(old)
        root.setLevel(level)
        for handler, stream in zip(handlers, previous, strict=True):
            handler.setStream(stream)


def lines(buffer: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


def test_each_request_writes_one_json_line_with_its_id_user_path_status_and_duration(
    client, practitioner, log_output
):
    sign_in_verified(client, practitioner)
    log_output.seek(0)
    log_output.truncate()
    response = client.get(
        reverse("referrals:tray") + "?view=all&q=Smith", HTTP_X_REQUEST_ID="lb-0123456789abcdef"
    )
    assert response.status_code == 200
    assert response["X-Request-ID"] == "lb-0123456789abcdef"
    request_lines = [line for line in lines(log_output) if line["logger"] == "mash.request"]
    assert len(request_lines) == 1
    line = request_lines[0]
    assert line["request_id"] == "lb-0123456789abcdef"
    assert line["user_id"] == str(practitioner.pk)
    assert line["method"] == "GET"
    assert line["path"] == "/referrals/"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float)
    assert line["level"] == "INFO"
    assert "timestamp" in line
    assert "Smith" not in log_output.getvalue()  # what was searched for stays out
    # Every line of the request (its SQL too) carries the same id.
    assert {x["request_id"] for x in lines(log_output)} == {"lb-0123456789abcdef"}


def test_a_request_id_that_is_not_plausible_is_replaced(client, log_output):
    response = client.get(reverse("login"), HTTP_X_REQUEST_ID="<script>qzcnry</script>")
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
    assert CANARY not in log_output.getvalue()


def test_the_filter_masks_loaded_exempt_values_drops_exception_messages_and_sql(canary_referral, log_output):
    log = logging.getLogger("referrals.anything")
    token = logs.start_scope()
    try:
        child = Child.objects.get(first_name="QzcnryFirstA")
        # A careless line naming the child, and an error whose message repeats the values.
        log.warning(
            "child %s %s at %s born %s",
            child.first_name,
            child.last_name,
            child.address,
            child.date_of_birth,
        )
        log.info("lookup", extra={"term": child.postcode, "request": object(), "url": "/referrals/?q=Smith"})
        try:
            raise ValueError(f"duplicate key (first_name)=({child.first_name})")
        except ValueError:
            log.exception("saving failed")
    finally:
        logs.end_scope(token)
    output = log_output.getvalue()
    assert not leaks(output), leaks(output)
    assert "Smith" not in output
    records = lines(log_output)
    careless = next(r for r in records if r["message"].startswith("child"))
    assert careless["message"] == "child [exempt] [exempt] at [exempt] born [exempt]"
    lookup = next(r for r in records if r["message"] == "lookup")
    assert lookup["term"] == "[exempt]"
    assert "request" not in lookup
    assert lookup["url"] == "/referrals/?[query removed]"
    failed = next(r for r in records if r["message"] == "saving failed")
    assert failed["exception"].startswith("builtins.ValueError (message withheld)")
    assert "test_logs.py" in failed["exception"]
    assert any(r["logger"] == "django.db.backends" and r["message"].startswith("SQL query") for r in records)


@pytest.mark.parametrize("role", list(Role))
def test_the_leak_walk_writes_no_exempt_value_to_any_log(
    client, role_user, role, canary_referral, canary_review, log_output
):
    """tests/test_exempt_leak.py's walk, every URL as every role, with all log output read."""
    sign_in_verified(client, role_user(role))
    tray, export = reverse("referrals:tray"), reverse("referrals:export")
    urls = [
        *app_urls(canary_referral.pk, **canary_review).values(),
        f"{tray}?view=all&q=qzcnryfirsta",
        f"{export}?q=qzcnry",
    ]
    for url in urls:
        client.get(url)
    assert lines(log_output)
    assert not leaks(log_output.getvalue()), leaks(log_output.getvalue())


def test_a_grant_holder_reading_every_exempt_page_writes_no_exempt_value_to_any_log(
    client, role_user, canary_referral, canary_review, log_output
):
    manager = role_user(Role.MASH_MANAGER, username="grantor")
    reader = role_user(Role.MASH_MANAGER, username="reader")
    services.referral_grant(
        granted_by=manager,
        referral_id=canary_referral.pk,
        user=reader,
        actions=["view_exempt", "change"],
        reason="Allocated to the reader for follow-up",
    )
    sign_in_verified(client, reader)
    shown = 0
    for url in [
        *app_urls(canary_referral.pk, **canary_review).values(),
        f"{reverse('referrals:tray')}?view=all&q=qzcnryfirsta",
        f"{reverse('referrals:export')}?q={canary_referral.reference}",
    ]:
        response = client.get(url)
        body = b"".join(response) if response.streaming else response.content
        shown += CANARY in body.decode().lower()
    assert shown >= 3  # the pages did show the exempt data...
    output = log_output.getvalue()
    assert not leaks(output), leaks(output)  # ...and no log line carried any of it


def test_an_error_while_showing_a_case_logs_no_exempt_value(
    client, role_user, canary_referral, log_output, monkeypatch
):
    from referrals import selectors

    original = selectors.referral_view

    def explode(**kwargs):
        # Fail after the exempt data is loaded, with the values in the exception's message.
        view = original(**kwargs)
        names = [(c.child.first_name, c.child.last_name, c.child.address) for c in view.children]
        assert view.exempt_visible
        raise RuntimeError(f"template failed on {names} {view.detail.narrative}")

    monkeypatch.setattr(selectors, "referral_view", explode)
    manager = role_user(Role.MASH_MANAGER, username="grantor")
    reader = role_user(Role.MASH_MANAGER, username="reader")
    services.referral_grant(
        granted_by=manager,
        referral_id=canary_referral.pk,
        user=reader,
        actions=["view_exempt"],
        reason="Allocated to the reader for follow-up",
    )
    sign_in_verified(client, reader)
    client.raise_request_exception = False
    response = client.get(reverse("referrals:detail", args=[canary_referral.pk]))
    assert response.status_code == 500
    assert not leaks(response.content.decode())
    output = log_output.getvalue()
    assert "builtins.RuntimeError (message withheld)" in output
    assert not leaks(output), leaks(output)
