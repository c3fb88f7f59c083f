"""Figures for case-review findings: agreement between reviewers and disclosure control.

Pure functions, no database: the findings pages and the cabinet appendices call them with
counts they have already made.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

from core import disclosure

DEFAULT_THRESHOLD = 5


def cohens_kappa(first: Sequence[Hashable], second: Sequence[Hashable]) -> float | None:
    """Cohen's kappa for two reviewers' ratings of the same items.

    kappa = (p_o - p_e) / (1 - p_e), where p_o is the share of items rated alike and p_e the
    share expected alike by chance from each reviewer's own spread of ratings. Returns None
    when it is undefined: no items, or both reviewers used one and the same rating for
    every item (p_e = 1).
    """
    if len(first) != len(second):
        raise ValueError("both reviewers must rate the same items")
    n = len(first)
    if n == 0:
        return None
    observed = sum(a == b for a, b in zip(first, second, strict=True)) / n
    counts_first, counts_second = Counter(first), Counter(second)
    expected = sum(counts_first[c] * counts_second[c] for c in counts_first) / (n * n)
    if expected == 1:
        return None
    return (observed - expected) / (1 - expected)


#: Landis and Koch (1977), "The measurement of observer agreement for categorical data": the
#: usual reading of a kappa's size, as (upper bound, reading).
LANDIS_KOCH = (
    (-1.0, "poor (less than chance)"),
    (0.20, "slight"),
    (0.40, "fair"),
    (0.60, "moderate"),
    (0.80, "substantial"),
    (1.0, "almost perfect"),
)

#: The normal quantile for a two-sided 95% interval.
Z_95 = 1.959964


def kappa_reading(kappa: float) -> str:
    """Landis and Koch's word for a kappa: below 0 poor, to 0.20 slight, 0.21 to 0.40 fair,
    0.41 to 0.60 moderate, 0.61 to 0.80 substantial, 0.81 to 1 almost perfect."""
    rounded = round(kappa, 2)  # the reading of the figure the page prints
    if rounded < 0:
        return LANDIS_KOCH[0][1]
    return next(reading for top, reading in LANDIS_KOCH[1:] if rounded <= top)


@dataclass(frozen=True)
class KappaEstimate:
    """Cohen's kappa with its number of paired ratings and a 95% confidence interval.

    The interval is kappa +/- 1.96 x the large-sample standard error of Cohen (1960),
    SE = sqrt(p_o (1 - p_o) / (n (1 - p_e)^2)), clipped to [-1, 1]. It is an approximation
    that needs a fair number of pairs: with few, read the interval as wide, not exact.
    """

    kappa: float | None
    pairs: int
    low: float | None = None
    high: float | None = None
    standard_error: float | None = None

    @property
    def reading(self) -> str:
        return "" if self.kappa is None else kappa_reading(self.kappa)


def kappa_estimate(first: Sequence[Hashable], second: Sequence[Hashable]) -> KappaEstimate:
    """Cohen's kappa (``cohens_kappa``) with the number of pairs and its 95% interval."""
    kappa = cohens_kappa(first, second)
    n = len(first)
    if kappa is None:
        return KappaEstimate(kappa=None, pairs=n)
    observed = sum(a == b for a, b in zip(first, second, strict=True)) / n
    counts_first, counts_second = Counter(first), Counter(second)
    expected = sum(counts_first[c] * counts_second[c] for c in counts_first) / (n * n)
    se = math.sqrt(observed * (1 - observed) / (n * (1 - expected) ** 2))
    return KappaEstimate(
        kappa=kappa,
        pairs=n,
        low=max(-1.0, kappa - Z_95 * se),
        high=min(1.0, kappa + Z_95 * se),
        standard_error=se,
    )


@dataclass
class SuppressedTable:
    """A table of counts made safe to publish.

    ``cells[r][c]`` is the count or None where suppressed; row and column totals likewise.
    ``primary`` and ``secondary`` hold the (row, column) positions suppressed and why.
    """

    cells: list[list[int | None]]
    row_totals: list[int | None]
    column_totals: list[int | None]
    grand_total: int | None
    primary: set[tuple[int, int]] = field(default_factory=set)
    secondary: set[tuple[int, int]] = field(default_factory=set)

    def percentage(self, row: int, column: int) -> float | None:
        """A cell as a percentage of its row total; None where either is suppressed."""
        value, total = self.cells[row][column], self.row_totals[row]
        if value is None or not total:
            return None
        return 100 * value / total


def suppress(counts: Sequence[Sequence[int]], *, threshold: int = DEFAULT_THRESHOLD) -> SuppressedTable:
    """One table of counts, with its margins, through the disclosure policy (core.disclosure).

    Primary: any entry from 1 to ``threshold`` is suppressed (0 is not: a true zero discloses
    nothing about an individual). Secondary: more goes with them until no suppressed entry can
    be worked out from the shown entries and totals. A table that is published beside others
    goes through ``core.disclosure.protect`` with them instead, so the whole output is checked.
    """
    rows = [list(r) for r in counts]
    if not rows:
        return SuppressedTable([], [], [], 0)
    width = len(rows[0])
    if any(len(r) != width for r in rows):
        raise ValueError("every row needs the same number of columns")
    table = disclosure.Table(
        key="table",
        title="",
        rows=[str(i) for i in range(len(rows))],
        columns=[str(j) for j in range(width)],
        counts=rows,
    )
    result = disclosure.protect([table], threshold=threshold)
    return from_grid(result.grid("table"), result=result, table=table)


def from_grid(grid, *, result=None, table=None) -> SuppressedTable:
    """A published grid (with margins, None where suppressed) as a SuppressedTable."""
    height, width = len(grid) - 1, len(grid[0]) - 1
    primary, secondary = set(), set()
    if result is not None:
        for i in range(height):
            for j in range(width):
                key = table.key_at(i, j)
                if key in result.primary:
                    primary.add((i, j))
                elif result.is_hidden(key):
                    secondary.add((i, j))
    return SuppressedTable(
        cells=[row[:width] for row in grid[:height]],
        row_totals=[row[width] for row in grid[:height]],
        column_totals=grid[height][:width],
        grand_total=grid[height][width],
        primary=primary,
        secondary=secondary,
    )
