"""The release rule itself, on small cubes: rules 1-3 hold, and a linear-programming attacker
who knows every released cell and every line cannot compute any small withheld cell."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.optimize import linprog

from service.analytics.anonymity import Threshold, UnitLines

K = 5
# A root (0) with children 1 and 2; 1 has children 3 and 4. Unit-parts: subtrees 0..4, then
# the own reports of 0 (part 5) and of 1 (part 6). Parts 2, 3, 4 are leaves.
PARENTS = [-1, 0, 0, 1, 1, 0, 1]
UNITS = UnitLines.from_parents(PARENTS)
LEAF_PARTS = (2, 3, 4, 5, 6)
CATEGORIES, WEEKS = 3, 3


def cube(leaves: dict[int, np.ndarray]) -> np.ndarray:
    """Counts (parts, categories + all, weeks + month) from leaf counts (categories, weeks)."""
    counts = np.zeros((len(PARENTS), CATEGORIES + 1, WEEKS + 1), dtype=np.int64)
    for part, values in leaves.items():
        counts[part, :CATEGORIES, :WEEKS] = values
    counts[1] = counts[3] + counts[4] + counts[6]
    counts[0] = counts[1] + counts[2] + counts[5]
    counts[:, CATEGORIES] = counts[:, :CATEGORIES].sum(axis=1)
    counts[:, :, WEEKS] = counts[:, :, :WEEKS].sum(axis=2)
    return counts


def random_cube(rng: np.random.Generator) -> np.ndarray:
    rate = rng.uniform(0.5, 6)
    return cube({p: rng.poisson(rate, size=(CATEGORIES, WEEKS)) for p in LEAF_PARTS})


def lines(
    shape: tuple[int, int, int],
) -> list[tuple[tuple[int, int, int], list[tuple[int, int, int]]]]:
    units, categories, periods = shape
    found = []
    for margin, parts in zip(UNITS.margins, UNITS.parts, strict=True):
        members = [int(p) for p in parts if p >= 0]
        for c, t in itertools.product(range(categories), range(periods)):
            found.append(((int(margin), c, t), [(p, c, t) for p in members]))
    for u in range(units):
        for t in range(periods):
            found.append(((u, categories - 1, t), [(u, c, t) for c in range(categories - 1)]))
        for c in range(categories):
            found.append(((u, c, periods - 1), [(u, c, t) for t in range(periods - 1)]))
    return found


def attack(counts: np.ndarray, released: np.ndarray) -> list[tuple[object, ...]]:
    """Bounds of every small withheld cell given the released ones, all lines and counts
    >= 0; returns those the attacker pins down exactly."""
    cells = list(itertools.product(*map(range, counts.shape)))
    index = {cell: i for i, cell in enumerate(cells)}
    rows, rhs = [], []
    for margin, parts in lines(counts.shape):
        row = np.zeros(len(cells))
        row[index[margin]] = 1
        for part in parts:
            row[index[part]] -= 1
        rows.append(row)
        rhs.append(0)
    for cell in cells:
        if released[cell]:
            row = np.zeros(len(cells))
            row[index[cell]] = 1
            rows.append(row)
            rhs.append(counts[cell])
    exposed = []
    for cell in cells:
        if released[cell] or not 0 < counts[cell] < K:
            continue
        objective = np.zeros(len(cells))
        objective[index[cell]] = 1
        low = linprog(objective, A_eq=rows, b_eq=rhs, bounds=(0, None), method="highs").fun
        high = -linprog(-objective, A_eq=rows, b_eq=rhs, bounds=(0, None), method="highs").fun
        if high - low < 0.5:
            exposed.append((cell, int(counts[cell])))
    return exposed


def check_rules(counts: np.ndarray, released: np.ndarray) -> None:
    assert (counts[released] >= K).all(), "rule 1"
    for margin, parts in lines(counts.shape):
        if any(released[p] for p in parts):
            assert released[margin], "rule 2: nothing is shown inside a hidden cell"
        if released[margin]:
            hidden = sum(counts[p] for p in parts if not released[p])
            assert hidden == 0 or hidden >= K, "rule 3: hidden parts of a line add up to >= k"


def test_small_cells_are_withheld_and_the_row_total_cannot_give_them_away():
    leaves = {p: np.zeros((CATEGORIES, WEEKS), dtype=np.int64) for p in LEAF_PARTS}
    leaves[2][0] = [10, 10, 10]
    leaves[2][1] = [10, 10, 2]  # one small cell in a row of otherwise large ones
    counts = cube(leaves)
    released = Threshold(K).release(counts, UNITS)
    assert not released[2, 1, 2]
    assert released[2, CATEGORIES, WEEKS]  # the unit's month total is shown...
    shown = sum(counts[2, c, WEEKS] for c in range(CATEGORIES) if released[2, c, WEEKS])
    assert counts[2, CATEGORIES, WEEKS] - shown >= K  # ...minus the shown categories: >= k
    check_rules(counts, released)
    assert attack(counts, released) == []


def test_a_unit_with_four_reports_is_withheld_everywhere():
    leaves = {p: np.full((CATEGORIES, WEEKS), 6, dtype=np.int64) for p in LEAF_PARTS}
    leaves[3] = np.zeros((CATEGORIES, WEEKS), dtype=np.int64)
    leaves[3][1, 1] = 4
    counts = cube(leaves)
    released = Threshold(K).release(counts, UNITS)
    assert not released[3].any()
    check_rules(counts, released)
    assert attack(counts, released) == []


def test_k_below_three_is_refused():
    with pytest.raises(ValueError):
        Threshold(2)


@pytest.mark.parametrize("seed", range(12))
def test_random_cubes_keep_the_rules_and_resist_a_linear_programming_attack(seed):
    rng = np.random.default_rng(seed)
    for _ in range(3):
        counts = random_cube(rng)
        released = Threshold(K).release(counts, UNITS)
        check_rules(counts, released)
        assert attack(counts, released) == []
        assert released[0, CATEGORIES, WEEKS] == (counts[0, CATEGORIES, WEEKS] >= K)


def test_release_depends_on_the_counts_only():
    counts = random_cube(np.random.default_rng(99))
    first = Threshold(K).release(counts, UNITS)
    second = Threshold(K).release(counts.copy(), UnitLines.from_parents(PARENTS))
    assert np.array_equal(first, second)
