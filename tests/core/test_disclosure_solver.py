"""The disclosure policy's bounds (core.disclosure._extremes: one HiGHS model per group of
unknowns, re-solved from its last basis for each bound) agree with a fresh
``scipy.optimize.linprog`` per bound, the way the policy used to solve them, on random tables
with margins; an inconsistent table is refused and an unbounded figure is "any number"."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.optimize import linprog

from core.disclosure import Link, Table, _extremes, protect


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


@st.composite
def linked_systems(draw):
    """Sums over unknown counts with coefficients 1 and 2 (as links between tables have), the
    totals made from a non-negative solution so the figures add up."""
    columns = draw(st.integers(2, 10))
    solution = [draw(st.sampled_from([0, 1, 2, 5, 30, 1_000_000])) for _ in range(columns)]
    rows = draw(
        st.lists(
            st.lists(st.sampled_from([0, 0, 1, 1, 2, -1]), min_size=columns, max_size=columns),
            min_size=1,
            max_size=8,
        )
    )
    a = np.array(rows, dtype=float)
    return a, a @ np.array(solution, dtype=float)


@given(linked_systems())
def test_linked_sums_give_the_bounds_a_fresh_linear_programme_finds(system):
    a, b = system
    found = _extremes(a, b, list(range(a.shape[1])))
    for column, (low, high) in enumerate(found):
        want_low, want_high = _scipy(a, b, column)
        assert low == pytest.approx(want_low, abs=1e-6, rel=1e-9), (a.tolist(), b.tolist(), column)
        assert high == pytest.approx(want_high, abs=1e-6, rel=1e-9), (a.tolist(), b.tolist(), column)


def test_a_bound_after_an_unbounded_solve_is_still_found():
    """Found by the attack on the warm-started solver: after a maximum came back unbounded, a
    later maximum in the same model came back "Unknown" (and the render failed), where a fresh
    solve gives (30, any number). Integer keys, so the order of the solves does not depend on
    PYTHONHASHSEED."""
    values = {0: 1, 1: 1, 2: 30, 3: 1, 100: 33, 101: 32, 102: 32}
    tables = [
        Table(
            key=f"k{k}",
            title=f"k{k}",
            rows=["n"],
            columns=["n"],
            counts=[[v]],
            keys={(0, 0): k},
            margins=False,
        )
        for k, v in values.items()
    ]
    links = [
        Link(100, ((1, 1), (2, 1), (0, 1), (3, 1))),  # 33 = 1 + 30 + 1 + 1
        Link(101, ((0, 1), (3, 1), (2, 1))),  # 32 = 1 + 1 + 30
        Link(102, ((1, 1), (3, 1), (2, 1))),  # 32 = 1 + 1 + 30
    ]

    result = protect(tables, links=links, threshold=4)

    assert result.hidden == {0, 1, 3, 100, 101}
    assert result.bounds == {
        0: (0.0, math.inf),
        1: (0.0, 2.0),
        3: (0.0, 2.0),
        100: (32.0, math.inf),
        101: (30.0, math.inf),
    }
    assert result.problems == []


def test_figures_that_add_up_are_never_called_inconsistent_by_a_warm_start():
    """Found by the property test above: solved one after another in one model, a bound of
    this system came back "infeasible" (a fresh solve of each is fine)."""
    a = np.array(
        [
            [0, 0, 1, 1, 1, 1, 1, 2, -1, -1],
            [0, 0, 1, -1, 0, -1, -1, -1, -1, -1],
            [0, -1, 2, -1, 2, 1, 1, 0, 1, 1],
            [1, 2, 1, -1, 0, 0, 2, 2, 2, -1],
            [-1, 1, 0, 1, -1, 0, 1, 1, 1, 1],
            [-1, 1, 0, 1, -1, 0, 1, 1, 1, 1],
            [-1, -1, 0, 1, -1, 0, 0, 2, 1, 0],
            [-1, -1, 0, 1, -1, 0, 1, 2, 1, 1],
        ],
        dtype=float,
    )
    b = np.array([-1999999, -2000001, 2000001, 2000002, 1000001, 1000001, 0, 1000001], dtype=float)
    found = _extremes(a, b, list(range(10)))
    for column, (low, high) in enumerate(found):
        want_low, want_high = _scipy(a, b, column)
        assert low == pytest.approx(want_low, abs=1e-6, rel=1e-9), column
        assert high == pytest.approx(want_high, abs=1e-6, rel=1e-9), column
