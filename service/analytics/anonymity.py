"""The anonymity threshold: the one place that decides what HR may see.

Every figure the analytics API, the dashboard and the CSV export show is either a *released
cell* or is computed only from released cells, and this module is what releases them. Nothing
else in the code compares a count with k.

What a cell is
--------------
A cell counts the reports of one unit-part, one category and one period:

* unit-parts: the *subtree* of an org unit (the unit and everything below it) and, for a unit
  that has sub-units, its *own* reports (filed against the unit itself, not a sub-unit);
* categories: each category, and "all" (their sum);
* periods: ISO weeks, and months made of whole ISO weeks (see periods.py).

The cells of one month form a cube (unit-parts x categories+all x weeks+month) with exact
margins along each axis: a unit's subtree = its own + its children's subtrees, "all" = the sum
of the categories, the month = the sum of its weeks. Quarters and whole-range totals are not
released separately; they are sums of released months (see `derive`).

The release rule, applied to each month's cube
----------------------------------------------
1. *Primary suppression*: a cell with fewer than k reports is withheld. Empty cells too: an
   empty cell and a cell of 1..k-1 look the same ("suppressed", never 0), so the pattern of
   empty cells does not show where the few reports are.
2. *Nesting*: a cell is released only if every cell directly above it is released (its
   parent unit's subtree, its "all" category, its month). Nothing is ever shown inside a
   withheld cell, so a finer view never reveals what the coarser one hid.
3. *Complementary suppression*: in every line (a released margin and the parts that sum to
   it), the withheld parts must add up to at least k, or to nothing at all. Otherwise the
   withheld reports would follow from the margin minus the shown parts ("a hidden cell next
   to its row total"); so the smallest shown part is withheld as well, and the rules are
   applied again (a complement withheld in one line can break another) until nothing changes.
   Withheld parts that add up to 0 are allowed: an attacker learns that those cells are empty,
   which exposes nobody, and insisting otherwise would hide the smallest unit and category of
   nearly every line.

4. *Audit*: rule 3 looks at one line at a time; combining several lines (a system of linear
   equations over the withheld cells, as a linear-programming attacker would) can still pin a
   withheld cell down exactly. So the attacker's deductions are replayed (`_determined`):
   lines whose unknown parts must be empty, lines with one unknown, then linear algebra on the
   rest. For every small non-empty cell (1..k-1) found, the smallest shown part of the
   nearest line is withheld too, and rules 2-4 are applied again.

Rules 1-4 only ever withhold more, so the loop ends. The outcome depends on the counts alone,
never on the query: every query, whatever its filters, sees the same released cells.

Why differencing does not work
------------------------------
* Filters select cells, they never cut them: a unit filter picks subtrees, a category filter
  picks a category, a date range is snapped outward to whole periods, and a period is answered
  as its own cell. Two answers therefore differ by whole cells, and every released cell is
  fixed by rule 1-3, not by the query that asked.
* Two released cells one inside the other differ by 0 or by at least k reports. Step from the
  inner to the outer cell one margin at a time; by rule 2 every cell on the way is released,
  and by rule 3 each step adds released parts (each >= k) and withheld parts (together 0 or
  >= k). So "the answer for the department minus the answer for the team" is never one report,
  and neither is "all categories minus bullying" or "March minus its first three weeks".
* Anything else that is shown (a unit's remaining sub-units, a quarter, a range total, the
  change against the previous period) is a sum or difference of released cells, and is shown
  only when all of them are released and the result is at least k (`derive`). It adds no
  information beyond the released cells, so it cannot be used to subtract a withheld one.
* Time: only complete months are released (periods.py), and a month is frozen the first time
  it is answered (cube.py): a new report is dated today, in the running month, and a later
  rescore of an older report changes the case, not the frozen figures, so asking again
  tomorrow cannot single anyone out.
* Every measure goes through the same rule (`release_jointly`, called per measure by
  cube.release_measures): resolved counts, and the counts behind every share (high or
  critical and the rest; informal and the rest; formal and the rest), are each released by
  rules 1-4 inside the cells whose reports (or resolved cases) are shown. A share is shown
  only where both of its counts are at least k, so never as exactly 0 or 1 (which would tell
  the attribute of every report in the cell); and an empty count inside a shown group is
  protected like a small one (`empty_tells`), so "all minus the shown categories" cannot
  show that a group's reports were all high or critical either. Mean risk rests on the report
  counts: a score sum is fixed by the same lines exactly where the count is. The time to
  acknowledge is a median bucket (upper bound in hours) over at least k cases (`measure`).
  Hotspots are released unit-periods judged by a model that reads released figures only
  (query.hotspots).

What this does not claim: rule 4 makes sure no small withheld cell can be computed exactly
from the released cells of its month, however the lines are combined (tests/analytics checks
this with a linear-programming attacker); it does not widen intervals, so in rare patterns an
attacker can bound a small cell away from zero ("1 to 4 reports") without knowing its count.
No released figure, and no difference of two nested released figures, rests on fewer than k
reports. Mean risk and shares over a released cell are attributes of a group of >= k people,
as in k-anonymity.
Resolutions are frozen with their month, as counted when it was first answered: cases closed
later are not added to it.
The cells are those of today's org tree: when an import moves a unit, past months are summed
again under its new parent. An analyst who kept an answer from before the move can subtract
the same cell after it and learn the moved unit's past count even where it was withheld, so a
small unit's history is exposed by moving it. (Renames and retirements change no cell.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from flask import current_app
from scipy import linalg, sparse
from scipy.sparse import linalg as sparse_linalg

MINIMUM_K = 3


@dataclass(frozen=True)
class UnitLines:
    """The unit axis of a cube: `parent[i]` is the unit-part whose line cell i is a part of
    (-1 for a root subtree). Lines are (margin, parts) with parts padded by -1."""

    parent: np.ndarray
    margins: np.ndarray
    parts: np.ndarray

    @classmethod
    def from_parents(cls, parent: Sequence[int]) -> UnitLines:
        parent_array = np.asarray(parent, dtype=np.int64)
        groups: dict[int, list[int]] = {}
        for index, margin in enumerate(parent_array.tolist()):
            if margin >= 0:
                groups.setdefault(margin, []).append(index)
        width = max((len(members) for members in groups.values()), default=0)
        parts = np.full((len(groups), width), -1, dtype=np.int64)
        for row, members in enumerate(groups.values()):
            parts[row, : len(members)] = members
        return cls(parent_array, np.asarray(list(groups), dtype=np.int64), parts)


@dataclass(frozen=True)
class Threshold:
    """k, and every decision that depends on it."""

    k: int

    def __post_init__(self) -> None:
        if self.k < MINIMUM_K:
            raise ValueError(f"the anonymity threshold must be at least {MINIMUM_K}")

    def release(
        self, counts: np.ndarray, units: UnitLines, within: np.ndarray | None = None
    ) -> np.ndarray:
        """Which cells of a month cube may be shown. counts has shape (unit-parts,
        categories + all, weeks + month); the last index of axes 1 and 2 is the margin.
        `within`: cells outside it are withheld from the start (a measure is shown only
        inside the cells whose reports are)."""
        return self.release_jointly([counts], units, within)

    def release_jointly(
        self,
        layers: Sequence[np.ndarray],
        units: UnitLines,
        within: np.ndarray | None = None,
        empty_tells: bool = False,
    ) -> np.ndarray:
        """One release pattern that keeps rules 1-4 for every count in `layers` at once.

        A measure is published through counts that must all be protected: a share of high or
        critical reports tells both how many are high or critical and how many are not, so it
        is released only where both counts are at least k and neither can be worked out from
        the lines around it.

        `empty_tells`: an empty count inside `within` is a disclosure too (no report of a
        shown group is "not high or critical" says every one of them is). Such a cell counts
        as half a report in rules 3 and 4, so hidden parts never add up to a known 0 there."""
        counts = [np.asarray(layer, dtype=np.int64) for layer in layers]
        shape = counts[0].shape
        released = np.ones(shape, dtype=bool) if within is None else np.array(within, dtype=bool)
        for layer in counts:
            released &= layer >= self.k
        telling = [
            layer + 0.5 * ((layer == 0) & within) if empty_tells and within is not None else layer
            for layer in counts
        ]
        equations = _equations(units, shape)
        while True:
            before = released.copy()
            _close_under_margins(released, units)
            for layer in telling:
                _complement(released, layer, axis=1, k=self.k)
                _complement(released, layer, axis=2, k=self.k)
                _complement_units(released, layer, units, self.k)
            # Rule 4 once rules 1-3 are stable: no small withheld cell may follow exactly from
            # all the lines together.
            if np.array_equal(before, released):
                changed = False
                for layer, weight in zip(counts, telling, strict=True):
                    changed |= _withhold_for_determined(released, layer, equations, self.k, weight)
                if not changed:
                    return released

    # The three rules below take numbers or numpy arrays (elementwise) alike.

    def derive(self, count: Any, all_parts_released: Any) -> Any:
        """A figure computed from released cells (a sum or difference) may be shown."""
        return np.logical_and(all_parts_released, np.asarray(count) >= self.k)

    def measure(self, denominator: Any) -> Any:
        """A measure over a subset of a released cell's reports (its closed or acknowledged
        cases) may be shown."""
        return np.asarray(denominator) >= self.k


def current_threshold() -> Threshold:
    return Threshold(current_app.config["DEFUSE"].anonymity_k)


def _close_under_margins(released: np.ndarray, units: UnitLines) -> None:
    """Rule 2, in place: withhold every cell below a withheld one."""
    children = np.nonzero(units.parent >= 0)[0]
    parents = units.parent[children]
    while True:
        before = int(released.sum())
        released[children] &= released[parents]
        released[:, :-1, :] &= released[:, -1:, :]
        released[:, :, :-1] &= released[:, :, -1:]
        if int(released.sum()) == before:
            return


def _complement(released: np.ndarray, counts: np.ndarray, axis: int, k: int) -> None:
    """Rule 3 along a flat axis whose last index is the margin, in place."""
    shown = np.moveaxis(released, axis, -1)
    values = np.moveaxis(counts, axis, -1)
    parts_shown, margin_shown = shown[..., :-1], shown[..., -1]
    parts_values = values[..., :-1]
    hidden = ~parts_shown
    hidden_sum = np.where(hidden, parts_values, 0).sum(axis=-1)
    broken = margin_shown & (hidden_sum > 0) & (hidden_sum < k)
    if not broken.any():
        return
    candidates = np.where(parts_shown, parts_values, np.iinfo(np.int64).max)
    smallest = candidates.argmin(axis=-1)
    lines = np.nonzero(broken)
    chosen = smallest[lines]
    has_candidate = parts_shown[(*lines, chosen)]
    index = tuple(part[has_candidate] for part in lines) + (chosen[has_candidate],)
    parts_shown[index] = False


def _complement_units(released: np.ndarray, counts: np.ndarray, units: UnitLines, k: int) -> None:
    """Rule 3 along the unit tree: a unit's subtree = its own part + its children's."""
    if not len(units.margins):
        return
    valid = units.parts >= 0
    safe_parts = np.where(valid, units.parts, 0)
    parts_shown = released[safe_parts] & valid[:, :, None, None]
    hidden = ~released[safe_parts] & valid[:, :, None, None]
    parts_values = counts[safe_parts]
    hidden_sum = np.where(hidden, parts_values, 0).sum(axis=1)
    broken = released[units.margins] & (hidden_sum > 0) & (hidden_sum < k)
    if not broken.any():
        return
    candidates = np.where(parts_shown, parts_values, np.iinfo(np.int64).max)
    smallest = candidates.argmin(axis=1)
    line, category, period = np.nonzero(broken)
    chosen = smallest[line, category, period]
    has_candidate = parts_shown[line, chosen, category, period]
    released[
        units.parts[line[has_candidate], chosen[has_candidate]],
        category[has_candidate],
        period[has_candidate],
    ] = False


# -- rule 4: the audit -----------------------------------------------------------------------

_EQUATIONS: dict[tuple[object, ...], sparse.csr_matrix] = {}


def _equations(units: UnitLines, shape: tuple[int, ...]) -> sparse.csr_matrix:
    """Every line of the cube as a row: +1 on the margin, -1 on each part (cells flattened)."""
    key = (units.parent.tobytes(), shape)
    cached = _EQUATIONS.get(key)
    if cached is not None:
        return cached
    n_units, n_categories, n_periods = shape
    flat = np.arange(n_units * n_categories * n_periods).reshape(shape)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    count = 0

    def add_lines(margins: np.ndarray, parts: np.ndarray) -> None:
        # margins: (lines,), parts: (lines, width) with -1 padding
        nonlocal count
        lines = np.arange(count, count + len(margins))
        count += len(margins)
        rows.append(lines)
        cols.append(margins)
        vals.append(np.ones(len(margins)))
        mask = parts >= 0
        rows.append(np.repeat(lines, mask.sum(axis=1)))
        cols.append(parts[mask])
        vals.append(-np.ones(int(mask.sum())))

    add_lines(
        flat[:, -1, :].ravel(), flat[:, :-1, :].transpose(0, 2, 1).reshape(-1, n_categories - 1)
    )
    add_lines(flat[:, :, -1].ravel(), flat[:, :, :-1].reshape(-1, n_periods - 1))
    for margin, parts in zip(units.margins.tolist(), units.parts, strict=True):
        members = parts[parts >= 0]
        margin_cells = flat[margin].ravel()
        part_cells = flat[members].reshape(len(members), -1).T  # (cells of a unit, parts)
        add_lines(margin_cells, part_cells)
    matrix = sparse.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(count, flat.size),
    )
    _EQUATIONS[key] = matrix
    return matrix


def _determined(
    released: np.ndarray, counts: np.ndarray, equations: sparse.csr_matrix
) -> np.ndarray:
    """Flat indices of withheld cells an attacker can work out exactly from the released
    ones: first by propagation (a line whose unknown parts must add up to 0 pins them all to
    0, since counts are never negative; a line with one unknown fixes it), then by linear
    algebra on what is left.

    With A the equations restricted to the unknown cells, a cell is fixed when its unit vector
    lies in the row space of A, so that every vector in A's null space is zero there. A random
    vector's projection onto the null space, r - A'y with y the least-squares solution of
    A'y = r (LSQR, sparse), is zero exactly at the fixed cells and almost surely non-zero
    elsewhere; two random vectors are used, and a dense rank-revealing QR is the fallback
    when LSQR does not converge. A cell wrongly taken as fixed is only withheld more."""
    known = _propagate(released, counts, equations)
    unknown_cells = np.nonzero(~known)[0]
    pinned = np.nonzero(known & ~released)[0]
    if not len(unknown_cells):
        return pinned
    system = equations[:, unknown_cells].tocsr()
    system = system[np.diff(system.indptr) > 0]
    if not system.shape[0]:
        return pinned
    fixed = _fixed_by_projection(system)
    if fixed is None:
        fixed = _fixed_columns(system.toarray())
    return np.concatenate([pinned, unknown_cells[fixed]])


def _propagate(
    released: np.ndarray, counts: np.ndarray, equations: sparse.csr_matrix
) -> np.ndarray:
    known = released.copy()
    magnitude = abs(equations)
    margins = equations.multiply(equations > 0).tocsr()
    values = counts.astype(np.float64)
    while True:
        unknown = (~known).astype(np.float64)
        unknown_members = magnitude @ unknown
        unknown_margin = margins @ unknown
        known_sum = equations @ (values * known)  # margin - shown parts = sum of unknown parts
        zero_parts = (unknown_members > 0) & (unknown_margin == 0) & (np.abs(known_sum) < 0.5)
        single = unknown_members == 1
        rows = np.nonzero(zero_parts | single)[0]
        if not len(rows):
            return known
        members = magnitude[rows].indices
        newly = members[~known[members]]
        if not len(newly):
            return known
        known[newly] = True


def _fixed_by_projection(system: sparse.csr_matrix) -> np.ndarray | None:
    rng = np.random.default_rng(0)  # deterministic: the same counts give the same release
    transposed = system.T.tocsr()
    fixed = np.ones(system.shape[1], dtype=bool)
    for _ in range(2):
        probe = rng.standard_normal(system.shape[1])
        solution = sparse_linalg.lsqr(
            transposed, probe, atol=1e-14, btol=1e-14, iter_lim=20 * sum(system.shape)
        )
        residual = probe - transposed @ solution[0]
        # The residual must be orthogonal to the row space (else LSQR did not converge).
        if np.abs(system @ residual).max(initial=0.0) > 1e-7:
            return None
        fixed &= np.abs(residual) < 1e-6
    return fixed


def _nearest_complement(
    cell: int,
    released: np.ndarray,
    counts: np.ndarray,
    equations: sparse.csr_matrix,
    by_column: sparse.csc_matrix,
) -> int:
    """The released cell to withhold for a determined one: search outward through the lines
    of withheld cells from it, and in the nearest lines that hold a released cell take the
    smallest part (withholding a margin would withhold everything below it)."""
    seen_cells, seen_lines = {cell}, set()
    frontier = [cell]
    while frontier:
        best, best_rank = -1, None
        next_frontier: list[int] = []
        for current in frontier:
            for line in by_column.indices[
                by_column.indptr[current] : by_column.indptr[current + 1]
            ]:
                if line in seen_lines:
                    continue
                seen_lines.add(int(line))
                start, end = equations.indptr[line], equations.indptr[line + 1]
                for member, sign in zip(
                    equations.indices[start:end].tolist(),
                    equations.data[start:end].tolist(),
                    strict=True,
                ):
                    if released[member]:
                        rank = (sign > 0, int(counts[member]))
                        if best < 0 or rank < best_rank:
                            best, best_rank = member, rank
                    elif member not in seen_cells:
                        seen_cells.add(member)
                        next_frontier.append(member)
        if best >= 0:
            return best
        frontier = next_frontier
    return -1


def _fixed_columns(block: np.ndarray) -> np.ndarray:
    """Dense fallback for `_determined`: the columns whose unit vector lies in the row space
    of `block` (row norm 1 in an orthonormal basis of it, from a rank-revealing QR)."""
    q, r, _ = linalg.qr(block.T, mode="economic", pivoting=True)
    diagonal = np.abs(np.diag(r))
    if not len(diagonal):
        return np.zeros(block.shape[1], dtype=bool)
    rank = int((diagonal > 1e-9 * max(1.0, float(diagonal[0]))).sum())
    return (q[:, :rank] ** 2).sum(axis=1) > 1 - 1e-8


def _withhold_for_determined(
    released: np.ndarray,
    counts: np.ndarray,
    equations: sparse.csr_matrix,
    k: int,
    weight: np.ndarray | None = None,
) -> bool:
    """Withhold one more cell next to each exactly determined withheld cell; True if any.
    `weight`: the counts as rule 3 sees them (an empty cell that tells counts as 0.5)."""
    flat_released = released.reshape(-1)
    flat_counts = counts.reshape(-1)
    # Only a small, non-empty cell is a disclosure: a cell of k or more could have been shown,
    # and an empty one holds nobody (unless its emptiness tells, see release_jointly).
    flat_weight = flat_counts if weight is None else np.asarray(weight).reshape(-1)
    small = (flat_weight > 0) & (flat_weight < k)
    if not (small & ~flat_released).any():
        return False  # only withheld cells can be determined: nothing to solve for
    determined = _determined(flat_released, flat_counts, equations)
    determined = determined[small[determined]]
    if not len(determined):
        return False
    by_column = equations.tocsc()
    changed = False
    for cell in determined.tolist():
        choice = _nearest_complement(cell, flat_released, flat_counts, equations, by_column)
        if choice >= 0:
            flat_released[choice] = False
            changed = True
    return changed
