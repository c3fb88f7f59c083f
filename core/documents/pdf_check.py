"""Checking an uploaded PDF before it is stored: size, shape and active content.

A PDF is a small file that can describe a very large one: a 1 MB upload whose streams inflate
to gigabytes was once accepted and then made every export of its report fail. ``check_pdf``
opens the upload with pikepdf (qpdf) and, before anything is kept,

* refuses it when it has too many pages or objects, or when its streams would expand past
  a limit. Expansion is measured without holding the output: Flate streams are inflated in
  chunks and counted, ASCII wrappers decoded, image codecs counted as stored (viewers decode
  them a tile at a time); a filter whose worst case cannot be bounded is refused;
* strips what a viewer would run or open: JavaScript (document-level, open actions,
  additional actions, form scripts, XFA), launch, submit and import actions, actions that
  open other files, embedded and associated files, and file-attachment and multimedia
  annotations;
* writes the result out again with qpdf, so only objects still reachable from the document
  are kept. The caller stores those bytes, never the upload.

Limits come from the caller (scrutiny reads them from settings).
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import zlib
from dataclasses import dataclass, field

import pikepdf
import pikepdf.settings


class PdfRefused(Exception):
    """The upload cannot be accepted; the message is the GOV.UK error for the upload field."""


@dataclass(frozen=True)
class CheckedPdf:
    content: bytes
    pages: int
    removed: list[str] = field(default_factory=list)


_IMAGE_CODECS = {"/DCTDecode", "/JPXDecode", "/CCITTFaxDecode", "/JBIG2Decode"}
# Worst-case expansion of filters decoded by qpdf in one go (RunLength: 2 bytes give 128;
# LZW: a 12-bit code gives at most 4096 bytes).
_WORST_RATIO = {"/RunLengthDecode": 64, "/LZWDecode": 2731}
_DANGEROUS_ACTIONS = {
    "/JavaScript",
    "/Launch",
    "/SubmitForm",
    "/ImportData",
    "/GoToE",
    "/GoToR",
    "/Rendition",
    "/RichMediaExecute",
    "/Movie",
    "/Sound",
}
# Keys removed wherever they appear, and what each is (for the caller's record).
_REMOVED_KEYS = {
    "/AA": "additional actions",
    "/JS": "JavaScript",
    "/JavaScript": "JavaScript",
    "/XFA": "XFA form scripts",
    "/EmbeddedFiles": "embedded files",
    "/EF": "embedded files",
    "/AF": "associated files",
}
_ACTION_KEYS = ("/OpenAction", "/A", "/Next", "/PA")
_DANGEROUS_ANNOTATIONS = {"/FileAttachment", "/RichMedia", "/Screen", "/Movie", "/Sound", "/3D"}
_CHUNK = 1 << 20


def _mb(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MB"


def _filters(stream: pikepdf.Stream) -> list[str]:
    value = stream.get("/Filter")
    if value is None:
        return []
    if isinstance(value, pikepdf.Array):
        return [str(item) for item in value]
    return [str(value)]


def _inflated_size(data: bytes, budget: int) -> int:
    """How many bytes ``data`` inflates to, counting at most ``budget + 1`` (nothing is kept)."""
    inflater = zlib.decompressobj()
    total = 0
    try:
        while data:
            total += len(inflater.decompress(data, _CHUNK))
            if total > budget or inflater.eof:
                break
            data = inflater.unconsumed_tail
    except zlib.error:
        pass  # qpdf will say whether the document opens; the count so far stands
    return total


def _expanded_size(stream: pikepdf.Stream, budget: int) -> int:
    data = stream.read_raw_bytes()
    filters = _filters(stream)
    while filters and filters[0] in {"/ASCIIHexDecode", "/AHx", "/ASCII85Decode", "/A85"}:
        # ASCII wrappers shrink what they wrap.
        try:
            if filters.pop(0) in {"/ASCIIHexDecode", "/AHx"}:
                hexdigits = re.sub(rb"\s", b"", data).split(b">")[0]
                data = binascii.unhexlify(hexdigits + b"0" * (len(hexdigits) % 2))
            else:
                data = base64.a85decode(data.strip().removesuffix(b"~>"), adobe=False)
        except (ValueError, binascii.Error):
            return len(data)
    if not filters or filters[0] in _IMAGE_CODECS:
        return len(data)
    if filters[0] in {"/FlateDecode", "/Fl"}:
        return _inflated_size(data, budget)
    ratio = _WORST_RATIO.get(filters[0].replace("/RL", "/RunLengthDecode").replace("/LZW", "/LZWDecode"))
    if ratio is not None and len(data) * ratio <= budget:
        return len(stream.read_bytes(decode_level=pikepdf.StreamDecodeLevel.generalized))
    raise PdfRefused(
        "The selected PDF could not be checked: save it again as a PDF (for example with "
        "Print to PDF) and upload that"
    )


def _sanitise(pdf: pikepdf.Pdf) -> list[str]:
    """Remove active content and attached files in place; return what was removed."""
    removed: list[str] = []
    seen: set[tuple[int, int]] = set()
    stack: list = [pdf.trailer]
    while stack:
        obj = stack.pop()
        if obj.is_indirect:
            if obj.objgen in seen:
                continue
            seen.add(obj.objgen)
        if isinstance(obj, pikepdf.Array):
            stack.extend(i for i in obj if isinstance(i, (pikepdf.Dictionary, pikepdf.Array, pikepdf.Stream)))
            continue
        if not isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream)):
            continue
        for key in list(obj.keys()):
            if key in _REMOVED_KEYS:
                del obj[key]
                removed.append(_REMOVED_KEYS[key])
            elif key in _ACTION_KEYS and _is_dangerous_action(obj[key]):
                removed.append(f"{str(obj[key].get('/S', '/action'))[1:]} action")
                del obj[key]
            elif key == "/Annots" and isinstance(obj[key], pikepdf.Array):
                kept = [a for a in obj[key] if str(_get(a, "/Subtype")) not in _DANGEROUS_ANNOTATIONS]
                if len(kept) != len(obj[key]):
                    removed.append("attachment or multimedia annotations")
                    obj[key] = pikepdf.Array(kept)
        for key in obj.keys():  # noqa: SIM118 - a pikepdf Stream has keys() but is not iterable
            value = obj[key]
            if isinstance(value, (pikepdf.Dictionary, pikepdf.Array, pikepdf.Stream)):
                stack.append(value)
    return removed


def _get(obj, key: str):
    return obj.get(key) if isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream)) else None


def _is_dangerous_action(value) -> bool:
    if isinstance(value, pikepdf.Array):  # a /Next chain, or a destination (harmless)
        return any(_is_dangerous_action(item) for item in value)
    if not isinstance(value, pikepdf.Dictionary):
        return False
    if str(value.get("/S", "")) in _DANGEROUS_ACTIONS:
        return True
    return "/Next" in value and _is_dangerous_action(value["/Next"])


def check_pdf(content: bytes, *, max_pages: int, max_objects: int, max_expanded_bytes: int) -> CheckedPdf:
    """The checked, sanitised document, or ``PdfRefused`` with the error to show."""
    # qpdf itself decodes some streams while opening (object and cross-reference streams):
    # cap what any one decode may take, so those cannot be bombs either (process-wide; this
    # process uses pikepdf for nothing else).
    pikepdf.settings.set_qpdf_limits(
        flate_max_memory=max_expanded_bytes,
        run_length_max_memory=max_expanded_bytes,
        png_max_memory=max_expanded_bytes,
        tiff_max_memory=max_expanded_bytes,
    )
    try:
        return _check(content, max_pages, max_objects, max_expanded_bytes)
    except pikepdf.DataDecodingError as error:  # a stream qpdf decoded went past the cap
        raise PdfRefused(_too_expanded(max_expanded_bytes)) from error


def _too_expanded(limit: int) -> str:
    return (
        f"The selected PDF must be smaller than {_mb(limit)} when opened: "
        "it is compressed far more than a normal document"
    )


def _check(content: bytes, max_pages: int, max_objects: int, max_expanded_bytes: int) -> CheckedPdf:
    try:
        pdf = pikepdf.open(io.BytesIO(content))
    except pikepdf.DataDecodingError:
        raise
    except pikepdf.PasswordError as error:
        raise PdfRefused("The selected PDF is protected with a password: upload it without one") from error
    except (pikepdf.PdfError, ValueError, OSError) as error:
        raise PdfRefused("The selected file must be a PDF that opens") from error
    with pdf:
        if pdf.is_encrypted:
            raise PdfRefused("The selected PDF is protected with a password: upload it without one")
        if len(pdf.objects) > max_objects:
            raise PdfRefused(
                f"The selected PDF is too complex: it must have {max_objects:,} objects or fewer. "
                "Split it into smaller files"
            )
        try:
            pages = len(pdf.pages)
        except pikepdf.PdfError as error:
            raise PdfRefused("The selected file must be a PDF that opens") from error
        if pages < 1:
            raise PdfRefused("The selected PDF has no pages")
        if pages > max_pages:
            raise PdfRefused(f"The selected PDF must have {max_pages:,} pages or fewer")
        expanded = 0
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Stream):
                expanded += _expanded_size(obj, max_expanded_bytes - expanded)
                if expanded > max_expanded_bytes:
                    raise PdfRefused(_too_expanded(max_expanded_bytes))
        removed = _sanitise(pdf)
        out = io.BytesIO()
        try:
            pdf.save(out, linearize=False, deterministic_id=True)
        except pikepdf.PdfError as error:
            raise PdfRefused("The selected file must be a PDF that opens") from error
    return CheckedPdf(content=out.getvalue(), pages=pages, removed=sorted(set(removed)))
