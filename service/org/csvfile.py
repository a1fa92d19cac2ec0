"""Reading the organisation's HR file: `unit_id,name,parent_unit_id,headcount`, one unit a row.

Every row is checked before anything is written, and every problem is reported with its line,
so a file is either taken whole or refused whole. The rules:

* the header names exactly these four columns (any order, any case, surrounding spaces
  ignored); blank lines are skipped;
* `unit_id` is the organisation's own identifier, unique in the file, at most 64 characters;
* `name` is required, at most 200 characters;
* `parent_unit_id` is blank for a root, or the `unit_id` of another row of the same file (a unit
  absent from the file is retired, so it cannot be anyone's parent); more than one root is
  allowed, for a group of separate companies; no unit may be its own ancestor;
* `headcount` is a whole number, 0 or more.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TextIO

from service.db.org import EXTERNAL_ID_MAX, NAME_MAX

COLUMNS: tuple[str, ...] = ("unit_id", "name", "parent_unit_id", "headcount")
HEADCOUNT_MAX = 10_000_000
# The materialised path "/1/42/4711/" has to fit its column (500 characters) at any depth.
DEPTH_MAX = 40
MAX_PROBLEMS = 50  # a wholly wrong file says why in the first few lines; no need for 10,000
_WHOLE_NUMBER = re.compile(r"[0-9]+")
NOT_UTF8 = "the file is not UTF-8 text: save it as CSV UTF-8 and try again"


@dataclass(frozen=True)
class UnitRow:
    line: int
    unit_id: str
    name: str
    parent_unit_id: str | None
    headcount: int


class OrgFileError(ValueError):
    """The file was refused; `problems` are "line N: ..." messages, in file order."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def read_org_csv(stream: TextIO) -> list[UnitRow]:
    """The file's units, parents before children; raises OrgFileError listing every problem."""
    reader = csv.reader(stream)
    try:
        header = next(reader, None)
    except UnicodeDecodeError:
        raise OrgFileError([NOT_UTF8]) from None
    except csv.Error as error:
        raise OrgFileError([f"line 1: unreadable CSV ({error})"]) from None
    if header is None:
        raise OrgFileError([f"line 1: the file is empty; expected the header {','.join(COLUMNS)}"])
    position = _column_positions(header)

    rows: list[UnitRow] = []
    problems: list[str] = []
    first_line: dict[str, int] = {}
    try:
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(COLUMNS):
                problems.append(f"line {line}: expected {len(COLUMNS)} fields, found {len(cells)}")
                continue
            row, row_problems = _read_row(line, {name: cells[i] for name, i in position.items()})
            problems += row_problems
            if row is None:
                continue
            if row.unit_id in first_line:
                problems.append(
                    f"line {line}: unit_id {row.unit_id!r} appears again "
                    f"(first on line {first_line[row.unit_id]})"
                )
                continue
            first_line[row.unit_id] = line
            rows.append(row)
    except UnicodeDecodeError:
        # Text is decoded in blocks, so the line the reader had reached says little.
        raise OrgFileError([NOT_UTF8]) from None
    except csv.Error as error:
        problems.append(f"line {reader.line_num}: unreadable CSV ({error}); stopped reading here")
    if not rows and not problems:
        problems.append("the file lists no units; refusing to retire the whole organisation")
    problems += _tree_problems(rows)
    if problems:
        problems.sort(key=_line_of)
        if len(problems) > MAX_PROBLEMS:
            more = len(problems) - MAX_PROBLEMS
            problems = [*problems[:MAX_PROBLEMS], f"... and {more} more problem(s)"]
        raise OrgFileError(problems)
    return _parents_first(rows)


def _column_positions(header: list[str]) -> dict[str, int]:
    names = [cell.strip().lower() for cell in header]
    if names:  # a byte-order mark read as text (a file opened without utf-8-sig)
        names[0] = names[0].removeprefix("\ufeff").strip()
    missing = [name for name in COLUMNS if name not in names]
    unexpected = [name for name in names if name not in COLUMNS]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if missing or unexpected or repeated:
        details = [
            f"missing {', '.join(missing)}" if missing else "",
            f"unexpected {', '.join(repr(n) for n in unexpected)}" if unexpected else "",
            f"repeated {', '.join(repeated)}" if repeated else "",
        ]
        raise OrgFileError(
            [
                f"line 1: the header must be {','.join(COLUMNS)} "
                f"({'; '.join(d for d in details if d)})"
            ]
        )
    return {name: names.index(name) for name in COLUMNS}


def _read_row(line: int, cells: dict[str, str]) -> tuple[UnitRow | None, list[str]]:
    problems: list[str] = []
    unit_id = cells["unit_id"].strip()
    name = " ".join(cells["name"].split())
    parent = cells["parent_unit_id"].strip() or None
    raw_headcount = cells["headcount"].strip()
    if not unit_id:
        problems.append(f"line {line}: unit_id is missing")
    elif len(unit_id) > EXTERNAL_ID_MAX:
        problems.append(f"line {line}: unit_id is longer than {EXTERNAL_ID_MAX} characters")
    if not name:
        problems.append(f"line {line}: name is missing")
    elif len(name) > NAME_MAX:
        problems.append(f"line {line}: name is longer than {NAME_MAX} characters")
    headcount = 0
    if not raw_headcount:
        problems.append(f"line {line}: headcount is missing (0 or more)")
    elif not _WHOLE_NUMBER.fullmatch(raw_headcount):
        what = "negative" if raw_headcount.startswith("-") else "not a whole number"
        problems.append(f"line {line}: headcount {raw_headcount!r} is {what} (0 or more)")
    elif int(raw_headcount) > HEADCOUNT_MAX:
        problems.append(f"line {line}: headcount {raw_headcount} is more than {HEADCOUNT_MAX:,}")
    else:
        headcount = int(raw_headcount)
    if problems:
        return None, problems
    return UnitRow(line, unit_id, name, parent, headcount), []


def _tree_problems(rows: list[UnitRow]) -> list[str]:
    """Unknown parents, cycles (a unit its own ancestor) and trees too deep for the paths."""
    by_id = {row.unit_id: row for row in rows}
    problems = [
        f"line {row.line}: parent_unit_id {row.parent_unit_id!r} is not a unit_id in this file"
        for row in rows
        if row.parent_unit_id is not None and row.parent_unit_id not in by_id
    ]
    depth: dict[str, int | None] = {}  # None: above or in a cycle, so no depth
    for row in rows:
        chain: list[str] = []
        current: str | None = row.unit_id
        base: int | None = -1  # the depth above the chain's top: -1 for a root
        while current is not None and current in by_id:
            if current in depth:
                base = depth[current]
                break
            if current in chain:
                cycle = chain[chain.index(current) :]
                problems.append(_cycle_message([by_id[u] for u in cycle]))
                base = None
                break
            chain.append(current)
            current = by_id[current].parent_unit_id
        for unit_id in reversed(chain):
            base = None if base is None else base + 1
            depth[unit_id] = base
    problems += [
        f"line {row.line}: unit_id {row.unit_id!r} is {depth[row.unit_id]} levels deep "
        f"(at most {DEPTH_MAX})"
        for row in rows
        if (depth[row.unit_id] or 0) > DEPTH_MAX
    ]
    return problems


def _cycle_message(cycle: list[UnitRow]) -> str:
    first = min(cycle, key=lambda row: row.line)
    start = cycle.index(first)
    ordered = cycle[start:] + cycle[:start]
    if len(ordered) == 1:
        return f"line {first.line}: unit_id {first.unit_id!r} is its own parent"
    route = " -> ".join(repr(row.unit_id) for row in [*ordered, ordered[0]])
    lines = ", ".join(str(row.line) for row in sorted(cycle, key=lambda row: row.line))
    return f"line {first.line}: a cycle of parents {route} (lines {lines})"


def _line_of(problem: str) -> int:
    match = re.match(r"line (\d+):", problem)
    return int(match.group(1)) if match else 0


def _parents_first(rows: Iterable[UnitRow]) -> list[UnitRow]:
    """Each parent before its children, otherwise in file order (the tree is known acyclic)."""
    children: dict[str | None, list[UnitRow]] = {}
    for row in rows:
        children.setdefault(row.parent_unit_id, []).append(row)
    ordered: list[UnitRow] = []
    stack = list(reversed(children.get(None, [])))
    while stack:
        row = stack.pop()
        ordered.append(row)
        stack.extend(reversed(children.get(row.unit_id, [])))
    return ordered
