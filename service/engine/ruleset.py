"""A loaded set of rule packs, and the evaluation of every active rule against one report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from service.engine.conditions import Condition, MatchContext, report_language
from service.engine.facts import ReportFacts
from service.engine.terms import TermIndex
from service.engine.text import normalise, tokenize

STATUSES: tuple[str, ...] = ("stable", "test", "experimental", "deprecated")
# Rules at or above this weight (or forcing high/critical) must stay silent on the benign corpus.
HIGH_WEIGHT = 1.0
HIGH_LEVELS: frozenset[str] = frozenset({"high", "critical"})
MAX_MATCHED_SHOWN = 10
# Reports store the version in a String(120) column.
MAX_VERSION_CHARS = 120


@dataclass(frozen=True, slots=True)
class RuleHit:
    """One rule that fired on a report, with what it matched (terms, or 'field: value')."""

    rule_id: str
    title: str
    weight: float
    min_level: str | None
    matched: list[str]
    tags: tuple[str, ...]
    summary: str = ""  # plain language; the title when the rule has none

    @property
    def is_high(self) -> bool:
        return self.weight >= HIGH_WEIGHT or self.min_level in HIGH_LEVELS


@dataclass(frozen=True, slots=True)
class Example:
    """A rule's own example: the facts to evaluate and where it sits in the file."""

    facts: ReportFacts
    where: str  # e.g. "examples.match[1]"


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    title: str
    summary: str
    description: str
    status: str
    tags: tuple[str, ...]
    weight: float
    min_level: str | None
    condition: Condition = field(repr=False)
    match_examples: tuple[Example, ...] = field(repr=False)
    no_match_examples: tuple[Example, ...] = field(repr=False)
    pack_id: str
    file: str

    @property
    def active(self) -> bool:
        """Deprecated rules are kept for the record but never evaluated."""
        return self.status != "deprecated"


@dataclass(frozen=True, slots=True)
class RulePack:
    id: str
    version: str
    title: str
    file: str


class RuleSet:
    """Every rule of every pack in a directory, compiled and ready to evaluate.

    `version` names each pack with its version plus a short hash of the files' content, so a
    score can always be traced to the exact rules that produced it, edited or not.
    """

    def __init__(
        self,
        packs: Sequence[RulePack],
        rules: Sequence[Rule],
        term_index: TermIndex,
        content_digest: str,
    ) -> None:
        self.packs = tuple(packs)
        self.rules = tuple(rules)
        self._active = tuple(rule for rule in self.rules if rule.active)
        self._term_index = term_index
        self.content_digest = content_digest
        listed = ",".join(f"{pack.id}@{pack.version}" for pack in sorted(self.packs, key=_pack_id))
        digest = content_digest[:12]
        if len(listed) + 1 + len(digest) > MAX_VERSION_CHARS:
            # Stored scores keep the version in a bounded column; the hash still tells sets apart.
            listed = f"{len(self.packs)}-packs"
        self.version = f"{listed}#{digest}"

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def evaluate(self, facts: ReportFacts) -> list[RuleHit]:
        """Every active rule that holds for the report, in pack-file order."""
        text = facts.text if isinstance(facts.text, str) else str(facts.text or "")
        language = report_language(facts)
        tokens = tokenize(normalise(text, language), language)
        context = MatchContext(facts, text, tokens, self._term_index.scan(tokens))
        hits = []
        for rule in self._active:
            matched = rule.condition.evaluate(context)
            if matched is not None:
                hits.append(
                    RuleHit(
                        rule_id=rule.id,
                        title=rule.title,
                        weight=rule.weight,
                        min_level=rule.min_level,
                        matched=list(dict.fromkeys(matched))[:MAX_MATCHED_SHOWN],
                        tags=rule.tags,
                        summary=rule.summary,
                    )
                )
        return hits

    def __repr__(self) -> str:
        return f"RuleSet(version={self.version!r}, rules={len(self.rules)})"


def _pack_id(pack: RulePack) -> str:
    return pack.id
