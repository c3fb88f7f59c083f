"""The review's figures made ready to show: compliance tables, the chart and the funnel.

Pure functions over what reviews.selectors has read. Whoever calls them decides whether a
table is suppressed: a viewer who may not see every case behind it (and anything for
publication) gets it through reviews.statistics.suppress, so a count from 1 to the threshold,
or one hidden so that a total cannot reveal such a count, is None and has no percentage.
The chart is drawn from the same table, so it can never show more than the table does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from reviews.models import CriterionRating
from reviews.selectors import Findings, Funnel
from reviews.statistics import SuppressedTable, from_grid, suppress

Rating = CriterionRating.Rating
RATINGS: list[tuple[str, str]] = list(Rating.choices)  # the table's columns, in order


@dataclass(frozen=True)
class Cell:
    value: int | None  # None: suppressed
    percentage: float | None = None  # of the row's total; None when either is suppressed
    rating: str = ""  # the column's rating code ("" for a total)
    query: str = ""  # the drill-down's query string, where the viewer may follow it

    @property
    def suppressed(self) -> bool:
        return self.value is None

    @property
    def rating_label(self) -> str:
        return Rating(self.rating).label if self.rating else ""


@dataclass(frozen=True)
class Row:
    code: str
    text: str
    cells: list[Cell]
    total: Cell


@dataclass
class ComplianceTable:
    """Criteria (rows) by rating (columns) for one period."""

    period: str
    rows: list[Row]
    totals: list[Cell]
    grand_total: Cell
    suppressed: bool  # through the disclosure policy: made safe to leave the team
    referral_ids: set[int] = field(default_factory=set)
    level: str = "criterion"  # or "document": a row per guidance document
    may_list: bool = False  # the findings page: the viewer may list the cases behind a count

    @property
    def by_document(self) -> bool:
        return self.level == "document"

    @property
    def hides_any(self) -> bool:
        cells = [c for r in self.rows for c in (*r.cells, r.total)] + [*self.totals, self.grand_total]
        return any(c.suppressed for c in cells)


def period_referral_ids(findings: Findings, period: str) -> set[int]:
    """Every case behind a period's table."""
    return {pk for (_, p, _), ids in findings.referrals.items() if p == period for pk in ids}


def rating_rows(
    findings: Findings, *, period: str, level: str = "criterion"
) -> list[tuple[str, str, list[int]]]:
    """(code, text, counts by rating) for each row of a period's table. ``level``: "criterion"
    (a row per criterion) or "document" (a row per guidance document, its criteria's ratings
    added up: what can be published when the criteria's own figures are mostly too small)."""
    criteria = [(code, text) for code, text in findings.criteria if (code, period) in findings.counts]
    if level == "criterion":
        return [
            (code, text, [findings.counts[(code, period)][rating] for rating, _ in RATINGS])
            for code, text in criteria
        ]
    by_document: dict[str, list[int]] = {}
    for code, _ in criteria:
        totals = by_document.setdefault(findings.documents.get(code, ""), [0] * len(RATINGS))
        for j, (rating, _) in enumerate(RATINGS):
            totals[j] += findings.counts[(code, period)][rating]
    return [(f"G{n}", title, counts) for n, (title, counts) in enumerate(by_document.items(), start=1)]


def compliance_table(
    findings: Findings,
    *,
    period: str,
    suppressed: bool,
    threshold: int,
    drill_down: bool = False,
    grid: list[list[int | None]] | None = None,
    level: str = "criterion",
) -> ComplianceTable:
    """One period's table. ``grid``: the table as the disclosure policy publishes it (with its
    margins, None where suppressed), for an output that leaves the team; otherwise
    ``suppressed`` puts this one table through the same policy on its own. ``drill_down``
    gives each non-zero count of an unsuppressed table the query string that lists its cases."""
    criteria = rating_rows(findings, period=period, level=level)
    counts = [row_counts for _, _, row_counts in criteria]
    if grid is not None:
        suppressed = True
        table = from_grid(grid) if counts else SuppressedTable([], [], [], 0)
    elif suppressed:
        table = suppress(counts, threshold=threshold) if counts else SuppressedTable([], [], [], 0)
    else:
        table = _plain(counts)
    rows = []
    for i, (code, text, _) in enumerate(criteria):
        cells = []
        for j, (rating, _) in enumerate(RATINGS):
            value = table.cells[i][j]
            query = ""
            if drill_down and not suppressed and value and level == "criterion":
                query = urlencode({"criterion": code, "period": period, "rating": rating})
            cells.append(Cell(value, table.percentage(i, j), rating, query))
        rows.append(Row(code, text, cells, Cell(table.row_totals[i])))
    grand = table.grand_total
    totals = [
        Cell(value, _share(value, grand), rating)
        for value, (rating, _) in zip(table.column_totals or [0] * len(RATINGS), RATINGS, strict=True)
    ]
    return ComplianceTable(
        period=period,
        rows=rows,
        totals=totals,
        grand_total=Cell(grand),
        suppressed=suppressed,
        referral_ids=period_referral_ids(findings, period),
        level=level,
    )


def _plain(counts: list[list[int]]) -> SuppressedTable:
    """The same shape as suppress() gives, with nothing hidden."""
    width = len(RATINGS)
    return SuppressedTable(
        cells=[list(r) for r in counts],
        row_totals=[sum(r) for r in counts],
        column_totals=[sum(r[j] for r in counts) for j in range(width)],
        grand_total=sum(sum(r) for r in counts),
    )


def _share(value: int | None, total: int | None) -> float | None:
    if value is None or not total:
        return None
    return 100 * value / total


# --- The chart: a stacked bar per criterion, drawn by templates/reviews/includes/chart.svg ---------

#: (fill, text colour, outline) per rating. Every fill has at least 3:1 against the white page
#: and its label at least 4.5:1 against the fill; segments are parted by a white gap and labelled.
COLOURS: dict[str, tuple[str, str, str]] = {
    Rating.MET: ("#00703c", "#ffffff", "#ffffff"),
    Rating.PARTLY_MET: ("#b35900", "#ffffff", "#ffffff"),
    Rating.NOT_MET: ("#942514", "#ffffff", "#ffffff"),
    Rating.NOT_RECORDED: ("#505a5f", "#ffffff", "#ffffff"),
    Rating.NOT_APPLICABLE: ("#ffffff", "#0b0c0c", "#505a5f"),
}
SUPPRESSED_COLOURS = ("#ffffff", "#0b0c0c", "#0b0c0c")

LABEL_WIDTH = 80  # the criterion code, left of the bars
BAR_X = 90
BAR_WIDTH = 600
ROW_HEIGHT = 30
BAR_HEIGHT = 22
TOP = 30  # room for the scale
LEGEND_HEIGHT = 56
MIN_LABEL_WIDTH = 36  # a segment narrower than this carries no text (the table has it)


@dataclass(frozen=True)
class Segment:
    x: float
    width: float
    fill: str
    text_fill: str
    stroke: str
    label: str  # shown in the segment when it is wide enough
    title: str  # the segment's tooltip
    rating: str
    value: int | None
    dashed: bool = False

    @property
    def text_x(self) -> float:
        return round(self.x + self.width / 2, 1)

    @property
    def show_label(self) -> bool:
        return self.width >= MIN_LABEL_WIDTH


@dataclass(frozen=True)
class Bar:
    code: str
    y: float
    segments: list[Segment]
    note: str  # drawn instead of a bar when nothing can be drawn

    @property
    def text_y(self) -> float:
        return self.y + BAR_HEIGHT / 2 + 5


@dataclass(frozen=True)
class LegendItem:
    x: float
    y: float
    fill: str
    stroke: str
    label: str
    dashed: bool = False

    @property
    def text_x(self) -> float:
        return self.x + 24

    @property
    def text_y(self) -> float:
        return self.y + 13


@dataclass
class Chart:
    id: str
    title: str
    desc: str
    width: int
    height: int
    bars: list[Bar]
    legend: list[LegendItem]
    ticks: list[tuple[float, str]]
    bar_x: int = BAR_X
    bar_height: int = BAR_HEIGHT
    label_x: int = LABEL_WIDTH
    top: int = TOP

    @property
    def grid_top(self) -> int:
        return TOP - 8

    @property
    def grid_bottom(self) -> int:
        return TOP + len(self.bars) * ROW_HEIGHT - (ROW_HEIGHT - BAR_HEIGHT)

    @property
    def note_x(self) -> int:
        return BAR_X + 6


#: Bars per chart: a chart of more rows is drawn as several, each of which fits an A4 page
#: (drawn 657px wide, 30 px rows scale to about 28; 20 rows and the legend take under 700 of
#: the page's 940), so no chart runs off the bottom of a page or into its footer.
ROWS_PER_CHART = 20


def compliance_charts(
    table: ComplianceTable, *, chart_id: str, per_chart: int = ROWS_PER_CHART
) -> list[Chart]:
    """The period's chart, in parts of at most ``per_chart`` bars."""
    rows = table.rows
    if len(rows) <= per_chart:
        return [compliance_chart(table, chart_id=chart_id)]
    parts = [rows[n : n + per_chart] for n in range(0, len(rows), per_chart)]
    return [
        compliance_chart(
            table,
            chart_id=f"{chart_id}-{index}",
            rows=part,
            title_suffix=f" (part {index} of {len(parts)}: {part[0].code} to {part[-1].code})",
        )
        for index, part in enumerate(parts, start=1)
    ]


def compliance_chart(
    table: ComplianceTable, *, chart_id: str, rows: list[Row] | None = None, title_suffix: str = ""
) -> Chart:
    """Each criterion's cases split by rating, as shares of its total, from the table's figures.

    A suppressed value is never drawn: the shown ratings are laid end to end from the left,
    so no segment's position depends on a hidden one, and whatever the hidden ones add up to
    (which the table's row total already gives away) is one dashed box marked [c]. Where the
    row's total is suppressed there are no shares to draw at all.
    """
    rows = table.rows if rows is None else rows
    bars = []
    any_hidden = False
    for index, row in enumerate(rows):
        y = TOP + index * ROW_HEIGHT
        total = row.total.value
        if not total:
            note = "Figures suppressed" if row.total.suppressed else "No cases"
            any_hidden = any_hidden or row.total.suppressed
            bars.append(Bar(row.code, y, [], note))
            continue
        segments, x = [], float(BAR_X)
        hidden = 0
        for cell in row.cells:
            if cell.suppressed:
                hidden += 1
                continue
            if not cell.value:
                continue
            width = BAR_WIDTH * cell.value / total
            fill, text, stroke = COLOURS[cell.rating]
            name = Rating(cell.rating).label
            segments.append(
                Segment(
                    x=round(x, 1),
                    width=round(width, 1),
                    fill=fill,
                    text_fill=text,
                    stroke=stroke,
                    label=f"{cell.percentage:.0f}%",
                    title=f"{row.code} {name.lower()}: {cell.value} of {total} ({cell.percentage:.0f}%)",
                    rating=cell.rating,
                    value=cell.value,
                )
            )
            x += width
        if hidden:
            any_hidden = True
            rest = BAR_X + BAR_WIDTH - x
            fill, text, stroke = SUPPRESSED_COLOURS
            segments.append(
                Segment(
                    x=round(x, 1),
                    width=round(rest, 1),
                    fill=fill,
                    text_fill=text,
                    stroke=stroke,
                    label="[c]",
                    title=f"{row.code}: suppressed figures, not drawn",
                    rating="",
                    value=None,
                    dashed=True,
                )
            )
        bars.append(Bar(row.code, y, segments, ""))
    legend_y = TOP + len(rows) * ROW_HEIGHT + 12
    legend = []
    for index, (rating, label) in enumerate(RATINGS):
        fill, _, stroke = COLOURS[rating]
        legend.append(
            LegendItem(BAR_X + (index % 3) * 200, legend_y + (index // 3) * 22, fill, stroke, label)
        )
    if any_hidden:
        fill, _, stroke = SUPPRESSED_COLOURS
        legend.append(LegendItem(BAR_X + 400, legend_y + 22, fill, stroke, "[c] suppressed", dashed=True))
    desc = (
        f"A bar for each of {len(rows)} {'guidance documents' if table.by_document else 'criteria'}, "
        "split into the shares of cases rated met, "
        "partly met, not met, not recorded and not applicable. The table gives every figure."
    )
    if any_hidden:
        desc += (
            " Figures for fewer than a handful of cases, and figures that would let a total reveal "
            "them, are suppressed: they are not drawn, and a dashed box marked [c] stands for them."
        )
    return Chart(
        id=chart_id,
        title=f"Compliance by {'guidance document' if table.by_document else 'criterion'}, "
        f"{table.period}{title_suffix}",
        desc=desc,
        width=BAR_X + BAR_WIDTH + 24,  # room for the "100%" above the bar's end
        height=legend_y + LEGEND_HEIGHT,
        bars=bars,
        legend=legend,
        ticks=[(BAR_X + BAR_WIDTH * p / 100, f"{p}%") for p in (0, 25, 50, 75, 100)],
    )


# --- The screening funnel, for publication --------------------------------------------------------


@dataclass
class FunnelTable:
    """Referrals received, by why each was left out or that it was included.

    Columns: left out by the review's rules, then screened by a reviewer. The screened
    column's total is the number of candidates; the grand total the number received.
    """

    rows: list[tuple[str, list[Cell], Cell]]
    totals: list[Cell]
    grand_total: Cell

    @property
    def hides_any(self) -> bool:
        cells = [c for _, cs, t in self.rows for c in (*cs, t)] + [*self.totals, self.grand_total]
        return any(c.suppressed for c in cells)


def funnel_rows(funnel: Funnel) -> tuple[list[str], list[list[int]]]:
    """The funnel's row labels and counts (left out by the rules, screened by a reviewer)."""
    reasons = list(dict.fromkeys([*funnel.excluded_by_rules, *funnel.excluded_at_screening]))
    labels = [f"Excluded: {reason[0].lower()}{reason[1:]}" for reason in reasons]
    counts = [[funnel.excluded_by_rules.get(r, 0), funnel.excluded_at_screening.get(r, 0)] for r in reasons]
    labels.append(INCLUDED)
    counts.append([0, funnel.included])
    if funnel.pending:
        labels.append(PENDING)
        counts.append([0, funnel.pending])
    return labels, counts


INCLUDED = "Included in the review"
PENDING = "Not yet screened"


def funnel_table(
    funnel: Funnel, *, threshold: int, grid: list[list[int | None]] | None = None
) -> FunnelTable:
    """The funnel as published: ``grid`` from the output's disclosure policy, or (on its own)
    through the same policy."""
    labels, counts = funnel_rows(funnel)
    table = from_grid(grid) if grid is not None else suppress(counts, threshold=threshold)
    return FunnelTable(
        rows=[
            (label, [Cell(v) for v in table.cells[i]], Cell(table.row_totals[i]))
            for i, label in enumerate(labels)
        ],
        totals=[Cell(v) for v in table.column_totals],
        grand_total=Cell(table.grand_total),
    )


def review_report_context(*, review) -> dict:
    """Everything the review report (cabinet Appendix 1) shows, its figures as the review's
    publication (reviews.disclosure) gives them, whoever is looking: the report page and the
    cabinet report's generated appendix both use it."""
    from reviews import disclosure, selectors

    publication = disclosure.review_publication(review=review)
    return {
        "review": review,
        "periods": list(review.periods.all()),
        "funnel": publication.funnel,
        "guidance": selectors.review_guidance(review=review),
        "tables": publication.tables,
        "has_findings": publication.has_findings,
        "kappa": selectors.moderation_agreement(review=review).kappa,
        "themes": list(review.themes.all()),
        "recommendations": list(review.recommendations.all()),
        "threshold": publication.threshold,
        "ratings": RATINGS,
    }
