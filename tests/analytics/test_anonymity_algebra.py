"""The pieces of the release rule's audit on their own: the unit lines of a tree, and the
dense fallback that finds which withheld cells a system of lines pins down exactly."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from service.analytics.anonymity import UnitLines, _fixed_by_projection, _fixed_columns


def test_unit_lines_of_an_uneven_tree_are_padded():
    # 0 has children 1, 2 and 3; 1 has child 4.
    lines = UnitLines.from_parents([-1, 0, 0, 0, 1])
    assert lines.parent.tolist() == [-1, 0, 0, 0, 1]
    assert lines.margins.tolist() == [0, 1]
    assert lines.parts.tolist() == [[1, 2, 3], [4, -1, -1]]
    assert lines.parts.dtype == np.int64 and lines.margins.dtype == np.int64


def test_a_lone_unit_has_no_lines():
    lines = UnitLines.from_parents([-1])
    assert lines.margins.tolist() == [] and lines.parts.shape == (0, 0)
    assert lines.margins.dtype == np.int64  # indices, even when there are none


@pytest.mark.parametrize(
    ("rows", "fixed"),
    [
        # x0 alone in a line: fixed; x1 + x2 only together: neither is
        ([[1, 0, 0], [0, 1, 1]], [True, False, False]),
        # x1 + x2 and x2 alone: both fixed
        ([[0, 1, 1], [0, 0, 1]], [False, True, True]),
        # x0 - x1 and x0 + x1: both fixed, x2 appears nowhere
        ([[1, -1, 0], [1, 1, 0]], [True, True, False]),
        # one line over all three: nothing fixed
        ([[1, 1, 1]], [False, False, False]),
        # a line repeated adds nothing
        ([[1, 1, 0], [2, 2, 0]], [False, False, False]),
    ],
)
def test_the_dense_fallback_finds_exactly_the_fixed_cells(rows, fixed):
    block = np.array(rows, dtype=float)
    assert _fixed_columns(block).tolist() == fixed
    # and the sparse projection used first agrees
    assert _fixed_by_projection(sparse.csr_matrix(block)).tolist() == fixed


def test_the_dense_fallback_of_an_empty_system_fixes_nothing():
    assert _fixed_columns(np.zeros((0, 3))).tolist() == [False, False, False]
