"""The Markdown sanitiser against script injection, and the side-by-side difference."""

from __future__ import annotations

import pytest

from guidance.rendering import render_markdown, side_by_side
from modelguidance.models import GuidanceSection

ATTACKS = [
    "<script>alert(1)</script>",
    "Hello <script src='https://evil.example/x.js'></script>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](  javascript:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    '<img src="x" onerror="alert(1)">',
    '<p onclick="alert(1)">x</p>',
    "<iframe src='https://evil.example'></iframe>",
    "<svg onload=alert(1)>",
    "<style>body{display:none}</style>",
    '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    "![x](javascript:alert(1))",
    '<div style="background:url(javascript:alert(1))">x</div>',
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_no_script_event_handler_or_javascript_link_survives(attack):
    html = str(render_markdown(attack)).lower()
    assert "<script" not in html
    assert "javascript:" not in html
    assert "onerror" not in html
    assert "onclick" not in html
    assert "onload" not in html
    assert "<iframe" not in html
    assert "<style" not in html
    assert "<img" not in html
    assert "style=" not in html
    assert "data:text" not in html


def test_ordinary_markdown_renders_with_govuk_classes():
    html = str(
        render_markdown(
            "A **bold** claim.\n\n* one\n* two\n\nThen:\n\n1. first\n\n"
            "[KCSIE](https://www.gov.uk/kcsie) and <b>raw</b>"
        )
    )
    assert '<p class="govuk-body">A <strong>bold</strong> claim.</p>' in html
    assert '<ul class="govuk-list govuk-list--bullet">' in html
    assert '<ol class="govuk-list govuk-list--number">' in html
    assert 'class="govuk-link" href="https://www.gov.uk/kcsie"' in html
    assert 'rel="noopener noreferrer"' in html
    assert "<b>" not in html  # not on the allow-list: dropped, its text kept
    assert "raw" in html


def test_text_that_looks_like_html_in_code_stays_text():
    html = str(render_markdown("Use `<script>` tags never."))
    assert "&lt;script&gt;" in html
    assert "<script>" not in html


def _sections(*pairs):
    return [GuidanceSection(order=i, heading=h, body=b) for i, (h, b) in enumerate(pairs, start=1)]


def test_side_by_side_names_every_kind_of_change_in_words():
    old = _sections(("Purpose", "Line one\nLine two\nLine three"), ("Old section", "Gone"))
    new = _sections(("Purpose", "Line one\nLine 2\nLine three\nLine four"))
    rows = side_by_side(old, new)
    kinds = [(r.kind, r.left, r.right) for r in rows]
    assert ("same", "## 1. Purpose", "## 1. Purpose") in kinds
    assert ("same", "Line one", "Line one") in kinds
    assert ("changed", "Line two", "Line 2") in kinds
    assert ("added", "", "Line four") in kinds
    assert ("removed", "## 2. Old section", "") in kinds
    assert ("removed", "Gone", "") in kinds
    assert {r.label for r in rows} == {"Unchanged", "Changed", "Added", "Removed"}
    # Line numbers on each side follow the texts.
    changed = next(r for r in rows if r.kind == "changed")
    assert (changed.left_number, changed.right_number) == (3, 3)


def test_identical_versions_have_no_differences():
    a = _sections(("One", "Same"))
    assert all(r.kind == "same" for r in side_by_side(a, a))
