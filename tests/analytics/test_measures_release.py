"""The release rule for every measure, on random org trees: resolved counts and the counts
behind every share are protected like report counts, so no subtraction (a parent minus its
shown children, the root minus the shown top level, a month minus its weeks, "all" minus the
categories) and no linear-programming attacker recovers a small withheld count."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import numpy as np
import pytest
from scipy.optimize import linprog

from service.analytics.anonymity import Threshold, UnitLines
from service.analytics.cube import (
    FEATURES,
    FORMAL,
    HIGH,
    INFORMAL,
    MEASURE_WITHIN,
    MEASURES,
    REPORTS,
    SHOWN_FORMAL,
    SHOWN_HIGH,
    SHOWN_REPORTS,
    SHOWN_RESOLVED,
    WITHDRAWN,
    measure_counts,
    release_measures,
)

K = 5
CATEGORIES, WEEKS = 2, 2


def random_tree(rng: np.random.Generator) -> tuple[list[int], list[int]]:
    """Unit parents (unit 0 the root), and the unit-part parents as cube.load_tree makes them:
    subtrees first, then the own reports of every unit that has sub-units."""
    units = int(rng.integers(3, 7))
    parents = [-1] + [int(rng.integers(0, i)) for i in range(1, units)]
    part_parent = list(parents)
    own = []
    for unit in range(units):
        if unit in parents:
            own.append(len(part_parent))
            part_parent.append(unit)
        else:
            own.append(unit)
    return part_parent, own


def random_values(rng: np.random.Generator, part_parent: list[int], own: list[int]) -> np.ndarray:
    """Features (parts, categories + all, weeks + month, FEATURES) with exact margins."""
    parts = len(part_parent)
    values = np.zeros((parts, CATEGORIES + 1, WEEKS + 1, FEATURES))
    rate = rng.uniform(1, 8)
    for part in set(own):
        reports = rng.poisson(rate, size=(CATEGORIES, WEEKS))
        high = rng.binomial(reports, rng.uniform(0.1, 0.9))
        resolved = rng.binomial(reports, rng.uniform(0.3, 1.0))
        informal = rng.binomial(resolved, rng.uniform(0.2, 0.8))
        formal = rng.binomial(resolved - informal, 0.7)
        leaf = values[part, :CATEGORIES, :WEEKS]
        leaf[..., REPORTS], leaf[..., HIGH] = reports, high
        leaf[..., INFORMAL], leaf[..., FORMAL] = informal, formal
        leaf[..., WITHDRAWN] = resolved - informal - formal
    for part in reversed(range(parts)):  # parts come after the part they belong to
        if part_parent[part] >= 0:
            values[part_parent[part]] += values[part]
    values[:, CATEGORIES] = values[:, :CATEGORIES].sum(axis=1)
    values[:, :, WEEKS] = values[:, :, :WEEKS].sum(axis=2)
    return values


def all_lines(
    part_parent: list[int],
) -> list[tuple[tuple[int, int, int], list[tuple[int, int, int]]]]:
    parts = len(part_parent)
    found = []
    for margin in range(parts):
        members = [p for p in range(parts) if part_parent[p] == margin]
        if members:
            for c, t in itertools.product(range(CATEGORIES + 1), range(WEEKS + 1)):
                found.append(((margin, c, t), [(p, c, t) for p in members]))
    for u in range(parts):
        for t in range(WEEKS + 1):
            found.append(((u, CATEGORIES, t), [(u, c, t) for c in range(CATEGORIES)]))
        for c in range(CATEGORIES + 1):
            found.append(((u, c, WEEKS), [(u, c, t) for t in range(WEEKS)]))
    return found


def exposed_by_subtraction(counts, shown, lines, telling) -> list[tuple[object, ...]]:
    """Every subtraction of shown parts from a shown margin: what is left belongs to the
    withheld parts together, and must be at least k, or 0 where no withheld part is a shown
    group (`telling`: cells where an empty count would tell something)."""
    exposed = []
    for margin, parts in lines:
        if not shown[margin]:
            continue
        hidden = [p for p in parts if not shown[p]]
        left = counts[margin] - sum(counts[p] for p in parts if shown[p])
        if 0 < left < K or (left == 0 and any(telling[p] for p in hidden)):
            exposed.append((margin, int(left)))
    return exposed


def exposed_by_linear_programming(counts, shown, lines, telling) -> list[tuple[object, ...]]:
    cells = list(itertools.product(*map(range, counts.shape)))
    index = {cell: i for i, cell in enumerate(cells)}
    rows, rhs = [], []
    for margin, parts in lines:
        row = np.zeros(len(cells))
        row[index[margin]] = 1
        for part in parts:
            row[index[part]] -= 1
        rows.append(row)
        rhs.append(0)
    for cell in cells:
        if shown[cell]:
            row = np.zeros(len(cells))
            row[index[cell]] = 1
            rows.append(row)
            rhs.append(counts[cell])
    exposed = []
    for cell in cells:
        if shown[cell] or not (0 < counts[cell] < K or (counts[cell] == 0 and telling[cell])):
            continue
        objective = np.zeros(len(cells))
        objective[index[cell]] = 1
        low = linprog(objective, A_eq=rows, b_eq=rhs, bounds=(0, None), method="highs").fun
        upper = linprog(-objective, A_eq=rows, b_eq=rhs, bounds=(0, None), method="highs")
        if upper.status == 3:  # unbounded: nothing pins the cell down
            continue
        if -upper.fun - low < 0.5:
            exposed.append((cell, int(counts[cell])))
    return exposed


def release(values: np.ndarray, part_parent: list[int]) -> np.ndarray:
    tree = SimpleNamespace(lines=UnitLines.from_parents(part_parent))
    return release_measures(values, tree, Threshold(K))  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", range(10))
def test_no_subtraction_recovers_a_small_withheld_count_of_any_measure(seed):
    rng = np.random.default_rng(seed)
    part_parent, own = random_tree(rng)
    values = random_values(rng, part_parent, own)
    shown = release(values, part_parent)
    lines = all_lines(part_parent)
    for measure, counts in enumerate(measure_counts(values)):
        mask = shown[..., measure]
        inside = MEASURE_WITHIN[measure]
        empty_tells = measure not in (SHOWN_REPORTS, SHOWN_RESOLVED)
        telling = shown[..., inside] if empty_tells else np.zeros_like(mask)
        for count in counts:
            assert (count[mask] >= K).all(), MEASURES[measure]
            assert exposed_by_subtraction(count, mask, lines, telling) == [], MEASURES[measure]
            assert exposed_by_linear_programming(count, mask, lines, telling) == [], MEASURES[
                measure
            ]
    # Every measure is shown only where the reports are.
    assert not (shown[..., 1:] & ~shown[..., SHOWN_REPORTS, None]).any()


def test_the_resolved_case_of_a_small_sibling_cannot_be_worked_out():
    """Operations: 11 reports, 6 resolved. Warehouse North: 6 reports, 5 resolved (2 referred
    formally); Warehouse South: 5 reports, 1 resolved, referred formally. Showing the
    Operations and Warehouse North resolved counts would give South's one case away."""
    part_parent = [-1, 0, 0]  # Operations and its two warehouses (no own reports)
    values = np.zeros((3, CATEGORIES + 1, WEEKS + 1, FEATURES))
    north, south = values[1, 0, 0], values[2, 0, 0]
    north[REPORTS], north[INFORMAL], north[FORMAL] = 6, 3, 2
    south[REPORTS], south[FORMAL] = 5, 1
    values[0] = values[1] + values[2]
    values[:, CATEGORIES] = values[:, :CATEGORIES].sum(axis=1)
    values[:, :, WEEKS] = values[:, :, :WEEKS].sum(axis=2)
    shown = release(values, part_parent)
    month = (slice(None), CATEGORIES, WEEKS)
    # The report counts are all shown (11, 6 and 5)...
    assert shown[(*month, SHOWN_REPORTS)].tolist() == [True, True, True]
    # ...but the resolved counts only where no subtraction leaves fewer than k.
    operations, north_shown, south_shown = shown[(*month, SHOWN_RESOLVED)].tolist()
    assert not south_shown
    assert not (operations and north_shown)
    # The formal share (3 formal of 6; 2 of 5) rests on counts under k: never shown.
    assert not shown[(*month, SHOWN_FORMAL)].any()


def test_a_share_of_one_is_never_shown():
    """Five reports, all high or critical: the share would tell HR the level of each."""
    part_parent = [-1]
    values = np.zeros((1, CATEGORIES + 1, WEEKS + 1, FEATURES))
    values[0, 0, 0, REPORTS] = values[0, 0, 0, HIGH] = 12
    values[0, 1, 0, REPORTS], values[0, 1, 0, HIGH] = 12, 6
    values[:, CATEGORIES] = values[:, :CATEGORIES].sum(axis=1)
    values[:, :, WEEKS] = values[:, :, :WEEKS].sum(axis=2)
    shown = release(values, part_parent)
    assert shown[0, 0, WEEKS, SHOWN_REPORTS] and not shown[0, 0, WEEKS, SHOWN_HIGH]
    # 18 of 24 in all, minus category 1's 6 of 12, would give category 0's 12 of 12.
    assert not (shown[0, CATEGORIES, WEEKS, SHOWN_HIGH] and shown[0, 1, WEEKS, SHOWN_HIGH])
