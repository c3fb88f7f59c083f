"""Markdown to safe HTML for the model guidance, and the difference between two versions.

Markdown itself passes raw HTML straight through, so everything it makes goes through nh3
(the Rust ``ammonia`` sanitiser) with a short allow-list: no script or style elements, no
event-handler attributes, and links only to http, https and mailto addresses.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import markdown
import nh3
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = {
    "p",
    "br",
    "h3",
    "h4",
    "ul",
    "ol",
    "li",
    "strong",
    "em",
    "a",
    "blockquote",
    "code",
    "abbr",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}}
URL_SCHEMES = {"http", "https", "mailto"}

#: GOV.UK Design System classes for the elements Markdown makes.
GOVUK_CLASSES = {
    "<p>": '<p class="govuk-body">',
    "<ul>": '<ul class="govuk-list govuk-list--bullet">',
    "<ol>": '<ol class="govuk-list govuk-list--number">',
    "<h3>": '<h3 class="govuk-heading-s">',
    "<h4>": '<h4 class="govuk-heading-s">',
    "<a ": '<a class="govuk-link" ',
    "<blockquote>": '<blockquote class="govuk-inset-text">',
}


def sanitise(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def render_markdown(text: str) -> SafeString:
    """A section body as sanitised HTML with GOV.UK classes (added after sanitising)."""
    html = sanitise(markdown.markdown(text or "", output_format="html"))
    for plain, styled in GOVUK_CLASSES.items():
        html = html.replace(plain, styled)
    return mark_safe(html)


# --- differences ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DiffRow:
    kind: str  # "same", "changed", "added", "removed"
    left_number: int | None
    left: str
    right_number: int | None
    right: str

    @property
    def label(self) -> str:
        return {"same": "Unchanged", "changed": "Changed", "added": "Added", "removed": "Removed"}[self.kind]


def _lines(sections) -> list[str]:
    lines: list[str] = []
    for section in sections:
        lines.append(f"## {section.order}. {section.heading}")
        lines.extend(line for line in section.body.splitlines())
        lines.append("")
    return lines


def side_by_side(old_sections, new_sections) -> list[DiffRow]:
    """Line-by-line difference of two versions' Markdown, for a two-column table.

    Each row says in words whether the line is unchanged, changed, added or removed, so the
    difference never depends on colour.
    """
    old, new = _lines(old_sections), _lines(new_sections)
    rows: list[DiffRow] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows.extend(
                DiffRow("same", i + 1, old[i], j + 1, new[j])
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
            )
        elif tag == "replace":
            left, right = list(range(i1, i2)), list(range(j1, j2))
            for k in range(max(len(left), len(right))):
                li = left[k] if k < len(left) else None
                rj = right[k] if k < len(right) else None
                kind = (
                    "changed" if li is not None and rj is not None else ("removed" if rj is None else "added")
                )
                rows.append(
                    DiffRow(
                        kind,
                        li + 1 if li is not None else None,
                        old[li] if li is not None else "",
                        rj + 1 if rj is not None else None,
                        new[rj] if rj is not None else "",
                    )
                )
        elif tag == "delete":
            rows.extend(DiffRow("removed", i + 1, old[i], None, "") for i in range(i1, i2))
        elif tag == "insert":
            rows.extend(DiffRow("added", None, "", j + 1, new[j]) for j in range(j1, j2))
    return rows
