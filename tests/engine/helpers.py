"""Helpers for the engine tests: facts from keywords, small packs written on the fly."""

from __future__ import annotations

import textwrap
from pathlib import Path

from service.engine.facts import ReportFacts
from service.engine.rules import RuleSet, load_rule_set

RULES_DIR = Path(__file__).resolve().parents[2] / "rules"
BENIGN_CORPUS = RULES_DIR / "tests" / "benign.jsonl"
TEST_RULE_ID = "test-001"

PACK_HEADER = """\
pack: test
version: 1.0.0
rules:
"""

# The examples are plain words so that any condition loads; tests check behaviour directly.
RULE_TEMPLATE = """\
  - id: {rule_id}
    title: A test rule
    description: Used by the engine tests.
    status: {status}
    weight: {weight}
    condition:
{condition}
    examples:
      match: [one, two]
      no_match: [three, four]
"""


def facts(text: str = "", **fields: object) -> ReportFacts:
    """Facts for a report with this text and structured fields (category 'other' by default)."""
    return ReportFacts.from_mapping({"text": text, **fields})


def write_pack(directory: Path, body: str, name: str = "test.yaml") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def one_rule_set(
    directory: Path, condition: str, weight: float = 1.0, status: str = "stable"
) -> RuleSet:
    """A rule set of one rule, test-001, with this condition (YAML, indented freely)."""
    indented = textwrap.indent(textwrap.dedent(condition).strip("\n"), " " * 6)
    body = PACK_HEADER + RULE_TEMPLATE.format(
        rule_id=TEST_RULE_ID, status=status, weight=weight, condition=indented
    )
    write_pack(directory, body)
    return load_rule_set(directory)


def fires(rule_set: RuleSet, text: str = "", **fields: object) -> bool:
    return any(hit.rule_id == TEST_RULE_ID for hit in rule_set.evaluate(facts(text, **fields)))


def matched(rule_set: RuleSet, text: str = "", **fields: object) -> list[str]:
    hits = [h for h in rule_set.evaluate(facts(text, **fields)) if h.rule_id == TEST_RULE_ID]
    return hits[0].matched if hits else []
