"""Reading rule packs from YAML, checking them against the schema, and compiling them.

The schema is checked by hand rather than with a JSON Schema library because the condition
grammar is recursive and every message must name the file, the rule and the exact field path in
words a rule author understands (see rules/README.md for the format).
"""

from __future__ import annotations

import hashlib
import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn

import yaml

from service.engine.conditions import (
    AllCondition,
    AnyCondition,
    Condition,
    FieldCondition,
    LanguageWordsCondition,
    NotCondition,
    RegexCondition,
    WhenNegated,
    WordsCondition,
)
from service.engine.errors import RulePackError
from service.engine.facts import ReportFacts
from service.engine.ruleset import STATUSES, Example, Rule, RulePack, RuleSet
from service.engine.terms import COMPOUNDING_LANGUAGES, TermIndex, TermSyntaxError, parse_term
from service.vocab import (
    CATEGORIES,
    DESIRED_OUTCOMES,
    DURATIONS,
    INVOLVED_ROLES,
    LANGUAGES,
    LEVELS,
    RAISED_WITH,
    URGENCIES,
)

PACK_SUFFIXES = (".yaml", ".yml")
MIN_EXAMPLES = 2  # of each kind, per rule, and per language a rule has words in
# A rule that forces critical (safety) needs more match examples in each of its languages.
MIN_CRITICAL_MATCH_EXAMPLES = 5
MAX_CONDITION_DEPTH = 12
MAX_WEIGHT = 5.0
MAX_REGEX_LENGTH = 500
FORCEABLE_LEVELS = tuple(level for level in LEVELS if level != "low")

# Structured fields a condition or an example may use, with their allowed values.
FIELD_VALUES: dict[str, tuple[object, ...]] = {
    "category": CATEGORIES,
    "duration": DURATIONS,
    "raised_before": (True, False),
    "raised_with": RAISED_WITH,
    "involved": INVOLVED_ROLES,
    "desired_outcome": DESIRED_OUTCOMES,
    "urgency": URGENCIES,
    "language": LANGUAGES,
}
_LIST_FIELDS = frozenset({"raised_with", "involved"})

_PACK_KEYS = {"pack", "version", "title", "description", "author", "rules"}
_RULE_KEYS = {
    "id",
    "title",
    "summary",
    "description",
    "status",
    "tags",
    "weight",
    "min_level",
    "condition",
    "examples",
    "author",
    "references",
}
_CONDITION_KINDS = ("all", "any", "not", "words", "regex", "field")
_CONDITION_OPTIONS: dict[str, frozenset[str]] = {
    "all": frozenset(),
    "any": frozenset(),
    "not": frozenset(),
    "words": frozenset({"except", "when_negated", "inflect"}),
    "regex": frozenset({"when_negated"}),
    "field": frozenset({"in", "equals"}),
}

_SLUG = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
_VERSION = re.compile(r"\d+(?:\.\d+){0,2}")
_TAG = re.compile(r"[a-z0-9][a-z0-9_.\-]*")
_REGEX_PROBES = ("", "a", "Some words, and 42.")


class _StrictLoader(yaml.SafeLoader):
    """YAML without surprises for rule authors: no duplicate keys, no anchors or aliases."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise yaml.composer.ComposerError(
                None,
                None,
                "aliases (*name) are not allowed in rule packs",
                self.peek_event().start_mark,
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[object] = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                key = self.construct_object(key_node)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key '{key}'", key_node.start_mark
                    )
                seen.add(key)
        return super().construct_mapping(node, deep)


def load_rule_set(directory: Path) -> RuleSet:
    """Load and compile every *.yaml pack directly inside `directory` (subfolders are ignored)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise RulePackError(str(directory), "is not a directory of rule packs")
    files = sorted(
        path
        for path in directory.iterdir()
        if path.suffix in PACK_SUFFIXES and path.is_file() and not path.name.startswith(".")
    )
    if not files:
        raise RulePackError(str(directory), "holds no rule packs (*.yaml)")

    index = TermIndex()
    digest = hashlib.sha256()
    packs: list[RulePack] = []
    rules: list[Rule] = []
    pack_files: dict[str, str] = {}
    rule_files: dict[str, str] = {}
    for path in files:
        display = str(path)
        raw = _read_bytes(path, display)
        digest.update(os.fsencode(path.name) + b"\0" + raw + b"\0")
        document = _parse_yaml(raw, display)
        pack, pack_rules = _PackCompiler(display, index).compile(document)
        if pack.id in pack_files:
            raise RulePackError(
                display,
                f"pack id '{pack.id}' is already used by {pack_files[pack.id]}",
                field="pack",
            )
        pack_files[pack.id] = display
        for rule in pack_rules:
            if rule.id in rule_files:
                raise RulePackError(
                    display,
                    f"duplicate rule id, first defined in {rule_files[rule.id]}",
                    rule_id=rule.id,
                    field="id",
                )
            rule_files[rule.id] = display
        packs.append(pack)
        rules.extend(pack_rules)
    return RuleSet(packs, rules, index, digest.hexdigest())


def _read_bytes(path: Path, display: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise RulePackError(display, f"cannot be read ({error.strerror})") from None


def _parse_yaml(raw: bytes, display: str) -> Any:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise RulePackError(display, f"is not UTF-8 text (byte {error.start})") from None
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = error.problem or error.context or "invalid YAML"
        raise RulePackError(display, f"is not valid YAML{where}: {problem}") from None
    except RecursionError:
        raise RulePackError(display, "is nested too deeply to be a rule pack") from None
    except (yaml.YAMLError, ValueError, TypeError, OverflowError) as error:
        # PyYAML's scalar constructors raise plain ValueError for e.g. an impossible date.
        raise RulePackError(display, f"is not valid YAML: {type(error).__name__}") from None


def _describe(value: object) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a yes/no value)"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, str):
        return "text"
    return "a value of another kind"


class _PackCompiler:
    """Validates one parsed YAML document and compiles its rules into `index`."""

    def __init__(self, file: str, index: TermIndex) -> None:
        self.file = file
        self.index = index
        self.rule_id: str | None = None
        # Languages the current rule has per-language words in; each needs its own examples.
        self.rule_languages: set[str] = set()

    def fail(self, field: str | None, message: str) -> NoReturn:
        raise RulePackError(self.file, message, rule_id=self.rule_id, field=field)

    # -- generic value checks -------------------------------------------------------------

    def text(self, value: object, field: str) -> str:
        if not isinstance(value, str):
            hint = " (put it in quotes)" if isinstance(value, bool | int | float) else ""
            self.fail(field, f"must be text, not {_describe(value)}{hint}")
        if not value.strip():
            self.fail(field, "must not be empty")
        return value.strip()

    def non_empty_list(self, value: object, field: str) -> list[Any]:
        if not isinstance(value, list) or not value:
            self.fail(field, "must be a non-empty list")
        return value

    def known_keys(
        self, mapping: Mapping[Any, Any], allowed: set[str] | frozenset[str], path: str
    ) -> None:
        for key in mapping:
            if key not in allowed:
                where = f"{path}.{key}" if path else str(key)
                self.fail(where, f"unknown key (allowed here: {', '.join(sorted(allowed))})")

    def required(self, mapping: Mapping[Any, Any], key: str, path: str = "") -> Any:
        where = f"{path}.{key}" if path else key
        if key not in mapping or mapping[key] is None:
            self.fail(where, "is required")
        return mapping[key]

    # -- pack -----------------------------------------------------------------------------

    def compile(self, document: object) -> tuple[RulePack, list[Rule]]:
        if document is None:
            self.fail(None, "is empty; a pack needs pack, version and rules")
        if not isinstance(document, dict):
            self.fail(
                None, f"must be a mapping with pack, version and rules, not {_describe(document)}"
            )
        self.known_keys(document, _PACK_KEYS, "")
        pack_id = self.text(self.required(document, "pack"), "pack")
        if not _SLUG.fullmatch(pack_id):
            self.fail("pack", "must be lowercase letters, digits and single hyphens, e.g. 'legal'")
        version = self.required(document, "version")
        if not isinstance(version, str) or not _VERSION.fullmatch(version.strip()):
            self.fail(
                "version", 'must be text like "1.0.0" (in quotes if it has fewer than two dots)'
            )
        title = self.text(document.get("title") or pack_id, "title")
        for key in ("description", "author"):
            if key in document:
                self.text(document[key], key)
        raw_rules = self.non_empty_list(self.required(document, "rules"), "rules")
        rules = [self.rule(raw, position, pack_id) for position, raw in enumerate(raw_rules)]
        self.rule_id = None
        seen: set[str] = set()
        for rule in rules:
            if rule.id in seen:
                self.rule_id = rule.id
                self.fail("id", "duplicate rule id in this pack")
            seen.add(rule.id)
        return RulePack(pack_id, version.strip(), title, self.file), rules

    # -- rule -----------------------------------------------------------------------------

    def rule(self, raw: object, position: int, pack_id: str) -> Rule:
        self.rule_id = f"#{position + 1}"
        if not isinstance(raw, dict):
            self.fail(f"rules[{position}]", f"must be a mapping, not {_describe(raw)}")
        rule_id = raw.get("id")
        if isinstance(rule_id, str) and rule_id.strip():
            self.rule_id = rule_id.strip()
        rule_id = self.text(self.required(raw, "id"), "id")
        if not _SLUG.fullmatch(rule_id) or len(rule_id) > 64:
            self.fail(
                "id", "must be lowercase letters, digits and single hyphens, e.g. 'legal-001'"
            )
        self.known_keys(raw, _RULE_KEYS, "")
        title = self.text(self.required(raw, "title"), "title")
        # What a Trust Leader reads on the case page; the title when a rule has none.
        summary = self.text(raw["summary"], "summary") if "summary" in raw else title
        description = self.text(self.required(raw, "description"), "description")
        status = self.required(raw, "status")
        if status not in STATUSES:
            self.fail("status", f"must be one of {', '.join(STATUSES)}")
        tags = self.tags(raw.get("tags"))
        weight = self.weight(self.required(raw, "weight"))
        min_level = raw.get("min_level")
        if min_level is not None:
            if min_level not in FORCEABLE_LEVELS:
                self.fail("min_level", f"must be one of {', '.join(FORCEABLE_LEVELS)}")
            if weight < 0:
                self.fail("min_level", "a rule with a negative weight cannot force a level")
        if "references" in raw:
            for i, reference in enumerate(self.non_empty_list(raw["references"], "references")):
                self.text(reference, f"references[{i}]")
        if "author" in raw:
            self.text(raw["author"], "author")
        self.rule_languages = set()
        condition = self.condition(self.required(raw, "condition"), "condition", depth=1)
        match, no_match = self.examples(self.required(raw, "examples"))
        self.examples_per_language(match, no_match, critical=min_level == "critical")
        return Rule(
            id=rule_id,
            title=title,
            summary=summary,
            description=description,
            status=status,
            tags=tags,
            weight=weight,
            min_level=min_level,
            condition=condition,
            match_examples=match,
            no_match_examples=no_match,
            pack_id=pack_id,
            file=self.file,
        )

    def tags(self, value: object) -> tuple[str, ...]:
        if value is None:
            return ()
        tags = self.non_empty_list(value, "tags")
        for i, tag in enumerate(tags):
            if not isinstance(tag, str) or not _TAG.fullmatch(tag):
                self.fail(
                    f"tags[{i}]", "must be lowercase text without spaces, e.g. 'signal.legal'"
                )
        return tuple(tags)

    def weight(self, value: object) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail("weight", f"must be a number, not {_describe(value)}")
        weight = float(value)
        if not math.isfinite(weight) or abs(weight) > MAX_WEIGHT:
            self.fail("weight", f"must be between -{MAX_WEIGHT:g} and {MAX_WEIGHT:g}")
        return weight

    # -- conditions -----------------------------------------------------------------------

    def condition(self, node: object, path: str, depth: int) -> Condition:
        if depth > MAX_CONDITION_DEPTH:
            self.fail(path, f"conditions may be nested at most {MAX_CONDITION_DEPTH} deep")
        if not isinstance(node, dict):
            self.fail(path, f"must be a mapping with one of: {', '.join(_CONDITION_KINDS)}")
        kinds = [kind for kind in _CONDITION_KINDS if kind in node]
        if len(kinds) != 1:
            found = f" (found {', '.join(kinds)})" if kinds else ""
            self.fail(path, f"must have exactly one of: {', '.join(_CONDITION_KINDS)}{found}")
        kind = kinds[0]
        self.known_keys(node, _CONDITION_OPTIONS[kind] | {kind}, path)
        here = f"{path}.{kind}"
        if kind in ("all", "any"):
            children = tuple(
                self.condition(child, f"{here}[{i}]", depth + 1)
                for i, child in enumerate(self.non_empty_list(node[kind], here))
            )
            return AllCondition(children) if kind == "all" else AnyCondition(children)
        if kind == "not":
            return NotCondition(self.condition(node["not"], here, depth + 1))
        if kind == "words":
            return self.words(node, path)
        if kind == "regex":
            return self.regex(node, path)
        return self.field_condition(node, path)

    def when_negated(self, node: Mapping[Any, Any], path: str) -> WhenNegated:
        value = node.get("when_negated", WhenNegated.IGNORE.value)
        for option in WhenNegated:
            if value == option.value:
                return option
        options = ", ".join(option.value for option in WhenNegated)
        self.fail(f"{path}.when_negated", f"must be one of {options}")

    def term_list(
        self, value: object, path: str, inflect: bool, language: str | None = None
    ) -> int:
        parsed = []
        for i, term in enumerate(self.non_empty_list(value, path)):
            text = self.text(term, f"{path}[{i}]")
            try:
                parsed.append(parse_term(text, inflect, language))
            except TermSyntaxError as error:
                self.fail(f"{path}[{i}]", str(error))
        return self.index.add_list(parsed, compounds=language in COMPOUNDING_LANGUAGES)

    def words(self, node: Mapping[Any, Any], path: str) -> WordsCondition | LanguageWordsCondition:
        inflect = node.get("inflect", True)
        if not isinstance(inflect, bool):
            self.fail(f"{path}.inflect", "must be true or false")
        when_negated = self.when_negated(node, path)
        if isinstance(node["words"], dict):
            return self.language_words(node, path, inflect, when_negated)
        list_id = self.term_list(node["words"], f"{path}.words", inflect)
        except_id = None
        if "except" in node:
            if isinstance(node["except"], dict):
                self.fail(f"{path}.except", "must be a list when words is a list")
            except_id = self.term_list(node["except"], f"{path}.except", inflect)
        return WordsCondition(list_id, except_id, when_negated)

    def language_code(self, key: object, where: str) -> str:
        if not isinstance(key, str) or key not in LANGUAGES:
            self.fail(where, f"must be a language code, one of: {', '.join(LANGUAGES)}")
        return key

    def language_words(
        self, node: Mapping[Any, Any], path: str, inflect: bool, when_negated: WhenNegated
    ) -> LanguageWordsCondition:
        words, excepts = node["words"], node.get("except", {})
        if not words:
            self.fail(f"{path}.words", "must name at least one language")
        if not isinstance(excepts, dict):
            self.fail(f"{path}.except", "must be per language (en: [...]) when words is")
        lists: dict[str, tuple[int, int | None]] = {}
        for language in words:
            self.language_code(language, f"{path}.words.{language}")
            list_id = self.term_list(words[language], f"{path}.words.{language}", inflect, language)
            except_id = None
            if language in excepts:
                except_id = self.term_list(
                    excepts[language], f"{path}.except.{language}", inflect, language
                )
            lists[language] = (list_id, except_id)
        for language in excepts:
            if language not in words:
                self.fail(f"{path}.except.{language}", "has no words list in that language")
        self.rule_languages.update(lists)
        return LanguageWordsCondition(lists, when_negated)

    def regex(self, node: Mapping[Any, Any], path: str) -> RegexCondition:
        value = node["regex"]
        here = f"{path}.regex"
        sources = (
            [(here, value)]
            if isinstance(value, str)
            else [(f"{here}[{i}]", item) for i, item in enumerate(self.non_empty_list(value, here))]
        )
        patterns = []
        for where, source in sources:
            source = self.text(source, where)
            if len(source) > MAX_REGEX_LENGTH:
                self.fail(where, f"must be at most {MAX_REGEX_LENGTH} characters")
            try:
                pattern = re.compile(source, re.IGNORECASE)
            except (re.error, OverflowError, RecursionError, ValueError) as error:
                self.fail(where, f"invalid regular expression: {error}")
            if any(
                found.end() == found.start()
                for probe in _REGEX_PROBES
                for found in pattern.finditer(probe)
            ):
                self.fail(
                    where,
                    "regular expression can match empty text, so it would fire on every report",
                )
            patterns.append(pattern)
        return RegexCondition(tuple(patterns), self.when_negated(node, path))

    def field_value(self, name: str, value: object, where: str) -> object:
        allowed = FIELD_VALUES[name]
        if name == "raised_before":
            if not isinstance(value, bool):
                self.fail(where, "must be true or false")
            return value
        if not isinstance(value, str) or value.casefold() not in allowed:
            self.fail(where, f"must be one of: {', '.join(str(v) for v in allowed)}")
        return value.casefold()

    def field_condition(self, node: Mapping[Any, Any], path: str) -> FieldCondition:
        name = node["field"]
        if not isinstance(name, str) or name not in FIELD_VALUES:
            self.fail(f"{path}.field", f"must be one of: {', '.join(FIELD_VALUES)}")
        has_in, has_equals = "in" in node, "equals" in node
        if has_in == has_equals:
            self.fail(
                path, "a field condition needs exactly one of 'in' (a list) or 'equals' (a value)"
            )
        if has_in:
            values = self.non_empty_list(node["in"], f"{path}.in")
            checked = [self.field_value(name, v, f"{path}.in[{i}]") for i, v in enumerate(values)]
        else:
            checked = [self.field_value(name, node["equals"], f"{path}.equals")]
        return FieldCondition(name, frozenset(checked))

    # -- examples -------------------------------------------------------------------------

    def examples(self, value: object) -> tuple[tuple[Example, ...], tuple[Example, ...]]:
        """`match` and `no_match` are lists, or mappings from a language to a list (each
        example then is in that language)."""
        if not isinstance(value, dict):
            self.fail("examples", "must be a mapping with 'match' and 'no_match' lists")
        self.known_keys(value, {"match", "no_match"}, "examples")
        result = []
        for kind in ("match", "no_match"):
            path = f"examples.{kind}"
            given = self.required(value, kind, "examples")
            if isinstance(given, dict):
                if not given:
                    self.fail(path, "must name at least one language")
                parsed: list[Example] = []
                for language, items in given.items():
                    here = f"{path}.{self.language_code(language, f'{path}.{language}')}"
                    items = self.non_empty_list(items, here)
                    parsed.extend(
                        self.example(item, f"{here}[{i}]", language) for i, item in enumerate(items)
                    )
                result.append(tuple(parsed))
                continue
            items = self.non_empty_list(given, path)
            if len(items) < MIN_EXAMPLES:
                self.fail(path, f"needs at least {MIN_EXAMPLES} examples")
            result.append(tuple(self.example(item, f"{path}[{i}]") for i, item in enumerate(items)))
        return result[0], result[1]

    def examples_per_language(
        self, match: tuple[Example, ...], no_match: tuple[Example, ...], critical: bool
    ) -> None:
        """Every language the rule has words in needs its own match and no-match examples."""
        languages = self.rule_languages or {"en"}
        for kind, examples, needed in (
            ("match", match, MIN_CRITICAL_MATCH_EXAMPLES if critical else MIN_EXAMPLES),
            ("no_match", no_match, MIN_EXAMPLES),
        ):
            counts: dict[str, int] = {}
            for example in examples:
                counts[example.facts.language] = counts.get(example.facts.language, 0) + 1
            for language in sorted(languages):
                if counts.get(language, 0) < needed:
                    why = " (the rule forces critical)" if critical and kind == "match" else ""
                    self.fail(
                        f"examples.{kind}",
                        f"needs at least {needed} examples in '{language}'{why}, "
                        f"has {counts.get(language, 0)}",
                    )

    def example(self, item: object, where: str, language: str | None = None) -> Example:
        if isinstance(item, str):
            facts = ReportFacts(
                text=self.text(item, where), category="other", language=language or "en"
            )
            return Example(facts, where)
        if not isinstance(item, dict):
            self.fail(where, "must be text, or a mapping with 'text' and structured fields")
        self.known_keys(item, {"text", *FIELD_VALUES}, where)
        data: dict[str, object] = {
            "text": self.text(self.required(item, "text", where), f"{where}.text")
        }
        for name in FIELD_VALUES:
            if name not in item:
                continue
            value = item[name]
            if name in _LIST_FIELDS:
                values = value if isinstance(value, list) else [value]
                data[name] = [self.field_value(name, v, f"{where}.{name}") for v in values]
            else:
                data[name] = self.field_value(name, value, f"{where}.{name}")
        if language is not None:
            if data.get("language", language) != language:
                self.fail(f"{where}.language", f"is listed under '{language}'")
            data["language"] = language
        return Example(ReportFacts.from_mapping(data), where)
