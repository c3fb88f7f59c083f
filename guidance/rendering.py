"""Markdown to safe HTML for the model guidance, and the word-level difference between two versions.

Markdown itself passes raw HTML straight through, so everything it makes goes through nh3
(the Rust ``ammonia`` sanitiser) with a short allow-list: no script or style elements, no
event-handler attributes, and links only to http, https and mailto addresses.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from html.parser import HTMLParser

import markdown
import nh3
from django.utils.html import escape
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
#
# Two versions are compared as readers see them: each section's Markdown is rendered (and
# sanitised) as on the published page, its text read back block by block (headings,
# paragraphs, list items), and the blocks compared with difflib, then the words inside each
# changed block. The result is HTML built here from escaped text and a handful of fixed tags:
# nothing a section's author wrote reaches the page unescaped.

#: Elements whose text is one block of the comparison, and how the block is shown.
_BLOCK_TAGS = {"p": "p", "h3": "h", "h4": "h", "li": "li", "blockquote": "p"}
#: Two changed blocks this alike (difflib's ratio over their words) are one block edited;
#: less alike, one was removed and another added.
SIMILAR = 0.4
_TOKENS = re.compile(r"\s+|[^\s]+")


@dataclass(frozen=True)
class Block:
    kind: str  # "h" (a section or sub-heading), "p" or "li"
    text: str
    list_tag: str = ""  # "ul" or "ol" for a list item


class _BlockReader(HTMLParser):
    """The text of each block element of rendered (sanitised) Markdown, in order."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.lists: list[str] = []
        self.open: tuple[str, list[str]] | None = None

    def flush(self) -> None:
        if self.open is not None:
            kind, words = self.open
            text = " ".join("".join(words).split())
            if text:
                self.blocks.append(Block(kind, text, self.lists[-1] if kind == "li" and self.lists else ""))
        self.open = None

    def handle_starttag(self, tag, attrs):
        if tag in ("ul", "ol"):
            self.flush()
            self.lists.append(tag)
        elif tag in _BLOCK_TAGS:
            if tag == "p" and self.open is not None and self.open[0] == "li":
                return  # a list item's paragraph is part of the item
            self.flush()
            self.open = (_BLOCK_TAGS[tag], [])
        elif tag == "br" and self.open is not None:
            self.open[1].append(" ")

    def handle_endtag(self, tag):
        if tag in ("ul", "ol"):
            self.flush()
            if self.lists:
                self.lists.pop()
        elif tag in _BLOCK_TAGS and not (tag == "p" and self.open is not None and self.open[0] == "li"):
            self.flush()

    def handle_data(self, data):
        if self.open is None:
            if data.strip():  # loose text outside any block (rare in Markdown's output)
                self.open = ("p", [])
            else:
                return
        self.open[1].append(data)


def rendered_blocks(sections) -> list[Block]:
    """Each section's heading, then the blocks of its rendered body, as a reader sees them."""
    blocks: list[Block] = []
    for section in sections:
        blocks.append(Block("h", f"{section.order}. {section.heading}"))
        reader = _BlockReader()
        reader.feed(str(render_markdown(section.body)))
        reader.close()
        reader.flush()
        blocks.extend(reader.blocks)
    return blocks


def _mark(tag: str, text: str) -> str:
    """``<ins>`` or ``<del>`` around escaped text, saying in words (to screen readers) what it is."""
    word = "added" if tag == "ins" else "removed"
    return (
        f'<{tag} class="app-diff__{tag}"><span class="govuk-visually-hidden">[{word}: </span>'
        f'{escape(text)}<span class="govuk-visually-hidden">]</span></{tag}>'
    )


def _word_diff(old: str, new: str) -> str:
    a, b = _TOKENS.findall(old), _TOKENS.findall(new)
    # (same, old text, new text) runs; a change of several words separated only by spaces
    # is one change ("<del>at once</del><ins>straight away</ins>", not word by word).
    runs: list[list] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        was, now = "".join(a[i1:i2]), "".join(b[j1:j2])
        if tag == "equal":
            runs.append([True, was, now])
        elif runs and not runs[-1][0]:
            runs[-1][1] += was
            runs[-1][2] += now
        elif len(runs) >= 2 and not runs[-2][0] and not runs[-1][1].strip():
            space = runs.pop()[1]
            runs[-1][1] += space + was
            runs[-1][2] += space + now
        else:
            runs.append([False, was, now])
    out = []
    for same, was, now in runs:
        if same:
            out.append(escape(was))
            continue
        if was.strip():
            out.append(_mark("del", was))
        if now.strip():
            out.append(_mark("ins", now))
        elif now and not was.strip():
            out.append(escape(now))
    return "".join(out)


@dataclass(frozen=True)
class DiffBlock:
    kind: str  # "h", "p" or "li"
    change: str  # "same", "changed", "added" or "removed"
    html: SafeString  # escaped text with <ins>/<del> marks
    list_tag: str = ""


def _block(change: str, block: Block, html: str) -> DiffBlock:
    return DiffBlock(block.kind, change, mark_safe(html), block.list_tag)  # built from escaped text


def _ratio(old: Block, new: Block) -> float:
    return difflib.SequenceMatcher(a=old.text.split(), b=new.text.split(), autojunk=False).ratio()


def word_diff(old_sections, new_sections) -> list[DiffBlock]:
    """The difference between two versions' rendered text, block by block, word by word."""
    old, new = rendered_blocks(old_sections), rendered_blocks(new_sections)
    out: list[DiffBlock] = []
    matcher = difflib.SequenceMatcher(
        a=[(b.kind, b.text) for b in old], b=[(b.kind, b.text) for b in new], autojunk=False
    )
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out.extend(_block("same", block, escape(block.text)) for block in new[j1:j2])
            continue
        removed, added = list(old[i1:i2]), list(new[j1:j2])
        # Pair each removed block with the next added block like it (an edit); the rest were
        # removed or added whole, shown where they stood.
        while removed or added:
            if (
                removed
                and added
                and removed[0].kind == added[0].kind
                and _ratio(removed[0], added[0]) >= SIMILAR
            ):
                was, now = removed.pop(0), added.pop(0)
                out.append(_block("changed", now, _word_diff(was.text, now.text)))
            elif removed:
                was = removed.pop(0)
                out.append(_block("removed", was, _mark("del", was.text)))
            else:
                now = added.pop(0)
                out.append(_block("added", now, _mark("ins", now.text)))
    return out


def diff_html(blocks: list[DiffBlock]) -> SafeString:
    """The blocks as GOV.UK-styled HTML: headings, paragraphs, and list items in their lists."""
    parts: list[str] = []
    open_list = ""
    for block in blocks:
        if open_list and (block.kind != "li" or block.list_tag != open_list):
            parts.append(f"</{open_list}>")
            open_list = ""
        changed = "" if block.change == "same" else f" app-diff__block--{block.change}"
        if block.kind == "li":
            if not open_list:
                open_list = block.list_tag or "ul"
                style = "number" if open_list == "ol" else "bullet"
                parts.append(f'<{open_list} class="govuk-list govuk-list--{style}">')
            parts.append(f'<li class="app-diff__block{changed}">{block.html}</li>')
        elif block.kind == "h":
            parts.append(f'<h3 class="govuk-heading-s app-diff__block{changed}">{block.html}</h3>')
        else:
            parts.append(f'<p class="govuk-body app-diff__block{changed}">{block.html}</p>')
    if open_list:
        parts.append(f"</{open_list}>")
    return mark_safe("".join(parts))  # fixed tags around escaped text
