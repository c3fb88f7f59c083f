"""The findings chart in a PDF pack fits the page at any number of criteria: never past the
right edge of the content area, never into the bottom margin (where the footer is)."""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path

import pytest
from weasyprint import HTML

from core.documents import HtmlPart
from core.documents.fetcher import BASE_URL, StaticOnlyFetcher
from core.documents.rendering import CSS_PX_TO_PT, pack_html
from reviews import figures, selectors

SVG_TAGS = {"svg", "{http://www.w3.org/2000/svg}svg"}


def findings_with(rows: int) -> selectors.Findings:
    criteria = [(f"K{n}.1", f"Criterion {n}: what the guidance expects the MASH to do") for n in range(rows)]
    counts = {
        (code, "P"): Counter(met=20 + n % 7, partly_met=6, not_met=8 + n % 3, not_recorded=7)
        for n, (code, _) in enumerate(criteria)
    }
    return selectors.Findings(periods=["P"], criteria=criteria, counts=counts, referrals={})


def render(rows: int):
    table = figures.compliance_table(findings_with(rows), period="P", suppressed=False, threshold=5)
    charts = figures.compliance_charts(table, chart_id="chart-1")
    part = HtmlPart(
        title="Appendix 1 - Findings",
        template="scrutiny/pdf/appendix.html",
        context={
            "body": "reviews/includes/findings_figures.html",
            "table": table,
            "charts": charts,
            "ratings": figures.RATINGS,
            "threshold": 5,
        },
    )
    html, _ = pack_html(parts=[part], classification="Open", exempt_pack=False, title="Charts")
    return HTML(string=html, base_url=BASE_URL, url_fetcher=StaticOnlyFetcher()).render(), charts


def svg_boxes(box, found):
    if getattr(box, "element_tag", None) in SVG_TAGS:
        found.append(box)
    for child in getattr(box, "children", []) or []:
        svg_boxes(child, found)
    return found


@pytest.mark.parametrize("rows", [5, 60])
def test_every_chart_fits_inside_its_pages_content_area(rows, tmp_path):
    document, charts = render(rows)
    assert len(charts) == -(-rows // figures.ROWS_PER_CHART)
    drawn = 0
    for page in document.pages:
        box = page._page_box
        left, top = box.content_box_x(), box.content_box_y()
        right, bottom = left + box.width, top + box.height
        for svg in svg_boxes(box, []):
            drawn += 1
            assert svg.position_x >= left - 0.5
            assert svg.position_x + svg.margin_width() <= right + 0.5, "runs off the right edge"
            assert svg.position_y >= top - 0.5
            assert svg.position_y + svg.margin_height() <= bottom + 0.5, "runs into the footer"
    assert drawn == len(charts)  # each chart drawn whole, on one page

    # And as a PDF: every page's text is inside the page (pdftotext's boxes), the bars' labels
    # all there. Look at the pages with: pdftoppm -png -r 50 charts.pdf page
    pdf = tmp_path / "charts.pdf"
    document.write_pdf(pdf)
    words = subprocess.run(  # noqa: S603 - a fixed tool on our own file
        ["/usr/bin/pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert all(f"K{n}.1" in words for n in range(rows))
    page_width = document.pages[0].width * CSS_PX_TO_PT
    for line in words.splitlines():
        if line.strip().startswith("<word"):
            x_max = float(line.split('xMax="')[1].split('"')[0])
            assert x_max <= page_width - 18 / 25.4 * 72 + 1, line  # inside the right margin
    Path(pdf).unlink()
