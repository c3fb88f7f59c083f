"""Hostile PDF appendices: bombs and oversize documents are refused, active content and
attached files are stripped, and only the checked file is ever stored (so only it is served).

Every hostile PDF is built here, with pikepdf, the way an attacker would build it.
"""

from __future__ import annotations

import hashlib
import io
import zlib
from pathlib import Path

import pikepdf
import pikepdf.settings
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pikepdf import Array, Dictionary, Name

from core.roles import Role
from scrutiny.models import Appendix
from tests.conftest import sign_in_verified
from tests.scrutiny.helpers import add_appendix, make_report, pdf_bytes
from tests.support.uploads import refuses_upload

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


@pytest.fixture
def officer(role_user, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return role_user(Role.REPORT_OFFICER, username="officer")


def build(pages: int = 1, extra=None) -> bytes:
    """A PDF of blank pages; ``extra(pdf)`` adds the hostile part. Streams are written as given
    (an attacker's compressed bytes stay compressed)."""
    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page(page_size=(595, 842))
    if extra:
        extra(pdf)
    out = io.BytesIO()
    pdf.save(out, compress_streams=False, stream_decode_level=pikepdf.StreamDecodeLevel.none)
    return out.getvalue()


def upload(content: bytes, name: str = "appendix.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def refused(officer, content: bytes) -> str:
    report = make_report(officer)
    with pytest.raises(ValidationError) as error:
        add_appendix(officer, report, kind="uploaded_pdf", title="Hostile", upload=upload(content))
    assert not Appendix.objects.exists()
    (message,) = error.value.message_dict["upload"]
    return message


def stored(officer, content: bytes) -> tuple[Appendix, bytes]:
    report = make_report(officer)
    appendix = add_appendix(officer, report, kind="uploaded_pdf", title="Stripped", upload=upload(content))
    with appendix.file.open("rb") as handle:
        kept = handle.read()
    return appendix, kept


def zeros_bomb(megabytes: int) -> bytes:
    """Flate-compressed zeros, made a megabyte at a time (about 1000:1)."""
    deflater, chunks, block = zlib.compressobj(9), [], bytes(MB)
    for _ in range(megabytes):
        chunks.append(deflater.compress(block))
    chunks.append(deflater.flush())
    return b"".join(chunks)


def all_objects(content: bytes):
    """Every object of a PDF, indirect and nested, as pikepdf sees it (the document stays open
    while they are read)."""
    pdf = pikepdf.open(io.BytesIO(content))
    stack, seen = [pdf.trailer], set()
    while stack:
        obj = stack.pop()
        if not isinstance(obj, (pikepdf.Array, pikepdf.Dictionary, pikepdf.Stream)):
            continue
        if obj.is_indirect:
            if obj.objgen in seen:
                continue
            seen.add(obj.objgen)
        yield obj
        if isinstance(obj, pikepdf.Array):
            stack.extend(obj)
        elif isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream)):
            stack.extend(obj[key] for key in obj.keys())  # noqa: SIM118 - a Stream is not iterable


def active_content(content: bytes) -> set[str]:
    """What a viewer could run or open in a PDF: action types, attached files, scripts."""
    bad = set()
    for obj in all_objects(content):
        if isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream)):
            keys = set(obj.keys())
            bad |= keys & {"/JS", "/JavaScript", "/EmbeddedFiles", "/EF", "/AA", "/AF", "/XFA"}
            if str(obj.get("/S", "")) in {"/JavaScript", "/Launch", "/SubmitForm", "/GoToE"}:
                bad.add(str(obj["/S"]))
            if str(obj.get("/Type", "")) == "/EmbeddedFile":
                bad.add("/EmbeddedFile")
            if str(obj.get("/Subtype", "")) == "/FileAttachment":
                bad.add("/FileAttachment")
    raw = content.lower()
    if b"app.alert" in raw or b"calc.exe" in raw or b"mz-payload" in raw:
        bad.add("payload bytes")
    return bad


# --- Refused -----------------------------------------------------------------------------------


def test_a_compression_bomb_is_refused_before_anything_is_stored(officer, settings):
    assert settings.SCRUTINY_APPENDIX_MAX_EXPANDED_BYTES == 256 * MB  # the default
    bomb = zeros_bomb(300)  # 300 MB of zeros in a few hundred KB

    def add_bomb(pdf):
        stream = pikepdf.Stream(pdf, bomb)
        stream.Filter = Name.FlateDecode
        pdf.pages[0].Contents = pdf.make_indirect(stream)

    content = build(extra=add_bomb)
    assert len(content) < MB
    message = refused(officer, content)
    assert message == (
        "The selected PDF must be smaller than 256 MB when opened: "
        "it is compressed far more than a normal document"
    )


def test_a_bomb_spread_over_many_small_streams_is_counted_in_total(officer, settings):
    settings.SCRUTINY_APPENDIX_MAX_EXPANDED_BYTES = 8 * MB
    piece = zeros_bomb(1)

    def add_pieces(pdf):
        pdf.Root.Pieces = Array(
            [pdf.make_indirect(pikepdf.Stream(pdf, piece, Filter=Name.FlateDecode)) for _ in range(9)]
        )

    assert "smaller than 8 MB when opened" in refused(officer, build(extra=add_pieces))


def test_an_ascii85_wrapped_bomb_is_still_measured(officer, settings):
    settings.SCRUTINY_APPENDIX_MAX_EXPANDED_BYTES = 4 * MB
    import base64

    wrapped = base64.a85encode(zeros_bomb(5)) + b"~>"

    def add_wrapped(pdf):
        stream = pikepdf.Stream(pdf, wrapped)
        stream.Filter = Array([Name.ASCII85Decode, Name.FlateDecode])
        pdf.pages[0].Contents = pdf.make_indirect(stream)

    assert "smaller than 4 MB when opened" in refused(officer, build(extra=add_wrapped))


def test_too_many_pages_is_refused(officer, settings):
    settings.SCRUTINY_APPENDIX_MAX_PAGES = 10
    assert refused(officer, build(pages=11)) == "The selected PDF must have 10 pages or fewer"
    appendix, _ = stored(officer, build(pages=10))
    assert appendix.file_pages == 10


def test_too_many_objects_is_refused(officer, settings):
    settings.SCRUTINY_APPENDIX_MAX_OBJECTS = 50

    def add_objects(pdf):
        pdf.Root.Filler = Array([pdf.make_indirect(Dictionary(N=i)) for i in range(60)])

    message = refused(officer, build(extra=add_objects))
    assert message.startswith("The selected PDF is too complex: it must have 50 objects or fewer")


def test_the_limits_default_to_sensible_values(settings):
    assert settings.SCRUTINY_APPENDIX_MAX_PAGES == 500
    assert settings.SCRUTINY_APPENDIX_MAX_OBJECTS == 100_000


def test_the_upload_form_refuses_a_bomb_with_a_govuk_error_and_changes_nothing(client, officer):
    report = make_report(officer)
    sign_in_verified(client, officer)
    bomb = zeros_bomb(300)

    def add_bomb(pdf):
        pdf.pages[0].Contents = pdf.make_indirect(pikepdf.Stream(pdf, bomb, Filter=Name.FlateDecode))

    messages = refuses_upload(
        client,
        reverse("scrutiny:appendix_add", args=[report.pk]),
        "upload",
        ("bomb.pdf", build(extra=add_bomb), "application/pdf"),
        {"version": report.version, "kind": "uploaded_pdf", "title": "CSO report"},
    )
    assert any("when opened" in message for message in messages), messages


# --- Stripped ----------------------------------------------------------------------------------


def test_open_action_and_document_javascript_are_stripped(officer):
    def add_javascript(pdf):
        script = Dictionary(Type=Name.Action, S=Name.JavaScript, JS=pikepdf.String("app.alert(1)"))
        pdf.Root.OpenAction = pdf.make_indirect(script)
        pdf.Root.Names = Dictionary(
            JavaScript=Dictionary(Names=Array([pikepdf.String("x"), pdf.make_indirect(script)]))
        )
        pdf.pages[0].AA = Dictionary(O=Dictionary(S=Name.JavaScript, JS=pikepdf.String("app.alert(2)")))

    content = build(extra=add_javascript)
    assert active_content(content)  # the test's own detector sees it in the upload
    appendix, kept = stored(officer, content)
    assert active_content(kept) == set()
    assert appendix.file_pages == 1


def test_launch_and_other_file_opening_actions_are_stripped(officer):
    def add_launch(pdf):
        launch = Dictionary(S=Name.Launch, F=pikepdf.String("calc.exe"))
        link = Dictionary(Type=Name.Annot, Subtype=Name.Link, Rect=Array([0, 0, 100, 100]), A=launch)
        keep = Dictionary(
            Type=Name.Annot,
            Subtype=Name.Link,
            Rect=Array([0, 100, 100, 200]),
            A=Dictionary(S=Name.URI, URI=pikepdf.String("https://council.example/")),
        )
        pdf.pages[0].Annots = Array([pdf.make_indirect(link), pdf.make_indirect(keep)])
        pdf.Root.OpenAction = Dictionary(
            S=Name.GoTo, D=Array([pdf.pages[0].obj, Name.Fit]), Next=Dictionary(S=Name.Launch, F="calc.exe")
        )

    content = build(extra=add_launch)
    assert "/Launch" in active_content(content)
    _, kept = stored(officer, content)
    assert active_content(kept) == set()
    # A plain web link is not active content: it stays.
    with pikepdf.open(io.BytesIO(kept)) as reopened:
        assert str(reopened.pages[0].Annots[1].A.URI) == "https://council.example/"


def test_embedded_files_and_attachment_annotations_are_stripped(officer):
    def add_files(pdf):
        pdf.attachments["payload.exe"] = pikepdf.AttachedFileSpec(pdf, b"MZ-payload" * 100)
        spec = pikepdf.AttachedFileSpec(pdf, b"MZ-payload second", filename="second.exe")
        annotation = Dictionary(
            Type=Name.Annot,
            Subtype=Name.FileAttachment,
            Rect=Array([0, 0, 10, 10]),
            FS=spec.obj,
        )
        pdf.pages[0].Annots = Array([pdf.make_indirect(annotation)])

    content = build(extra=add_files)
    assert {"/EmbeddedFiles", "/FileAttachment"} <= active_content(content)
    _, kept = stored(officer, content)
    assert active_content(kept) == set()


def test_only_the_checked_file_is_stored_and_its_checksum_is_of_what_is_stored(officer):
    def add_javascript(pdf):
        pdf.Root.OpenAction = Dictionary(S=Name.JavaScript, JS=pikepdf.String("app.alert(1)"))

    content = build(extra=add_javascript)
    appendix, kept = stored(officer, content)
    assert kept != content
    assert appendix.file_sha256 == hashlib.sha256(kept).hexdigest()
    assert appendix.file_size == len(kept)
    media = [p for p in Path(appendix.file.storage.location).rglob("*") if p.is_file()]
    assert [p.read_bytes() for p in media] == [kept]  # the upload itself was never written


def test_a_good_pdf_is_still_accepted_with_its_pages_and_text(officer):
    content = pdf_bytes(pages=3, text="Cabinet appendix")
    appendix, kept = stored(officer, content)
    assert appendix.file_pages == 3
    reopened = pikepdf.open(io.BytesIO(kept))
    assert len(reopened.pages) == 3
    assert str(reopened.docinfo["/Title"]) == "Cabinet appendix"
    assert active_content(kept) == set()


def test_a_bomb_inside_an_object_stream_is_refused(officer, settings):
    """qpdf decodes object streams itself while opening: its decode cap (set from the same
    limit) or the count of expanded bytes refuses them, whichever meets the bomb first."""
    settings.SCRUTINY_APPENDIX_MAX_EXPANDED_BYTES = 8 * MB
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    pdf.Root.Big = pdf.make_indirect(pikepdf.String(bytes(16 * MB)))  # packed and compressed
    out = io.BytesIO()
    previous = pikepdf.settings.set_qpdf_limits(flate_max_memory=0)
    try:
        pdf.save(out, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    finally:
        pikepdf.settings.set_qpdf_limits(**previous)
    assert len(out.getvalue()) < MB
    assert refused(officer, out.getvalue())
