"""The Markdown sanitiser against script injection, and the word-level difference of versions."""

from __future__ import annotations

import re

import pytest

from guidance.rendering import diff_html, render_markdown, rendered_blocks, word_diff
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


def _changes(blocks):
    return [(b.kind, b.change, str(b.html)) for b in blocks]


def test_the_difference_is_of_the_rendered_text_word_by_word():
    old = _sections(("Purpose", "Tell the **DSL** at once.\n\n* One\n* Two"), ("Old section", "Gone"))
    new = _sections(("Purpose", "Tell the **DSL** straight away.\n\n* One\n* Two\n* Three"))
    blocks = word_diff(old, new)
    changes = _changes(blocks)
    assert ("h", "same", "1. Purpose") in changes
    # The rendered text: no Markdown asterisks; only the words that changed are marked.
    changed = next(html for kind, change, html in changes if change == "changed")
    assert "**" not in changed
    assert changed.startswith("Tell the DSL ")
    assert (
        '<del class="app-diff__del"><span class="govuk-visually-hidden">[removed: </span>at once.' in changed
    )
    assert '<ins class="app-diff__ins"><span class="govuk-visually-hidden">[added: </span>straight away.' in (
        changed
    )
    assert ("li", "same", "One") in changes
    assert any(kind == "li" and change == "added" and "Three" in html for kind, change, html in changes)
    assert any(
        kind == "h" and change == "removed" and "2. Old section" in html for kind, change, html in changes
    )
    assert any(kind == "p" and change == "removed" and "Gone" in html for kind, change, html in changes)


def test_blocks_unlike_each_other_are_removed_and_added_not_paired():
    old = _sections(("One", "Completely different words here"))
    new = _sections(("One", "Nothing alike at all now"))
    assert [b.change for b in word_diff(old, new)] == ["same", "removed", "added"]


def test_the_difference_keeps_lists_as_lists():
    old = _sections(("One", "1. First\n2. Second"))
    new = _sections(("One", "1. First\n2. Second one"))
    html = str(diff_html(word_diff(old, new)))
    assert html.count('<ol class="govuk-list govuk-list--number">') == 1
    assert html.count("</ol>") == 1
    assert "<li" in html


def test_identical_versions_have_no_differences():
    a = _sections(("One", "Same"))
    assert all(b.change == "same" for b in word_diff(a, a))


@pytest.mark.parametrize("attack", [*ATTACKS, '"><img src=x onerror=alert(1)>', "&lt;script&gt;"])
def test_the_difference_escapes_everything_written(attack):
    old = _sections(("Heading <b>" + attack, "Safe words"))
    new = _sections(("Heading", attack + " and more " + attack))
    html = str(diff_html(word_diff(old, new)))
    # The only elements are the diff's own: headings, paragraphs, lists, ins, del, span.
    tags = set(re.findall(r"<\s*([a-zA-Z0-9]+)", html))
    assert tags <= {"h3", "p", "ul", "ol", "li", "ins", "del", "span"}, tags
    # ... and their only attribute is their class: no link, handler or style gets through.
    attributes = set(re.findall(r"\s([a-zA-Z-]+)=", "".join(re.findall(r"<[^>]*>", html))))
    assert attributes == {"class"}, attributes


def test_blocks_are_read_from_the_sanitised_rendering():
    blocks = rendered_blocks(
        _sections(("H", "<script>alert(1)</script>\n\nA [link](https://x.example) here"))
    )
    assert [b.text for b in blocks] == ["1. H", "alert(1)", "A link here"] or [b.text for b in blocks] == [
        "1. H",
        "A link here",
    ]


@pytest.mark.django_db
def test_the_compare_page_shows_the_rendered_words_that_changed(client, role_user):
    from django.urls import reverse

    from core.roles import Role
    from modelguidance import services
    from tests.conftest import sign_in_verified
    from tests.guidance.helpers import draft

    officer = role_user(Role.REPORT_OFFICER, username="officer")
    first = draft(officer, sections=[services.SectionInput("Purpose", "Tell the **DSL** at once.")])
    second = draft(
        officer,
        sections=[services.SectionInput("Purpose", "Tell the **DSL** straight away. <script>x</script>")],
    )
    sign_in_verified(client, officer)
    response = client.get(reverse("modelguidance:version_compare", args=[second.pk]), {"with": first.pk})
    body = response.content.decode()
    assert response.status_code == 200
    assert f"From version {first.number} to version {second.number}: 1 paragraph or heading changed" in body
    assert "[removed: </span>at once.<" in body
    assert "[added: </span>straight away.<" in body
    assert "**" not in body.split('<div class="app-diff">')[1]
    assert "<script>x" not in body
