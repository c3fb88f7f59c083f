"""A case review's publication: every figure of cabinet Appendix 1 (the review report) and
Appendix 3 (the cases under the review period) through the disclosure policy together.

A reader of the cabinet pack has both appendices at once, so they are one output and go
through ``core.disclosure.protect`` as one: the funnel, each period's compliance table and
the case tables of Appendix 3. The same quantity has the same key wherever it appears (the
cases included in the review in the funnel and as the total of every case table; a period's
cases as the row total of every case table; the cases assessed against a guidance document
in a period as the total of each of its criteria's rows), so it is shown everywhere or
nowhere, and the solver sees every sum a reader could use.

Where most of a period's per-criterion figures would be suppressed, the period is published
by guidance document instead (each document's criteria's ratings added up), so the report
gives findings that can be read rather than forty rows of [c]. The case-by-case list of
Appendix 3 is published, coarsened (period, not month; school phase, not age; no school),
only if no combination of what it shows is shared by as few as ``threshold`` cases;
otherwise it is withheld and the appendix gives the case tables instead.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings

from core import disclosure
from reviews import figures, selectors
from reviews.models import ReviewPeriod

#: A period is published by guidance document when more than this share of its per-criterion
#: counts (the non-zero ones) would be suppressed.
MOSTLY_SUPPRESSED = 0.5
NOT_ACCEPTED = "Not yet accepted"


@dataclass
class CaseTable:
    """One Appendix 3 table: cases in each period by one of their attributes."""

    key: str
    title: str
    columns: list[str]
    rows: list[tuple[str, list[figures.Cell], figures.Cell]]
    totals: list[figures.Cell]
    grand_total: figures.Cell
    margins: bool
    note: str = ""

    @property
    def hides_any(self) -> bool:
        cells = [c for _, cs, t in self.rows for c in (*cs, t)] + [*self.totals, self.grand_total]
        return any(c.suppressed for c in cells)


@dataclass(frozen=True)
class PublicCase:
    """One case as a published list may show it: coarsened, nothing that names a month, an age
    or a school."""

    period: str
    forms_of_abuse: tuple[str, ...]
    school_phase: str
    same_school: str
    outcomes: tuple[str, ...]
    within_timescale: str
    judgement: str


@dataclass
class Publication:
    review: object
    threshold: int
    result: disclosure.Disclosure
    funnel: figures.FunnelTable
    tables: list[tuple[figures.ComplianceTable, list[figures.Chart]]]
    has_findings: bool
    case_tables: list[CaseTable]
    listing: list[PublicCase] | None  # None: withheld
    case_count: figures.Cell

    @property
    def by_document(self) -> list[str]:
        return [t.period for t, _ in self.tables if t.by_document]


def _yes_no(value: bool | None, unknown: str) -> str:
    return unknown if value is None else ("Yes" if value else "No")


def _public_case(case: selectors.CaseDetail) -> PublicCase:
    phases = [p for p in case.school_phases if p != "Not known"]
    phase = phases[0] if len(phases) == 1 else ("More than one phase" if phases else "Not known")
    return PublicCase(
        period=case.period,
        forms_of_abuse=tuple(sorted(case.forms_of_abuse)),
        school_phase=phase,
        same_school=_yes_no(case.same_school, "Not known"),
        outcomes=tuple(sorted(case.outcomes)) or ("No decision recorded",),
        within_timescale=_yes_no(case.within_timescale, "No decision recorded"),
        judgement=case.judgement,
    )


#: Appendix 3's tables: (key, title, attribute, fixed columns first, whether a case has one value)
CASE_TABLES = (
    ("phase", "Cases by school phase", "school_phase", [], True),
    ("judgement", "Cases by the review's overall judgement", "judgement", [], True),
    ("timescale", "Cases by whether the MASH decided within its timescale", "within_timescale", [], True),
    (
        "same-school",
        "Cases where a victim and an alleged perpetrator attended the same school",
        "same_school",
        [],
        True,
    ),
    (
        "forms",
        "Cases by form of abuse (a case with several forms counts under each)",
        "forms_of_abuse",
        [],
        False,
    ),
    (
        "outcomes",
        "Cases by MASH outcome (a case with several outcomes counts under each)",
        "outcomes",
        [],
        False,
    ),
)


def _compliance_keys(table: disclosure.Table, rows, findings, period, accepted: int, level: str):
    """Give the row totals their shared quantities; return the links they need."""
    links = []
    documents = findings.documents
    if level == "criterion":
        assessed: dict[str, int] = defaultdict(int)
        for code, _, counts in rows:
            assessed[documents.get(code, "")] = max(assessed[documents.get(code, "")], sum(counts))
        for i, (code, _, counts) in enumerate(rows):
            document = documents.get(code, "")
            if sum(counts) == assessed[document]:
                shared = (
                    ("accepted", period) if assessed[document] == accepted else ("assessed", period, document)
                )
                table.keys[(i, table.width)] = shared
        return links
    # By document: a document's total is (its criteria) x (the cases assessed against it).
    per_document: dict[str, list[int]] = defaultdict(list)
    for code, _ in findings.criteria:
        if (code, period) in findings.counts:
            per_document[documents.get(code, "")].append(sum(findings.counts[(code, period)].values()))
    for i, (_, title, counts) in enumerate(rows):
        totals = per_document.get(title, [])
        if totals and len(set(totals)) == 1 and sum(counts) == totals[0] * len(totals):
            shared = ("accepted", period) if totals[0] == accepted else ("assessed", period, title)
            links.append(disclosure.Link(table.key_at(i, table.width), ((shared, len(totals)),)))
    return links


def _tables(review, findings, funnel, cases, levels: dict[str, str]):
    """Every table of the publication, with its shared keys, and the links between them."""
    tables, links = [], []
    labels, counts = figures.funnel_rows(funnel)
    funnel_table = disclosure.Table(
        "funnel",
        "Referrals received in the periods, by how they were screened",
        labels,
        ["Left out by the rules", "Screened by a reviewer"],
        counts,
    )
    for i, label in enumerate(labels):
        if label == figures.INCLUDED:
            funnel_table.keys[(i, 1)] = funnel_table.keys[(i, 2)] = ("included",)
        elif label == figures.PENDING:
            funnel_table.keys[(i, 1)] = funnel_table.keys[(i, 2)] = ("pending",)
    tables.append(funnel_table)

    periods = list(findings.periods)
    public = [_public_case(c) for c in cases]
    accepted = {p: len(figures.period_referral_ids(findings, p)) for p in periods}
    for index, period in enumerate(periods, start=1):
        level = levels.get(period, "criterion")
        rows = figures.rating_rows(findings, period=period, level=level)
        if not rows:
            continue
        table = disclosure.Table(
            f"compliance-{index}",
            f"Compliance by {'guidance document' if level == 'document' else 'criterion'}: {period}",
            [f"{code} {text}" for code, text, _ in rows],
            [label for _, label in figures.RATINGS],
            [r for _, _, r in rows],
        )
        links += _compliance_keys(table, rows, findings, period, accepted[period], level)
        tables.append(table)

    for key, title, attribute, _, single in CASE_TABLES:
        columns: list[str] = []
        for case in public:
            values = [getattr(case, attribute)] if single else list(getattr(case, attribute))
            columns += [v for v in values if v not in columns]
        columns.sort()
        grid = [[0] * len(columns) for _ in periods]
        for case in public:
            values = [getattr(case, attribute)] if single else list(getattr(case, attribute))
            for value in values:
                grid[periods.index(case.period)][columns.index(value)] += 1
        table = disclosure.Table(f"cases-{key}", title, periods, columns, grid, margins=single)
        if single:
            for i, period in enumerate(periods):
                table.keys[(i, len(columns))] = ("cases", period)
            table.keys[(len(periods), len(columns))] = ("included",)
        tables.append(table)
        if key == "judgement":
            for i, period in enumerate(periods):
                parts = [(table.key_at(i, j), 1) for j, c in enumerate(columns) if c != NOT_ACCEPTED]
                if sum(grid[i][j] for j, c in enumerate(columns) if c != NOT_ACCEPTED) == accepted[period]:
                    links.append(disclosure.Link(("accepted", period), tuple(parts)))
    return tables, links, public


def _mostly_suppressed(result: disclosure.Disclosure, table: disclosure.Table) -> bool:
    cells = [(i, j) for i in range(table.height) for j in range(table.width) if table.counts[i][j]]
    hidden = sum(result.is_hidden(table.key_at(i, j)) for i, j in cells)
    return bool(cells) and hidden / len(cells) > MOSTLY_SUPPRESSED


def review_publication(*, review, threshold: int | None = None) -> Publication:
    """Every figure the review's appendices publish, as the disclosure policy lets them."""
    threshold = settings.REVIEW_SUPPRESSION_THRESHOLD if threshold is None else threshold
    findings = selectors.review_findings(review=review)
    funnel = selectors.review_funnel(review=review)
    cases = selectors.review_case_details(review=review)

    levels: dict[str, str] = {}
    tables, links, public = _tables(review, findings, funnel, cases, levels)
    result = disclosure.protect(tables, links=links, threshold=threshold)
    for index, period in enumerate(findings.periods, start=1):
        table = result.tables.get(f"compliance-{index}")
        if table is not None and _mostly_suppressed(result, table):
            levels[period] = "document"
    if levels:
        tables, links, public = _tables(review, findings, funnel, cases, levels)
        result = disclosure.protect(tables, links=links, threshold=threshold)

    compliance = []
    for index, period in enumerate(findings.periods, start=1):
        key = f"compliance-{index}"
        level = levels.get(period, "criterion")
        grid = result.grid(key) if key in result.tables else None
        table = figures.compliance_table(
            findings, period=period, suppressed=True, threshold=threshold, grid=grid, level=level
        )
        compliance.append((table, figures.compliance_charts(table, chart_id=f"chart-{index}")))

    records = [
        (
            c.period,
            c.forms_of_abuse,
            c.school_phase,
            c.same_school,
            c.outcomes,
            c.within_timescale,
            c.judgement,
        )
        for c in public
    ]
    listing = public if public and disclosure.listing_publishable(records, threshold=threshold) else None
    case_tables = [_case_table(result, result.tables[f"cases-{key}"]) for key, *_ in CASE_TABLES]
    included_hidden = result.is_hidden(("included",))
    return Publication(
        review=review,
        threshold=threshold,
        result=result,
        funnel=figures.funnel_table(funnel, threshold=threshold, grid=result.grid("funnel")),
        tables=compliance,
        has_findings=bool(findings.counts),
        case_tables=case_tables,
        listing=listing,
        case_count=figures.Cell(None if included_hidden else len(cases)),
    )


def _case_table(result: disclosure.Disclosure, table: disclosure.Table) -> CaseTable:
    grid = result.grid(table.key)
    h, w = table.height, table.width
    return CaseTable(
        key=table.key,
        title=table.title,
        columns=table.columns,
        rows=[
            (table.rows[i], [figures.Cell(v) for v in grid[i][:w]], figures.Cell(grid[i][w]))
            for i in range(h)
        ],
        totals=[figures.Cell(v) for v in grid[h][:w]],
        grand_total=figures.Cell(grid[h][w]),
        margins=table.margins,
    )


def case_details_context(*, review) -> dict:
    """What Appendix 3 shows: the case tables, and the coarsened list only where it may be
    published."""
    publication = review_publication(review=review)
    return {
        "review": review,
        "periods": list(ReviewPeriod.objects.filter(review_id=review.pk)),
        "case_tables": publication.case_tables,
        "listing": publication.listing,
        "case_count": publication.case_count,
        "threshold": publication.threshold,
    }
