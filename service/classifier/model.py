"""The loaded escalation classifier: probability of escalation plus the terms behind it.

`EscalationModel.predict` does not go through `Pipeline.predict_proba`: for one report,
scikit-learn's per-call validation and sparse-matrix building cost several milliseconds
on long texts. Instead the fitted pipeline is read once into a `_LinearExplainer` that
computes the same tf-idf values and linear score with dicts and small numpy arrays, which
also yields every feature's contribution for free. tests/classifier checks that its
probabilities equal the pipeline's.
"""

from __future__ import annotations

import heapq
import string
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import repeat
from operator import itemgetter
from typing import Any

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline

from service.classifier.features import (
    CHARS,
    FIELDS,
    RULES,
    WORDS,
    field_values,
    is_function_word,
    readable_field,
)
from service.engine.facts import ReportFacts
from service.engine.risk import ModelPrediction

TOP_TERMS = 5
_WORD_CACHE_SIZE = 50_000
# Fields of the cached per-word tuples (see char_columns), read with C-level getters.
_WORD_ID, _COLUMNS, _SIZE = itemgetter(1), itemgetter(2), itemgetter(3)
# Trimmed from whitespace-separated tokens before showing them as terms.
_PUNCTUATION = string.punctuation + "“”‘’«»…–—"


class EscalationModel:
    """Implements the engine's RiskModel protocol (service/engine/risk.py)."""

    def __init__(self, pipeline: Pipeline, version: str, metadata: Mapping[str, Any]) -> None:
        self.pipeline = pipeline
        self.version = version
        self.metadata = dict(metadata)
        self._explainer = _LinearExplainer(pipeline)

    @property
    def languages(self) -> frozenset[str]:
        """Languages of the text the model was trained on; models trained before this was
        recorded were trained on English only."""
        recorded = self.metadata.get("training_data", {}).get("languages")
        return frozenset(recorded) if recorded else frozenset({"en"})

    @property
    def rule_weights(self) -> dict[str, float]:
        """Each rule's fitted weight: what its firing adds to the log-odds of escalation."""
        return dict(self._explainer.rule_effects)

    def predict(self, facts: ReportFacts, fired_rules: Sequence[str] = ()) -> ModelPrediction:
        evidence = self._explainer.explain(facts, fired_rules)
        ids, totals = evidence.term_totals()
        # Only the few largest text terms can make the top five: no need to name the rest.
        # Function words are never a reason, so twice as many candidates are looked at.
        wanted = 2 * TOP_TERMS
        if totals.size > wanted:
            candidates = np.argpartition(totals, -wanted)[-wanted:]
        else:
            candidates = np.arange(totals.size)
        scored = [(evidence.term_name(int(ids[i])), float(totals[i])) for i in candidates]
        scored = [(term, weight) for term, weight in scored if not is_function_word(term)]
        scored += evidence.fields
        strongest = heapq.nlargest(TOP_TERMS, scored, key=lambda item: item[1])
        top = [(term, round(weight, 4)) for term, weight in strongest if weight > 0]
        known = self._explainer.rule_effects
        return ModelPrediction(
            probability=evidence.probability,
            top_terms=top,
            rule_weights={rule: known[rule] for rule in fired_rules if rule in known},
        )

    def contributions(self, facts: ReportFacts) -> dict[str, float]:
        """Every readable term's contribution to the log-odds (negative ones included)."""
        evidence = self._explainer.explain(facts)
        ids, totals = evidence.term_totals()
        terms = {evidence.term_name(int(i)): float(t) for i, t in zip(ids, totals, strict=True)}
        for name, weight in evidence.fields:
            terms[name] = terms.get(name, 0.0) + weight
        return terms

    def predict_many(
        self,
        reports: Sequence[ReportFacts],
        fired_rules: Sequence[Sequence[str]] | None = None,
    ) -> list[ModelPrediction]:
        # The per-report path is already fast (~1 ms) and gives each report its own terms.
        rules = fired_rules if fired_rules is not None else [()] * len(reports)
        return [self.predict(f, r) for f, r in zip(reports, rules, strict=True)]

    def __repr__(self) -> str:
        return f"EscalationModel(version={self.version!r})"


@dataclass(frozen=True, slots=True)
class _TextBlock:
    vocabulary: Mapping[str, int]  # term -> column within the block
    idf: np.ndarray
    coef: np.ndarray
    sublinear_tf: bool


@dataclass(frozen=True, slots=True)
class _Evidence:
    """One report's log-odds, split into the terms and fields it came from.

    Text contributions are keyed by term id: a column of the word vocabulary, or, for a
    word outside that vocabulary that still has character n-grams, `n_words + k` where k
    indexes `extra_terms`. Summing per id merges a word's own weight with the weight of the
    character n-grams it contains.
    """

    probability: float
    term_ids: np.ndarray
    term_values: np.ndarray
    word_terms: Sequence[str]
    extra_terms: Sequence[str]
    fields: list[tuple[str, float]]

    def term_totals(self) -> tuple[np.ndarray, np.ndarray]:
        """(distinct term ids, each one's summed contribution): small arrays, not dense ones."""
        ids, position = np.unique(self.term_ids, return_inverse=True)
        return ids, np.bincount(position, weights=self.term_values, minlength=ids.size)

    def term_name(self, term_id: int) -> str:
        n_words = len(self.word_terms)
        return (
            self.word_terms[term_id] if term_id < n_words else self.extra_terms[term_id - n_words]
        )


class _LinearExplainer:
    """The fitted pipeline, restated as a sum of per-term contributions to the log-odds."""

    def __init__(self, pipeline: Pipeline) -> None:
        features = pipeline.named_steps["features"]
        calibrated = pipeline.named_steps["classifier"]
        if not isinstance(features, ColumnTransformer) or not isinstance(
            calibrated, CalibratedClassifierCV
        ):
            raise TypeError(
                "expected a Pipeline of ColumnTransformer 'features' and calibrated 'classifier'"
            )
        if len(calibrated.calibrated_classifiers_) != 1:
            raise TypeError("expected a calibrated classifier fitted with ensemble=False")
        pair = calibrated.calibrated_classifiers_[0]
        coef = np.asarray(pair.estimator.coef_, dtype=np.float64).ravel()
        self._intercept = float(np.ravel(pair.estimator.intercept_)[0])
        self._calibrator = pair.calibrators[0]
        self._positive_is_one = list(calibrated.classes_) == [0, 1]
        # Sigmoid calibration is p = 1 / (1 + exp(a * decision + b)), so a feature adding w to
        # the decision adds -a * w to the calibrated log-odds (the sign flips if the classes do).
        slope = -float(self._calibrator.a_) * (1.0 if self._positive_is_one else -1.0)

        blocks = features.output_indices_
        # A block's transformer weight scales its features, so it scales its coefficients.
        block_weights = features.transformer_weights or {}
        coef = coef.copy()
        for name in (WORDS, CHARS, FIELDS, RULES):
            if name in blocks:  # artifacts before escalation/3 have no rules block
                coef[blocks[name]] *= float(block_weights.get(name, 1.0))
        words: TfidfVectorizer = features.named_transformers_[WORDS]
        chars: TfidfVectorizer = features.named_transformers_[CHARS]
        fields: DictVectorizer = features.named_transformers_[FIELDS]
        self._words = _text_block(words, coef[blocks[WORDS]])
        if words.analyzer != "word" or words.stop_words is not None:
            raise TypeError("the explainer expects a word analyzer without stop words")
        self._word_preprocessor: Callable[[str], str] = words.build_preprocessor()
        self._word_tokenizer: Callable[[str], list[str]] = words.build_tokenizer()
        self._word_ngram_range: tuple[int, int] = words.ngram_range
        # n-grams as token tuples: counting tuples skips building the joined strings
        # (tokens never contain spaces, so "sick leave" <-> ("sick", "leave") exactly).
        self._word_columns = {tuple(t.split(" ")): i for t, i in words.vocabulary_.items()}
        self._word_terms: list[str] = [""] * len(words.vocabulary_)
        for term, index in words.vocabulary_.items():
            self._word_terms[index] = term
        self._chars = _text_block(chars, coef[blocks[CHARS]])
        self._char_preprocessor: Callable[[str], str] = chars.build_preprocessor()
        if chars.analyzer != "char_wb":
            raise TypeError("the explainer expects char_wb character n-grams")
        char_vocabulary = chars.vocabulary_
        word_vocabulary = words.vocabulary_
        low, high = chars.ngram_range

        # char_wb n-grams never cross a space, so a text's n-grams are the sum of its words'
        # n-grams: work per distinct word, and remember the common ones.
        @lru_cache(maxsize=_WORD_CACHE_SIZE)
        def char_columns(word: str) -> tuple[str, int, np.ndarray, int]:
            """(readable term, word-vocabulary column or -1, n-gram columns, their number)."""
            grams = char_wb_ngrams(word, low, high)
            columns = np.fromiter(map(char_vocabulary.get, grams, repeat(-1)), np.intp, len(grams))
            in_vocabulary = columns[columns >= 0]
            term = word.strip(_PUNCTUATION) or word
            return term, word_vocabulary.get(term, -1), in_vocabulary, in_vocabulary.size

        self._char_columns = char_columns
        for term in self._word_terms:  # warm the cache with the words the model knows
            if " " not in term:
                char_columns(term)
        field_coef = coef[blocks[FIELDS]]
        self._field_weights = {name: float(field_coef[i]) for name, i in fields.vocabulary_.items()}
        self._rule_coef: dict[str, float] = {}
        if RULES in blocks:
            rule_coef = coef[blocks[RULES]]
            rules: DictVectorizer = features.named_transformers_[RULES]
            self._rule_coef = {rule: float(rule_coef[i]) for rule, i in rules.vocabulary_.items()}
        self.rule_effects: dict[str, float] = {
            rule: round(slope * weight, 4) for rule, weight in self._rule_coef.items()
        }

    def explain(self, facts: ReportFacts, fired_rules: Sequence[str] = ()) -> _Evidence:
        word_ids, word_values = self._word_evidence(facts.text)
        char_ids, char_values, extra_terms = self._char_evidence(facts.text)
        fields = self._field_evidence(facts)
        decision = (
            self._intercept
            + float(word_values.sum())
            + float(char_values.sum())
            + sum(weight for _, weight in fields)
            + sum(self._rule_coef.get(rule, 0.0) for rule in set(fired_rules))
        )
        calibrated = float(self._calibrator.predict(np.array([decision]))[0])
        probability = calibrated if self._positive_is_one else 1.0 - calibrated
        return _Evidence(
            probability=min(max(probability, 0.0), 1.0),
            term_ids=np.concatenate([word_ids, char_ids]),
            term_values=np.concatenate([word_values, char_values]),
            word_terms=self._word_terms,
            extra_terms=extra_terms,
            fields=fields,
        )

    def _word_evidence(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        tokens = self._word_tokenizer(self._word_preprocessor(text))
        low, high = self._word_ngram_range
        counts: Counter[tuple[str, ...]] = Counter()
        for n in range(low, high + 1):
            counts.update(zip(*(tokens[i:] for i in range(n)), strict=False))
        lookup = self._word_columns
        columns = np.fromiter(map(lookup.get, counts, repeat(-1)), np.intp, len(counts))
        tf = np.fromiter(counts.values(), np.float64, len(counts))
        known = columns >= 0
        columns, tf = columns[known], tf[known]
        if not columns.size:
            return columns, tf
        return columns, _tfidf_contributions(self._words, columns, tf)

    def _char_evidence(self, text: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """Character n-gram contributions, credited to the words the n-grams came from."""
        word_counts = Counter(self._char_preprocessor(text).split())
        occurrences = [self._char_columns(w) for w in word_counts]
        sizes = np.fromiter(map(_SIZE, occurrences), np.intp, len(occurrences))
        if not sizes.any():
            return np.empty(0, np.intp), np.empty(0), []
        # One row per (word, n-gram) occurrence, weighted by how often the word appears.
        word_weights = np.fromiter(word_counts.values(), np.float64, len(occurrences))
        columns = np.concatenate(list(map(_COLUMNS, occurrences)))
        weights = np.repeat(word_weights, sizes)
        # Per distinct n-gram: tf over the whole text, then tf-idf value and l2 norm.
        grams, row_gram = np.unique(columns, return_inverse=True)
        tf = np.bincount(row_gram, weights=weights)
        block = self._chars
        contribution = _tfidf_contributions(block, grams, tf)
        # Each row's share of its n-gram's contribution, in proportion to the word's count.
        per_occurrence = contribution[row_gram] * weights / tf[row_gram]
        per_word = np.bincount(
            np.repeat(np.arange(len(occurrences)), sizes),
            weights=per_occurrence,
            minlength=len(occurrences),
        )
        # A word in the word vocabulary shares its id; any other term gets an id of its own
        # (one per readable term, so "don't" and "don't," add up).
        ids = np.fromiter(map(_WORD_ID, occurrences), np.intp, len(occurrences))
        extra_ids: dict[str, int] = {}
        for position in np.flatnonzero(ids < 0).tolist():
            term = occurrences[position][0]
            ids[position] = extra_ids.setdefault(term, len(self._word_terms) + len(extra_ids))
        extra_terms = list(extra_ids)
        return ids, per_word, extra_terms

    def _field_evidence(self, facts: ReportFacts) -> list[tuple[str, float]]:
        found = []
        for name, value in field_values(facts).items():
            for item in value if isinstance(value, list) else [value]:
                feature = f"{name}={item}"
                weight = self._field_weights.get(feature)
                if weight is not None:
                    found.append((readable_field(feature), weight))
        return found


def char_wb_ngrams(word: str, low: int, high: int) -> list[str]:
    """The `char_wb` n-grams of one lower-cased, whitespace-free token, as scikit-learn makes
    them (TfidfVectorizer._char_wb_ngrams): padded with a space each side, and a padded word
    no longer than n counted once, whole. Tested against scikit-learn's analyzer."""
    padded = f" {word} "
    size = len(padded)
    grams: list[str] = []
    for n in range(low, high + 1):
        if size <= n:
            grams.append(padded)
            break
        grams.extend([padded[i : i + n] for i in range(size - n + 1)])
    return grams


def _text_block(vectorizer: TfidfVectorizer, coef: np.ndarray) -> _TextBlock:
    if vectorizer.norm != "l2" or not vectorizer.use_idf or vectorizer.binary:
        raise TypeError("the explainer supports l2-normalised tf-idf without binary counts")
    return _TextBlock(
        vocabulary=vectorizer.vocabulary_,
        idf=np.asarray(vectorizer.idf_, dtype=np.float64),
        coef=coef,
        sublinear_tf=bool(vectorizer.sublinear_tf),
    )


def _tfidf_contributions(block: _TextBlock, columns: np.ndarray, tf: np.ndarray) -> np.ndarray:
    """value × coefficient per column, with TfidfVectorizer's own tf, idf and l2 norm."""
    values = (np.log(tf) + 1.0 if block.sublinear_tf else tf) * block.idf[columns]
    norm = float(np.sqrt(np.dot(values, values)))
    if norm > 0:
        values /= norm
    return values * block.coef[columns]
