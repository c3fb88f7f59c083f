"""Figures for case-review findings: agreement between reviewers and disclosure control.

Pure functions, no database: the findings pages and the cabinet appendices call them with
counts they have already made.
"""

from __future__ import annotations

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
