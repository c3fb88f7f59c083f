"""Tables read back out of rendered HTML."""

from __future__ import annotations

from html.parser import HTMLParser


class Tables(HTMLParser):
    """Every table on a page as {caption: [[cell text, ...], ...]}, leaving out visually-hidden text."""

    def __init__(self, html: str):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._caption = self._row = self._cell = None
        self._rows: list[list[str]] = []
        self._in_caption = False
        self._hidden = 0
        self._depth = 0
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self._depth += 1
        if self._hidden or "govuk-visually-hidden" in (dict(attrs).get("class") or ""):
            self._hidden += 1
        if tag == "table":
            self._caption, self._rows = "", []
        elif tag == "caption":
            self._in_caption = True
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = ""

    def handle_endtag(self, tag):
        self._depth -= 1
        if self._hidden:
            self._hidden -= 1
        if tag == "caption":
            self._in_caption = False
        elif tag in ("td", "th") and self._cell is not None:
            self._row.append(" ".join(self._cell.split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self._rows.append(self._row)
            self._row = None
        elif tag == "table":
            self.tables[" ".join(self._caption.split())] = self._rows

    def handle_data(self, data):
        if self._hidden:
            return
        if self._in_caption:
            self._caption += data
        elif self._cell is not None:
            self._cell += data
