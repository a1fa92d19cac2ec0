"""tests/PROMISES.md names the tests that keep each promise of the README. A promise with no
test, a test id that no longer exists, or a titled README paragraph with no entry fails here,
so a promise cannot lose its test silently."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROMISES = ROOT / "tests" / "PROMISES.md"
README = ROOT / "README.md"
# README section heading -> PROMISES.md section
SECTIONS = {"Privacy": "Privacy", "Security": "Security", "Operating it": "Operating"}
NOT_CODE = "Not promises of the code"


@dataclass
class Promise:
    section: str
    title: str | None
    text: str
    tests: list[str] = field(default_factory=list)


def parse(markdown: str) -> tuple[list[Promise], set[tuple[str, str]], list[str]]:
    """(promises, (section, title) headings, titles listed as not promises of the code)."""
    promises: list[Promise] = []
    headings: set[tuple[str, str]] = set()
    not_code: list[str] = []
    section = title = None
    for line in markdown.splitlines():
        if line.startswith("## "):
            section, title = line[3:].strip(), None
        elif line.startswith("### "):
            title = line[4:].strip()
            headings.add((section or "", title.lower()))
        elif line.startswith("- ") and section == NOT_CODE:
            not_code.append(line[2:].split(":")[0].strip().lower())
        elif line.startswith("- ") and section:
            promises.append(Promise(section, title, line[2:].strip()))
        elif line.startswith("  - ") and promises:
            promises[-1].tests.append(line[4:].strip().strip("`"))
    return promises, headings, not_code


def readme_titles(markdown: str) -> list[tuple[str, str]]:
    """(section, title) of every paragraph of the README's promise sections that starts with a
    bold title ("**Encryption at rest.** ...")."""
    found, section, previous = [], None, ""
    for line in markdown.splitlines():
        if line.startswith("## "):
            heading = line[3:].strip()
            section = next((s for r, s in SECTIONS.items() if heading.startswith(r)), None)
        elif section and not previous.strip() and (match := re.match(r"\*\*(.+?)\.\*\*", line)):
            found.append((section, match.group(1)))
        previous = line
    return found


def collected(files: set[str]) -> set[str]:
    """Every node id pytest collects from these files (as pytest itself collects them)."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            *sorted(files),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    ids = {line.strip() for line in result.stdout.splitlines() if "::" in line}
    assert ids, result.stdout + result.stderr
    return ids


def missing_ids(named: set[str], existing: set[str]) -> list[str]:
    """Named ids pytest does not collect; a name without [params] stands for all its cases."""
    bare = {node.split("[")[0] for node in existing}
    return sorted(n for n in named if n not in existing and n not in bare)


PROMISE_LIST, HEADINGS, NOT_CODE_TITLES = parse(PROMISES.read_text())


def test_the_file_lists_promises_in_every_section():
    sections = {p.section for p in PROMISE_LIST}
    assert set(SECTIONS.values()) | {"Deadlines"} <= sections
    assert len(PROMISE_LIST) >= 30


@pytest.mark.parametrize("promise", PROMISE_LIST, ids=lambda p: p.text[:60])
def test_every_promise_has_a_test(promise):
    assert promise.tests, f"no test keeps: {promise.text}"
    assert all(t.startswith("tests/") and "::" in t for t in promise.tests), promise.tests


def test_every_named_test_exists():
    named = {t for p in PROMISE_LIST for t in p.tests}
    files = {t.split("::")[0] for t in named}
    absent_files = sorted(f for f in files if not (ROOT / f).is_file())
    assert not absent_files, absent_files
    assert missing_ids(named, collected(files)) == []


def test_every_titled_readme_paragraph_has_its_promises():
    titles = readme_titles(README.read_text())
    assert len(titles) >= 8  # the parse found the README's paragraphs
    untracked = [
        (section, title)
        for section, title in titles
        if (section, title.lower()) not in HEADINGS and title.lower() not in NOT_CODE_TITLES
    ]
    assert untracked == [], "add these README paragraphs to tests/PROMISES.md"


# The checks above, on small examples, so that they are seen to fail.

EXAMPLE = """## Security
### Abuse limits
- limited
  - tests/x.py::test_a
- not tested yet
## Not promises of the code
- Reporting a vulnerability: people
"""


def test_the_parser_sees_an_untested_promise_and_the_exempt_titles():
    promises, headings, not_code = parse(EXAMPLE)
    assert [(p.text, p.tests) for p in promises] == [
        ("limited", ["tests/x.py::test_a"]),
        ("not tested yet", []),
    ]
    assert headings == {("Security", "abuse limits")} and not_code == ["reporting a vulnerability"]


def test_a_vanished_test_id_is_reported():
    existing = {"tests/x.py::test_a[1]", "tests/x.py::test_b"}
    assert missing_ids({"tests/x.py::test_a", "tests/x.py::test_b"}, existing) == []
    assert missing_ids({"tests/x.py::test_c", "tests/x.py::test_a[2]"}, existing) == [
        "tests/x.py::test_a[2]",
        "tests/x.py::test_c",
    ]


def test_a_new_titled_readme_paragraph_is_found():
    text = (
        "## Security\n\n**New promise.** We do X,\n**bold** in a line is no title.\n\n"
        "## Other\n\n**Not here.** no\n"
    )
    assert readme_titles(text) == [("Security", "New promise")]
