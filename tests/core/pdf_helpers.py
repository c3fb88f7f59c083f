"""Reading PDFs in tests: text by page (poppler's pdftotext) and pixels (pdftoppm)."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

from pypdf import PdfReader

from tests.conftest import require_service


def _run(args: list[str], **kwargs):
    """Run one of poppler's tools by its absolute path, with fixed arguments."""
    tool = shutil.which(args[0]) or args[0]
    return subprocess.run([tool, *args[1:]], **kwargs)  # noqa: S603


def need_poppler() -> None:
    require_service(
        bool(shutil.which("pdftotext") and shutil.which("pdftoppm")), "needs poppler-utils (pdftotext)"
    )


def pdf_pages_text(pdf: bytes) -> list[str]:
    """The text of each page, in reading order."""
    need_poppler()
    result = _run(
        [
            "pdftotext",
            "-layout",
            "-",
            "-",
        ],
        input=pdf,
        capture_output=True,
        check=True,
        timeout=60,
    )
    pages = result.stdout.decode().split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages


def pdf_text(pdf: bytes) -> str:
    return "\n".join(pdf_pages_text(pdf))


def page_png(pdf: bytes, page: int, out: Path, dpi: int = 60) -> Path:
    """Page ``page`` (1-based) as a PNG, to look at."""
    need_poppler()
    out.parent.mkdir(parents=True, exist_ok=True)
    source = out.with_suffix(".pdf")
    source.write_bytes(pdf)
    _run(
        [
            "pdftoppm",
            "-png",
            "-r",
            str(dpi),
            "-f",
            str(page),
            "-l",
            str(page),
            "-singlefile",
            str(source),
            str(out),
        ],
        check=True,
        timeout=60,
    )
    return out.with_suffix(".png")


def page_pixels(pdf: bytes, page: int, tmp: Path, dpi: int = 40) -> tuple[int, int, bytes]:
    """Width, height and RGB bytes of a page (pdftoppm's PPM)."""
    need_poppler()
    source = tmp / f"pixels-{page}.pdf"
    source.write_bytes(pdf)
    result = _run(
        ["pdftoppm", "-r", str(dpi), "-f", str(page), "-l", str(page), str(source)],
        capture_output=True,
        check=True,
        timeout=60,
    )
    data = result.stdout
    # P6\n<w> <h>\n255\n<rgb...>
    magic, width, height, maxval, rest = data.split(maxsplit=4)
    assert magic == b"P6"
    assert maxval == b"255"
    return int(width), int(height), rest


def reddish_share(width: int, height: int, rgb: bytes, *, top: float, bottom: float) -> float:
    """The share of pixels in a horizontal band that are the exempt marking's red."""
    red = total = 0
    for y in range(int(height * top), int(height * bottom)):
        row = rgb[y * width * 3 : (y + 1) * width * 3]
        for x in range(0, len(row), 3):
            r, g, b = row[x], row[x + 1], row[x + 2]
            total += 1
            if r > 150 and g < 120 and b < 120:
                red += 1
    return red / max(total, 1)


def reader(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))
