"""The shipped rule packs: their own examples, the benign corpus, and the promised coverage."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from service.engine.rules import (
    HIGH_WEIGHT,
    MIN_EXAMPLES,
    RuleSet,
    check_examples,
    load_rule_set,
)

from .helpers import BENIGN_CORPUS, RULES_DIR, facts


def fired(rule_set: RuleSet, text: str, **fields: object) -> set[str]:
    return {hit.rule_id for hit in rule_set.evaluate(facts(text, **fields))}


def test_every_example_and_the_benign_corpus_pass(shipped_rules: RuleSet) -> None:
    assert check_examples(shipped_rules, BENIGN_CORPUS) == []


def test_coverage_promised_to_the_product_owner(shipped_rules: RuleSet) -> None:
    active = [rule for rule in shipped_rules.rules if rule.active]
    assert len(active) >= 30
    for rule in active:
        assert len(rule.match_examples) >= MIN_EXAMPLES, rule.id
        assert len(rule.no_match_examples) >= MIN_EXAMPLES, rule.id
    assert any(rule.weight < 0 for rule in active), "de-escalating rules exist"
    benign_lines = [
        line for line in BENIGN_CORPUS.read_text().splitlines() if line.strip() and line[0] != "#"
    ]
    assert len(benign_lines) >= 60


def test_every_safety_rule_forces_a_level(shipped_rules: RuleSet) -> None:
    safety = [rule for rule in shipped_rules.rules if "safety" in rule.tags]
    assert {rule.id for rule in safety} >= {"safety-001", "safety-002", "safety-003"}
    for rule in safety:
        assert rule.min_level in ("high", "critical"), rule.id
    for rule_id in ("safety-001", "safety-002", "safety-003", "safety-004"):
        assert shipped_rules.rule(rule_id).min_level == "critical"


@pytest.mark.parametrize(
    ("text", "fields", "expected"),
    [
        ("I have filed a grievance and spoken to a solicitor.", {}, {"legal-001", "legal-003"}),
        (
            "This is constructive dismissal and I will go to an employment tribunal.",
            {},
            {"legal-002", "legal-004"},
        ),
        ("I'm scared of retaliation if I speak up.", {}, {"power-004"}),
        ("He shouts at me.", {"involved": ["my manager"]}, {"power-001"}),
        (
            "He keeps making comments about my accent and I was passed over again.",
            {},
            {"protected-002"},
        ),
        ("He touched my thigh at the party.", {}, {"protected-003"}),
        (
            "It has happened every day for months.",
            {"duration": "years"},
            {"pattern-001", "pattern-003"},
        ),
        ("I raised it and nothing was done.", {"raised_before": True}, {"pattern-004"}),
        ("I'm not the only one, several colleagues have left.", {}, {"pattern-007"}),
        ("I'm thinking of handing in my notice.", {}, {"impact-001"}),
        ("I've had panic attacks and my GP signed me off.", {}, {"impact-002", "impact-003"}),
        ("I want to hurt myself.", {}, {"safety-001"}),
        ("He threatened to kill me in the car park.", {}, {"safety-002"}),
        (
            "I just wanted to get it off my chest.",
            {"desired_outcome": "be_heard"},
            {"calm-001", "calm-002"},
        ),
        ("It was a one-off and he has apologised.", {}, {"calm-003", "calm-004"}),
    ],
)
def test_escalation_signals_seen_in_practice(
    shipped_rules: RuleSet, text: str, fields: dict[str, object], expected: set[str]
) -> None:
    assert expected <= fired(shipped_rules, text, **fields)


def test_negated_legal_language_is_not_full_strength(shipped_rules: RuleSet) -> None:
    negated = fired(shipped_rules, "I am not going to a lawyer.")
    assert "legal-001" not in negated
    assert "legal-009" in negated
    assert shipped_rules.rule("legal-009").weight < shipped_rules.rule("legal-001").weight / 2
    assert "legal-001" in fired(shipped_rules, "I am going to a lawyer.")


def test_self_harm_fires_negated_or_not(shipped_rules: RuleSet) -> None:
    assert "safety-001" in fired(shipped_rules, "I want to hurt myself.")
    assert "safety-001" in fired(shipped_rules, "I don't want to hurt myself.")
    assert "over-trigger" in shipped_rules.rule("safety-001").description


def test_tricky_benign_texts_stay_quiet(shipped_rules: RuleSet) -> None:
    for text in (
        "We watched the tribunal scene in the film.",
        "I'm not going to quit, I love this job.",
        "This deadline is killing me.",
    ):
        hits = shipped_rules.evaluate(facts(text))
        assert not [h for h in hits if h.weight >= HIGH_WEIGHT or h.min_level], text


def _copy_rules(tmp_path: Path) -> Path:
    copy = tmp_path / "rules"
    shutil.copytree(RULES_DIR, copy)
    return copy


def test_a_broken_example_is_reported(tmp_path: Path) -> None:
    copy = _copy_rules(tmp_path)
    legal = copy / "legal.yaml"
    legal.write_text(
        legal.read_text().replace(
            "- My lawyer says I have a strong case.", "- My friend says I have a strong case."
        )
    )
    failures = check_examples(load_rule_set(copy))
    assert failures == [
        f"{legal}: rule legal-001: examples.match.en[1] did not fire: "
        "'My friend says I have a strong case.'"
    ]


def test_a_no_match_example_that_fires_is_reported(tmp_path: Path) -> None:
    copy = _copy_rules(tmp_path)
    legal = copy / "legal.yaml"
    legal.write_text(
        legal.read_text().replace(
            "- The team meeting moved to Thursday.", "- My solicitor moved to Thursday."
        )
    )
    failures = check_examples(load_rule_set(copy))
    assert len(failures) == 1
    assert "rule legal-001: examples.no_match.en[1] fired but must not" in failures[0]


def test_benign_corpus_failures_name_the_line(tmp_path: Path, shipped_rules: RuleSet) -> None:
    corpus = tmp_path / "benign.jsonl"
    corpus.write_text(
        '{"text": "Lunch is at noon."}\n'
        "# a comment\n"
        '{"text": "I will take them to an employment tribunal."}\n'
        "not json\n"
        '{"text": "He shouts at me.", "involved": ["my manager"]}\n'
    )
    failures = check_examples(shipped_rules, corpus)
    assert failures == [
        f"{corpus}:3: rule legal-002 (weight 1.8, forces high) fired on a benign text, "
        "matching employment tribunal",
        f"{corpus}:4: is not valid JSON",
    ]


def test_benign_corpus_as_plain_text(tmp_path: Path, shipped_rules: RuleSet) -> None:
    corpus = tmp_path / "benign.txt"
    corpus.write_text("Lunch is at noon.\n\nI want to hurt myself.\n")
    failures = check_examples(shipped_rules, corpus)
    assert len(failures) == 1 and failures[0].startswith(f"{corpus}:3: rule safety-001")


def test_missing_or_empty_corpus_is_a_failure(tmp_path: Path, shipped_rules: RuleSet) -> None:
    assert "cannot read" in check_examples(shipped_rules, tmp_path / "absent.jsonl")[0]
    empty = tmp_path / "empty.jsonl"
    empty.write_text("# nothing yet\n")
    assert check_examples(shipped_rules, empty) == [f"{empty}: the benign corpus holds no texts"]


def test_the_worked_example_in_the_readme_loads_and_passes(tmp_path: Path) -> None:
    readme = (RULES_DIR / "README.md").read_text(encoding="utf-8")
    section = readme.split("## A worked example", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    directory = tmp_path / "rules"
    directory.mkdir()
    (directory / "legal.yaml").write_text(example, encoding="utf-8")
    rule_set = load_rule_set(directory)
    assert [rule.id for rule in rule_set.rules] == ["legal-001"]
    assert check_examples(rule_set) == []
