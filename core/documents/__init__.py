"""Document packs: parts, the registry of exportable kinds, and rendering to PDF.

from core.documents import HtmlPart, PdfPart, register, render_pack
"""

from core.documents.fetcher import StaticOnlyFetcher
from core.documents.parts import HtmlPart, Part, PdfPart, exemption_text
from core.documents.registry import DocumentKind, UnknownKind, get_kind, kinds, object_for, register
from core.documents.rendering import PackError, RenderedPack, render_pack, render_pack_document

__all__ = [
    "DocumentKind",
    "HtmlPart",
    "PackError",
    "Part",
    "PdfPart",
    "RenderedPack",
    "StaticOnlyFetcher",
    "UnknownKind",
    "exemption_text",
    "get_kind",
    "kinds",
    "object_for",
    "register",
    "render_pack",
    "render_pack_document",
    "url_fetcher",
]


def url_fetcher(url: str):
    """Fetch one URL the way a pack's rendering does: the project's static files, nothing else."""
    return StaticOnlyFetcher().fetch(url)
