"""The rules test: every rule's own examples, and a benign corpus no high-weight rule may fire on.

`defuse rules test` and CI run this. Failures are plain sentences naming the file, the rule and
the example, so a rule author can fix them without reading code.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from service.engine.facts import ReportFacts
from service.engine.ruleset import HIGH_WEIGHT, RuleSet

PREVIEW_CHARS = 70


def _preview(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= PREVIEW_CHARS else flat[: PREVIEW_CHARS - 1] + "…"


def check_examples(rule_set: RuleSet, benign_corpus: Path | None = None) -> list[str]:
    """Human-readable failures; an empty list means every check passed.

    Each active rule must fire on every `examples.match` entry and stay silent on every
    `examples.no_match` entry. With a benign corpus, no rule with weight >= HIGH_WEIGHT or that
    forces high/critical may fire on any of its texts.
    """
    failures: list[str] = []
    for rule in rule_set.rules:
        if not rule.active:
            continue
        for expected, examples in ((True, rule.match_examples), (False, rule.no_match_examples)):
            for example in examples:
                fired = any(hit.rule_id == rule.id for hit in rule_set.evaluate(example.facts))
                if fired != expected:
                    outcome = "did not fire" if expected else "fired but must not"
                    failures.append(
                        f"{rule.file}: rule {rule.id}: {example.where} {outcome}: "
                        f"{_preview(example.facts.text)!r}"
                    )
    if benign_corpus is not None:
        failures.extend(_check_benign(rule_set, Path(benign_corpus)))
    return failures


def _check_benign(rule_set: RuleSet, corpus: Path) -> Iterator[str]:
    try:
        lines = corpus.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        yield f"{corpus}: cannot read the benign corpus ({type(error).__name__})"
        return
    texts = 0
    for number, line in enumerate(lines, start=1):
        facts, problem = _parse_corpus_line(line, is_json=corpus.suffix == ".jsonl")
        if problem:
            yield f"{corpus}:{number}: {problem}"
        if facts is None:
            continue
        texts += 1
        for hit in rule_set.evaluate(facts):
            if hit.is_high:
                forced = f", forces {hit.min_level}" if hit.min_level else ""
                yield (
                    f"{corpus}:{number}: rule {hit.rule_id} (weight {hit.weight:g}{forced}) fired "
                    f"on a benign text, matching {', '.join(hit.matched) or 'its fields'}"
                )
    if texts == 0:
        yield f"{corpus}: the benign corpus holds no texts"


def _parse_corpus_line(line: str, is_json: bool) -> tuple[ReportFacts | None, str | None]:
    """A .jsonl line is an object with 'text' and optional fields; a .txt line is one text.

    Blank lines and lines starting with '#' are skipped in both.
    """
    stripped = line.strip()
    if not stripped or stripped.startswith("#"):
        return None, None
    if not is_json:
        return ReportFacts(text=stripped, category="other"), None
    try:
        data = json.loads(stripped)
    except ValueError:
        return None, "is not valid JSON"
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        return None, "must be a JSON object with a 'text' string"
    return ReportFacts.from_mapping(data), None


__all__ = ["HIGH_WEIGHT", "check_examples"]
