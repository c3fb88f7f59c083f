"""The disclosure policy: what an output that leaves the team may show of its counts.

One module, one small API, for every table of figures that is published (a cabinet pack, a
public page, a CSV for publication):

    result = protect(tables, links=links, threshold=5)
    result.grid("funnel")        # the table as shown: a count, or None where suppressed
    result.figures               # every published figure, shown or suppressed, and why
    result.problems              # suppressed figures a reader could still work out (none)
    listing_publishable(rows, threshold=5)  # may a case-by-case list be published at all?

The whole output goes through at once, because a reader has the whole output. A figure is a
*quantity* with a key: where two tables show the same quantity (the cases included in the
review, say, in the screening funnel and again in the case details) they give it the same key,
so it is shown in both or suppressed in both, never one and the other. ``Link``s say how
quantities of different tables add up (a period's cases are the sum of its judgements); a key
that only a link names is never published, and counts as unknown to the reader.

Primary suppression: any count from 1 to ``threshold`` (REFERENCE.md section 7; 0 discloses
nothing about anyone). Secondary suppression, until no suppressed count can be worked out:
first the cheap rule (no row, column or link may have exactly one unknown, or subtraction
gives it away), then a check with linear programming over every table and link of the
output together: each suppressed count is minimised and maximised subject to every shown
count and every sum (HiGHS, through highspy), and it is protected only if a reader is left with an
interval at least ``min_width`` wide. Where one is not, another count on one of its sums is
suppressed (one on the fewest sums, a cell before a total, the smallest, a zero last) and the
check runs again.

Only this module imports highspy (ruff TID251 bans it elsewhere): there is no second way to
decide what is safe to publish. Each connected group of unknowns is one model, loaded once;
its suppressed counts are then minimised and maximised in turn by changing only the
objective, so each solve starts from the last one's basis (a few pivots) instead of building
and solving a new model from nothing: about a tenth of the time of one ``scipy.optimize.linprog``
call per bound, which review reports and packs pay on every render. The tests check the
policy's output with scipy's ``linprog`` as an independent reader would.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field

import highspy
import numpy as np

Key = Hashable

#: Why a figure is shown or not (the disclosure check page prints these).
SHOWN = "Shown"
ZERO = "Shown: a true zero discloses nothing about anyone"
PRIMARY = "Suppressed: a count from 1 to {threshold}"
SECONDARY = "Suppressed: with it shown, a suppressed count could be worked out from the totals"
UNPROTECTED = "Suppressed, but a reader can still narrow it to {low} to {high}"

#: A suppressed count must leave a reader with at least this wide an interval (max - min):
#: with 2, it could be any of at least three values, so neither pinned nor narrowed to a pair.
DEFAULT_MIN_WIDTH = 2
_EPSILON = 1e-6


@dataclass
class Table:
    """A table of counts with its margins (row totals, column totals and grand total).

    Positions are in the table *with* its margins: ``(i, j)`` with ``i == len(rows)`` for the
    column totals and ``j == len(columns)`` for the row totals. ``keys`` names the quantity at
    a position where it is shared with another table or a link; every other position is its
    own quantity. ``margins=False``: the rows need not add up (a case counted under each of
    its forms of abuse), so no total is published and none constrains a cell.
    """

    key: str
    title: str
    rows: list[str]
    columns: list[str]
    counts: list[list[int]]
    keys: dict[tuple[int, int], Key] = field(default_factory=dict)
    margins: bool = True

    def __post_init__(self):
        if any(len(r) != len(self.columns) for r in self.counts) or len(self.counts) != len(self.rows):
            raise ValueError(f"{self.key}: the counts do not match the rows and columns")
        if any(v < 0 for r in self.counts for v in r):
            raise ValueError(f"{self.key}: counts cannot be negative")

    @property
    def height(self) -> int:
        return len(self.rows)

    @property
    def width(self) -> int:
        return len(self.columns)

    def positions(self) -> list[tuple[int, int]]:
        h, w = (self.height, self.width) if self.margins else (self.height - 1, self.width - 1)
        return [(i, j) for i in range(h + 1) for j in range(w + 1)]

    def value(self, i: int, j: int) -> int:
        h, w = self.height, self.width
        if i < h and j < w:
            return self.counts[i][j]
        if i < h:
            return sum(self.counts[i])
        if j < w:
            return sum(r[j] for r in self.counts)
        return sum(sum(r) for r in self.counts)

    def key_at(self, i: int, j: int) -> Key:
        return self.keys.get((i, j), (self.key, i, j))

    def is_total(self, i: int, j: int) -> bool:
        return i == self.height or j == self.width

    def label(self, i: int, j: int) -> tuple[str, str]:
        row = self.rows[i] if i < self.height else "Total"
        column = self.columns[j] if j < self.width else "Total"
        return row, column

    def lines(self) -> list[list[tuple[Key, int]]]:
        """Each row and column, margins included, as an equation: cells - total = 0."""
        if not self.margins:
            return []
        h, w = self.height, self.width
        found = []
        for i in range(h + 1):
            found.append([(self.key_at(i, j), 1) for j in range(w)] + [(self.key_at(i, w), -1)])
        for j in range(w + 1):
            found.append([(self.key_at(i, j), 1) for i in range(h)] + [(self.key_at(h, j), -1)])
        return found


@dataclass(frozen=True)
class Link:
    """``total`` equals the sum of ``parts`` (each (key, coefficient)), across tables."""

    total: Key
    parts: tuple[tuple[Key, int], ...]

    def equation(self) -> list[tuple[Key, int]]:
        return [*self.parts, (self.total, -1)]


@dataclass(frozen=True)
class Figure:
    """One published figure: where it is, what is shown and why."""

    table: str
    row: str
    column: str
    shown: int | None
    reason: str
    low: float | None = None  # for a suppressed figure: what a reader can narrow it to
    high: float | None = None
    is_total: bool = False


@dataclass
class Disclosure:
    tables: dict[str, Table]
    values: dict[Key, int]
    hidden: set[Key]
    primary: set[Key]
    bounds: dict[Key, tuple[float, float]]
    threshold: int
    min_width: int
    links: list[Link] = field(default_factory=list)

    def grid(self, table_key: str) -> list[list[int | None]]:
        """The table with its margins as published: a count, or None where suppressed."""
        table = self.tables[table_key]
        published = set(table.positions())  # a table without margins publishes no totals
        return [
            [
                None if (i, j) not in published or table.key_at(i, j) in self.hidden else table.value(i, j)
                for j in range(table.width + 1)
            ]
            for i in range(table.height + 1)
        ]

    def is_hidden(self, key: Key) -> bool:
        return key in self.hidden

    def reason(self, key: Key) -> str:
        if key in self.hidden:
            low, high = self.bounds.get(key, (0, float("inf")))
            if high - low < self.min_width - _EPSILON:
                return UNPROTECTED.format(low=_num(low), high=_num(high))
            return PRIMARY.format(threshold=self.threshold) if key in self.primary else SECONDARY
        return ZERO if self.values[key] == 0 else SHOWN

    @property
    def figures(self) -> list[Figure]:
        found = []
        for table in self.tables.values():
            for i, j in table.positions():
                key = table.key_at(i, j)
                low, high = self.bounds.get(key, (None, None)) if key in self.hidden else (None, None)
                found.append(
                    Figure(
                        table=table.title,
                        row=table.label(i, j)[0],
                        column=table.label(i, j)[1],
                        shown=None if key in self.hidden else self.values[key],
                        reason=self.reason(key),
                        low=low,
                        high=None if high is None or high == float("inf") else high,
                        is_total=table.is_total(i, j),
                    )
                )
        return found

    @property
    def problems(self) -> list[Key]:
        """Suppressed figures a reader could narrow to less than ``min_width``: none, normally."""
        return sorted(
            (k for k, (low, high) in self.bounds.items() if high - low < self.min_width - _EPSILON),
            key=repr,
        )

    @property
    def counts(self) -> Counter:
        """How many published figures are shown and suppressed (each place counted)."""
        return Counter("suppressed" if f.shown is None else "shown" for f in self.figures)


def _num(value: float) -> str:
    return "any number" if value == float("inf") else f"{value:.0f}"


def protect(
    tables: Sequence[Table],
    *,
    links: Iterable[Link] = (),
    threshold: int,
    min_width: int = DEFAULT_MIN_WIDTH,
) -> Disclosure:
    """Decide, for the whole output at once, which counts are shown and which suppressed."""
    links = list(links)
    values: dict[Key, int] = {}
    published: set[Key] = set()
    is_total: dict[Key, bool] = {}
    by_key = {}
    for table in tables:
        if table.key in by_key:
            raise ValueError(f"two tables are called {table.key}")
        by_key[table.key] = table
        for i, j in table.positions():
            key, value = table.key_at(i, j), table.value(i, j)
            if values.setdefault(key, value) != value:
                raise ValueError(f"{key!r} is given as {values[key]} and as {value}")
            published.add(key)
            is_total[key] = is_total.get(key, True) and table.is_total(i, j)
    equations = [line for table in tables for line in table.lines()]
    equations += [link.equation() for link in links]
    unpublished = {k for eq in equations for k, _ in eq} - published

    hidden = {k for k in published if 1 <= values[k] <= threshold}
    primary = set(hidden)

    containing: dict[Key, list[int]] = defaultdict(list)
    for index, equation in enumerate(equations):
        for k, _ in equation:
            containing[k].append(index)

    def preference(key):
        """Which shown figure to hide next: not a zero if anything else will do; then one on
        the fewest sums (hiding a figure shared by many tables takes more with it); a cell
        before a total; the smallest."""
        value = values[key]
        return (value == 0, len(containing[key]), is_total[key], value, repr(key))

    def candidates(equation):
        return [k for k, _ in equation if k in published and k not in hidden]

    while True:
        _line_rule(equations, hidden, unpublished, candidates, preference)
        bounds = _bounds(equations, values, hidden, unpublished)
        weak = [k for k, (low, high) in bounds.items() if high - low < min_width - _EPSILON]
        if not weak:
            break
        added = False
        for key in sorted(weak, key=repr):
            options = [c for index in containing[key] for c in candidates(equations[index])]
            if options:
                hidden.add(min(options, key=preference))
                added = True
                break
        if not added:  # nothing left on any of their sums to hide: say so on the check page
            break
    return Disclosure(by_key, values, hidden, primary, bounds, threshold, min_width, links)


def _line_rule(equations, hidden, unpublished, candidates, preference) -> None:
    """No sum may have exactly one unknown that is a suppressed figure."""
    changed = True
    while changed:
        changed = False
        for equation in equations:
            unknown = [k for k, _ in equation if k in hidden or k in unpublished]
            if len(unknown) == 1 and unknown[0] in hidden:
                options = candidates(equation)
                if options:
                    hidden.add(min(options, key=preference))
                    changed = True


def _bounds(equations, values, hidden, unpublished) -> dict[Key, tuple[float, float]]:
    """For each suppressed figure, the least and greatest value consistent with everything shown
    (non-negative unknowns; every sum holds). Solved per connected group of unknowns."""
    unknown = hidden | unpublished
    parent: dict[Key, Key] = {k: k for k in unknown}

    def find(k):
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for equation in equations:
        ks = [k for k, _ in equation if k in unknown]
        for other in ks[1:]:
            parent[find(other)] = find(ks[0])
    groups: dict[Key, list[Key]] = defaultdict(list)
    for k in unknown:
        groups[find(k)].append(k)
    group_equations: dict[Key, list] = defaultdict(list)
    for equation in equations:
        ks = [k for k, _ in equation if k in unknown]
        if ks:
            group_equations[find(ks[0])].append(equation)

    bounds: dict[Key, tuple[float, float]] = {}
    for root, members in groups.items():
        targets = [k for k in members if k in hidden]
        if not targets:
            continue
        members.sort(key=repr)
        index = {k: n for n, k in enumerate(members)}
        rows = group_equations[root]
        if not rows:
            for k in targets:
                bounds[k] = (0.0, float("inf"))
            continue
        a = np.zeros((len(rows), len(members)))
        b = np.zeros(len(rows))
        for r, equation in enumerate(rows):
            for k, coefficient in equation:
                if k in index:
                    a[r, index[k]] += coefficient
                else:
                    b[r] -= coefficient * values[k]
        extremes = _extremes(a, b, [index[k] for k in targets])
        for k, (low, high) in zip(targets, extremes, strict=True):
            bounds[k] = (max(0.0, low), high)
    return bounds


_OPTIMAL, _INFEASIBLE = highspy.HighsModelStatus.kOptimal, highspy.HighsModelStatus.kInfeasible
_UNBOUNDED = (highspy.HighsModelStatus.kUnbounded, highspy.HighsModelStatus.kUnboundedOrInfeasible)


def _extremes(a: np.ndarray, b: np.ndarray, columns: list[int]) -> list[tuple[float, float]]:
    """The least and greatest value of each of ``columns`` over {x >= 0 : a x = b}.

    One HiGHS model; between solves only the objective changes, so each starts from the last
    basis (still feasible). ``highspy._Highs`` is the binding itself: the ``Highs`` wrapper
    prints a banner to the process's standard output as it is made, before any option can
    turn output off (ERGO-Code/HiGHS#1932), and every line the product writes is JSON.
    """
    highs = highspy._Highs()
    highs.setOptionValue("output_flag", False)
    rows, cols = a.shape
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = cols, rows
    lp.col_cost_ = np.zeros(cols)
    lp.col_lower_ = np.zeros(cols)
    lp.col_upper_ = np.full(cols, highspy.kHighsInf)
    lp.row_lower_ = lp.row_upper_ = b
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    starts, indices, coefficients = [0], [], []
    for column in range(cols):
        (nonzero,) = np.nonzero(a[:, column])
        indices += nonzero.tolist()
        coefficients += a[nonzero, column].tolist()
        starts.append(len(indices))
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = starts, indices, coefficients
    highs.passModel(lp)
    found, previous = [], None
    for column in columns:
        if previous is not None:
            highs.changeColCost(previous, 0.0)
        highs.changeColCost(column, 1.0)
        previous = column
        highs.changeObjectiveSense(highspy.ObjSense.kMinimize)
        low = _solve(highs, unbounded=0.0)
        highs.changeObjectiveSense(highspy.ObjSense.kMaximize)
        high = _solve(highs, unbounded=float("inf"))
        found.append((low, high))
    return found


def _solve(highs, *, unbounded: float) -> float:
    """Solve from the last basis; trust that only if it ends optimal. Any other ending is
    decided by a solve from nothing, as a fresh model would be: warm starts on degenerate
    sums were found to end "Unknown" after an unbounded solve, and "infeasible" on figures
    that add up (tests/core/test_disclosure_solver.py)."""
    highs.run()
    status = highs.getModelStatus()
    if status != _OPTIMAL:
        highs.clearSolver()
        highs.run()
        status = highs.getModelStatus()
    if status == _OPTIMAL:
        return highs.getInfo().objective_function_value
    if status == _INFEASIBLE:
        raise ValueError("the published figures do not add up")
    if status in _UNBOUNDED:
        return unbounded
    raise RuntimeError(f"HiGHS could not bound a suppressed figure: {highs.modelStatusToString(status)}")


def listing_publishable(records: Sequence[tuple], *, threshold: int) -> bool:
    """Whether a case-by-case list may be published: only if every combination of what it
    shows of a case is shared by more than ``threshold`` cases (otherwise a row is a small
    count of one, and a reader who knows one fact about a child finds the rest)."""
    return all(n > threshold for n in Counter(records).values())
