"""What gunicorn and the app's filter do with a query string, line by line (fast; the whole
production server is started in test_production_logs.py)."""

from __future__ import annotations

import io
import logging

import pytest
from gunicorn.config import Config

from config.gunicorn import QueryFreeLogger
from core import logs

NAME = "Qzcnryscrub"


@pytest.fixture
def gunicorn_log():
    cfg = Config()
    cfg.set("errorlog", "-")
    cfg.set("accesslog", "-")  # switched on: the logger must still print no request line
    logger = QueryFreeLogger(cfg)
    buffer = io.StringIO()
    for log in (logger.error_log, logger.access_log):
        for handler in log.handlers:
            handler.setStream(buffer)
    yield logger, buffer
    for log in (logger.error_log, logger.access_log):
        for handler in list(log.handlers):
            log.removeHandler(handler)
        log.filters.clear()


def test_gunicorn_error_log_withholds_a_refused_request_line_and_scrubs_queries(gunicorn_log):
    logger, buffer = gunicorn_log
    logger.warning(f"Invalid request from ip=10.0.0.1: Invalid HTTP Version: '{NAME} HTTP/1.1'")
    try:
        raise RuntimeError(f"boom {NAME}")
    except RuntimeError:
        logger.exception("Error handling request %s %s", "GET", f"/referrals/?q={NAME}")
    logger.info("Booting worker with pid: %s", 42)
    output = buffer.getvalue()
    assert NAME not in output
    assert "Invalid request from ip=10.0.0.1: [request text withheld]" in output
    assert "Error handling request GET /referrals/?[query removed]" in output
    assert "builtins.RuntimeError (message withheld)" in output  # the stack stays
    assert "Booting worker with pid: 42" in output


def test_gunicorn_access_log_writes_nothing_even_when_switched_on(gunicorn_log):
    logger, buffer = gunicorn_log

    class Response:
        status, sent, headers = "200 OK", 10, ()

    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/referrals/?q={NAME}",
        "PATH_INFO": "/referrals/",
        "QUERY_STRING": f"q={NAME}",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_REFERER": f"https://x/referrals/?q={NAME}",
    }
    import datetime as dt

    logger.access(Response(), {}, environ, dt.timedelta(seconds=1))
    assert buffer.getvalue() == ""


@pytest.mark.parametrize(
    "text",
    [
        f"/referrals/?q={NAME}",
        f"/referrals/?view=all&q={NAME}&page=2",
        f"/referrals/?{NAME}",
        f"https://mash.example/referrals?{NAME}",
        f"next=/verify/?next=/referrals/%3Fq%3D{NAME}",
    ],
)
def test_the_app_filter_drops_every_shape_of_query_string(text):
    assert NAME not in logs.scrub(f"opened {text} today")


def test_a_question_in_prose_is_left_alone():
    assert logs.scrub("Is this right? Yes") == "Is this right? Yes"


def test_the_request_line_of_a_search_has_no_query(client, db):
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    keep = Keep()
    logging.getLogger("mash.request").addHandler(keep)
    try:
        client.get(f"/referrals/?view=all&q={NAME}")
    finally:
        logging.getLogger("mash.request").removeHandler(keep)
    (record,) = records
    assert record.path == "/referrals/"
    assert NAME not in record.getMessage()
    assert NAME not in repr(record.__dict__)


def test_the_token_of_an_e_mailed_link_is_never_logged(client, role_user):
    """Found by attack: the request line logged the set-password link's path, token and all: a
    working key to the account for anyone who reads the logs while the link is unused."""
    from core import passwords
    from core.roles import Role

    holder = role_user(Role.MASH_PRACTITIONER, username="holder", email="holder@council.example")
    path = "/" + passwords.password_link_url(holder).split("://", 1)[1].split("/", 1)[1]
    token = path.rstrip("/").rsplit("/", 1)[1]
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    keep = Keep()
    keep.addFilter(logs.ExemptDataFilter())
    logging.getLogger("mash.request").addHandler(keep)
    try:
        client.get(path)
    finally:
        logging.getLogger("mash.request").removeHandler(keep)
    (record,) = records
    assert token not in record.getMessage()
    assert token not in repr(record.__dict__)
    assert logs.TOKEN_REMOVED in record.path
    assert token not in logs.scrub(f"/guidance/acknowledge/700001/{token}/")


_DEV_SERVER_SCRIPT = """
import logging, sys
import django
django.setup()
from django.core.servers.basehttp import WSGIRequestHandler

class Handler(WSGIRequestHandler):
    def __init__(self):  # no socket: only the logging runserver does for each request
        self.request = object()
        self.requestline = "GET /referrals/?q=NAME HTTP/1.1"
        self.client_address = ("127.0.0.1", 50000)

    def log_date_time_string(self):
        return "now"

for status in ("200", "404", "500"):
    Handler().log_message('"%s" %s %s', "GET /referrals/?q=NAME HTTP/1.1", status, "179")
logging.getLogger("django.request").warning("Not Found: %s", "/referrals/?q=NAME")

# Every logger that stops propagating writes only through handlers that scrub.
from core.logs import ExemptDataFilter
for name, logger in logging.Logger.manager.loggerDict.items():
    if not isinstance(logger, logging.Logger) or logger.propagate:
        continue
    if not logger.handlers:
        print("NO HANDLER", name)
    for handler in logger.handlers:
        if not any(isinstance(f, ExemptDataFilter) for f in handler.filters):
            print("UNFILTERED", name, handler)
"""


@pytest.mark.parametrize("settings_module", ["config.settings.local", "config.settings.production"])
def test_the_development_server_line_keeps_no_query_string(settings_module):
    """The finding: runserver's ``django.server`` line (no handler and no propagation once the
    project's LOGGING replaced Django's) reached logging's last resort and printed the query
    string, a name search and all. Now it goes through the one filtered console handler."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings_module,
        "LOG_FORMAT": "plain",
        # Production settings have no defaults: enough for them to load.
        "SECRET_KEY": "x" * 50,
        "ALLOWED_HOSTS": "localhost",
        "SITE_URL": "https://mash.example",
        "SECURITY_ALERTS_EMAIL": "ig-team@council.example",
        "DISPOSAL_REGISTER_PATH": "/records/disposal-register.jsonl",
        "DATABASE_URL": os.environ.get("DATABASE_URL", "sqlite:///:memory:"),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),  # read, never reached
    }
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", _DEV_SERVER_SCRIPT.replace("NAME", NAME)],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert NAME not in output
    assert "/referrals/?[query removed]" in output  # the 404 and 500 lines are still written
    assert "NO HANDLER" not in output
    assert "UNFILTERED" not in output
