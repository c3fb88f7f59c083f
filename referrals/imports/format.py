"""The import file: its columns, reading it, and checking every row in plain words.

docs/import-format.md describes the format for the people who make the files; this module
is its executable form. Nothing here writes. A file-level problem (not UTF-8, too big, wrong
columns) raises ``ImportRefused``; a row's problems are collected, every one of them, so the
preview can list them all at once.

Messages never quote a cell: a cell may hold a child's name, and the messages are stored
with the batch and shown on the preview page.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils import timezone

from core.timescales import local_zone
from referrals.models import (
    AbuseForm,
    Child,
    Outcome,
    Referral,
    ReferralChild,
    ReferralDecision,
    ReferralSource,
    School,
)
from referrals.services import (
    validate_consent,
    validate_date_of_birth,
    validate_referral_dates,
    validate_roles,
)

MAX_CHILDREN = 4
MAX_SOURCE_ID = 64
CHUNK = 1000
#: Problems kept in memory; the rest are counted. (A wrong file can have dozens a row.)
MAX_PROBLEMS_KEPT = 5000

REFERRAL_COLUMNS = [
    "source_id",
    "received_at",
    "source",
    "forms_of_abuse",
    "peer_on_peer",
    "incident_date",
    "location",
    "consent_sought",
    "consent_not_sought_reason",
    "referrer_name",
    "referrer_role",
    "referrer_organisation",
    "referrer_contact",
    "narrative",
    "outcomes",
    "decided_at",
    "decision_rationale",
]
#: Columns a file may leave out altogether (their cells then count as blank).
OPTIONAL_REFERRAL_COLUMNS = ["advice", "advice_notes", "closed_at"]
CHILD_FIELDS = ["role", "first_name", "last_name", "date_of_birth", "gender", "school_urn", "year_group"]
OPTIONAL_CHILD_FIELDS = ["send"]


def child_columns(number: int) -> list[str]:
    return [f"child{number}_{name}" for name in CHILD_FIELDS]


def all_columns() -> list[str]:
    """Every column the import knows, in the order the sample file has them."""
    columns = REFERRAL_COLUMNS + OPTIONAL_REFERRAL_COLUMNS
    for number in range(1, MAX_CHILDREN + 1):
        columns += child_columns(number) + [f"child{number}_{name}" for name in OPTIONAL_CHILD_FIELDS]
    return columns


KNOWN_COLUMNS = frozenset(all_columns())

# The advice checklist of a decision, as the file names it (the model's field names).
ADVICE_CODES = ReferralDecision.ADVICE_FIELDS

YES = frozenset({"yes", "y", "true", "1"})
NO = frozenset({"no", "n", "false", "0"})
# Dates as 27/03/2019 or 2019-03-27; times as 14:30 or 14:30:00 after a space (or ISO's T).
# Parsed by hand: strptime costs a third of checking a 10,000-row file.
_DATE = r"(?:(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{4})|(?P<iy>\d{4})-(?P<im>\d{1,2})-(?P<id>\d{1,2}))"
DATE_RE = re.compile(_DATE)
DATETIME_RE = re.compile(_DATE + r"[ T](?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?")


def parse_date(value: str) -> dt.date | None:
    match = DATE_RE.fullmatch(value)
    return _date_from(match) if match else None


def parse_datetime(value: str) -> dt.datetime | None:
    """A naive local date and time, or None."""
    match = DATETIME_RE.fullmatch(value)
    if not match:
        return None
    day = _date_from(match)
    if day is None:
        return None
    try:
        return dt.datetime.combine(day, dt.time(int(match["H"]), int(match["M"]), int(match["S"] or 0)))
    except ValueError:
        return None


def _date_from(match: re.Match) -> dt.date | None:
    parts = (match["y"], match["m"], match["d"]) if match["y"] else (match["iy"], match["im"], match["id"])
    year, month, day = (int(part) for part in parts)
    if not 1900 <= year <= 2100:
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


NOT_UTF8 = "The selected file is not in UTF-8. Save the file as CSV UTF-8 and upload it again"


class ImportRefused(ValidationError):
    """The file as a whole cannot be read or has the wrong columns: nothing was checked further."""


@dataclass(frozen=True)
class Problem:
    row: int | None
    column: str
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass(frozen=True)
class ChildRow:
    number: int  # child1 .. child4 in the file
    role: str
    first_name: str
    last_name: str
    date_of_birth: dt.date
    gender: str
    school_id: int | None
    year_group: str
    send: bool

    @property
    def key(self) -> tuple[str, str, dt.date]:
        """What identifies a person record: name (any case) and date of birth."""
        return (self.first_name.strip().lower(), self.last_name.strip().lower(), self.date_of_birth)


@dataclass
class RowData:
    """One valid row, with codes turned into primary keys."""

    row: int
    source_id: str
    received_at: dt.datetime
    source_pk: int
    form_pks: frozenset[int]
    is_peer_on_peer: bool
    incident_date: dt.date
    location: str
    consent_sought: bool
    consent_not_sought_reason: str
    referrer_name: str
    referrer_role: str
    referrer_organisation: str
    referrer_contact: str
    narrative: str
    outcome_pks: frozenset[int]
    decided_at: dt.datetime
    closed_at: dt.datetime
    rationale: str
    advice: frozenset[str]
    advice_notes: str
    children: list[ChildRow] = field(default_factory=list)


@dataclass
class ParsedFile:
    rows: list[RowData]  # every row, valid, or none if the file has any problem
    problems: list[Problem]  # the first MAX_PROBLEMS_KEPT, in row order
    problem_count: int  # all of them
    row_count: int


# --- Reading the file ------------------------------------------------------------------------


def _looks_utf16(head: bytes) -> bool:
    """Text in UTF-16: nearly every other byte is NUL and the bytes between are not."""
    even, odd = head[0::2], head[1::2]
    if len(odd) < 4:
        return False
    for nuls, text in ((odd, even), (even, odd)):
        if nuls.count(0) >= 0.9 * len(nuls) and text.count(0) <= 0.1 * len(text):
            return True
    return False


def decode(data: bytes) -> str:
    if not data.strip():
        raise ImportRefused("The selected file is empty")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16, as Excel's "Unicode text" saves
        raise ImportRefused(NOT_UTF8)
    if _looks_utf16(data[:1000]):  # UTF-16 without its byte-order mark
        raise ImportRefused(NOT_UTF8)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportRefused(NOT_UTF8) from error
    if "\x00" in text:
        raise ImportRefused("The selected file must be a CSV file")
    return text


def _listed(names: Iterable[str], most: int = 15) -> str:
    names = [n if len(n) <= 40 else f"{n[:40]}..." for n in names]
    if len(names) > most:
        names = [*names[: most - 1], f"{len(names) - most + 1} more"]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def check_header(header: list[str]) -> list[str]:
    """The column names, or ImportRefused naming every missing, unknown or repeated one."""
    if len(header) > 2 * len(KNOWN_COLUMNS):
        raise ImportRefused(
            f"The selected file has {len(header):,} columns; the import format has {len(KNOWN_COLUMNS)}. "
            "Check it is the case system's export, saved as CSV UTF-8"
        )
    names = [name.strip().lower() for name in header]
    messages = []
    counts = Counter(names)
    repeated = sorted(n for n, count in counts.items() if count > 1 and n)
    if repeated:
        messages.append(f"The selected file has more than one column called {_listed(repeated)}")
    present = set(names)
    required = list(REFERRAL_COLUMNS)
    for number in range(1, MAX_CHILDREN + 1):
        columns = child_columns(number) + [f"child{number}_{name}" for name in OPTIONAL_CHILD_FIELDS]
        if number == 1 or present & set(columns):
            required += child_columns(number)
    missing = [name for name in required if name not in present]
    if missing:
        noun = "column" if len(missing) == 1 else "columns"
        messages.append(f"The selected file is missing the {noun} {_listed(missing)}")
    unknown = [name for name in names if name not in KNOWN_COLUMNS]
    if "" in unknown:
        messages.append("Every column in the selected file must have a heading in its first row")
    unknown = [name for name in unknown if name]
    if unknown:
        noun = "a column" if len(unknown) == 1 else "columns"
        messages.append(
            f"The selected file has {noun} the import does not use: {_listed(unknown)}. "
            "Use the column headings in the import format guide"
        )
    if messages:
        raise ImportRefused(messages)
    return names


def read_rows(text: str, *, max_rows: int) -> tuple[list[tuple[int, dict[str, str]]], list[Problem], int]:
    """Each non-blank row as {column: stripped cell}, numbered as a spreadsheet shows it.

    Also a problem for each row with the wrong number of cells, and how many rows there are.
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[tuple[int, dict[str, str]]] = []
    problems: list[Problem] = []
    count = 0
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            raise ImportRefused("The first row of the selected file must have the column headings")
        names = check_header(header)
        for number, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            count += 1
            if count > max_rows:
                raise ImportRefused(
                    f"The selected file has more than {max_rows:,} referrals. Split it into smaller files"
                )
            if len(cells) != len(names):
                problems.append(
                    Problem(
                        number,
                        "",
                        f"Row {number}: has {len(cells)} cells but there are {len(names)} column headings. "
                        "Check for a stray comma or a missing quotation mark",
                    )
                )
                continue
            rows.append((number, {name: _clean(cell) for name, cell in zip(names, cells, strict=True)}))
    except csv.Error as error:
        raise ImportRefused(
            f"The selected file could not be read as CSV (at row {reader.line_num}). "
            "Save the file as CSV UTF-8 and upload it again"
        ) from error
    if not count:
        raise ImportRefused("The selected file has no referrals in it, only the column headings")
    return rows, problems, count


def _clean(cell: str) -> str:
    return cell.replace("\r\n", "\n").replace("\r", "\n").strip()


# --- Checking rows --------------------------------------------------------------------------


class ReferenceData:
    """Codes to primary keys, read once per file. Inactive codes are accepted: old records use them."""

    def __init__(self, urns: Iterable[str]):
        self.sources = dict(ReferralSource.objects.values_list("code", "pk"))
        self.forms = dict(AbuseForm.objects.values_list("code", "pk"))
        self.outcomes = dict(Outcome.objects.values_list("code", "pk"))
        self.schools: dict[str, int] = {}
        urns = sorted(set(urns))
        for start in range(0, len(urns), CHUNK):
            chunk = urns[start : start + CHUNK]
            self.schools.update(School.objects.filter(urn__in=chunk).values_list("urn", "pk"))
        self.locations = {value for value, _ in Referral.Location.choices}
        self.roles = {value for value, _ in ReferralChild.Role.choices}
        self.genders = {value for value, _ in Child.Gender.choices}
        self.year_groups = {value.lower(): value for value, _ in Child.YearGroup.choices}


def parse_file(data: bytes, *, max_rows: int) -> ParsedFile:
    text = decode(data)
    raw_rows, problems, row_count = read_rows(text, max_rows=max_rows)
    problem_count = len(problems)
    urns = [
        cells.get(f"child{n}_school_urn", "") for _, cells in raw_rows for n in range(1, MAX_CHILDREN + 1)
    ]
    reference = ReferenceData(u for u in urns if u)
    checker = RowChecker(reference)
    rows: list[RowData] = []
    first_row_of: dict[str, int] = {}
    for number, cells in raw_rows:
        row, row_problems = checker.check(number, cells)
        source_id = cells.get("source_id", "")
        if source_id and source_id in first_row_of:
            row_problems.append(
                Problem(
                    number,
                    "source_id",
                    f"Row {number}: the source id is also in row {first_row_of[source_id]}. "
                    "Each referral must be in the file once",
                )
            )
            row = None
        elif source_id:
            first_row_of[source_id] = number
        problem_count += len(row_problems)
        problems.extend(row_problems[: max(0, MAX_PROBLEMS_KEPT - len(problems))])
        if row is not None and not row_problems:
            rows.append(row)
    problems.sort(key=lambda p: p.row or 0)
    return ParsedFile(
        rows=[] if problem_count else rows,
        problems=problems,
        problem_count=problem_count,
        row_count=row_count,
    )


class RowChecker:
    def __init__(self, reference: ReferenceData):
        self.ref = reference
        self.zone = local_zone()

    def check(self, number: int, cells: dict[str, str]) -> tuple[RowData | None, list[Problem]]:
        problems: list[Problem] = []

        def problem(column: str, message: str) -> None:
            problems.append(Problem(number, column, f"Row {number}: {message}"))

        def text(column: str, noun: str, *, required: bool = False, limit: int | None = None) -> str:
            value = cells.get(column, "")
            if required and not value:
                problem(column, f"enter {noun}")
            elif limit and len(value) > limit:
                problem(column, f"{noun} must be {limit} characters or fewer")
            return value

        source_id = text("source_id", "the source id", required=True, limit=MAX_SOURCE_ID)
        received_at = self._datetime(
            cells, "received_at", "the date and time the referral was received", problem
        )
        source_pk = self._code(cells, "source", "the source", self.ref.sources, problem, listing=True)
        form_pks = self._codes(
            cells, "forms_of_abuse", "forms of abuse", self.ref.forms, problem, example="bullying;physical"
        )
        is_peer = self._yes_no(cells, "peer_on_peer", "whether it is peer-on-peer abuse", problem)
        incident_date = self._date(cells, "incident_date", "the date of the incident", problem)
        location = cells.get("location", "").lower()
        if not location:
            problem("location", "enter where it happened")
        elif location not in self.ref.locations:
            problem("location", f"the location must be one of {_listed(sorted(self.ref.locations))}")
        consent = self._yes_no(cells, "consent_sought", "whether consent was sought", problem)
        reason = cells.get("consent_not_sought_reason", "")
        if consent is not None:
            message = validate_consent(consent_sought=consent, reason=reason)
            if message:
                problem("consent_not_sought_reason", _lower_first(message))
        referrer_name = text("referrer_name", "the referrer's name", required=True, limit=200)
        referrer_role = text("referrer_role", "the referrer's role", limit=200)
        referrer_organisation = text("referrer_organisation", "the referrer's organisation", limit=200)
        referrer_contact = text("referrer_contact", "the referrer's contact details", limit=200)
        narrative = text("narrative", "what was reported (narrative)", required=True)
        outcome_pks = self._codes(
            cells, "outcomes", "outcomes", self.ref.outcomes, problem, example="nfa;advice"
        )
        decided_at = self._datetime(cells, "decided_at", "the date and time of the decision", problem)
        rationale = text("decision_rationale", "the reasons for the decision", required=True)
        advice = self._advice(cells, problem)
        advice_notes = cells.get("advice_notes", "")
        closed_at = decided_at
        if cells.get("closed_at"):
            closed_at = self._datetime(
                cells, "closed_at", "the date and time the referral was closed", problem
            )

        if received_at and incident_date:
            errors = validate_referral_dates(received_at=received_at, incident_date=incident_date)
            for column, message in errors.items():
                problem(column, _lower_first(message))
        now = timezone.now()
        if decided_at:
            if decided_at > now:
                problem("decided_at", "the date and time of the decision must be in the past")
            elif received_at and decided_at < received_at:
                problem(
                    "decided_at",
                    "the date and time of the decision must be after the referral was received",
                )
        if closed_at and decided_at and cells.get("closed_at"):
            if closed_at > now:
                problem("closed_at", "the date and time the referral was closed must be in the past")
            elif closed_at < decided_at:
                problem(
                    "closed_at",
                    "the date and time the referral was closed must be on or after the decision",
                )

        children = self._children(cells, incident_date, problem)
        if is_peer is not None and not any(p.column.startswith("child") for p in problems):
            message = validate_roles(is_peer_on_peer=is_peer, roles=[c.role for c in children])
            if message:
                column = "child1_role" if children else "child1_first_name"
                problem(column, _lower_first(message))

        if problems:
            return None, problems
        return (
            RowData(
                row=number,
                source_id=source_id,
                received_at=received_at,
                source_pk=source_pk,
                form_pks=form_pks,
                is_peer_on_peer=is_peer,
                incident_date=incident_date,
                location=location,
                consent_sought=consent,
                consent_not_sought_reason="" if consent else reason,
                referrer_name=referrer_name,
                referrer_role=referrer_role,
                referrer_organisation=referrer_organisation,
                referrer_contact=referrer_contact,
                narrative=narrative,
                outcome_pks=outcome_pks,
                decided_at=decided_at,
                closed_at=closed_at,
                rationale=rationale,
                advice=advice,
                advice_notes=advice_notes,
                children=children,
            ),
            [],
        )

    # --- cells --------------------------------------------------------------------------

    @staticmethod
    def _yes_no(cells, column: str, noun: str, problem) -> bool | None:
        value = cells.get(column, "").lower()
        if value in YES:
            return True
        if value in NO:
            return False
        problem(column, f"enter yes or no for {noun}" if not value else f"{noun} must be yes or no")
        return None

    def _date(self, cells, column: str, noun: str, problem) -> dt.date | None:
        value = cells.get(column, "")
        if not value:
            problem(column, f"enter {noun}")
            return None
        parsed = parse_date(value)
        if parsed is None:
            problem(column, f"{noun} must be a real date, like 27/03/2019")
        return parsed

    def _datetime(self, cells, column: str, noun: str, problem) -> dt.datetime | None:
        value = cells.get(column, "")
        if not value:
            problem(column, f"enter {noun}")
            return None
        parsed = parse_datetime(value)
        if parsed is None:
            problem(column, f"{noun} must be a real date and time, like 27/03/2019 14:30")
            return None
        return parsed.replace(tzinfo=self.zone)

    @staticmethod
    def _code(cells, column: str, noun: str, codes: dict[str, int], problem, listing=False) -> int | None:
        value = cells.get(column, "").lower()
        if not value:
            problem(column, f"enter {noun}")
            return None
        if value not in codes:
            known = f": {_listed(sorted(codes))}" if listing else " in the import format guide"
            problem(column, f"{noun} must be one of the codes{known}")
            return None
        return codes[value]

    @staticmethod
    def _codes(cells, column: str, noun: str, codes: dict[str, int], problem, example: str) -> frozenset[int]:
        values = [v.strip().lower() for v in cells.get(column, "").split(";") if v.strip()]
        if not values:
            problem(column, f"enter at least one of the {noun} codes")
            return frozenset()
        unknown = [v for v in values if v not in codes]
        if unknown:
            which = "one of the" if len(unknown) == 1 else f"{len(unknown)} of the"
            problem(
                column,
                f"{which} {noun} {'is not a code' if len(unknown) == 1 else 'are not codes'} from the "
                f"import format guide. Separate codes with a semicolon, like {example}",
            )
            return frozenset()
        return frozenset(codes[v] for v in values)

    @staticmethod
    def _advice(cells, problem) -> frozenset[str]:
        values = [v.strip().lower() for v in cells.get("advice", "").split(";") if v.strip()]
        unknown = [v for v in values if v not in ADVICE_CODES]
        if unknown:
            problem("advice", f"advice must be codes from {_listed(ADVICE_CODES)}, separated by semicolons")
        return frozenset(v for v in values if v in ADVICE_CODES)

    def _children(self, cells, incident_date: dt.date | None, problem) -> list[ChildRow]:
        children: list[ChildRow] = []
        seen: dict[tuple, int] = {}
        for n in range(1, MAX_CHILDREN + 1):
            columns = {
                name: cells.get(f"child{n}_{name}", "") for name in CHILD_FIELDS + OPTIONAL_CHILD_FIELDS
            }
            if not any(columns.values()):
                continue
            who = f"child {n}"
            role = columns["role"].lower()
            ok = True
            if not role:
                problem(f"child{n}_role", f"enter {who}'s role")
                ok = False
            elif role not in self.ref.roles:
                problem(f"child{n}_role", f"{who}'s role must be one of {_listed(sorted(self.ref.roles))}")
                ok = False
            for name, noun in (("first_name", "first name"), ("last_name", "last name")):
                if not columns[name]:
                    problem(f"child{n}_{name}", f"enter {who}'s {noun}")
                    ok = False
                elif len(columns[name]) > 100:
                    problem(f"child{n}_{name}", f"{who}'s {noun} must be 100 characters or fewer")
                    ok = False
            dob = None
            if not columns["date_of_birth"]:
                problem(f"child{n}_date_of_birth", f"enter {who}'s date of birth")
                ok = False
            else:
                dob = parse_date(columns["date_of_birth"])
                if dob is None:
                    problem(
                        f"child{n}_date_of_birth",
                        f"{who}'s date of birth must be a real date, like 27/03/2009",
                    )
                    ok = False
            gender = columns["gender"].lower()
            if not gender:
                problem(f"child{n}_gender", f"enter {who}'s gender")
                ok = False
            elif gender not in self.ref.genders:
                problem(
                    f"child{n}_gender", f"{who}'s gender must be one of {_listed(sorted(self.ref.genders))}"
                )
                ok = False
            school_id = None
            if columns["school_urn"]:
                school_id = self.ref.schools.get(columns["school_urn"])
                if school_id is None:
                    problem(
                        f"child{n}_school_urn",
                        f"{who}'s school URN is not a school in this service. Leave it blank "
                        "if the school is not known, or ask an administrator to add the school",
                    )
                    ok = False
            year_group = ""
            if columns["year_group"]:
                year_group = self.ref.year_groups.get(columns["year_group"].lower(), "")
                if not year_group:
                    problem(
                        f"child{n}_year_group",
                        f"{who}'s year group must be N, R, a number from 1 to 13, or na if not in school",
                    )
                    ok = False
            send = False
            if columns["send"]:
                value = columns["send"].lower()
                if value in YES | NO:
                    send = value in YES
                else:
                    problem(
                        f"child{n}_send", f"{who}'s special educational needs or disability must be yes or no"
                    )
                    ok = False
            if dob is not None:
                message = validate_date_of_birth(date_of_birth=dob, incident_date=incident_date, send=send)
                if message:
                    problem(f"child{n}_date_of_birth", f"{who}'s {_lower_first(message)}")
                    ok = False
            if not ok:
                continue
            child = ChildRow(
                number=n,
                role=role,
                first_name=columns["first_name"],
                last_name=columns["last_name"],
                date_of_birth=dob,
                gender=gender,
                school_id=school_id,
                year_group=year_group,
                send=send,
            )
            if child.key in seen:
                problem(
                    f"child{n}_first_name",
                    f"{who} has the same name and date of birth as child {seen[child.key]}. "
                    "Each child must be in the row once",
                )
                continue
            seen[child.key] = n
            children.append(child)
        return children


def _lower_first(message: str) -> str:
    return message[:1].lower() + message[1:]
