"""Word and phrase lists, compiled once into one index shared by every rule.

A term is a word or a phrase ("formal complaint"). Each word matches, case-insensitively and on
word boundaries, itself, its possessive ("manager's") and, when inflection is on, its simple
English inflections: -s, -es, -ed, -ing, with the final "e" dropped ("sue" -> "suing", "sued"),
"y" -> "ies"/"ied" ("bully" -> "bullies", "bullied") and a doubled last consonant ("quit" ->
"quitting"). Words shorter than three letters are never inflected. A word ending in "*" matches
every word that starts with it ("resign*" -> "resigned", "resignation"), for stems that the
simple inflections do not reach.

Instead of one regular expression per list, all lists go into one index keyed by a phrase's first
two words: a report is tokenised once and each token costs a dictionary look-up or two, which
keeps the whole rule set around a millisecond on a 5,000-character report.

A term list may belong to one language (see rules/README.md). Its terms are normalised the way
that language's reports are (accents folded, German umlauts as ae/oe/ue, French and Italian
elisions split), the English inflections apply to English and language-neutral lists only, and
in German and Dutch, which write compounds as one word, a term's first word of at least
MIN_COMPOUND_TAIL letters also matches as the last part of a compound: "drohung" matches
"Kuendigungsdrohung", "mobbing*" matches "Dauermobbing".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from service.engine.text import normalise, tokenize

_VOWELS = frozenset("aeiou")
_WORD = re.compile(r"\w+(?:'\w+)*\*?")
_TERM_SEPARATOR = re.compile(r"[\s\-]+")
MIN_WILDCARD_STEM = 3
# Short function words that would inflect into real, unrelated words ("as", "ads").
_NEVER_INFLECT = frozenset({"the", "and", "for", "you", "her", "his", "him", "she", "they", "our"})
# Languages that glue nouns into compounds, and the shortest head and tail a split may leave.
COMPOUNDING_LANGUAGES = frozenset({"de", "nl"})
MIN_COMPOUND_HEAD = 3
MIN_COMPOUND_TAIL = 5


class TermSyntaxError(ValueError):
    """A term that cannot be compiled; the loader turns it into a RulePackError."""


def word_forms(word: str, inflect: bool) -> frozenset[str]:
    """Every token a (casefolded) word of a term matches, possessives included."""
    forms = {word, word + "'s", word + "s'"}
    if not inflect or len(word) < 3 or word in _NEVER_INFLECT or not word.isalpha():
        return frozenset(forms)
    forms |= {word + "s", word + "es", word + "ed", word + "ing"}
    if word.endswith("e"):
        forms |= {word + "d", word[:-1] + "ing"}
    if word.endswith("y") and word[-2] not in _VOWELS:
        forms |= {word[:-1] + "ies", word[:-1] + "ied"}
    if word[-1] not in _VOWELS and word[-1] not in "wxy" and word[-2] in _VOWELS:
        forms |= {word + word[-1] + "ing", word + word[-1] + "ed"}
    return frozenset(forms | {form + "'s" for form in forms if form.endswith("s")})


@dataclass(frozen=True, slots=True)
class WordMatcher:
    """One word of a term: a set of exact forms, or a prefix for a "stem*" word."""

    forms: frozenset[str] = frozenset()
    prefix: str | None = None

    def matches(self, token: str) -> bool:
        if self.prefix is not None:
            return token.startswith(self.prefix)
        return token in self.forms


def parse_term(term: str, inflect: bool, language: str | None = None) -> tuple[WordMatcher, ...]:
    """Split a term into word matchers; raises TermSyntaxError with a message for rule authors.

    `language` is the list's language (None for a list every report is checked against)."""
    words = [w for w in _TERM_SEPARATOR.split(term.strip()) if w]
    if not words:
        raise TermSyntaxError("must not be empty")
    if language is not None and language != "en":
        # Elisions split as in the report ("d'en" -> "d", "en"); English inflections do not apply.
        inflect = False
        words = [
            piece
            for raw in words
            for piece in (
                tokenize(normalise(raw[:-1], language), language) + ["*"]
                if raw.endswith("*")
                else tokenize(normalise(raw, language), language)
            )
        ]
        words = _glue_stars(words)
        if not words:
            raise TermSyntaxError(f"'{term}' holds no letters or digits")
    matchers: list[WordMatcher] = []
    for raw in words:
        word = fold_term_word(raw)
        if not _WORD.fullmatch(word):
            raise TermSyntaxError(
                f"'{raw}' must be letters or digits (an apostrophe inside and one * at the end "
                "are allowed); use a regex condition for anything else"
            )
        if word.endswith("*"):
            stem = word[:-1]
            if len(stem) < MIN_WILDCARD_STEM:
                raise TermSyntaxError(
                    f"'{raw}': a * needs at least {MIN_WILDCARD_STEM} letters before it"
                )
            matchers.append(WordMatcher(prefix=stem))
        else:
            matchers.append(WordMatcher(forms=word_forms(word, inflect)))
    return tuple(matchers)


@dataclass(frozen=True, slots=True)
class _Entry:
    """A term of a list, with the words still to check after the ones used to find it."""

    list_id: int
    rest: tuple[WordMatcher, ...]


@dataclass(frozen=True, slots=True)
class _TokenPlan:
    """Everything a token can start: found once per distinct token, then cached."""

    single: tuple[int, ...]  # lists with a one-word term matching the token
    pairs: dict[str, list[_Entry]] | None  # next token -> terms (rest starts at the 3rd word)
    general: tuple[_Entry, ...]  # terms checked word by word (rest starts at the 2nd word)


_NOTHING = _TokenPlan((), None, ())


@dataclass(frozen=True, slots=True)
class TermHit:
    """Where a term matched: tokens [start, end) of the report."""

    start: int
    end: int


@dataclass(slots=True)
class TermIndex:
    """All term lists of a rule set. Build with add_list(), then call scan() per report.

    Terms are indexed by their first word and, for phrases, their second word too, so that a
    common first word ("i", "my") costs one more look-up rather than a check of every phrase
    that starts with it.
    """

    _single: dict[str, set[int]] = field(default_factory=dict)
    _pairs: dict[str, dict[str, list[_Entry]]] = field(default_factory=dict)
    _general: dict[str, list[_Entry]] = field(default_factory=dict)
    _prefix_single: dict[str, set[int]] = field(default_factory=dict)
    _prefix_general: dict[str, list[_Entry]] = field(default_factory=dict)
    _prefix_lengths: set[int] = field(default_factory=set)
    _prefix_heads: set[str] = field(default_factory=set)
    _list_count: int = 0
    # Token -> plan, filled lazily; report vocabularies are small, so this stays small.
    _cache: dict[str, _TokenPlan] = field(default_factory=dict)
    # The terms of compounding languages again, looked up on the tails of longer tokens.
    _compound_tails: TermIndex | None = None

    _CACHE_LIMIT = 100_000

    def add_list(self, terms: Iterable[tuple[WordMatcher, ...]], compounds: bool = False) -> int:
        """Register a list of parsed terms and return its id. With `compounds`, a term's first
        word of MIN_COMPOUND_TAIL letters or more also matches the end of a compound."""
        terms = list(terms)
        list_id = self._list_count
        self._list_count += 1
        self._register(list_id, terms)
        if compounds:
            tails = [m for m in terms if _head_length(m[0]) >= MIN_COMPOUND_TAIL]
            if tails:
                if self._compound_tails is None:
                    self._compound_tails = TermIndex()
                self._compound_tails._register(list_id, tails)
                self._compound_tails._cache.clear()
        self._cache.clear()
        return list_id

    def _register(self, list_id: int, terms: list[tuple[WordMatcher, ...]]) -> None:
        for matchers in terms:
            first, rest = matchers[0], matchers[1:]
            if first.prefix is not None:
                self._prefix_lengths.add(len(first.prefix))
                self._prefix_heads.add(first.prefix[:MIN_WILDCARD_STEM])
                if rest:
                    self._prefix_general.setdefault(first.prefix, []).append(_Entry(list_id, rest))
                else:
                    self._prefix_single.setdefault(first.prefix, set()).add(list_id)
                continue
            for form in first.forms:
                if not rest:
                    self._single.setdefault(form, set()).add(list_id)
                elif rest[0].prefix is not None:
                    self._general.setdefault(form, []).append(_Entry(list_id, rest))
                else:
                    by_second = self._pairs.setdefault(form, {})
                    entry = _Entry(list_id, rest[1:])
                    for second in rest[0].forms:
                        by_second.setdefault(second, []).append(entry)

    def _plan_for(self, token: str) -> _TokenPlan:
        plan = self._cache.get(token)
        if plan is not None:
            return plan
        single = set(self._single.get(token, ()))
        general = list(self._general.get(token, ()))
        # Most tokens share no start with any stem*, and are ruled out by one set look-up.
        if token[:MIN_WILDCARD_STEM] in self._prefix_heads:
            for length in self._prefix_lengths:
                if len(token) >= length:
                    stem = token[:length]
                    single.update(self._prefix_single.get(stem, ()))
                    general.extend(self._prefix_general.get(stem, ()))
        pairs = self._pairs.get(token)
        if self._compound_tails is not None:
            for start in range(MIN_COMPOUND_HEAD, len(token) - MIN_COMPOUND_TAIL + 1):
                tail = self._compound_tails._plan_for(token[start:])
                if tail is _NOTHING:
                    continue
                single.update(tail.single)
                general.extend(tail.general)
                if tail.pairs:
                    merged = {k: list(v) for k, v in (pairs or {}).items()}
                    for second, entries in tail.pairs.items():
                        merged.setdefault(second, []).extend(entries)
                    pairs = merged
        plan = _TokenPlan(tuple(sorted(single)), pairs, tuple(general))
        if not (plan.single or plan.pairs or plan.general):
            plan = _NOTHING
        if len(self._cache) >= self._CACHE_LIMIT:
            self._cache.clear()
        self._cache[token] = plan
        return plan

    def scan(self, tokens: list[str]) -> dict[int, list[TermHit]]:
        """Every match of every list in the tokens, by list id, in text order."""
        plans = {}
        for token in set(tokens):
            plan = self._plan_for(token)
            if plan is not _NOTHING:
                plans[token] = plan
        hits: dict[int, list[TermHit]] = {}
        if not plans:
            return hits
        count = len(tokens)
        # map() keeps the per-token look-up in C; only tokens that start a term reach Python.
        found = [(start, plan) for start, plan in enumerate(map(plans.get, tokens)) if plan]
        for start, plan in found:
            for list_id in plan.single:
                hits.setdefault(list_id, []).append(TermHit(start, start + 1))
            if plan.pairs is not None and start + 1 < count:
                for entry in plan.pairs.get(tokens[start + 1], ()):
                    if _rest_matches(tokens, start + 2, entry.rest):
                        end = start + 2 + len(entry.rest)
                        hits.setdefault(entry.list_id, []).append(TermHit(start, end))
            for entry in plan.general:
                if _rest_matches(tokens, start + 1, entry.rest):
                    end = start + 1 + len(entry.rest)
                    hits.setdefault(entry.list_id, []).append(TermHit(start, end))
        return hits


def _head_length(matcher: WordMatcher) -> int:
    if matcher.prefix is not None:
        return len(matcher.prefix)
    return min((len(form) for form in matcher.forms), default=0)


def fold_term_word(raw: str) -> str:
    """A term's word as report tokens are: casefolded, one apostrophe, accents folded."""
    return normalise(raw)


def _glue_stars(pieces: list[str]) -> list[str]:
    """Re-attach a trailing "*" that tokenising split off its stem."""
    glued: list[str] = []
    for piece in pieces:
        if piece == "*" and glued:
            glued[-1] += "*"
        else:
            glued.append(piece)
    return glued


def _rest_matches(tokens: list[str], at: int, rest: tuple[WordMatcher, ...]) -> bool:
    if at + len(rest) > len(tokens):
        return False
    return all(matcher.matches(tokens[at + k]) for k, matcher in enumerate(rest))
