"""Reading labelled report corpora (JSONL): one JSON object per line.

Each line needs `text` and `escalated` (true/false); `category` defaults to "other"; the
optional structured fields are checked for type; unknown fields are ignored, so files
written by other people (or tools) can be read as they are.

Errors name the file and line number and the field at fault, never the report text.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from service.engine.facts import ReportFacts

_OPTIONAL_STRING_FIELDS = ("category", "duration", "desired_outcome", "urgency", "language")
_OPTIONAL_LIST_FIELDS = ("raised_with", "involved")


class DataFileError(ValueError):
    """A labelled data file is missing, empty or has a malformed line."""


@dataclass(frozen=True, slots=True)
class LabelledReport:
    facts: ReportFacts
    escalated: bool
    source: str  # "<file name>:<line number>", to point at a line without quoting it
    # What must never sit on both sides of a split: the web domain the account was written
    # from (its `source` address); a line without one (an exported case) is its own group.
    group: str = ""

    @property
    def file_name(self) -> str:
        return self.source.rsplit(":", 1)[0]


def source_domain(address: str) -> str:
    """'https://www.example.org/a/b' -> 'example.org': the unit a grouped split keeps whole."""
    host = urlsplit(address if "://" in address else f"//{address}").hostname or ""
    return host.removeprefix("www.")


def read_labelled_file(path: Path) -> list[LabelledReport]:
    """Read one JSONL file; blank lines are skipped, anything else malformed is an error."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise DataFileError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise DataFileError(f"{path}: not UTF-8 text") from None
    reports = [
        _parse_line(line, path.name, number)
        for number, line in enumerate(lines, start=1)
        if line.strip()
    ]
    if not reports:
        raise DataFileError(f"{path}: no reports in file")
    return reports


def labelled_files(directory: Path) -> list[Path]:
    """The `*.jsonl` files of a corpus directory, in name order."""
    return sorted(p for p in directory.glob("*.jsonl") if p.is_file())


def read_labelled_dir(directory: Path) -> list[LabelledReport]:
    """Read every `*.jsonl` file in a directory, in file-name order."""
    files = labelled_files(directory)
    if not files:
        raise DataFileError(f"{directory}: no *.jsonl files")
    return [report for path in files for report in read_labelled_file(path)]


def files_sha256(paths: Iterable[Path]) -> str:
    """SHA-256 over the files' bytes, concatenated in file-name order (order-independent input)."""
    digest = hashlib.sha256()
    for path in sorted(paths, key=lambda p: p.name):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def labels(reports: Sequence[LabelledReport]) -> list[int]:
    return [int(r.escalated) for r in reports]


def _parse_line(line: str, file_name: str, number: int) -> LabelledReport:
    where = f"{file_name} line {number}"
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        # error.msg describes the syntax problem without quoting the content.
        raise DataFileError(
            f"{where}: not valid JSON ({error.msg}, column {error.colno})"
        ) from None
    if not isinstance(record, Mapping):
        raise DataFileError(f"{where}: expected a JSON object")
    _check_fields(record, where)
    address = record.get("source")
    return LabelledReport(
        facts=ReportFacts.from_mapping(record),
        escalated=bool(record["escalated"]),
        source=f"{file_name}:{number}",
        group=(source_domain(address) if isinstance(address, str) else "")
        or f"{file_name}:{number}",
    )


def _check_fields(record: Mapping[str, Any], where: str) -> None:
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        raise DataFileError(f"{where}: 'text' must be a non-empty string")
    escalated = record.get("escalated")
    # Booleans only (0/1 tolerated): a string such as "false" would silently read as true.
    if not (isinstance(escalated, bool) or (isinstance(escalated, int) and escalated in (0, 1))):
        raise DataFileError(f"{where}: 'escalated' must be true or false")
    for name in _OPTIONAL_STRING_FIELDS:
        value = record.get(name)
        if value is not None and not isinstance(value, str):
            raise DataFileError(f"{where}: '{name}' must be a string")
    raised_before = record.get("raised_before")
    if raised_before is not None and not isinstance(raised_before, bool):
        raise DataFileError(f"{where}: 'raised_before' must be true, false or null")
    for name in _OPTIONAL_LIST_FIELDS:
        value = record.get(name)
        if value is None or isinstance(value, str):
            continue
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise DataFileError(f"{where}: '{name}' must be a list of strings")
