"""Import the organisation's staff directory (names only) from CSV for the name scrubber.

Accepted header rows (names matched case-insensitively, surrounding spaces ignored):

* one full-name column: ``name``, ``full_name``, ``full name``, ``fullname``,
  ``staff_name``, ``employee_name`` or ``display_name``; or
* ``first_name`` + ``last_name`` (also ``first name``/``firstname``/``given_name``/
  ``forename`` and ``surname``/``family_name``/``lastname``); the last name may be blank.

Other columns are ignored, so a full HR export can be uploaded as it is. Blank rows are
skipped; a row whose name is blank (while other columns are filled) or has no letters is an
error, reported with its line number and never with the row's values.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from typing import TextIO

_FULL_NAME_HEADERS = (
    "name",
    "full_name",
    "full name",
    "fullname",
    "staff_name",
    "employee_name",
    "display_name",
)
_FIRST_NAME_HEADERS = ("first_name", "first name", "firstname", "given_name", "forename")
_LAST_NAME_HEADERS = ("last_name", "last name", "lastname", "surname", "family_name")


class DirectoryImportError(ValueError):
    """The CSV cannot be read as a staff directory; the message names the line."""

    def __init__(self, message: str, line: int | None = None) -> None:
        self.line = line
        super().__init__(f"line {line}: {message}" if line is not None else message)


@dataclass(frozen=True)
class StaffName:
    first: str
    last: str | None = None

    @property
    def full_name(self) -> str:
        return f"{self.first} {self.last}" if self.last else self.first

    @classmethod
    def from_full_name(cls, full_name: str) -> StaffName:
        """'Mary Jane Watson' -> first 'Mary Jane', last 'Watson'; one word -> first only."""
        parts = full_name.split()
        if len(parts) == 1:
            return cls(parts[0])
        return cls(" ".join(parts[:-1]), parts[-1])


def parse_staff_csv(stream: TextIO) -> list[StaffName]:
    """Read staff names from CSV text with a header row; see the module docstring."""
    reader = csv.reader(stream)
    try:
        header = next(reader)
    except StopIteration:
        raise DirectoryImportError("the file is empty; expected a header row") from None
    except csv.Error as error:
        raise DirectoryImportError(f"unreadable CSV ({error})", line=1) from None

    columns = {cell.strip().lower(): index for index, cell in enumerate(header)}
    full_col = _find_column(columns, _FULL_NAME_HEADERS)
    first_col = _find_column(columns, _FIRST_NAME_HEADERS)
    last_col = _find_column(columns, _LAST_NAME_HEADERS)
    if full_col is None and first_col is None:
        raise DirectoryImportError(
            "no name column in the header; expected 'name' or 'full_name', "
            "or 'first_name' with 'last_name'",
            line=1,
        )

    names: list[StaffName] = []
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if first_col is not None:
                first = _cell(row, first_col)
                last = _cell(row, last_col) if last_col is not None else ""
                if not first:
                    raise DirectoryImportError("the first name is blank", line=line)
                name = StaffName(" ".join(first.split()), " ".join(last.split()) or None)
            else:
                assert full_col is not None  # checked above; narrows the type
                full = _cell(row, full_col)
                if not full:
                    raise DirectoryImportError("the name is blank", line=line)
                name = StaffName.from_full_name(full)
            if not any(char.isalpha() for char in name.full_name):
                raise DirectoryImportError("the name has no letters", line=line)
            names.append(name)
    except csv.Error as error:
        raise DirectoryImportError(f"unreadable CSV ({error})", line=reader.line_num) from None
    return names


def _find_column(columns: dict[str, int], candidates: tuple[str, ...]) -> int | None:
    for candidate in candidates:
        if candidate in columns:
            return columns[candidate]
    return None


def _cell(row: list[str], index: int) -> str:
    return row[index].strip() if index < len(row) else ""
