"""Hypothesis strategies for what a hostile or careless user types, picks and uploads."""

from __future__ import annotations

from functools import cache

from hypothesis import strategies as st

#: Text a browser can send: any code point but lone surrogates (not encodable as UTF-8).
ANY_CHAR = st.characters(exclude_categories=("Cs",))
CONTROL_CHARS = st.sampled_from(
    ["\x00", "\x01", "\x07", "\x08", "\x0b", "\x1b", "\x7f", "\u200b", "\u202e", "\ufeff"]
)

NASTY_STRINGS = [
    "",
    " ",
    "\t\r\n",
    "\x00",
    "a\x00b",
    "0",
    "-1",
    "1.5",
    "1e309",
    "NaN",
    "-0",
    "9" * 40,
    str(2**63),
    str(-(2**63) - 1),
    "0x10",
    "\u0661\u0662\u0663",  # Arabic-Indic digits: int() accepts them
    "²",
    "True",
    "None",
    "null",
    "[]",
    "{}",
    "'; DROP TABLE referrals_referral; --",
    "' OR '1'='1",
    "%s%s%n",
    "{{ 7|add:9000 }}",
    "{% debug %}",
    "${7*7}",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    '=HYPERLINK("http://evil.example","x")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "../../../../etc/passwd",
    "file:///etc/passwd",
    "\u202egnp.exe",
    "Zalgo: Z̷̢̛a̸l̶g̵o̴",
    "😀" * 50,
    "ﷺ" * 20,
    "29/02/2019",
    "2019-02-30",
    "31 2 2019",
    "00:00",
    "24:00",
    "99:99",
    "-1:-1",
    "0000-00-00",
    "9999-12-31",
    "0001-01-01",
    "10000-01-01",
]


@st.composite
def long_text(draw) -> str:
    unit = draw(st.sampled_from(["a", "é", "😀", "<", "\u0301", "x "]))
    return unit * draw(st.sampled_from([101, 201, 256, 501, 1001, 10_001, 100_001]))


# The strategies below are each made once and reused (``cache``; a field's, per field):
# Hypothesis checks a strategy the first time it draws from it, and making them afresh for each
# field of each example was a tenth of the hostile form walk's time. They are the same
# strategies, drawing from the same distributions.


@cache
def hostile_text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(NASTY_STRINGS),
        st.text(ANY_CHAR, max_size=40),
        st.text(st.one_of(ANY_CHAR, CONTROL_CHARS), max_size=20),
        st.integers(min_value=-(2**80), max_value=2**80).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.dates().map(lambda d: d.isoformat()),
        long_text(),
    )


@cache
def hostile_number_part() -> st.SearchStrategy[str]:
    """A day, month or year box: numbers out of range, signs, spaces, words."""
    return st.one_of(
        st.integers(min_value=-99999, max_value=99999).map(str),
        st.sampled_from(["", " 1", "1 ", "01", "0", "00", "Feb", "²", "1.0", "1e3", "\u0661", str(2**64)]),
        hostile_text(),
    )


OMIT = object()  # the field is not sent at all


def field_value(field, other_ids: list[int]) -> st.SearchStrategy:
    """A value (or list of values, or OMIT) for one form field as the page offered it."""
    return _field_value(field.name, tuple(field.offered), tuple(field.initial or ()), tuple(other_ids))


@cache
def _field_value(name: str, offered: tuple, initial: tuple, other_ids: tuple) -> st.SearchStrategy:
    offered = [v for v in offered if v is not None]
    options = [
        st.just(OMIT),
        hostile_text(),
        st.sampled_from([str(i) for i in other_ids] + [str(i + 1) for i in other_ids] + ["0", "-1"]),
    ]
    if initial:
        options.append(st.just(initial).map(list))  # a new list each draw (the strategy is shared)
    if offered:
        options.append(st.sampled_from(offered))
        options.append(st.lists(st.sampled_from(offered), max_size=len(offered) + 1))  # repeats too
    if name.endswith(("_0", "_1", "_2")):  # a GOV.UK date's day, month and year boxes
        options.append(hostile_number_part())
    options.append(st.lists(hostile_text(), min_size=2, max_size=3))  # a field sent twice
    return st.one_of(*options)


EXTRA_FIELD_NAMES = [
    "id",
    "pk",
    "status",
    "version",
    "created_by",
    "user",
    "referral",
    "is_staff",
    "is_superuser",
    "groups",
    "exempt",
    "action",
    "next",
    "child-TOTAL_FORMS",
    "child-INITIAL_FORMS",
    "child-MAX_NUM_FORMS",
]


@st.composite
def form_submission(draw, form, other_ids: list[int]) -> dict[str, list[str]]:
    """Everything a browser - or someone with curl - could send to the form's action."""
    data: dict[str, list[str]] = {}
    for name, field in form.fields.items():
        if field.kind == "file":
            continue  # files are drawn separately
        value = draw(field_value(field, other_ids), label=name)
        if value is OMIT:
            continue
        data[name] = value if isinstance(value, list) else [value]
    extras = draw(
        st.dictionaries(
            st.one_of(st.sampled_from(EXTRA_FIELD_NAMES), st.text(ANY_CHAR, min_size=1, max_size=10)),
            hostile_text(),
            max_size=3,
        ),
        label="extra fields",
    )
    for name, value in extras.items():
        data.setdefault(name, [value])
    if form.buttons:
        button = draw(st.one_of(st.none(), st.sampled_from(form.buttons)), label="button")
        if button is not None:
            data.setdefault(button[0], []).append(button[1])
    return data


# --- Files that are not what they say ----------------------------------------------------------

PDF_BYTES = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)
ZIP_BYTES = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(20) + b"word/document.xml" + bytes(40)
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + bytes(40)
EXE_BYTES = b"MZ\x90\x00\x03" + bytes(60) + b"This program cannot be run in DOS mode"
HTML_BYTES = b"<html><body><script>alert(1)</script></body></html>"
SVG_BYTES = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'

#: (name, bytes, declared content type): a file whose name, type or content lies.
LYING_FILES = [
    ("referrals.csv", PDF_BYTES, "text/csv"),
    ("referrals.csv", ZIP_BYTES, "text/csv"),
    ("referrals.csv", PNG_BYTES, "text/csv"),
    ("referrals.csv", EXE_BYTES, "text/csv"),
    ("referrals.csv", HTML_BYTES, "text/html"),
    ("appendix.pdf", b"source_id,received_at\n1,2\n", "application/pdf"),
    ("appendix.pdf", ZIP_BYTES, "application/pdf"),
    ("appendix.pdf", HTML_BYTES, "application/pdf"),
    ("appendix.pdf", SVG_BYTES, "application/pdf"),
    ("appendix.pdf", b"%PDF-1.7\n" + bytes(100), "application/pdf"),  # a header and nothing else
    ("appendix.pdf", PDF_BYTES[:40], "application/pdf"),  # cut short
    ("../../etc/passwd", b"root:x:0:0", "text/plain"),
    ("\u202efdp.exe", EXE_BYTES, "application/pdf"),
    ("empty.csv", b"", "text/csv"),
    ("empty.pdf", b"", "application/pdf"),
]


@cache
def hostile_file() -> st.SearchStrategy[tuple[str, bytes, str]]:
    return st.one_of(
        st.sampled_from(LYING_FILES),
        st.tuples(
            st.sampled_from(["x.csv", "x.pdf", "x", "x.CSV", "x.csv.exe", "x.pdf.html", ".csv"]),
            st.binary(max_size=2000),
            st.sampled_from(["text/csv", "application/pdf", "application/octet-stream"]),
        ),
    )
