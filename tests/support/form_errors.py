"""The error messages a GOV.UK form page shows."""

from __future__ import annotations

import re

ERROR_SUMMARY = re.compile(
    r'class="govuk-error-summary".*?class="govuk-error-summary__body">(.*?)</div>', re.S
)


ERROR_ITEM = re.compile(r"<li>(.*?)</li>", re.S)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def error_messages(html: str) -> list[str] | None:
    """The messages in the page's GOV.UK error summary (its list, or its paragraph), or None
    if the page has no error summary. An empty list: a summary that says nothing."""
    summary = ERROR_SUMMARY.search(html)
    if summary is None:
        return None
    body = summary.group(1)
    if "<ul" in body:
        return [_text(item) for item in ERROR_ITEM.findall(body)]
    return [_text(body)] if _text(body) else []
