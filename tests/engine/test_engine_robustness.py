"""Property tests: the loader only ever raises RulePackError, evaluation never raises."""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.engine.facts import ReportFacts
from service.engine.risk import RiskEngine
from service.engine.rules import RulePackError, RuleSet, load_rule_set
from service.vocab import ANSWER_FIELDS, LEVELS

from .helpers import RULES_DIR

QUICK = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["words", "any", "all", "not", "regex", "field", "(", "x*", "yes", "stable"]),
)
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(st.text(max_size=10), st.integers()), children, max_size=4),
    ),
    max_leaves=25,
)

VALID_PACK: dict[str, Any] = {
    "pack": "demo",
    "version": "1.0.0",
    "rules": [
        {
            "id": "demo-001",
            "title": "Demo",
            "description": "A demo rule.",
            "status": "stable",
            "weight": 1.0,
            "min_level": "high",
            "tags": ["demo"],
            "condition": {
                "all": [
                    {"words": ["lawyer", "resign*"], "except": ["company lawyer"]},
                    {"not": {"regex": ["tribunal", "court"]}},
                    {"field": "involved", "in": ["my manager"]},
                ]
            },
            "examples": {
                "match": [
                    {"text": "a lawyer", "involved": ["my manager"]},
                    {"text": "I resigned", "involved": ["my manager"]},
                ],
                "no_match": ["a lawyer", "nothing"],
            },
        }
    ],
}


def _load_or_pack_error(directory: Path, content: str | bytes) -> RuleSet | None:
    path = directory / "pack.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", errors="surrogatepass")
    try:
        return load_rule_set(directory)
    except RulePackError as error:
        assert error.file == str(path) or error.file == str(directory)
        assert str(error)
        return None


@pytest.fixture(scope="module")
def pack_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@QUICK
@given(document=documents)
def test_arbitrary_documents_give_rule_pack_error(pack_dir: Path, document: object) -> None:
    _load_or_pack_error(pack_dir, yaml.safe_dump(document, allow_unicode=True))


@QUICK
@given(text=st.text(max_size=300))
def test_arbitrary_text_files_give_rule_pack_error(pack_dir: Path, text: str) -> None:
    _load_or_pack_error(pack_dir, text.encode("utf-8", errors="surrogatepass"))


@QUICK
@given(raw=st.binary(max_size=200))
def test_arbitrary_bytes_give_rule_pack_error(pack_dir: Path, raw: bytes) -> None:
    _load_or_pack_error(pack_dir, raw)


def _paths(node: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(_paths(value, (*prefix, index)))
    return found


PACK_PATHS = _paths(VALID_PACK)


@QUICK
@given(path=st.sampled_from(PACK_PATHS), value=documents, delete=st.booleans())
def test_any_single_change_to_a_valid_pack_is_handled(
    pack_dir: Path, path: tuple[object, ...], value: object, delete: bool
) -> None:
    document = copy.deepcopy(VALID_PACK)
    parent: Any = document
    for step in path[:-1]:
        parent = parent[step]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    rule_set = _load_or_pack_error(pack_dir, yaml.safe_dump(document, allow_unicode=True))
    if rule_set is not None:
        rule_set.evaluate(ReportFacts(text="a lawyer said", category="other"))


def test_the_unchanged_fuzz_pack_is_valid(pack_dir: Path) -> None:
    rule_set = _load_or_pack_error(pack_dir, yaml.safe_dump(VALID_PACK))
    assert rule_set is not None and rule_set.rules[0].id == "demo-001"


@pytest.fixture(scope="module")
def engine() -> RiskEngine:
    return RiskEngine(load_rule_set(RULES_DIR), None)


words_from_rules = st.sampled_from(
    [
        "not",
        "no",
        "never",
        "don't",
        "lawyer",
        "hurt",
        "myself",
        "harass",
        "-",
        ",",
        "’",
        "*",
        "a",
        "the",
        "can't",
        "stop",
        "tribunal",
        "i",
        "resign",
        "knife",
        "brought",
        "\n",
        "ß",
        "İ",
    ]
)
texts = st.one_of(
    st.text(max_size=500),
    st.lists(words_from_rules, max_size=80).map(" ".join),
    st.lists(words_from_rules, max_size=80).map("".join),
)


@QUICK
@given(text=texts)
def test_evaluate_never_raises_on_any_text(engine: RiskEngine, text: str) -> None:
    hits = engine.rules.evaluate(ReportFacts(text=text, category="other"))
    known = {rule.id for rule in engine.rules.rules}
    assert all(hit.rule_id in known for hit in hits)
    assessment = engine.assess(ReportFacts(text=text, category="other"), hotspot=True)
    assert 0.0 <= assessment.score <= 1.0 and math.isfinite(assessment.score)
    assert assessment.level in LEVELS


REGEX_PACK = """\
pack: regex
version: 1.0.0
rules:
"""
REGEX_RULE = """\
  - id: regex-{number:03d}
    title: Regex {number}
    description: A regular expression that matches in awkward places.
    status: stable
    weight: 0.5
    condition:
      regex: '{pattern}'
    examples:
      match: [one, two]
      no_match: [three, four]
"""
AWKWARD_PATTERNS = (r"t\b", r"'", r"\W+", r"[^a-z ]+", r"\w'\w", r"(?<=n)'t", r".$")


@pytest.fixture(scope="module")
def regex_rules(tmp_path_factory: pytest.TempPathFactory) -> RuleSet:
    directory = tmp_path_factory.mktemp("regex")
    rules = "".join(
        REGEX_RULE.format(number=number, pattern=pattern.replace("'", "''"))
        for number, pattern in enumerate(AWKWARD_PATTERNS)
    )
    (directory / "regex.yaml").write_text(REGEX_PACK + rules, encoding="utf-8")
    return load_rule_set(directory)


@QUICK
@given(text=texts)
def test_regex_rules_never_raise_on_any_text(regex_rules: RuleSet, text: str) -> None:
    for hit in regex_rules.evaluate(ReportFacts(text=text, category="other")):
        assert hit.matched


FIELD_NAMES = ("category", *ANSWER_FIELDS, "language")


@QUICK
@given(text=texts, fields=st.fixed_dictionaries({}, optional=dict.fromkeys(FIELD_NAMES, documents)))
def test_assess_never_raises_on_odd_structured_fields(
    engine: RiskEngine, text: str, fields: dict[str, Any]
) -> None:
    # Built directly, not through from_mapping, to reach the engine with values of any type.
    report = ReportFacts(text=text, **{"category": "other", **fields})
    assessment = engine.assess(report)
    assert assessment.level in LEVELS
