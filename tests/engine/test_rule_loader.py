"""Loading rule packs: every malformed pack fails with a message naming file, rule and field."""

from __future__ import annotations

import pickle
import textwrap
from pathlib import Path

import pytest

from service.engine.rules import RulePackError, load_rule_set

from .helpers import write_pack

VALID_RULE = """\
  - id: legal-001
    title: Mentions a lawyer
    description: The reporter mentions a lawyer.
    status: stable
    weight: 1.5
    condition:
      words: [lawyer]
    examples:
      match: [I spoke to a lawyer., My lawyer called.]
      no_match: [I am not going to a lawyer., The rota changed.]
"""


def pack(rules: str = VALID_RULE, header: str = "pack: legal\nversion: 1.0.0\n") -> str:
    return header + "rules:\n" + rules


def replace(old: str, new: str, rules: str = VALID_RULE) -> str:
    assert old in rules, f"{old!r} is not in the rule template"
    return pack(rules.replace(old, new))


def load_error(tmp_path: Path, body: str, name: str = "legal.yaml") -> RulePackError:
    write_pack(tmp_path / "rules", body, name)
    with pytest.raises(RulePackError) as caught:
        load_rule_set(tmp_path / "rules")
    return caught.value


def test_the_documented_message_format(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    body = replace("      words: [lawyer]\n", "      any:\n        - words: []\n")
    write_pack(tmp_path / "rules", body, "legal.yaml")
    with pytest.raises(RulePackError) as caught:
        load_rule_set(Path("rules"))
    error = caught.value
    assert str(error) == (
        "rules/legal.yaml: rule legal-001: field 'condition.any[0].words': must be a non-empty list"
    )
    assert (error.file, error.rule_id, error.field) == (
        "rules/legal.yaml",
        "legal-001",
        "condition.any[0].words",
    )
    assert error.message == "must be a non-empty list"


MALFORMED = [
    # (case, pack body, rule id, field, words in the message)
    (
        "missing id",
        replace("  - id: legal-001\n    title:", "  - title:"),
        "#1",
        "id",
        "is required",
    ),
    ("bad id", replace("id: legal-001", "id: Legal 001"), "Legal 001", "id", "lowercase"),
    ("bad status", replace("status: stable", "status: live"), "legal-001", "status", "stable"),
    ("weight text", replace("weight: 1.5", "weight: high"), "legal-001", "weight", "number"),
    ("weight bool", replace("weight: 1.5", "weight: yes"), "legal-001", "weight", "number"),
    ("weight nan", replace("weight: 1.5", "weight: .nan"), "legal-001", "weight", "between"),
    ("weight huge", replace("weight: 1.5", "weight: 9"), "legal-001", "weight", "between"),
    ("typo key", replace("weight: 1.5", "wieght: 1.5"), "legal-001", "wieght", "unknown key"),
    (
        "missing weight",
        replace("    weight: 1.5\n", ""),
        "legal-001",
        "weight",
        "is required",
    ),
    (
        "bad min_level",
        replace("weight: 1.5", "weight: 1.5\n    min_level: severe"),
        "legal-001",
        "min_level",
        "critical",
    ),
    (
        "negative weight forcing a level",
        replace("weight: 1.5", "weight: -1\n    min_level: high"),
        "legal-001",
        "min_level",
        "negative",
    ),
    (
        "bad regex",
        replace("words: [lawyer]", "regex: '(unclosed'"),
        "legal-001",
        "condition.regex",
        "invalid regular expression",
    ),
    (
        "regex in a list",
        replace(
            "      words: [lawyer]\n",
            "      any:\n        - words: [lawyer]\n        - regex: ['ok', '[z-a]']\n",
        ),
        "legal-001",
        "condition.any[1].regex[1]",
        "invalid regular expression",
    ),
    (
        "regex matching empty text",
        replace("words: [lawyer]", "regex: 'x*'"),
        "legal-001",
        "condition.regex",
        "empty text",
    ),
    (
        "two kinds in one condition",
        replace("words: [lawyer]", "words: [lawyer]\n      regex: 'law'"),
        "legal-001",
        "condition",
        "exactly one of",
    ),
    (
        "no kind at all",
        replace("words: [lawyer]", "wrods: [lawyer]"),
        "legal-001",
        "condition",
        "exactly one of",
    ),
    (
        "unknown option",
        replace("words: [lawyer]", "words: [lawyer]\n      negation: count"),
        "legal-001",
        "condition.negation",
        "unknown key",
    ),
    (
        "bad when_negated",
        replace("words: [lawyer]", "words: [lawyer]\n      when_negated: sometimes"),
        "legal-001",
        "condition.when_negated",
        "ignore, count, only",
    ),
    (
        "yes read as a boolean",
        replace("words: [lawyer]", "words: [lawyer, yes]"),
        "legal-001",
        "condition.words[1]",
        "quotes",
    ),
    (
        "punctuation in a term",
        replace("words: [lawyer]", "words: [lawyer, 'sue!']"),
        "legal-001",
        "condition.words[1]",
        "regex",
    ),
    (
        "short wildcard",
        replace("words: [lawyer]", "words: ['la*']"),
        "legal-001",
        "condition.words[0]",
        "at least 3 letters",
    ),
    (
        "empty except",
        replace("words: [lawyer]", "words: [lawyer]\n      except: []"),
        "legal-001",
        "condition.except",
        "non-empty list",
    ),
    (
        "unknown field",
        replace("words: [lawyer]", "field: department\n      equals: sales"),
        "legal-001",
        "condition.field",
        "involved",
    ),
    (
        "value outside the vocabulary",
        replace("words: [lawyer]", "field: involved\n      in: [my manager, my boss]"),
        "legal-001",
        "condition.in[1]",
        "senior manager",
    ),
    (
        "raised_before not a boolean",
        replace("words: [lawyer]", "field: raised_before\n      equals: sometimes"),
        "legal-001",
        "condition.equals",
        "true or false",
    ),
    (
        "field without in or equals",
        replace("words: [lawyer]", "field: involved"),
        "legal-001",
        "condition",
        "'in'",
    ),
    (
        "not with a list",
        replace("words: [lawyer]", "not: [lawyer]"),
        "legal-001",
        "condition.not",
        "mapping",
    ),
    (
        "too few examples",
        replace(
            "match: [I spoke to a lawyer., My lawyer called.]", "match: [I spoke to a lawyer.]"
        ),
        "legal-001",
        "examples.match",
        "at least 2",
    ),
    (
        "example with an unknown field",
        replace(
            "match: [I spoke to a lawyer., My lawyer called.]",
            "match:\n        - text: I spoke to a lawyer.\n          colour: red\n"
            "        - My lawyer called.",
        ),
        "legal-001",
        "examples.match[0].colour",
        "unknown key",
    ),
    (
        "example with a bad field value",
        replace(
            "match: [I spoke to a lawyer., My lawyer called.]",
            "match:\n        - text: I spoke to a lawyer.\n          duration: decades\n"
            "        - My lawyer called.",
        ),
        "legal-001",
        "examples.match[0].duration",
        "months",
    ),
    (
        "example without text",
        replace(
            "match: [I spoke to a lawyer., My lawyer called.]",
            "match:\n        - category: other\n        - My lawyer called.",
        ),
        "legal-001",
        "examples.match[0].text",
        "is required",
    ),
    (
        "duplicate rule id in a pack",
        pack(VALID_RULE + VALID_RULE),
        "legal-001",
        "id",
        "duplicate",
    ),
    ("version as a number", pack(header="pack: legal\nversion: 1.0\n"), None, "version", "quotes"),
    ("bad pack id", pack(header="pack: Legal Pack\nversion: 1.0.0\n"), None, "pack", "lowercase"),
    ("no rules", "pack: legal\nversion: 1.0.0\nrules: []\n", None, "rules", "non-empty list"),
    ("unknown pack key", "pack: legal\nversoin: 1.0.0\n", None, "versoin", "unknown key"),
    (
        "rule not a mapping",
        pack("  - just a sentence\n"),
        "#1",
        "rules[0]",
        "mapping",
    ),
]


@pytest.mark.parametrize(
    ("body", "rule_id", "field", "words"),
    [case[1:] for case in MALFORMED],
    ids=[case[0] for case in MALFORMED],
)
def test_malformed_packs_name_file_rule_and_field(
    tmp_path: Path, body: str, rule_id: str | None, field: str, words: str
) -> None:
    error = load_error(tmp_path, body)
    assert error.file == str(tmp_path / "rules" / "legal.yaml")
    assert error.rule_id == rule_id
    assert error.field == field
    assert words in error.message
    assert str(error).startswith(error.file + ": ")
    assert f"field '{field}'" in str(error)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("pack: legal\nversion: 1.0.0\nversion: 1.0.1\nrules: []\n", "duplicate key 'version'"),
        ("pack: legal\nversion: &v 1.0.0\ntitle: *v\nrules: []\n", "aliases"),
        ("pack: legal\nrules: [unclosed\n", "is not valid YAML at line"),
        ("", "is empty"),
        ("- a\n- list\n", "must be a mapping"),
        ("pack: legal\n---\npack: other\n", "not valid YAML"),
        ("when: 2021-13-45\n", "not valid YAML"),
    ],
    ids=["duplicate key", "alias", "syntax", "empty", "a list", "two documents", "bad date"],
)
def test_broken_yaml_is_a_rule_pack_error(tmp_path: Path, body: str, words: str) -> None:
    error = load_error(tmp_path, body)
    assert words in str(error)
    assert error.file.endswith("legal.yaml")


def test_syntax_errors_give_the_line(tmp_path: Path) -> None:
    body = pack(VALID_RULE.replace("    weight: 1.5\n", "    weight: [1.5\n"))
    error = load_error(tmp_path, body)
    assert "line 8" in error.message or "line 9" in error.message


def test_not_utf8(tmp_path: Path) -> None:
    directory = tmp_path / "rules"
    directory.mkdir()
    (directory / "legal.yaml").write_bytes(b"pack: l\xe9gal\n")
    with pytest.raises(RulePackError, match="not UTF-8"):
        load_rule_set(directory)


def test_conditions_nested_too_deep(tmp_path: Path) -> None:
    condition = "words: [lawyer]"
    for _ in range(13):
        condition = "not:\n  " + condition.replace("\n", "\n  ")
    body = replace("words: [lawyer]", textwrap.indent(condition, "      ").lstrip())
    error = load_error(tmp_path, body)
    assert "nested at most" in error.message
    assert error.field is not None and error.field.startswith("condition.not.not")


def test_duplicate_rule_id_across_files(tmp_path: Path) -> None:
    directory = tmp_path / "rules"
    write_pack(directory, pack(), "a.yaml")
    write_pack(directory, pack(header="pack: other\nversion: 1.0.0\n"), "b.yaml")
    with pytest.raises(RulePackError) as caught:
        load_rule_set(directory)
    error = caught.value
    assert error.file == str(directory / "b.yaml")
    assert (error.rule_id, error.field) == ("legal-001", "id")
    assert str(directory / "a.yaml") in error.message


def test_duplicate_pack_id_across_files(tmp_path: Path) -> None:
    directory = tmp_path / "rules"
    write_pack(directory, pack(), "a.yaml")
    write_pack(directory, pack(VALID_RULE.replace("legal-001", "legal-002")), "b.yaml")
    with pytest.raises(RulePackError) as caught:
        load_rule_set(directory)
    assert caught.value.field == "pack"
    assert caught.value.file == str(directory / "b.yaml")


def test_missing_or_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(RulePackError, match="is not a directory"):
        load_rule_set(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("not a pack")
    with pytest.raises(RulePackError, match="no rule packs"):
        load_rule_set(tmp_path / "empty")


def test_subfolders_and_other_files_are_not_packs(tmp_path: Path) -> None:
    directory = tmp_path / "rules"
    write_pack(directory, pack(), "legal.yaml")
    write_pack(directory / "tests", "not: a pack", "broken.yaml")
    (directory / "README.md").write_text("# notes")
    rule_set = load_rule_set(directory)
    assert [rule.id for rule in rule_set.rules] == ["legal-001"]


def test_a_valid_pack_loads_with_its_metadata(tmp_path: Path) -> None:
    body = pack(
        VALID_RULE.replace(
            "weight: 1.5", "weight: 1.5\n    min_level: high\n    tags: [signal.legal]"
        )
    )
    write_pack(tmp_path / "rules", body, "legal.yaml")
    rule_set = load_rule_set(tmp_path / "rules")
    rule = rule_set.rule("legal-001")
    assert (rule.weight, rule.min_level, rule.tags, rule.pack_id) == (
        1.5,
        "high",
        ("signal.legal",),
        "legal",
    )
    assert len(rule.match_examples) == 2 and len(rule.no_match_examples) == 2
    assert rule_set.version.startswith("legal@1.0.0#")


def test_version_changes_with_any_edit(tmp_path: Path) -> None:
    directory = tmp_path / "rules"
    write_pack(directory, pack(), "legal.yaml")
    before = load_rule_set(directory).version
    write_pack(
        directory,
        pack().replace("Mentions a lawyer", "Mentions a lawyer or solicitor"),
        "legal.yaml",
    )
    after = load_rule_set(directory).version
    assert before != after
    assert before.split("#")[0] == after.split("#")[0] == "legal@1.0.0"


def test_error_survives_pickling() -> None:
    error = RulePackError("rules/a.yaml", "is broken", rule_id="a-001", field="weight")
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object
    assert str(copy) == str(error) == "rules/a.yaml: rule a-001: field 'weight': is broken"
