"""Compiled rule conditions and how they are evaluated against one report.

A condition is a small tree: ``all`` / ``any`` / ``not`` over leaves that look at the text
(``words``, ``regex``) or at a structured field (``field``). Evaluating a node returns the list of
things it matched (for the explanation) when it holds, or None when it does not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from service.engine.facts import ReportFacts
from service.engine.terms import TermHit
from service.engine.text import is_negated, normalise, tokenize

# Bounds on what one condition reports, so an explanation stays short and holds little text.
MAX_REGEX_MATCHES = 20
MAX_SHOWN_CHARS = 60


class WhenNegated(Enum):
    """What a negated mention ("not a lawyer") does for a words or regex condition."""

    IGNORE = "ignore"  # the default: "I am not going to a lawyer" does not count
    COUNT = "count"  # counts like any other mention: used for safety rules
    ONLY = "only"  # only negated mentions count

    def accepts(self, negated: bool) -> bool:
        if self is WhenNegated.COUNT:
            return True
        return negated is (self is WhenNegated.ONLY)


def report_language(facts: ReportFacts) -> str:
    """The language the report's text is read in; facts may come from anywhere."""
    language = facts.language
    return language.casefold() if isinstance(language, str) and language else "en"


class MatchContext:
    """One report, tokenised once, with every term hit; shared by all rules."""

    __slots__ = ("facts", "text", "tokens", "term_hits", "language", "_negated")

    def __init__(
        self,
        facts: ReportFacts,
        text: str,
        tokens: list[str],
        term_hits: dict[int, list[TermHit]],
    ) -> None:
        self.facts = facts
        self.text = text
        self.tokens = tokens
        self.term_hits = term_hits
        self.language = report_language(facts)
        self._negated: dict[int, bool] = {}

    def negated(self, token_index: int) -> bool:
        # A regex match may start inside a token ("don'|t"), which can count one token more.
        token_index = min(token_index, len(self.tokens))
        known = self._negated.get(token_index)
        if known is None:
            known = is_negated(self.tokens, token_index, language=self.language)
            self._negated[token_index] = known
        return known

    def shown(self, hit: TermHit) -> str:
        return " ".join(self.tokens[hit.start : hit.end])[:MAX_SHOWN_CHARS]


class Condition(Protocol):
    def evaluate(self, context: MatchContext) -> list[str] | None: ...


def _label(shown: str, negated: bool) -> str:
    return f"{shown} (negated)" if negated else shown


@dataclass(frozen=True, slots=True)
class WordsCondition:
    list_id: int
    except_list_id: int | None
    when_negated: WhenNegated

    def evaluate(self, context: MatchContext) -> list[str] | None:
        return _words_hold(context, self.list_id, self.except_list_id, self.when_negated)


@dataclass(frozen=True, slots=True)
class LanguageWordsCondition:
    """`words` given per language: only the list of the report's language is checked, so a
    German word never fires on an English report, nor the other way round."""

    lists: dict[str, tuple[int, int | None]]  # language -> (list id, except list id)
    when_negated: WhenNegated

    @property
    def languages(self) -> frozenset[str]:
        return frozenset(self.lists)

    def evaluate(self, context: MatchContext) -> list[str] | None:
        ids = self.lists.get(context.language)
        if ids is None:
            return None
        return _words_hold(context, ids[0], ids[1], self.when_negated)


def _words_hold(
    context: MatchContext, list_id: int, except_list_id: int | None, when_negated: WhenNegated
) -> list[str] | None:
    hits = context.term_hits.get(list_id)
    if not hits:
        return None
    excluded = None
    if except_list_id is not None:
        excluded = context.term_hits.get(except_list_id)
    matched = []
    for hit in hits:
        if excluded and any(x.start < hit.end and hit.start < x.end for x in excluded):
            continue
        negated = context.negated(hit.start)
        if when_negated.accepts(negated):
            matched.append(_label(context.shown(hit), negated))
    return matched or None


@dataclass(frozen=True, slots=True)
class RegexCondition:
    patterns: tuple[re.Pattern[str], ...]
    when_negated: WhenNegated

    def evaluate(self, context: MatchContext) -> list[str] | None:
        matched = []
        for pattern in self.patterns:
            for number, found in enumerate(pattern.finditer(context.text)):
                if number >= MAX_REGEX_MATCHES:
                    break
                negated = False
                if self.when_negated is not WhenNegated.COUNT:
                    token_index = len(
                        tokenize(
                            normalise(context.text[: found.start()], context.language),
                            context.language,
                        )
                    )
                    negated = context.negated(token_index)
                if self.when_negated.accepts(negated):
                    shown = normalise(found.group(0))[:MAX_SHOWN_CHARS]
                    matched.append(_label(shown, negated))
        return matched or None


@dataclass(frozen=True, slots=True)
class FieldCondition:
    name: str
    values: frozenset[object]

    def evaluate(self, context: MatchContext) -> list[str] | None:
        value = getattr(context.facts, self.name, None)
        if value is None:
            return None
        # Facts may come from anywhere; only text and booleans can equal a vocabulary value.
        if isinstance(value, bool | str):
            candidates: tuple[object, ...] = (value,)
        elif isinstance(value, tuple | list | set | frozenset):
            candidates = tuple(value)
        else:
            return None
        present = [
            v.casefold() if isinstance(v, str) else v
            for v in candidates
            if isinstance(v, bool | str)
        ]
        found = [v for v in present if v in self.values]
        if not found:
            return None
        return [f"{self.name}: {str(v).lower()}" for v in found]


@dataclass(frozen=True, slots=True)
class AllCondition:
    children: tuple[Condition, ...]

    def evaluate(self, context: MatchContext) -> list[str] | None:
        matched: list[str] = []
        for child in self.children:
            result = child.evaluate(context)
            if result is None:
                return None
            matched.extend(result)
        return matched


@dataclass(frozen=True, slots=True)
class AnyCondition:
    children: tuple[Condition, ...]

    def evaluate(self, context: MatchContext) -> list[str] | None:
        # Every child is evaluated, not just the first that holds, so the explanation is complete.
        matched: list[str] | None = None
        for child in self.children:
            result = child.evaluate(context)
            if result is not None:
                matched = (matched or []) + result
        return matched


@dataclass(frozen=True, slots=True)
class NotCondition:
    child: Condition

    def evaluate(self, context: MatchContext) -> list[str] | None:
        return [] if self.child.evaluate(context) is None else None
