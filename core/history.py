"""History change reasons fit simple-history's column.

``history_change_reason`` is ``varchar(100)``: PostgreSQL refuses a longer value (a server
error when a manager gives a grant with a sentence-long reason; SQLite never checked). The
full reason stays where the record keeps it (a grant's ``reason``, the access log); the
history row gets its first 100 characters.
"""

from __future__ import annotations

MAX_LENGTH = 100


def change_reason(text: str) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= MAX_LENGTH else text[: MAX_LENGTH - 1] + "…"
