"""Render a pack: Django templates with a print stylesheet, laid out by WeasyPrint.

One WeasyPrint document holds every part, so bookmarks (h1 to h3), "Page X of Y" and the
running header are right across the whole pack. An uploaded PDF part gets as many empty
pages as it has; after layout its pages are drawn onto them with pypdf, scaled into the
page's content area, so they carry the same header, exempt marking and page numbers.

In the public pack an exempt part is replaced by a notice page and its template is never
rendered (nor its uploaded file opened).
"""

from __future__ import annotations

import functools
import io
import logging
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pydyf
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PyPdfError
from pypdf.generic import ArrayObject, DictionaryObject, FloatObject, IndirectObject, NameObject, StreamObject
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


class _RawObject(pydyf.Object):
    """An object copied from an uploaded PDF, already in PDF syntax (references renumbered)."""

    def __init__(self):
        super().__init__()
        self.raw = b"null"
        self.is_stream = False

    @property
    def data(self):
        return self.raw

    @property
    def compressible(self):
        # Dictionaries and arrays go into WeasyPrint's compressed object stream; streams cannot.
        return not self.is_stream


class _Importer:
    """Copies objects of one uploaded PDF into WeasyPrint's ``pydyf.PDF``, each object once.

    The copy is byte for byte: streams keep their own encoding (fonts and images are neither
    decoded nor compressed again), only object numbers change. Keys that tie an object to the
    uploaded document's page tree or structure tree are left behind.
    """

    SKIPPED_KEYS = frozenset({"/Parent", "/StructParent", "/StructParents", "/P"})

    def __init__(self, pdf: pydyf.PDF):
        self.pdf = pdf
        self.copied: dict[tuple[int, int, int], _RawObject] = {}
        self.pending: list[tuple[_RawObject, IndirectObject]] = []

    def add_stream(self, dictionary: DictionaryObject, data: bytes) -> _RawObject:
        """A new stream object in the pack, then everything its dictionary references."""
        target = _RawObject()
        self.pdf.add_object(target)
        self._fill(target, dictionary, data)
        while self.pending:  # a work list, not recursion: reference chains can be long
            copy, indirect = self.pending.pop()
            value = indirect.get_object()
            if isinstance(value, StreamObject):
                self._fill(copy, value, value._data)  # as stored, still encoded (pypdf 7, pinned)
            elif value is not None:
                copy.raw = self._serialise(value)
        return target

    def _fill(self, target: _RawObject, dictionary: DictionaryObject, data: bytes) -> None:
        target.raw = self._serialise(dictionary, length=len(data)) + b"\nstream\n" + data + b"\nendstream"
        target.is_stream = True

    def _reference(self, indirect: IndirectObject) -> bytes:
        key = (id(indirect.pdf), indirect.idnum, indirect.generation)
        if key not in self.copied:
            copy = _RawObject()
            self.pdf.add_object(copy)
            self.copied[key] = copy
            self.pending.append((copy, indirect))
        return self.copied[key].reference

    def _serialise(self, value, *, length: int | None = None) -> bytes:
        """``value`` in PDF syntax; with ``length``, a stream's dictionary (its /Length replaced)."""
        if isinstance(value, IndirectObject):
            return self._reference(value)
        if isinstance(value, dict):
            entries = [
                self._serialise(NameObject(key)) + b" " + self._serialise(item)
                for key, item in dict.items(value)  # unresolved: references stay references
                if key not in self.SKIPPED_KEYS and (length is None or key != "/Length")
            ]
            if length is not None:
                entries.append(b"/Length " + str(length).encode())
            return b"<<" + b"".join(entries) + b">>"
        if isinstance(value, list):
            return b"[" + b" ".join(self._serialise(item) for item in value) + b"]"
        out = io.BytesIO()
        value.write_to_stream(out)
        return out.getvalue()


def _page_form(importer: _Importer, source) -> _RawObject:
    """The uploaded page as a Form XObject: its content as it is, its resources copied once."""
    box = source.cropbox  # what a viewer shows of the page
    contents = source.get_contents()
    form = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Form"),
            NameObject("/BBox"): ArrayObject(
                FloatObject(v) for v in (box.left, box.bottom, box.right, box.top)
            ),
            NameObject("/Resources"): source.raw_get("/Resources")
            if "/Resources" in source
            else DictionaryObject(),
            NameObject("/Filter"): NameObject("/FlateDecode"),
        }
    )
    if "/Group" in source:  # a page that is a transparency group stays one
        form[NameObject("/Group")] = source.raw_get("/Group")
    return importer.add_stream(form, zlib.compress(contents.get_data() if contents is not None else b""))


def _own_resources(pdf: pydyf.PDF, page: pydyf.Dictionary, forms: dict[str, bytes]) -> bytes:
    """A resources dictionary for one page: WeasyPrint's shared one, plus ``forms``.

    Every WeasyPrint page refers to one resources dictionary; the uploaded page's form is
    named only on the page that draws it. The shared dictionary's own parts (graphics
    states, patterns, shadings) become objects of their own, so they are not repeated.
    """
    shared = pdf.objects[int(page["Resources"].split()[0])]
    for key in ("ExtGState", "Pattern", "Shading"):
        value = shared.get(key)
        if isinstance(value, pydyf.Dictionary) and value.number is None:
            pdf.add_object(value)
            shared[key] = value.reference
    own = pydyf.Dictionary({**shared, "XObject": pydyf.Dictionary({**shared.get("XObject", {}), **forms})})
    pdf.add_object(own)
    return own.reference


def _add_uploaded_pages(document, pdf: pydyf.PDF, sections: list[_Section]) -> None:
    """WeasyPrint's ``finisher``: draw each uploaded page onto its empty page, before the PDF is written.

    The pack is written once, by WeasyPrint, with its compressed object streams; the
    uploaded pages' fonts and images are copied into it as they are stored.
    """
    slots = {}
    for index, page in enumerate(document.pages):
        for anchor in page.anchors:
            if anchor.startswith("pack-slot-"):
                _, _, section_index, page_number = anchor.rsplit("-", 3)
                slots[(int(section_index), int(page_number))] = (index, _content_box(page))
    page_numbers = pdf.pages["Kids"][::3]
    for section_index, section in enumerate(sections):
        if section.kind != "pdf":
            continue
        uploaded = section.reader
        if any(page.rotation for page in uploaded.pages):
            uploaded = PdfWriter(clone_from=uploaded)  # pages must belong to a writer to be turned
            for page in uploaded.pages:
                page.transfer_rotation_to_content()
        importer = _Importer(pdf)  # one per upload: a font its pages share is copied once
        for number, source in enumerate(uploaded.pages):
            target_index, (x, y, width, height) = slots[(section_index, number)]
            box = source.cropbox
            scale = min(width / float(box.width), height / float(box.height))
            dx = x + (width - float(box.width) * scale) / 2 - float(box.left) * scale
            dy = y + (height - float(box.height) * scale) / 2 - float(box.bottom) * scale
            form = _page_form(importer, source)
            name = f"PackUpload{section_index}p{number}"
            page = pdf.objects[page_numbers[target_index]]
            page["Resources"] = _own_resources(pdf, page, {name: form.reference})
            stream = pdf.objects[int(page["Contents"].split()[0])]
            # WeasyPrint's page content flips the y axis and leaves it so: wrap it in q ... Q
            # so the form is drawn in page space, after (over) the page's header and footer.
            stream.stream.insert(0, b"q")
            stream.stream.append(b"Q")
            stream.stream.append(f"q {scale:.6f} 0 0 {scale:.6f} {dx:.4f} {dy:.4f} cm /{name} Do Q".encode())


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
        finisher = None
        if any(section.kind == "pdf" for section in sections):
            finisher = functools.partial(_add_uploaded_pages, sections=sections)
        pdf = document.write_pdf(finisher=finisher, **PDF_OPTIONS)
    finally:
        progress_logger.removeHandler(handler)
        progress_logger.setLevel(saved[0])
        progress_logger.propagate = saved[1]
    pages = len(document.pages)
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
