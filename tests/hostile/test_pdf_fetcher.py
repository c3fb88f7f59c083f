"""WeasyPrint asked to fetch what it must not: files outside the static files, the network.

The fetcher is core.documents' StaticOnlyFetcher (``core.documents.url_fetcher`` fetches one URL
with it), the one every pack is rendered with.
"""

from __future__ import annotations

import pytest

from tests.support.documents import _documents

#: What a template (or text a person typed into one) could make WeasyPrint ask for.
REFUSED_URLS = [
    "file:///etc/passwd",
    "file:///proc/self/environ",
    "file://localhost/etc/hostname",
    "http://example.com/",
    "https://example.com/track.png",
    "http://127.0.0.1:6379/",  # Redis on loopback: request smuggling into a local service
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata
    "ftp://example.com/x",
    "data:text/html,<script>alert(1)</script>",
    "/static/../../../../etc/passwd",
    "file:///static/../etc/passwd",
    "/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
]


def _fetcher():
    documents = _documents()
    fetcher = getattr(documents, "url_fetcher", None) or getattr(documents, "static_url_fetcher", None)
    assert fetcher is not None, "core.documents should name its WeasyPrint URL fetcher url_fetcher"
    return fetcher


def _fetched(fetcher, url):
    """What the fetcher hands WeasyPrint for ``url``, or None if it refuses (raises)."""
    try:
        return fetcher(url)
    except Exception:  # WeasyPrint treats any exception as "not fetched"
        return None


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_the_url_fetcher_refuses_anything_but_the_static_files(url):
    assert _fetched(_fetcher(), url) is None, f"{url} was fetched"


def test_the_url_fetcher_serves_the_projects_own_stylesheet():
    from django.conf import settings

    fetcher = _fetcher()
    stylesheets = list((settings.BASE_DIR / "static").rglob("*.css"))
    if not stylesheets:
        pytest.fail("no stylesheet under static/ to fetch: run `make setup` (npm run build)")
    relative = stylesheets[0].relative_to(settings.BASE_DIR / "static")
    from core.documents.fetcher import BASE_URL

    # Packs are rendered with this base URL: a relative /static/... resolves against it.
    result = fetcher(f"{BASE_URL.rstrip('/')}{settings.STATIC_URL}{relative}")
    assert result


def test_a_template_that_links_outside_renders_without_fetching(tmp_path):
    """The whole path, not just the fetcher: an <img> and a stylesheet pointing at
    file:///etc/passwd and the network render to a PDF that holds neither."""
    documents = _documents()
    import weasyprint

    def render(html):
        fetcher = documents.StaticOnlyFetcher()
        return weasyprint.HTML(string=html, base_url="/", url_fetcher=fetcher).write_pdf()

    html = (
        '<link rel="stylesheet" href="file:///etc/passwd">'
        '<img src="file:///etc/passwd"><img src="http://example.com/x.png"><p>Safe</p>'
    )
    pdf = render(html)
    assert pdf.startswith(b"%PDF")
    assert b"root:x:0:0" not in pdf
