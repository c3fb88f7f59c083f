"""PDF packs: what WeasyPrint may fetch, what each pack contains, and how it is built."""

from __future__ import annotations

import io
import socket
from unittest import mock

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from pypdf import PdfWriter
from weasyprint import HTML

from core.documents import HtmlPart, PackError, PdfPart, get_kind, render_pack, render_pack_document
from core.documents.fetcher import BASE_URL, FetchRefused, StaticOnlyFetcher, static_path
from core.documents.rendering import PDF_OPTIONS, pack_html
from tests.core.pdf_helpers import page_pixels, page_png, pdf_pages_text, pdf_text, reader, reddish_share
from tests.documents_kind import KIND, PUBLIC_MARK
from tests.factories import ReferralFactory
from tests.nplusone import unit_of_work

CANARY = "Qzcnrychild"
NOTICE = "exempt by virtue of paragraph 2 of Part 1 of Schedule 12A to the Local Government Act 1972"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def _flat(text: str) -> str:
    return " ".join(text.split())


# --- The URL fetcher ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://example.com/",
        "https://example.com/static/css/print.css",
        "data:text/css,body{}",
        "ftp://example.com/x",
        "https://mash-pack.invalid/etc/passwd",
        "https://mash-pack.invalid/static/../../../../etc/passwd",
        "https://mash-pack.invalid/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "https://mash-pack.invalid/static//etc/passwd",
        "https://mash-pack.invalid/static/admin/css/base.css",  # an app's static file, not the project's
        "https://mash-pack.invalid/static/css/no-such-file.css",
    ],
)
def test_the_fetcher_refuses_everything_but_the_projects_static_files(url, settings, tmp_path):
    # As on a checkout without collectstatic: after it, STATIC_ROOT holds the apps' files too,
    # and those (inside the allowed root) may be fetched.
    settings.STATIC_ROOT = str(tmp_path / "staticfiles")
    with pytest.raises(FetchRefused):
        StaticOnlyFetcher().fetch(url)


def test_the_fetcher_serves_the_print_stylesheet():
    response = StaticOnlyFetcher().fetch("https://mash-pack.invalid/static/css/print.css")
    assert b"@page" in response.read()
    assert response.content_type == "text/css"
    assert static_path("https://mash-pack.invalid/static/css/print.css").name == "print.css"


def test_rendering_hostile_html_fetches_nothing_and_opens_no_socket(tmp_path):
    hostile = """<html><head>
      <link rel="stylesheet" href="http://example.com/steal.css">
      <link rel="stylesheet" href="file:///etc/passwd">
      <style>@import url("https://example.com/x.css"); body { background: url(file:///etc/hostname) }</style>
      </head><body><h1>Hostile</h1>
      <img src="file:///etc/passwd" alt=""><img src="http://example.com/pixel.png?data=exempt" alt="">
      <object data="file:///etc/passwd"></object><iframe src="file:///etc/passwd"></iframe>
      </body></html>"""
    fetcher = StaticOnlyFetcher()
    with mock.patch.object(socket.socket, "connect", side_effect=AssertionError("network used")):
        pdf = HTML(string=hostile, base_url=BASE_URL, url_fetcher=fetcher).write_pdf()
    assert "file:///etc/passwd" in fetcher.refused
    assert any(url.startswith("http://example.com/") for url in fetcher.refused)
    assert "root:" not in pdf_text(pdf)


# --- Packs ----------------------------------------------------------------------------------


@pytest.fixture
def referral(db):
    referral = ReferralFactory()
    child = referral.children.first().child
    child.first_name, child.last_name = CANARY, "Testname"
    child.save()
    return referral


@unit_of_work  # each pack is its own job in production
def _pack(referral, *, exempt: bool, progress=None):
    entry = get_kind(KIND)
    return render_pack_document(
        parts=entry.parts(referral),
        classification=entry.classification(referral),
        exempt_pack=exempt,
        title=entry.title(referral),
        progress=progress,
    )


def test_the_public_pack_replaces_the_exempt_part_with_a_notice(referral):
    pages = pdf_pages_text(_pack(referral, exempt=False).pdf)
    text = _flat("\n".join(pages))
    assert CANARY.lower() not in text.lower()
    assert PUBLIC_MARK in text
    assert NOTICE in text
    assert "The public interest in keeping the children's identities exempt" in text
    assert "EXEMPT - NOT FOR PUBLICATION" not in text
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page
        assert "Part exempt" in page  # the running header's classification


def test_the_exempt_pack_holds_the_exempt_part_and_is_marked_on_every_page(referral):
    rendered = _pack(referral, exempt=True)
    pages = pdf_pages_text(rendered.pdf)
    assert rendered.pages == len(pages) >= 2
    assert CANARY in _flat("\n".join(pages))
    for number, page in enumerate(pages, start=1):
        flat = _flat(page)
        assert "EXEMPT - NOT FOR PUBLICATION" in flat
        assert "By virtue of paragraph 2 of Part 1 of Schedule 12A" in flat
        assert f"Page {number} of {len(pages)}" in flat


def test_an_exempt_part_is_never_rendered_into_the_public_pack(db):
    parts = [
        HtmlPart("Report", "core/pdf/parts/text.html", {"paragraphs": ["Open"]}),
        HtmlPart("Appendix 2", "no/such/template.html", {}, exempt=True, schedule_12a_paragraph=2),
        PdfPart("Appendix 3", "no/such/upload.pdf", exempt=True, schedule_12a_paragraph=1),
    ]
    text = _flat(
        pdf_text(render_pack(parts=parts, classification="Part exempt", exempt_pack=False, title="T"))
    )
    assert "Appendix 2 is exempt by virtue of paragraph 2" in text
    assert "Appendix 3 is exempt by virtue of paragraph 1" in text


def test_the_pack_is_tagged_with_language_title_and_bookmarks(referral):
    pdf = reader(_pack(referral, exempt=False).pdf)
    root = pdf.trailer["/Root"]
    assert "/StructTreeRoot" in root
    assert root["/MarkInfo"]["/Marked"]
    assert root["/Lang"] == "en-GB"
    assert pdf.metadata.title == f"Test pack for referral {referral.reference}"
    titles = [item.title for item in pdf.outline if not isinstance(item, list)]
    assert titles == [f"Report on referral {referral.reference}", "Appendix 2 - The children"]


def test_progress_is_reported_forwards_to_the_end(referral):
    seen = []
    _pack(referral, exempt=True, progress=seen.append)
    assert seen == sorted(seen)
    assert seen[0] < 10
    assert seen[-1] >= 95


def _uploaded_pdf(pages: int, text: str) -> bytes:
    body = "".join(f'<p style="break-before: page">{text} page {n}</p>' for n in range(1, pages + 1))
    return HTML(string=f"<html><body>{body}</body></html>").write_pdf()


def test_an_uploaded_pdf_is_merged_with_the_header_bookmark_and_page_numbers(db, media):
    name = default_storage.save("appendices/upload.pdf", ContentFile(_uploaded_pdf(2, "Uploadedtext")))
    parts = [
        HtmlPart("Report", "core/pdf/parts/text.html", {"paragraphs": ["Open"]}),
        PdfPart("Appendix 4 - The school's report", name),
        HtmlPart("Appendix 5", "core/pdf/parts/text.html", {"paragraphs": ["After"]}),
    ]
    rendered = render_pack_document(parts=parts, classification="Open", exempt_pack=True, title="Merged")
    pages = pdf_pages_text(rendered.pdf)
    assert rendered.pages == len(pages) == 4
    assert "Uploadedtext page 1" in pages[1]
    assert "Uploadedtext page 2" in pages[2]
    assert "After" in pages[3]
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of 4" in page
        assert "EXEMPT - NOT FOR PUBLICATION" in page
    pdf = reader(rendered.pdf)
    assert [i.title for i in pdf.outline if not isinstance(i, list)] == [
        "Report",
        "Appendix 4 - The school's report",
        "Appendix 5",
    ]
    assert pdf.get_destination_page_number(pdf.outline[1]) == 1
    assert "/StructTreeRoot" in pdf.trailer["/Root"]  # the rendered parts stay tagged


def _slot_forms(pdf: bytes) -> list:
    """The uploaded pages drawn into the pack: (page index, Form XObject) pairs."""
    forms = []
    for index, page in enumerate(reader(pdf).pages):
        xobjects = page["/Resources"].get("/XObject", {})
        forms += [(index, xobjects[name]) for name in xobjects if name.startswith("/PackUpload")]
    return forms


def test_an_uploaded_pdf_is_added_in_weasyprints_own_writer(db, media):
    """The pack is written once, by WeasyPrint: its compressed object streams stay, the file
    grows by about the upload's size (pypdf rewriting it made it 4x larger), and the uploaded
    pages' font is stored once."""
    upload = _uploaded_pdf(3, "Uploadedtext")
    name = default_storage.save("appendices/upload.pdf", ContentFile(upload))
    parts = [
        HtmlPart("Report", "core/pdf/parts/text.html", {"paragraphs": ["Open " * 50]}),
        PdfPart("Appendix 4 - The school's report", name),
    ]
    rendered = render_pack_document(parts=parts, classification="Open", exempt_pack=True, title="Merged")
    html, _ = pack_html(parts=parts, classification="Open", exempt_pack=True, title="Merged")
    alone = HTML(string=html, base_url=BASE_URL, url_fetcher=StaticOnlyFetcher()).write_pdf(**PDF_OPTIONS)

    assert b"/Type /ObjStm" in rendered.pdf  # pypdf rewriting the pack wrote every object plain
    assert len(rendered.pdf) <= len(alone) + 1.5 * len(upload)
    pdf = reader(rendered.pdf)
    assert pdf.metadata.producer == "WeasyPrint 70.0"
    forms = _slot_forms(rendered.pdf)
    assert [index for index, _ in forms] == [1, 2, 3]
    font_objects = [
        {name: ref.idnum for name, ref in dict.items(form["/Resources"]["/Font"])} for _, form in forms
    ]
    assert font_objects[0]
    assert font_objects == [font_objects[0]] * 3  # the same font objects for each page: stored once
    text = pdf_pages_text(rendered.pdf)
    for number in (1, 2, 3):
        assert f"Uploadedtext page {number}" in text[number]
        assert f"Page {number + 1} of 4" in text[number]


def test_a_turned_uploaded_page_is_drawn_turned(db, media):
    source = PdfWriter(clone_from=reader(_uploaded_pdf(1, "Turnedtext")))
    source.pages[0].rotate(90)
    out = io.BytesIO()
    source.write(out)
    name = default_storage.save("appendices/turned.pdf", ContentFile(out.getvalue()))
    rendered = render_pack_document(
        parts=[PdfPart("Appendix 4 - Turned", name)], classification="Open", exempt_pack=False, title="T"
    )
    [(_, form)] = _slot_forms(rendered.pdf)
    left, bottom, right, top = (float(v) for v in form["/BBox"])
    assert right - left > top - bottom  # portrait turned a quarter: drawn landscape
    assert "Turnedtext" in pdf_pages_text(rendered.pdf)[0]


def test_an_uploaded_file_that_is_not_a_pdf_fails_with_a_message(db, media):
    name = default_storage.save("appendices/fake.pdf", ContentFile(b"not a pdf at all"))
    with pytest.raises(PackError) as error:
        render_pack(parts=[PdfPart("Appendix 4", name)], classification="Open", exempt_pack=True, title="T")
    assert error.value.message == "The uploaded file for “Appendix 4” is not a PDF that can be read."


def test_a_missing_upload_fails_with_a_message(db, media):
    with pytest.raises(PackError, match="is missing"):
        render_pack(
            parts=[PdfPart("Appendix 4", "gone.pdf")], classification="Open", exempt_pack=True, title="T"
        )


def test_the_exempt_marking_is_visible_at_the_top_of_every_page(referral, tmp_path):
    """Looked at as an image: the red marking is drawn in the header band, not elsewhere."""
    rendered = _pack(referral, exempt=True)
    for page in range(1, rendered.pages + 1):
        width, height, rgb = page_pixels(rendered.pdf, page, tmp_path)
        assert reddish_share(width, height, rgb, top=0.0, bottom=0.09) > 0.001
    width, height, rgb = page_pixels(_pack(referral, exempt=False).pdf, 1, tmp_path)
    assert reddish_share(width, height, rgb, top=0.0, bottom=0.09) == 0
    png = page_png(rendered.pdf, 1, tmp_path / "exempt-page-1")
    assert png.stat().st_size > 5_000
