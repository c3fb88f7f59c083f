"""Render a pack: Django templates with a print stylesheet, laid out by WeasyPrint.

One WeasyPrint document holds every part, so bookmarks (h1 to h3), "Page X of Y" and the
running header are right across the whole pack. An uploaded PDF part gets as many empty
pages as it has; after layout its pages are drawn onto them with pypdf, scaled into the
page's content area, so they carry the same header, exempt marking and page numbers.

In the public pack an exempt part is replaced by a notice page and its template is never
rendered (nor its uploaded file opened).
"""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PyPdfError
from pypdf.generic import ArrayObject, DecodedStreamObject, DictionaryObject, FloatObject, NameObject
from weasyprint import HTML

from core.documents.fetcher import BASE_URL, StaticOnlyFetcher
from core.documents.parts import SCHEDULE_12A_PARAGRAPHS, HtmlPart, Part, PdfPart, exemption_text

logger = logging.getLogger(__name__)

#: WeasyPrint options for every pack: tagged PDF/UA-1 (structure tree, marked content,
#: document language and title) so screen readers can read it.
PDF_OPTIONS = {"pdf_variant": "pdf/ua-1", "pdf_tags": True}

CSS_PX_TO_PT = 0.75

Progress = Callable[[int], None]


class PackError(Exception):
    """Rendering cannot succeed with these inputs; ``message`` says why to a person."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class RenderedPack:
    pdf: bytes
    pages: int
    refused_urls: list[str] = field(default_factory=list)


@dataclass
class _Section:
    title: str
    kind: str  # "html", "notice" or "pdf"
    html: str = ""
    part: Part | None = None
    slot_pages: int = 0
    reader: PdfReader | None = None

    @property
    def has_heading(self) -> bool:
        """A part whose template has its own h1 keeps it; otherwise the pack heads it with its title."""
        return "<h1" in self.html


def exempt_marking(parts: Sequence[Part]) -> str:
    """The words on every page of an exempt pack."""
    paragraphs = sorted({p.schedule_12a_paragraph for p in parts if p.exempt and p.schedule_12a_paragraph})
    if not paragraphs:
        basis = "Part 1 of Schedule 12A to the Local Government Act 1972"
    elif len(paragraphs) == 1:
        basis = f"paragraph {paragraphs[0]} of Part 1 of Schedule 12A to the Local Government Act 1972"
    else:
        listed = ", ".join(str(p) for p in paragraphs[:-1]) + f" and {paragraphs[-1]}"
        basis = f"paragraphs {listed} of Part 1 of Schedule 12A to the Local Government Act 1972"
    return f"By virtue of {basis}"


def _open_pdf(part: PdfPart) -> PdfReader:
    try:
        if isinstance(part.file, str):
            with default_storage.open(part.file, "rb") as handle:
                data = handle.read()
        else:
            source = part.file if isinstance(part.file, File) else File(part.file)
            source.open("rb")
            try:
                data = source.read()
            finally:
                source.close()
    except FileNotFoundError as error:
        raise PackError(f"The uploaded PDF for “{part.title}” is missing. Upload it again.") from error
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise PackError(
                f"The uploaded PDF for “{part.title}” is password protected. Upload it unprotected."
            )
        if not len(reader.pages):
            raise PackError(f"The uploaded PDF for “{part.title}” has no pages. Upload it again.")
    except (PyPdfError, ValueError, KeyError) as error:
        raise PackError(f"The uploaded file for “{part.title}” is not a PDF that can be read.") from error
    return reader


def _sections(parts: Sequence[Part], *, exempt_pack: bool) -> list[_Section]:
    sections = []
    for part in parts:
        if part.exempt and not exempt_pack:
            html = render_to_string(
                "core/pdf/exempt_notice.html",
                {
                    "part": part,
                    "exemption": exemption_text(part.schedule_12a_paragraph),
                    "paragraph_description": SCHEDULE_12A_PARAGRAPHS.get(
                        part.schedule_12a_paragraph or 0, ""
                    ),
                },
            )
            sections.append(_Section(title=part.title, kind="notice", html=html, part=part))
        elif isinstance(part, HtmlPart):
            # pack_fragment: a part template that extends core/pdf/base.html gives its content only.
            html = render_to_string(part.template, {**part.context, "pack_fragment": True})
            sections.append(_Section(title=part.title, kind="html", html=html, part=part))
        elif isinstance(part, PdfPart):
            reader = _open_pdf(part)
            sections.append(
                _Section(title=part.title, kind="pdf", part=part, slot_pages=len(reader.pages), reader=reader)
            )
        else:
            raise TypeError(f"not a pack part: {part!r}")
    return sections


def pack_html(
    *, parts: Sequence[Part], classification: str, exempt_pack: bool, title: str
) -> tuple[str, list]:
    """The pack's whole HTML (what WeasyPrint lays out) and its sections."""
    sections = _sections(parts, exempt_pack=exempt_pack)
    for section in sections:
        section.html = mark_safe(section.html)  # rendered by Django templates, autoescaped
    html = render_to_string(
        "core/pdf/pack.html",
        {
            "title": title,
            "classification": classification,
            "exempt_pack": exempt_pack,
            "exempt_marking": exempt_marking(parts) if exempt_pack else "",
            "sections": sections,
            "council_name": settings.COUNCIL_NAME,
        },
    )
    return html, sections


class _ProgressHandler(logging.Handler):
    """Turns WeasyPrint's progress log ("Step 5 - Creating layout - Page 12") into percentages."""

    STEPS = {"Step 1": 8, "Step 2": 10, "Step 3": 12, "Step 4": 16, "Step 6": 80, "Step 7": 86}

    def __init__(self, progress: Progress):
        super().__init__(logging.INFO)
        self.progress = progress
        self.thread = threading.get_ident()  # a threaded worker renders several packs at once

    def emit(self, record):
        if record.thread != self.thread:
            return
        message = record.getMessage()
        step = message[:6]
        if step == "Step 5" and "Page" in message:
            try:
                page = int(message.rsplit(" ", 1)[1])
            except ValueError:
                return
            # Layout is most of the work and the page count is not known yet: approach 78%.
            self.progress(int(16 + 62 * (1 - 0.97**page)))
        elif step in self.STEPS:
            self.progress(self.STEPS[step])


def _content_box(page) -> tuple[float, float, float, float]:
    """A laid-out WeasyPrint page's content area in PDF points: x, y from bottom, width, height."""
    box = page._page_box  # WeasyPrint 70 (pinned): the page's box with its resolved margins
    x = box.content_box_x() * CSS_PX_TO_PT
    top = box.content_box_y() * CSS_PX_TO_PT
    width = box.width * CSS_PX_TO_PT
    height = box.height * CSS_PX_TO_PT
    page_height = page.height * CSS_PX_TO_PT
    return x, page_height - top - height, width, height


def _draw_as_form(writer: PdfWriter, target, source, name: str, matrix: tuple[float, ...]) -> None:
    """Draw ``source`` (an uploaded page) on ``target`` as a Form XObject.

    The uploaded page's content is wrapped as it is (not parsed and rewritten, as
    ``merge_transformed_page`` would) and its resources are cloned into the pack once, so a
    font shared by twenty uploaded pages is stored once.
    """
    box = source.mediabox
    form = DecodedStreamObject()
    form.set_data(source.get_contents().get_data() if source.get_contents() is not None else b"")
    form.update(
        {
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Form"),
            NameObject("/BBox"): ArrayObject(
                FloatObject(v) for v in (box.left, box.bottom, box.right, box.top)
            ),
            NameObject("/Resources"): source.get("/Resources", DictionaryObject()).clone(writer),
        }
    )
    form_ref = writer._add_object(form.flate_encode())
    resources = target.setdefault(NameObject("/Resources"), DictionaryObject())
    resources = resources.get_object()
    xobjects = resources.setdefault(NameObject("/XObject"), DictionaryObject()).get_object()
    xobjects[NameObject(name)] = form_ref
    draw = DecodedStreamObject()
    a, b, c, d, e, f = matrix
    draw.set_data(f"q {a:.6f} {b:.6f} {c:.6f} {d:.6f} {e:.4f} {f:.4f} cm {name} Do Q".encode())
    draw_ref = writer._add_object(draw)
    # The page's own content may leave its graphics state changed (WeasyPrint flips the y axis
    # once for the whole page): wrap it in q ... Q so the form is drawn in page space.
    save, restore = DecodedStreamObject(), DecodedStreamObject()
    save.set_data(b"q\n")
    restore.set_data(b"\nQ\n")
    contents = target.raw_get("/Contents") if "/Contents" in target else None
    existing = []
    if contents is not None:
        resolved = contents.get_object()
        existing = list(resolved) if isinstance(resolved, ArrayObject) else [contents]
    target[NameObject("/Contents")] = ArrayObject(
        [writer._add_object(save), *existing, writer._add_object(restore), draw_ref]
    )


def _merge_uploaded(pdf: bytes, document, sections: list[_Section]) -> bytes:
    slots = {}
    for index, page in enumerate(document.pages):
        for anchor in page.anchors:
            if anchor.startswith("pack-slot-"):
                _, _, section_index, page_number = anchor.rsplit("-", 3)
                slots[(int(section_index), int(page_number))] = (index, _content_box(page))
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    for section_index, section in enumerate(sections):
        if section.kind != "pdf":
            continue
        uploaded = section.reader
        if any(page.rotation for page in uploaded.pages):
            uploaded = PdfWriter(clone_from=uploaded)  # pages must belong to a writer to be turned
            for page in uploaded.pages:
                page.transfer_rotation_to_content()
        for number, source in enumerate(uploaded.pages):
            target_index, (x, y, width, height) = slots[(section_index, number)]
            box = source.mediabox
            scale = min(width / float(box.width), height / float(box.height))
            dx = x + (width - float(box.width) * scale) / 2 - float(box.left) * scale
            dy = y + (height - float(box.height) * scale) / 2 - float(box.bottom) * scale
            _draw_as_form(
                writer,
                writer.pages[target_index],
                source,
                f"/PackUpload{section_index}p{number}",
                (scale, 0, 0, scale, dx, dy),
            )
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def render_pack_document(
    *,
    parts: Sequence[Part],
    classification: str,
    exempt_pack: bool,
    title: str,
    progress: Progress | None = None,
) -> RenderedPack:
    """Render the pack and say how many pages it has."""
    report = progress or (lambda percent: None)
    started = time.monotonic()
    report(2)
    html, sections = pack_html(
        parts=parts, classification=classification, exempt_pack=exempt_pack, title=title
    )
    report(6)
    fetcher = StaticOnlyFetcher()
    progress_logger = logging.getLogger("weasyprint.progress")
    handler = _ProgressHandler(report)
    saved = progress_logger.level, progress_logger.propagate
    progress_logger.addHandler(handler)
    progress_logger.setLevel(logging.INFO)
    progress_logger.propagate = False  # one line per page would flood the worker's log
    try:
        document = HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher).render(**PDF_OPTIONS)
        pdf = document.write_pdf(**PDF_OPTIONS)
    finally:
        progress_logger.removeHandler(handler)
        progress_logger.setLevel(saved[0])
        progress_logger.propagate = saved[1]
    pages = len(document.pages)
    if any(section.kind == "pdf" for section in sections):
        report(90)
        pdf = _merge_uploaded(pdf, document, sections)
    report(95)
    logger.info("Rendered a pack of %d pages in %.1f s", pages, time.monotonic() - started)
    return RenderedPack(pdf=pdf, pages=pages, refused_urls=fetcher.refused)


def render_pack(
    *,
    parts: Sequence[Part],
    classification: str,
    exempt_pack: bool,
    title: str,
    progress: Progress | None = None,
) -> bytes:
    """The pack as PDF bytes (the public one when ``exempt_pack`` is false)."""
    return render_pack_document(
        parts=parts, classification=classification, exempt_pack=exempt_pack, title=title, progress=progress
    ).pdf
