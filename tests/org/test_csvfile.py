"""Reading the HR file: every bad row refused with its line, the good file parents-first."""

from __future__ import annotations

import io

import pytest

from service.org import OrgFileError, read_org_csv

HEADER = "unit_id,name,parent_unit_id,headcount\n"


def read(text: str):  # type: ignore[no-untyped-def]
    return read_org_csv(io.StringIO(text))


def problems(text: str) -> list[str]:
    with pytest.raises(OrgFileError) as refused:
        read(text)
    return refused.value.problems


def test_a_good_file_comes_back_parents_first_whatever_the_file_order():
    rows = read(
        HEADER + "T1,Team one,D1,4\n"
        "ROOT,Group,,10\n"
        "D1, Division  one ,ROOT, 7 \n"
        "\n"  # blank lines are skipped
        "OTHER,Sister company,,3\n"
    )
    assert [row.unit_id for row in rows] == ["ROOT", "D1", "T1", "OTHER"]
    division = rows[1]
    assert (division.name, division.parent_unit_id, division.headcount, division.line) == (
        "Division one",
        "ROOT",
        7,
        4,
    )
    assert rows[0].parent_unit_id is None  # blank parent: a root; more than one is allowed


def test_columns_may_come_in_any_order_and_case_with_a_byte_order_mark():
    rows = read("\ufeffHeadcount, Name ,UNIT_ID,parent_unit_id\n5,Group,G,\n")
    assert (rows[0].unit_id, rows[0].name, rows[0].headcount) == ("G", "Group", 5)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("unit_id,name,parent_unit_id\n", "missing headcount"),
        ("unit_id,name,parent,headcount\n", "unexpected 'parent'"),
        ("unit_id,name,parent_unit_id,headcount,cost_centre\n", "unexpected 'cost_centre'"),
        ("unit_id,name,name,parent_unit_id,headcount\n", "repeated name"),
        ("", "the file is empty"),
    ],
)
def test_a_wrong_header_is_refused_on_line_1(header, expected):
    (problem,) = problems(header + "G,Group,,5\n" if header else "")
    assert problem.startswith("line 1: ") and expected in problem


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("X,Team,,-3", "headcount '-3' is negative"),
        ("X,Team,,2.5", "headcount '2.5' is not a whole number"),
        ("X,Team,,+4", "headcount '+4' is not a whole number"),
        ("X,Team,,1_000", "headcount '1_000' is not a whole number"),
        ("X,Team,,many", "headcount 'many' is not a whole number"),
        ("X,Team,,", "headcount is missing"),
        ("X,Team,,99999999999", "is more than 10,000,000"),
        ("X, ,,4", "name is missing"),
        (",Team,,4", "unit_id is missing"),
        ("X" * 65 + ",Team,,4", "unit_id is longer than 64 characters"),
        ("X," + "n" * 201 + ",,4", "name is longer than 200 characters"),
        ("X,Team,NOPE,4", "parent_unit_id 'NOPE' is not a unit_id in this file"),
        ("X,Team,X,4", "unit_id 'X' is its own parent"),
        ("X,Team,,4,extra", "expected 4 fields, found 5"),
        ("X,Team", "expected 4 fields, found 2"),
    ],
)
def test_a_bad_row_is_refused_with_its_line(row, expected):
    (problem,) = problems(HEADER + "G,Group,,5\n" + row + "\n")
    assert problem.startswith("line 3: "), problem
    assert expected in problem, problem


def test_a_duplicate_id_names_both_lines():
    (problem,) = problems(HEADER + "G,Group,,5\nA,One,G,1\nA,Two,G,1\n")
    assert problem == "line 4: unit_id 'A' appears again (first on line 3)"


def test_a_cycle_is_refused_once_with_all_its_lines():
    found = problems(
        HEADER + "G,Group,,5\n"
        "A,One,C,1\n"  # line 3
        "B,Two,A,1\n"  # line 4
        "C,Three,B,1\n"  # line 5
        "D,Below the cycle,C,1\n"
    )
    assert found == ["line 3: a cycle of parents 'A' -> 'C' -> 'B' -> 'A' (lines 3, 4, 5)"]


def test_every_problem_is_listed_in_line_order():
    found = problems(
        HEADER + "G,Group,,5\nA,,G,1\nB,Two,Z,1\nC,Three,G,-1\nA,Again,G,2\nE,Fine,G,1\n"
    )
    assert [p.split(":")[0] for p in found] == ["line 3", "line 4", "line 5"]
    # Line 3's row was unreadable, so line 6 is its first good appearance, not a duplicate.


def test_an_empty_file_would_retire_everything_and_is_refused():
    assert problems(HEADER) == [
        "the file lists no units; refusing to retire the whole organisation"
    ]
    assert problems(HEADER + "\n\n")[0].startswith("the file lists no units")


def test_a_tree_too_deep_for_the_paths_is_refused():
    lines = ["L0,Level 0,,1"] + [f"L{i},Level {i},L{i - 1},1" for i in range(1, 42)]
    (problem,) = problems(HEADER + "\n".join(lines) + "\n")
    assert problem == "line 43: unit_id 'L41' is 41 levels deep (at most 40)"
    assert len(read(HEADER + "\n".join(lines[:41]) + "\n")) == 41


def test_a_file_that_is_not_utf8_is_refused():
    stream = io.TextIOWrapper(io.BytesIO((HEADER + "G,Gr\xfcppe,,5\n").encode("latin-1")))
    with pytest.raises(OrgFileError) as refused:
        read_org_csv(stream)
    assert "not UTF-8" in refused.value.problems[0]


def test_quoted_names_may_hold_commas():
    (row,) = read(HEADER + 'G,"Sales, Marketing and Events",,5\n')
    assert row.name == "Sales, Marketing and Events"
