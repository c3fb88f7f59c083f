"""Time a cabinet-style pack with a 300-case appendix (``make bench``).

The pack: a report in sections, an exempt appendix listing 300 cases (ten columns) and a
public appendix of findings, rendered as the exempt pack (every part laid out). Each run is
a fresh Python process, so its peak memory (RSS) is its own:

- ``product``: what an export job does with the pack: ``render_pack_document`` (templates,
  WeasyPrint through the static-only fetcher, progress reporting), then the sha256 checksum
  and the write through Django's storage API (to a temporary folder);
- ``alone``: the same HTML, made once beforehand by the product's templates, handed straight
  to WeasyPrint with the same PDF options (``HTML(string=...).write_pdf(pdf_variant=...)``).

The ratio product / alone is the product's own overhead; the target is at most 1.15x.
Runs alternate (alone, product, alone, product...) and the medians are compared. The pack is
measured twice: with HTML parts only, and with a 20-page uploaded PDF appendix added (the
alone run lays out the same HTML, with the uploaded pages' empty slots; the product also
draws the uploaded pages onto them). Both are judged. No database is used.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

TARGET_RATIO = 1.15
FORMS = ["Sexual assault", "Rape", "Sexual harassment", "Sharing nudes", "Upskirting", "Online abuse"]
OUTCOMES = ["Police", "Strategy discussion", "Early help", "Advice to school", "No further action"]


def _parts(cases: int, uploaded: str | None):
    from core.documents import HtmlPart, PdfPart

    rng = random.Random(2020)
    rows = [
        [
            f"MASH-{2017 + i % 3}-{i:04d}",
            f"{1 + i % 28} {['January', 'March', 'June', 'October'][i % 4]} {2017 + i % 3}",
            rng.choice(FORMS),
            f"{rng.randint(11, 16)} / {rng.randint(11, 17)}",
            rng.choice(["Yes", "No"]),
            f"School {rng.randint(1, 60)} (demo)",
            rng.choice(OUTCOMES),
            rng.choice(["Met", "Partly met", "Not met", "Not recorded"]),
            rng.choice(["Yes", "No", "Partly"]),
            "Advice recorded: DSL informed, risk assessment, separation considered; "
            + rng.choice(["police informed", "parents informed", "support for both children"]),
        ]
        for i in range(cases)
    ]
    sections = [
        {
            "heading": heading,
            "paragraphs": [
                f"{n}. The review looked at historic cases referred into the MASH and assessed the advice "
                "given against the guidance from the Department for Education in force at the time. " * 3
                for n in range(1, 5)
            ],
        }
        for heading in ("Purpose", "Alternative options", "Key considerations", "Legal implications")
    ]
    parts = [
        HtmlPart("Review of peer on peer abuse cases", "core/pdf/parts/text.html", {"sections": sections}),
        HtmlPart(
            "Appendix 2 - Historic cases of peer on peer abuse",
            "core/pdf/parts/table.html",
            {
                "caption": f"{cases} cases under review",
                "headers": [
                    "Reference",
                    "Received",
                    "Form",
                    "Ages",
                    "Same school",
                    "School",
                    "Outcome",
                    "Guidance",
                    "Advice matched",
                    "Advice",
                ],
                "rows": rows,
            },
            exempt=True,
            schedule_12a_paragraph=2,
            public_interest="The public interest in maintaining the exemption outweighs disclosure.",
        ),
        HtmlPart("Appendix 3 - Findings", "core/pdf/parts/text.html", {"sections": sections[:2]}),
    ]
    if uploaded:
        parts.append(PdfPart("Appendix 4 - Uploaded report", uploaded))
    return parts


def _child(mode: str, cases: int, uploaded: str | None) -> dict:
    from django.core.files.base import ContentFile
    from django.core.files.storage import FileSystemStorage
    from weasyprint import HTML

    from core.documents.rendering import PDF_OPTIONS, pack_html, render_pack_document

    parts = _parts(cases, uploaded)
    title, classification = "Review of peer on peer abuse cases", "Part exempt: Appendix 2 (paragraph 2)"
    if mode == "alone":
        html, _ = pack_html(parts=parts, classification=classification, exempt_pack=True, title=title)
        static = Path(settings.BASE_DIR, "static").as_uri()
        html = html.replace('href="/static/', f'href="{static}/')
        started = time.perf_counter()
        pdf = HTML(string=html).write_pdf(**PDF_OPTIONS)
        seconds = time.perf_counter() - started
        pages = None
    else:
        storage = FileSystemStorage(location=tempfile.mkdtemp(prefix="bench-packs-"))
        started = time.perf_counter()
        rendered = render_pack_document(
            parts=parts, classification=classification, exempt_pack=True, title=title, progress=lambda p: None
        )
        hashlib.sha256(rendered.pdf).hexdigest()
        storage.save("pack.pdf", ContentFile(rendered.pdf))
        seconds = time.perf_counter() - started
        pdf, pages = rendered.pdf, rendered.pages
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"mode": mode, "seconds": seconds, "peak_mib": peak_kib / 1024, "bytes": len(pdf), "pages": pages}


class Command(BaseCommand):
    help = (
        "Time a PDF pack with a 300-case appendix against WeasyPrint alone on the same HTML "
        f"(pages, seconds, peak RSS). Exits non-zero if the product's overhead exceeds {TARGET_RATIO}x."
    )

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, default=300)
        parser.add_argument("--rounds", type=int, default=3)
        parser.add_argument(
            "--only", choices=["html", "uploaded"], help="measure one pack only (default: both)"
        )
        parser.add_argument("--child", choices=["product", "alone"], help=Command.help and "internal")
        parser.add_argument("--uploaded", default="", help="internal: a PDF to merge as an appendix")

    def handle(self, *args, **options):
        if options["child"]:
            self.stdout.write(
                json.dumps(_child(options["child"], options["cases"], options["uploaded"] or None))
            )
            return
        cases, rounds = options["cases"], options["rounds"]
        self.stdout.write(f"PDF pack with a {cases}-case appendix, {rounds} rounds, each run a fresh process")
        results = {}
        if options["only"] != "uploaded":
            results["HTML parts only"] = self._compare(cases, rounds, uploaded=None)
        if options["only"] != "html":
            with tempfile.TemporaryDirectory() as folder:
                upload = Path(folder, "uploaded.pdf")
                upload.write_bytes(_uploaded_pdf(20))
                results["with a 20-page uploaded PDF"] = self._compare(cases, rounds, uploaded=str(upload))
        failed = []
        for label, result in results.items():
            ratio = result["ratio"]
            verdict = "pass" if ratio <= TARGET_RATIO else "FAIL"
            self.stdout.write(
                f"Overhead over WeasyPrint alone, {label}: {ratio:.2f}x (target <= {TARGET_RATIO}x) {verdict}"
            )
            if ratio > TARGET_RATIO:
                failed.append(f"{label} {ratio:.2f}x")
        if failed:
            raise CommandError(f"the product's overhead is above {TARGET_RATIO}x: {', '.join(failed)}")

    def _run(self, mode: str, cases: int, uploaded: str | None) -> dict:
        command = [sys.executable, "manage.py", "bench_packs", "--child", mode, f"--cases={cases}"]
        if uploaded:
            command.append(f"--uploaded={os.path.basename(uploaded)}")  # a storage name under MEDIA_ROOT
        env = {**os.environ, "MEDIA_ROOT": os.path.dirname(uploaded) if uploaded else tempfile.gettempdir()}
        result = subprocess.run(  # noqa: S603 - this Python and manage.py, fixed arguments
            command, cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, check=True, timeout=900
        )
        return json.loads(result.stdout.strip().splitlines()[-1])

    def _compare(self, cases: int, rounds: int, uploaded: str | None) -> dict:
        runs = {"alone": [], "product": []}
        for _ in range(rounds):
            for mode in ("alone", "product"):
                runs[mode].append(self._run(mode, cases, uploaded))
        alone = statistics.median(r["seconds"] for r in runs["alone"])
        product = statistics.median(r["seconds"] for r in runs["product"])
        pages = runs["product"][0]["pages"]
        label = "with a 20-page uploaded appendix merged" if uploaded else "HTML parts only"
        self.stdout.write(
            f"  {label}: {pages} pages, {runs['product'][0]['bytes'] / 1024:.0f} KiB\n"
            f"    WeasyPrint alone: {alone:.2f} s median, peak RSS "
            f"{max(r['peak_mib'] for r in runs['alone']):.0f} MiB\n"
            f"    product (render_pack_document + sha256 + storage): {product:.2f} s median, peak RSS "
            f"{max(r['peak_mib'] for r in runs['product']):.0f} MiB\n"
            f"    ratio {product / alone:.2f}x (runs, s: alone "
            + ", ".join(f"{r['seconds']:.1f}" for r in runs["alone"])
            + "; product "
            + ", ".join(f"{r['seconds']:.1f}" for r in runs["product"])
            + ")"
        )
        return {"ratio": product / alone, "pages": pages}


def _uploaded_pdf(pages: int) -> bytes:
    from weasyprint import HTML

    body = "".join(
        f'<h2 style="break-before: page">Uploaded page {n}</h2><p>{"Text of the uploaded report. " * 80}</p>'
        for n in range(1, pages + 1)
    )
    return HTML(string=f"<html lang='en'><body>{body}</body></html>").write_pdf()
