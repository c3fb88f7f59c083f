"""The disclosure policy's bounds (core.disclosure._extremes: one HiGHS model per group of
unknowns, re-solved from its last basis for each bound) agree with a fresh
``scipy.optimize.linprog`` per bound, the way the policy used to solve them, on random tables
with margins; an inconsistent table is refused and an unbounded figure is "any number"."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.optimize import linprog

from core.disclosure import _extremes


def _table_problem(cells: list[list[int]], unknown: list[tuple[int, int]]):
    """Row and column sums of ``cells`` (with their totals shown), as a x = b over the
    unknown cells."""
    height, width = len(cells), len(cells[0])
    index = {cell: n for n, cell in enumerate(unknown)}
    rows, rhs = [], []
    lines = [[(i, j) for j in range(width)] for i in range(height)]
    lines += [[(i, j) for i in range(height)] for j in range(width)]
    for line in lines:
        row = np.zeros(len(unknown))
        total = float(sum(cells[i][j] for i, j in line))
        for cell in line:
            if cell in index:
                row[index[cell]] = 1
            else:
                total -= cells[cell[0]][cell[1]]
        rows.append(row)
        rhs.append(total)
    return np.array(rows), np.array(rhs)


def _scipy(a, b, column):
    c = np.zeros(a.shape[1])
    c[column] = 1
    low = linprog(c, A_eq=a, b_eq=b, bounds=(0, None), method="highs")
    high = linprog(-c, A_eq=a, b_eq=b, bounds=(0, None), method="highs")
    assert low.status == 0
    return low.fun, (-high.fun if high.status == 0 else float("inf"))


@st.composite
def tables(draw):
    height = draw(st.integers(2, 6))
    width = draw(st.integers(2, 6))
    cells = [[draw(st.integers(0, 15)) for _ in range(width)] for _ in range(height)]
    positions = [(i, j) for i in range(height) for j in range(width)]
    unknown = draw(st.lists(st.sampled_from(positions), min_size=1, max_size=len(positions), unique=True))
    return cells, unknown


@given(tables())
def test_each_bound_is_the_one_a_fresh_linear_programme_finds(table):
    cells, unknown = table
    a, b = _table_problem(cells, unknown)
    found = _extremes(a, b, list(range(len(unknown))))
    for column, (low, high) in enumerate(found):
        want_low, want_high = _scipy(a, b, column)
        assert low == pytest.approx(want_low, abs=1e-6), (cells, unknown, column)
        assert high == pytest.approx(want_high, abs=1e-6), (cells, unknown, column)


def test_figures_that_do_not_add_up_are_refused():
    a = np.array([[1.0, 1.0]])
    with pytest.raises(ValueError, match="do not add up"):
        _extremes(a, np.array([-3.0]), [0, 1])


def test_a_figure_on_no_finite_sum_can_be_any_number():
    # x0 - x1 = 2: x0 is at least 2 and has no upper bound.
    a = np.array([[1.0, -1.0]])
    assert _extremes(a, np.array([2.0]), [0, 1]) == [(2.0, float("inf")), (0.0, float("inf"))]
