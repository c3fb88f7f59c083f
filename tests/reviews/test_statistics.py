import itertools

import pytest

from reviews.statistics import cohens_kappa, kappa_estimate, kappa_reading, suppress


def test_kappa_hand_worked_example():
    # 50 cases: both "met" 20, first "met" second "not met" 5, the reverse 10, both "not met" 15.
    # p_o = 35/50 = 0.7; first: met 25/50, second: met 30/50; p_e = .5*.6 + .5*.4 = 0.5
    # kappa = (0.7 - 0.5) / (1 - 0.5) = 0.4
    first = ["met"] * 25 + ["not met"] * 25
    second = ["met"] * 20 + ["not met"] * 5 + ["met"] * 10 + ["not met"] * 15
    assert cohens_kappa(first, second) == pytest.approx(0.4)


def test_kappa_three_categories_hand_worked():
    # Rows: first reviewer; columns: second. met/partly/not met.
    table = {
        ("m", "m"): 10,
        ("m", "p"): 2,
        ("m", "n"): 0,
        ("p", "m"): 1,
        ("p", "p"): 5,
        ("p", "n"): 2,
        ("n", "m"): 0,
        ("n", "p"): 1,
        ("n", "n"): 9,
    }
    first, second = [], []
    for (a, b), k in table.items():
        first += [a] * k
        second += [b] * k
    # n = 30, p_o = 24/30 = 0.8; first m12 p8 n10, second m11 p8 n11
    # p_e = (12*11 + 8*8 + 10*11) / 900 = 306/900 = 0.34; kappa = 0.46/0.66
    assert cohens_kappa(first, second) == pytest.approx(0.46 / 0.66)


def test_kappa_edges():
    assert cohens_kappa([], []) is None
    assert cohens_kappa(["met"] * 4, ["met"] * 4) is None  # no variation: undefined
    assert cohens_kappa(["a", "b", "a", "b"], ["a", "b", "a", "b"]) == pytest.approx(1.0)
    assert cohens_kappa(["a", "b", "a", "b"], ["b", "a", "b", "a"]) == pytest.approx(-1.0)
    with pytest.raises(ValueError, match="same items"):
        cohens_kappa(["a"], ["a", "b"])


def test_primary_suppression_of_one_to_five_not_zero():
    table = suppress([[0, 3, 12], [20, 30, 40]])
    assert (0, 1) in table.primary
    assert table.cells[0][0] is not None or (0, 0) in table.secondary


def test_secondary_suppression_protects_row_and_column_totals():
    table = suppress([[3, 10, 12], [20, 30, 40], [15, 25, 35]])
    assert table.primary == {(0, 0)}
    # Row 0 and column 0 each need a second hidden cell: the smallest non-zero ones.
    assert (0, 1) in table.secondary
    assert any(p[1] == 0 and p != (0, 0) for p in table.secondary)
    assert_no_cell_recoverable(table)


def test_a_small_total_is_itself_suppressed():
    table = suppress([[2, 1], [30, 40]])
    assert table.row_totals[0] is None
    assert table.cells[0] == [None, None]


def test_no_percentage_of_a_suppressed_cell():
    table = suppress([[3, 10, 12], [20, 30, 40]])
    assert table.percentage(0, 0) is None
    assert table.percentage(1, 2) == pytest.approx(100 * 40 / 90)


def test_threshold_is_configurable():
    assert suppress([[7, 20], [20, 20]], threshold=5).primary == set()
    assert suppress([[7, 20], [20, 20]], threshold=9).primary == {(0, 0)}


def assert_no_cell_recoverable(table):
    """No line of the table with its margins has exactly one hidden entry, so no hidden
    value can be worked out by subtraction."""
    grid = [[*row, total] for row, total in zip(table.cells, table.row_totals, strict=True)]
    grid.append([*table.column_totals, table.grand_total])
    for i, line in enumerate(grid):
        assert sum(v is None for v in line) != 1, f"row {i}: {line}"
    for j in range(len(grid[0])):
        column = [row[j] for row in grid]
        assert sum(v is None for v in column) != 1, f"column {j}: {column}"


@pytest.mark.parametrize("seed", range(40))
def test_crafted_tables_never_reveal_a_suppressed_cell(seed):
    import random

    rnd = random.Random(seed)
    size = (rnd.randint(1, 5), rnd.randint(1, 5))
    counts = [[rnd.choice([0, 1, 2, 4, 5, 6, 9, 15, 30]) for _ in range(size[1])] for _ in range(size[0])]
    table = suppress(counts)
    for i, j in itertools.product(range(size[0]), range(size[1])):
        if 1 <= counts[i][j] <= 5:
            assert table.cells[i][j] is None
    assert_no_cell_recoverable(table)


def test_kappa_estimate_worked_example_with_large_sample_interval():
    # The 50 cases above: kappa 0.4, p_o 0.7, p_e 0.5.
    # SE = sqrt(p_o (1 - p_o) / (n (1 - p_e)^2)) = sqrt(0.21 / (50 * 0.25)) = sqrt(0.0168) = 0.12961
    # 95% interval: 0.4 +/- 1.96 * 0.12961 = 0.4 +/- 0.2540 -> 0.146 to 0.654 ("fair").
    first = ["met"] * 25 + ["not met"] * 25
    second = ["met"] * 20 + ["not met"] * 5 + ["met"] * 10 + ["not met"] * 15
    estimate = kappa_estimate(first, second)
    assert estimate.pairs == 50
    assert estimate.kappa == pytest.approx(0.4)
    assert estimate.standard_error == pytest.approx(0.12961, abs=1e-5)
    assert estimate.low == pytest.approx(0.146, abs=5e-4)
    assert estimate.high == pytest.approx(0.654, abs=5e-4)
    assert estimate.reading == "fair"


def test_kappa_estimate_interval_is_clipped_and_undefined_when_kappa_is():
    # Perfect agreement over two categories: SE 0, interval [1, 1].
    perfect = kappa_estimate(["a", "b", "a"], ["a", "b", "a"])
    assert (perfect.kappa, perfect.low, perfect.high, perfect.reading) == (1.0, 1.0, 1.0, "almost perfect")
    # Total disagreement on 2 items: kappa -1, the interval cannot go below -1.
    worst = kappa_estimate(["a", "b"], ["b", "a"])
    assert worst.kappa == pytest.approx(-1.0)
    assert worst.low == -1.0
    assert worst.reading == "poor (less than chance)"
    none = kappa_estimate(["a", "a"], ["a", "a"])
    assert (none.kappa, none.pairs, none.low, none.reading) == (None, 2, None, "")


@pytest.mark.parametrize(
    ("kappa", "reading"),
    [
        (-0.01, "poor (less than chance)"),
        (0.0, "slight"),
        (0.2, "slight"),
        (0.21, "fair"),
        (0.4, "fair"),
        (0.41, "moderate"),
        (0.6, "moderate"),
        (0.61, "substantial"),
        (0.8, "substantial"),
        (0.81, "almost perfect"),
        (1.0, "almost perfect"),
    ],
)
def test_landis_and_koch_reading_of_a_kappa(kappa, reading):
    assert kappa_reading(kappa) == reading
