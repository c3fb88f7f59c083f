"""Figures for case-review findings: agreement between reviewers and disclosure control.

Pure functions, no database: the findings pages and the cabinet appendices call them with
counts they have already made.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

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
    """Primary and secondary small-number suppression of a table of counts and its totals.

    The table is taken with its margins (row totals, column totals, grand total), so every
    row and column, margins included, is a line whose entries add up. Primary: any entry
    from 1 to ``threshold`` is suppressed (0 is not: a true zero discloses nothing about an
    individual). Secondary: no line may have exactly one suppressed entry, or subtraction
    would give it away; the smallest remaining non-zero entry of such a line is suppressed
    (a cell before a total, a zero only when nothing else is left) until none has.
    """
    rows = [list(r) for r in counts]
    if not rows:
        return SuppressedTable([], [], [], 0)
    height, width = len(rows), len(rows[0])
    if any(len(r) != width for r in rows):
        raise ValueError("every row needs the same number of columns")
    if any(v < 0 for r in rows for v in r):
        raise ValueError("counts cannot be negative")

    # The augmented table: row `height` holds column totals, column `width` row totals.
    grid = [[*r, sum(r)] for r in rows]
    grid.append([sum(r[j] for r in rows) for j in range(width)] + [sum(sum(r) for r in rows)])
    positions = [(i, j) for i in range(height + 1) for j in range(width + 1)]
    primary_all = {p for p in positions if 1 <= grid[p[0]][p[1]] <= threshold}
    hidden = set(primary_all)
    lines = [[(i, j) for j in range(width + 1)] for i in range(height + 1)]
    lines += [[(i, j) for i in range(height + 1)] for j in range(width + 1)]

    def preference(p):
        is_total = p[0] == height or p[1] == width
        value = grid[p[0]][p[1]]
        return (value == 0, is_total, value, p)

    changed = True
    while changed:
        changed = False
        for line in lines:
            if sum(p in hidden for p in line) != 1:
                continue
            candidates = [p for p in line if p not in hidden]
            if candidates:
                hidden.add(min(candidates, key=preference))
                changed = True

    def shown(i, j):
        return None if (i, j) in hidden else grid[i][j]

    interior = {(i, j) for i in range(height) for j in range(width)}
    return SuppressedTable(
        cells=[[shown(i, j) for j in range(width)] for i in range(height)],
        row_totals=[shown(i, width) for i in range(height)],
        column_totals=[shown(height, j) for j in range(width)],
        grand_total=shown(height, width),
        primary=primary_all & interior,
        secondary=(hidden - primary_all) & interior,
    )
