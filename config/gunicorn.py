"""gunicorn's settings for the production image: the Dockerfile's CMD loads this module.

Nothing gunicorn writes may carry a query string (a name search is one):

- No access log. gunicorn's prints the request line, the query string and the Referer (the
  page a search result was opened from). The app's own JSON line per request
  (``core.middleware.RequestLogMiddleware``: method, path without query, status, duration,
  user id) replaces it. ``QueryFreeLogger.access`` writes nothing, so turning the access log
  on (``--access-logfile``, ``GUNICORN_CMD_ARGS``) still prints no request line.
- gunicorn's error log passes through the same scrub as the app's lines
  (``core.logs.scrub``), and a malformed request's parse error ("Invalid HTTP request line:
  'GET /referrals/?q=Jane Smith HTTP/1.1'") is logged without the request text it quotes.

Bind address and worker count: ``GUNICORN_CMD_ARGS="--bind ..."`` and ``WEB_CONCURRENCY``.
"""

from __future__ import annotations

import logging
import os
import re

from gunicorn.glogging import Logger

from core.logs import ExemptDataFilter

bind = ["0.0.0.0:8000"]
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
accesslog = None
errorlog = "-"

# gunicorn's parse errors quote the request line, a header or a bare token of it (an
# unencoded space splits "Jane Smith" into the target and an "HTTP version").
_INVALID_REQUEST = re.compile(r"^(Invalid request from ip=\S+?):.*", re.DOTALL)


class _ScrubFilter(logging.Filter):
    """core.logs' filter for gunicorn's plain-text error log (the stack stays, messages go)."""

    _app_filter = ExemptDataFilter()

    def filter(self, record: logging.LogRecord) -> bool:
        self._app_filter.filter(record)
        record.msg = _INVALID_REQUEST.sub(r"\1: [request text withheld]", record.msg)
        shape = record.__dict__.pop("exception", None)
        if shape:
            record.msg = f"{record.msg}\n{shape}"
        return True


class QueryFreeLogger(Logger):
    """gunicorn's logger without an access log, its error log scrubbed."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        if not any(isinstance(f, _ScrubFilter) for f in self.error_log.filters):
            self.error_log.addFilter(_ScrubFilter())

    def access(self, resp, req, environ, request_time) -> None:
        return None  # the app's request line (without the query string) replaces it


logger_class = QueryFreeLogger
