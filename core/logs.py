"""Structured logs: one JSON object a line, and a filter that lets no exempt value through.

Every record reaching the console handler passes two filters (config/settings/base.py):

- ``RequestContextFilter`` adds the request id and user id of the request (or task) it
  belongs to, so every line of one request can be found together.
- ``ExemptDataFilter`` is the guard. Whatever a developer writes, it

  * masks every exempt value loaded in this request or task: ``core.exempt`` remembers each
    registered exempt field's value as its model instances are loaded (``remember_exempt``), so
    ``log.info("child %s", child.first_name)`` prints ``[exempt]``;
  * removes query strings (a name search travels in one) from the message and every extra;
  * keeps only the shape of SQL log lines (``django.db.backends`` would print parameters);
  * keeps an exception's type and stack but drops its message (a database error repeats the
    values it refused);
  * drops any extra that is not a plain value (``django.request`` attaches the request).
"""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
import re
import traceback

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from core.exempt import MASK

QUERY_REMOVED = "?[query removed]"

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
user_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("user_id", default="-")
_exempt_values: contextvars.ContextVar[set[str] | None] = contextvars.ContextVar(
    "exempt_values", default=None
)

# Everything a LogRecord carries by itself; anything else on a record is an "extra".
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}
_ADDED = frozenset({"request_id", "user_id"})
# "?a=b" after a path or URL-ish word, up to whitespace or a quote; or "?anything" straight
# after a path ("/referrals/?Jane"), which is a query string without a name.
_QUERY = re.compile(r"\?[^\s'\"<>]*=[^\s'\"<>]*|(?<=[\w/])\?[^\s'\"<>]+")
_MIN_LENGTH = 2  # one character is no identity, and masking it would blank the line
# Secrets carried in a path: the e-mailed links' tokens (setting a password, a school's
# acknowledgement). The segment after the account or school is a working key until used.
TOKEN_REMOVED = "[token removed]"  # noqa: S105 - a placeholder
_PATH_TOKEN = re.compile(
    r"(/account/set-password/[^/\s'\"<>?]+/|/guidance/acknowledge/[^/\s'\"<>?]+/)(?!set-password/)[^/\s'\"<>?]+"
)


def start_scope() -> contextvars.Token:
    """A fresh set of exempt values for one request or task."""
    return _exempt_values.set(set())


def end_scope(token: contextvars.Token) -> None:
    _exempt_values.reset(token)


def remember_exempt(*values) -> None:
    """Register exempt values now in memory, so no log line of this request can carry them."""
    seen = _exempt_values.get()
    if seen is None:  # outside a request or task (a shell, a command): one scope for the process
        seen = set()
        _exempt_values.set(seen)
    for value in values:
        if value is None:
            continue
        if isinstance(value, dt.date):
            forms = {value.isoformat(), value.strftime("%d/%m/%Y"), f"{value.day} {value:%B %Y}"}
        else:
            forms = {str(value).strip()}
        seen.update(form for form in forms if len(form) >= _MIN_LENGTH)


def scrub(text: str) -> str:
    """The text with query strings and links' tokens removed and every registered exempt value
    masked."""
    text = _QUERY.sub(QUERY_REMOVED, text)
    text = _PATH_TOKEN.sub(rf"\1{TOKEN_REMOVED}", text)
    values = _exempt_values.get()
    if values:
        lowered = text.lower()
        for value in sorted(values, key=len, reverse=True):
            if value.lower() in lowered:
                text = re.sub(re.escape(value), MASK, text, flags=re.IGNORECASE)
                lowered = text.lower()
    return text


def _exception_shape(exc_info) -> str:
    """Type and stack of an exception (and its causes), without any exception's message."""
    _, error, _ = exc_info
    lines: list[str] = []
    while error is not None:
        frames = traceback.extract_tb(error.__traceback__)
        lines.append(f"{type(error).__module__}.{type(error).__qualname__} (message withheld)")
        lines.extend(f"  {frame.filename}:{frame.lineno} in {frame.name}" for frame in frames)
        error = error.__cause__ or error.__context__
    return "\n".join(lines)


class RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # django.request logs after the middleware has finished, with the request attached.
        request = getattr(record, "request", None)
        if not hasattr(record, "request_id"):
            record.request_id = getattr(request, "request_id", None) or request_id_var.get()
        if not hasattr(record, "user_id"):
            record.user_id = user_id_var.get()
            try:
                # request.user is lazy: reading it may need the database, which may be what
                # failed. A log line must never raise, so then the id is the one already known.
                user = getattr(request, "user", None)
                if getattr(user, "is_authenticated", False):
                    record.user_id = str(user.pk)
            except Exception:  # noqa: S110 - logging must not fail the response
                pass
        return True


class ExemptDataFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("django.db.backends"):
            duration = getattr(record, "duration", None)
            record.msg, record.args = "SQL query (%s s)", (duration,)
            record.__dict__.pop("sql", None)  # the statement with its values interpolated
            record.__dict__.pop("params", None)
        try:
            message = record.getMessage()
        except Exception:  # a malformed call must not take the values with it
            message = str(record.msg)
        record.msg, record.args = scrub(message), ()
        if record.exc_info:
            record.exception = _exception_shape(record.exc_info)
        record.exc_info = record.exc_text = record.stack_info = None
        for key in list(record.__dict__):
            if key in _STANDARD or key in _ADDED:
                continue
            value = record.__dict__[key]
            if isinstance(value, str):
                record.__dict__[key] = scrub(value)
            elif not isinstance(value, (bool, int, float)) and value is not None:
                del record.__dict__[key]  # the request, SQL parameters, model instances...
        return True


class JsonFormatter(_JsonFormatter):
    """``{"timestamp", "level", "logger", "message", "request_id", "user_id", ...extras}``."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", True)
        super().__init__("{levelname}{name}{message}", *args, style="{", **kwargs)
