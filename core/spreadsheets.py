"""CSV cells safe to open in a spreadsheet.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by Excel
and LibreOffice as a formula (CSV injection: ``=HYPERLINK(...)`` sends data away, DDE runs
commands). Every CSV the service writes passes each cell through ``safe_cell``, which makes
such a cell text by putting an apostrophe first (OWASP's advice). What people typed, what a
browser sent as its user agent and what an import file held are all treated alike.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def safe_cell(value) -> str:
    text = "" if value is None else str(value)
    # Leading spaces do not stop a spreadsheet reading what follows as a formula.
    if text.lstrip(" ")[:1] in FORMULA_STARTS:
        return "'" + text
    return text


def safe_row(values) -> list[str]:
    return [safe_cell(value) for value in values]
