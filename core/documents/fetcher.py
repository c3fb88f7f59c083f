"""WeasyPrint may fetch nothing but the project's own static files.

Pack HTML is rendered with the base URL ``https://mash-pack.invalid/`` (a reserved name that
never resolves), so ``{% static %}`` links become ``https://mash-pack.invalid/static/...``.
The fetcher answers those from the project's static folders (or ``STATIC_ROOT`` after
``collectstatic``) and refuses everything else: no ``file://``, no network, no ``data:``.
A refused URL is logged (the URL only) and WeasyPrint carries on without it.
"""

from __future__ import annotations

import contextlib
import logging
import mimetypes
import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from weasyprint.urls import URLFetcher, URLFetcherResponse

logger = logging.getLogger(__name__)

PACK_ORIGIN = "mash-pack.invalid"
BASE_URL = f"https://{PACK_ORIGIN}/"


class FetchRefused(ValueError):
    """The URL is not one of the project's own static files."""


def _allowed_roots() -> list[Path]:
    roots = [Path(settings.STATIC_ROOT)]
    for entry in settings.STATICFILES_DIRS:
        roots.append(Path(entry[1] if isinstance(entry, tuple | list) else entry))
    return [Path(os.path.realpath(root)) for root in roots]


def _inside(path: Path, roots: list[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def static_path(url: str) -> Path:
    """The file behind a pack URL, or ``FetchRefused``."""
    parts = urlsplit(url)
    static_url = settings.STATIC_URL if settings.STATIC_URL.startswith("/") else f"/{settings.STATIC_URL}"
    if parts.scheme != "https" or parts.netloc != PACK_ORIGIN or not parts.path.startswith(static_url):
        raise FetchRefused(f"not one of the project's static files: {url[:200]}")
    relative = unquote(parts.path[len(static_url) :])
    pieces = relative.split("/")
    if not relative or "\x00" in relative or "\\" in relative or any(p in ("", ".", "..") for p in pieces):
        raise FetchRefused(f"not a plain static file name: {url[:200]}")
    candidates = []
    with contextlib.suppress(NotImplementedError):  # a remote static storage: only the finders
        candidates.append(Path(staticfiles_storage.path(relative)))
    found = finders.find(relative)
    if found:
        candidates.append(Path(found))
    roots = _allowed_roots()
    for candidate in candidates:
        real = Path(os.path.realpath(candidate))
        if real.is_file() and _inside(real, roots):
            return real
    raise FetchRefused(f"no such static file: {url[:200]}")


class StaticOnlyFetcher(URLFetcher):
    """A WeasyPrint URL fetcher that serves the project's static files and nothing else."""

    def __init__(self):
        super().__init__(allowed_protocols={"https"}, allow_redirects=False, fail_on_errors=False)
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        try:
            path = static_path(url)
        except FetchRefused:
            self.refused.append(url[:200])
            logger.warning("PDF rendering refused to fetch %s", url[:200])
            raise
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, body=path.read_bytes(), headers={"Content-Type": content_type})
