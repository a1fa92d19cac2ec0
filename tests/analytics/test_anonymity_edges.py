"""The release rule at its edges: cells withheld from the start (`within`), empty cells that
tell, several counts released together, the exact bounds of rule 3, and the pieces of the
audit (propagation, linear algebra, the choice of a complement) on hand-built lines."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from service.analytics import anonymity
from service.analytics.anonymity import (
    Threshold,
    UnitLines,
    _complement,
    _complement_units,
    _determined,
    _equations,
    _fixed_by_projection,
    _fixed_columns,
    _nearest_complement,
)
from tests.analytics.test_anonymity import (
    CATEGORIES,
    LEAF_PARTS,
    UNITS,
    WEEKS,
    check_rules,
    cube,
    random_cube,
)

K = 5
ONE_UNIT = UnitLines.from_parents([-1])


def table(rows: list[list[int]]) -> np.ndarray:
    """A one-unit month cube from its (categories, weeks) counts: adds "all" and the month."""
    inner = np.array(rows, dtype=np.int64)
    categories, weeks = inner.shape
    counts = np.zeros((1, categories + 1, weeks + 1), dtype=np.int64)
    counts[0, :categories, :weeks] = inner
    counts[0, categories, :weeks] = inner.sum(axis=0)
    counts[0, :, weeks] = counts[0, :, :weeks].sum(axis=1)
    return counts


def mask(rows: list[list[int]]) -> np.ndarray:
    """A one-unit release mask from its rows (categories + all) x (weeks + month)."""
    return np.array([rows], dtype=bool)


def lines_matrix(lines: list[tuple[int, list[int]]], cells: int) -> sparse.csr_matrix:
    """Hand-built lines as equations: +1 on the margin, -1 on each part."""
    rows, cols, vals = [], [], []
    for row, (margin, parts) in enumerate(lines):
        rows.append(row)
        cols.append(margin)
        vals.append(1.0)
        for part in parts:
            rows.append(row)
            cols.append(part)
            vals.append(-1.0)
    return sparse.csr_matrix((vals, (rows, cols)), shape=(len(lines), cells))


# -- within: cells withheld from the start -----------------------------------------------------

ALL_TEN = table([[10, 10], [10, 10]])
# the "all" cell of week 0 is outside `within`; so is everything below it
WITHOUT_WEEK_0_TOTAL = mask([[1, 1, 1], [1, 1, 1], [0, 1, 1]])
SHOWN_WITHOUT_WEEK_0 = mask([[0, 1, 1], [0, 1, 1], [0, 1, 1]])


def test_cells_outside_within_are_withheld_with_everything_below_them():
    released = Threshold(K).release(ALL_TEN, ONE_UNIT, WITHOUT_WEEK_0_TOTAL)
    assert released.tolist() == SHOWN_WITHOUT_WEEK_0.tolist()


def test_within_may_be_given_as_zeros_and_ones():
    released = Threshold(K).release(ALL_TEN, ONE_UNIT, WITHOUT_WEEK_0_TOTAL.astype(np.int64))
    assert released.dtype == bool
    assert released.tolist() == SHOWN_WITHOUT_WEEK_0.tolist()


def test_a_root_outside_within_withholds_its_sub_units():
    # the root's subtree (0) = sub-units 1 + 2, each with 10 reports in every cell
    units = UnitLines.from_parents([-1, 0, 0])
    counts = np.concatenate([2 * ALL_TEN, ALL_TEN, ALL_TEN])
    within = np.ones(counts.shape, dtype=bool)
    within[0] = False
    assert not Threshold(K).release(counts, units, within).any()


# -- empty cells that tell -------------------------------------------------------------------

ONE_EMPTY = table([[10, 10], [0, 10]])
EVERYWHERE = np.ones(ONE_EMPTY.shape, dtype=bool)


def test_an_empty_cell_that_does_not_tell_may_sit_alone_in_a_shown_line():
    # the default: withheld parts adding up to 0 only say the cell is empty
    released = Threshold(K).release(ONE_EMPTY, ONE_UNIT, EVERYWHERE)
    assert released.tolist() == mask([[1, 1, 1], [0, 1, 1], [1, 1, 1]]).tolist()


def test_an_empty_cell_that_tells_is_protected_like_a_small_one():
    # Rule 3 takes a second cell out of each line of the empty one, and the audit more, until
    # the four cells of weeks x categories it is in can only be known together.
    released = Threshold(K).release_jointly([ONE_EMPTY], ONE_UNIT, EVERYWHERE, empty_tells=True)
    assert released.tolist() == mask([[0, 0, 1], [0, 0, 0], [0, 1, 1]]).tolist()


@pytest.mark.parametrize(
    ("rows", "shown"),
    [
        # an empty and a 4 hidden in week 0: together less than k, so week 0 loses its 10
        ([[10, 10], [0, 10], [4, 10]], [[0, 1, 1], [0, 0, 1], [0, 0, 1], [1, 1, 1]]),
        # two hidden 2s, and no empty cell: the same as when empty cells do not tell
        ([[10, 10], [2, 10], [2, 10]], [[0, 1, 1], [0, 0, 1], [0, 0, 1], [1, 1, 1]]),
    ],
)
def test_only_an_empty_cell_counts_as_half_a_report(rows, shown):
    counts = table(rows)
    everywhere = np.ones(counts.shape, dtype=bool)
    released = Threshold(K).release_jointly([counts], ONE_UNIT, everywhere, empty_tells=True)
    assert released.tolist() == mask(shown).tolist()


# -- several counts, and their types -----------------------------------------------------------

LARGE = cube({part: np.full((CATEGORIES, WEEKS), 50) for part in LEAF_PARTS})


@pytest.mark.parametrize("seed", [3, 4])
@pytest.mark.parametrize("large_first", [False, True])
def test_a_count_with_no_small_cell_adds_nothing_to_a_joint_release(seed, large_first):
    # these cubes need more than one round of the audit
    counts = random_cube(np.random.default_rng(seed))
    layers = [LARGE, counts] if large_first else [counts, LARGE]
    released = Threshold(K).release_jointly(layers, UNITS)
    assert released.tolist() == Threshold(K).release(counts, UNITS).tolist()
    check_rules(counts, released)


def test_a_small_cell_of_any_count_is_withheld_in_a_joint_release():
    small_first = table([[10, 10], [4, 10]])
    assert not Threshold(K).release_jointly([small_first, ALL_TEN], ONE_UNIT)[0, 1, 0]


@pytest.mark.parametrize("dtype", [np.int32, np.int16, np.uint16, np.float64])
def test_counts_of_any_number_type_give_the_same_release(dtype):
    counts = random_cube(np.random.default_rng(5))
    expected = Threshold(K).release(counts, UNITS)
    assert Threshold(K).release(counts.astype(dtype), UNITS).tolist() == expected.tolist()


# -- rule 3 at its bounds ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hidden", "smallest_withheld"),
    [(0, False), (1, True), (K - 1, True), (K, False), (K + 1, False)],
)
def test_hidden_parts_of_a_category_line_must_add_up_to_0_or_at_least_k(hidden, smallest_withheld):
    # one line: categories 10, 7 and `hidden` (withheld), "all" shown
    counts = np.array([[[10], [7], [hidden], [17 + hidden]]], dtype=np.int64)
    released = np.array([[[True], [True], [False], [True]]])
    _complement(released, counts, axis=1, k=K)
    assert released[0, :, 0].tolist() == [True, not smallest_withheld, False, True]


@pytest.mark.parametrize(
    ("parents", "shown_counts", "hidden_part", "smallest"),
    [
        # the root first: its parts 1, 2 shown with 10 and 7, part 3 hidden
        ([-1, 0, 0, 0], {1: 10, 2: 7}, 3, 2),
        # the root last, and the hidden part is unit-part 0
        ([3, 3, 3, -1], {1: 10, 2: 7}, 0, 2),
        # the root last, and the smallest shown part is unit-part 0
        ([3, 3, 3, -1], {0: 7, 1: 10}, 2, 0),
    ],
)
@pytest.mark.parametrize(("hidden", "broken"), [(0, False), (1, True), (K - 1, True), (K, False)])
def test_hidden_parts_of_a_unit_line_must_add_up_to_0_or_at_least_k(
    parents, shown_counts, hidden_part, smallest, hidden, broken
):
    # whatever the numbering of the unit-parts, the smallest shown part is withheld too
    root = parents.index(-1)
    values = {**shown_counts, hidden_part: hidden, root: sum(shown_counts.values()) + hidden}
    counts = np.array([values[i] for i in range(4)], dtype=np.int64).reshape(4, 1, 1)
    released = np.ones((4, 1, 1), dtype=bool)
    released[hidden_part] = False
    expected = released.copy()
    expected[smallest] = not broken
    _complement_units(released, counts, UnitLines.from_parents(parents), K)
    assert released.ravel().tolist() == expected.ravel().tolist()


# -- rule 4: what the audit takes as known ---------------------------------------------------

# Cells 0, 1, 2 are shown margins (a = x + y, b = x + z, c = y + z); x, y, z are cells 3, 4, 5.
TRIANGLE = lines_matrix([(0, [3, 4]), (1, [3, 5]), (2, [4, 5])], 6)
TRIANGLE_SHOWN = np.array([True, True, True, False, False, False])
TRIANGLE_COUNTS = np.array([3, 4, 5, 1, 2, 3], dtype=np.int64)


def test_linear_algebra_finds_cells_no_single_line_gives_away():
    # every line has two unknowns, yet the three lines together fix x, y and z
    found = _determined(TRIANGLE_SHOWN, TRIANGLE_COUNTS, TRIANGLE)
    assert sorted(found.tolist()) == [3, 4, 5]


def test_the_dense_fallback_decides_when_the_projection_does_not_converge(monkeypatch):
    monkeypatch.setattr(anonymity, "_fixed_by_projection", lambda system: None)
    found = _determined(TRIANGLE_SHOWN, TRIANGLE_COUNTS, TRIANGLE)
    assert sorted(found.tolist()) == [3, 4, 5]


@pytest.mark.parametrize(
    ("margin", "x", "y", "determined"),
    [
        (0, 0, 0, [1, 2]),  # unknown parts adding up to 0 are all 0: counts are never negative
        (1, 1, 0, []),  # adding up to 1, either of the two may hold the report
        (2, 1, 1, []),
    ],
)
def test_a_line_of_two_unknowns_pins_them_only_when_they_add_up_to_0(margin, x, y, determined):
    equations = lines_matrix([(0, [1, 2])], 3)
    released = np.array([True, False, False])
    counts = np.array([margin, x, y], dtype=np.int64)
    assert sorted(_determined(released, counts, equations).tolist()) == determined


def test_the_lines_of_a_tree_are_built_once_per_shape():
    shape = (len(UNITS.parent), CATEGORIES + 1, WEEKS + 1)
    first = _equations(UNITS, shape)
    assert _equations(UnitLines.from_parents(list(UNITS.parent)), shape) is first
    assert first.shape == (
        # category lines, week lines, unit lines (3 unit margins here)
        len(UNITS.parent) * (WEEKS + 1)
        + len(UNITS.parent) * (CATEGORIES + 1)
        + len(UNITS.margins) * (CATEGORIES + 1) * (WEEKS + 1),
        np.prod(shape),
    )


def root_last_cube() -> np.ndarray:
    """Unit-parts 0 and 1 under a root numbered 2."""
    first, second = table([[3, 0], [1, 7]]), table([[2, 5], [0, 4]])
    return np.concatenate([first, second, first + second])


@pytest.mark.parametrize(
    ("parents", "counts"),
    [
        (list(UNITS.parent), random_cube(np.random.default_rng(1))),
        ([2, 2, -1], root_last_cube()),
    ],
)
def test_every_line_is_its_margin_minus_its_parts(parents, counts):
    # a cube whose margins are exact satisfies every line: margin - parts = 0
    equations = _equations(UnitLines.from_parents(parents), counts.shape)
    assert np.abs(equations @ counts.ravel()).max() == 0
    assert (equations.max(axis=1).toarray() == 1).all()  # one margin per line


# -- rule 4: which cell is withheld for a determined one -----------------------------------------


@pytest.mark.parametrize(
    ("lines", "shown", "cell", "expected"),
    [
        # the nearest line's smallest part, not a smaller part of a line one step further
        ([(1, [0, 2]), (3, [1, 4])], {1: 10, 2: 8, 3: 9, 4: 5}, 0, 2),
        # the search goes on through the withheld cells of lines that show nothing
        ([(1, [0, 2]), (5, [2, 6])], {5: 20, 6: 7}, 0, 6),
        # a part before a margin of the same count
        ([(1, [0, 2])], {1: 10, 2: 10}, 0, 2),
        # the smallest part may be cell 0
        ([(3, [0, 5, 6])], {0: 4, 3: 20, 6: 9}, 5, 0),
        # of two equal parts the first
        ([(3, [0, 1, 2])], {1: 7, 2: 7, 3: 20}, 0, 1),
    ],
)
def test_the_complement_is_the_smallest_part_of_the_nearest_line_that_shows_one(
    lines, shown, cell, expected
):
    cells = 7
    equations = lines_matrix(lines, cells)
    released = np.zeros(cells, dtype=bool)
    counts = np.zeros(cells, dtype=np.int64)
    for index, count in shown.items():
        released[index] = True
        counts[index] = count
    choice = _nearest_complement(cell, released, counts, equations, equations.tocsc())
    assert choice == expected


def test_no_complement_is_chosen_when_nothing_around_is_shown():
    equations = lines_matrix([(1, [0, 2])], 3)
    released = np.zeros(3, dtype=bool)
    counts = np.array([1, 1, 0], dtype=np.int64)
    assert _nearest_complement(0, released, counts, equations, equations.tocsc()) < 0


# -- the dense fallback at its tolerance -------------------------------------------------------


@pytest.mark.parametrize(
    ("largest", "smallest", "both_fixed"),
    [
        (1.0, 1.5e-9, True),  # above 1e-9 of the larger (and of 1)
        (1.0, 1e-9, False),  # at the tolerance: no direction
        (2.0, 1.5e-9, False),  # the tolerance grows with the largest pivot
        (0.5, 1.5e-9, True),  # but is never below 1e-9
    ],
)
def test_the_dense_fallback_counts_a_direction_above_its_rank_tolerance(
    largest, smallest, both_fixed
):
    block = np.array([[largest, 0.0], [0.0, smallest]])
    assert _fixed_columns(block).tolist() == [True, both_fixed]


def test_the_dense_fallback_of_an_empty_system_is_a_mask():
    fixed = _fixed_columns(np.zeros((0, 3)))
    assert fixed.dtype == bool and np.arange(3)[fixed].tolist() == []


@pytest.mark.parametrize(
    "parent", [[-1, 0, 0], (-1, 0, 0), np.array([-1, 0, 0], dtype=np.int32), []]
)
def test_unit_lines_hold_64_bit_indices_whatever_sequence_they_come_from(parent):
    assert UnitLines.from_parents(parent).parent.dtype == np.int64


@pytest.mark.parametrize(
    ("weight", "changed", "shown"),
    [
        # without weights the counts decide: x, y and z are small, so their margins go
        (None, True, [False] * 6),
        # weights of k or more: nothing small, nothing more to withhold
        (np.array([3, 4, 5, 5, 6, 7]), False, TRIANGLE_SHOWN.tolist()),
    ],
)
def test_the_audit_withholds_a_complement_only_for_small_determined_cells(weight, changed, shown):
    released = TRIANGLE_SHOWN.copy()
    result = anonymity._withhold_for_determined(released, TRIANGLE_COUNTS, TRIANGLE, K, weight)
    assert result is changed
    assert released.tolist() == shown


def _month_system(seed: int) -> sparse.csr_matrix:
    """The lines of a real month cube restricted to a random three quarters of its cells, as
    the audit builds them for the withheld cells."""
    shape = (len(UNITS.parent), CATEGORIES + 1, WEEKS + 1)
    equations = _equations(UNITS, shape)
    unknown = np.random.default_rng(seed).random(equations.shape[1]) < 0.75
    return equations[:, np.flatnonzero(unknown)].tocsr()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_sparse_projection_answers_for_a_month_cube_and_agrees_with_the_dense_check(seed):
    # The sparse path is what keeps a month's audit fast; the dense QR is only its fallback.
    system = _month_system(seed)
    fixed = _fixed_by_projection(system)
    assert fixed is not None, "the projection did not converge on an ordinary cube"
    assert fixed.tolist() == _fixed_columns(system.toarray()).tolist()
    assert 0 < fixed.sum() < system.shape[1]  # the case tells fixed cells from free ones


def test_the_projection_of_no_lines_fixes_nothing():
    assert _fixed_by_projection(sparse.csr_matrix((0, 3))).tolist() == [False, False, False]


def test_an_unconverged_solution_is_refused_not_trusted(monkeypatch):
    """A solver answer that leaves the residual off the row space would mark free cells as
    fixed or fixed ones as free; the projection must give up (None) for the dense check."""
    real = anonymity.sparse_linalg.lsqr

    def slightly_off(matrix, probe, **options):  # type: ignore[no-untyped-def]
        solution, *rest = real(matrix, probe, **options)
        return (solution + 1e-3, *rest)

    system = _month_system(0)
    assert _fixed_by_projection(system) is not None
    monkeypatch.setattr(anonymity.sparse_linalg, "lsqr", slightly_off)
    assert _fixed_by_projection(system) is None
