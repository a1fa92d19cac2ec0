"""Features of a report: word n-grams, character n-grams, the structured fields and the
rules that fired.

A report becomes one row of a three-column object array: the text, a dict of its
structured fields ("category": "bullying", "involved": ["my manager"], ...) and a dict of
the rule ids that fired ({"legal-001": 1.0}). A ColumnTransformer turns the text into two
tf-idf blocks, the fields into one-hot features named like "involved=my manager" and the
rules into one feature per rule, so every coefficient can be read back as a term, an answer
or a rule's fitted weight.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

from service.engine.facts import ReportFacts
from service.vocab import ANSWER_FIELDS

TEXT_COLUMN = 0
FIELDS_COLUMN = 1
RULES_COLUMN = 2

# Names of the ColumnTransformer blocks; the explainer relies on them.
WORDS = "words"
CHARS = "chars"
FIELDS = "fields"
RULES = "rules"

FIELD_NAMES: tuple[str, ...] = ("category", *ANSWER_FIELDS)

# Negations and the contraction stems that carry them ("didn't" -> "didn") are never treated as
# function words: "not resolved" and "resolved" mean opposite things.
_NEGATIONS = frozenset(
    {
        "no",
        "not",
        "nor",
        "never",
        "nothing",
        "none",
        "nobody",
        "cannot",
        "don",
        "didn",
        "doesn",
        "isn",
        "wasn",
        "won",
        "couldn",
        "wouldn",
        "shouldn",
        "haven",
        "hasn",
        "aren",
        "weren",
    }
)
# Function words ("the", "we", "but") are never shown to a Trust Leader as a reason: an
# explanation naming them helps no one. They stay features: on the real-grounded corpus,
# dropping them from the word n-grams lowered grouped cross-validated ROC AUC (0.860 to 0.846)
# and leave-one-writer-out ROC AUC (0.845 to 0.834).
FUNCTION_WORDS: frozenset[str] = (
    frozenset(ENGLISH_STOP_WORDS | {"ve", "ll", "re", "im", "ive"}) - _NEGATIONS
)


_TOKEN_SPLIT = re.compile(r"[\s'’]+")


def is_function_word(term: str) -> bool:
    """True for a term made only of function words ("the", "to the", "they're"): never shown
    as a reason."""
    return all(token in FUNCTION_WORDS for token in _TOKEN_SPLIT.split(term.lower()) if token)


@dataclass(frozen=True, slots=True)
class FeatureConfig:
    """Vectoriser settings; recorded in metadata.json so an artifact says how it was built."""

    word_ngram_range: tuple[int, int] = (1, 2)
    word_min_df: int = 2
    word_max_features: int = 20_000
    # char_wb n-grams stay inside word boundaries: robust to misspellings and inflections,
    # and much cheaper on long texts than plain "char".
    char_ngram_range: tuple[int, int] = (3, 5)
    char_min_df: int = 2
    char_max_features: int = 30_000
    # The form's fields are few, clean and strongly predictive, so at full weight they
    # drown out the text: a report that says "tribunal" but ticks mild answers scored low,
    # and models trained on one writer's files transferred worse to the other's. Scaling
    # the one-hot fields down regularises them harder than the text (leave-one-file-out
    # ROC AUC rose from 0.980/0.927 to 0.991/0.933 at 0.3, shuffled CV unchanged).
    fields_weight: float = 0.3
    # The rule hits' block weight: how strongly the rules' one-hot features are regularised
    # relative to the text (chosen by grouped cross-validation, like C).
    rules_weight: float = 1.0

    def as_dict(self) -> dict[str, object]:
        settings = asdict(self)
        return {
            "text": {
                WORDS: {
                    "analyzer": "word",
                    "ngram_range": list(settings["word_ngram_range"]),
                    "min_df": self.word_min_df,
                    "max_features": self.word_max_features,
                    "sublinear_tf": True,
                },
                CHARS: {
                    "analyzer": "char_wb",
                    "ngram_range": list(settings["char_ngram_range"]),
                    "min_df": self.char_min_df,
                    "max_features": self.char_max_features,
                    "sublinear_tf": True,
                },
            },
            FIELDS: list(FIELD_NAMES),
            RULES: "one feature per fired rule id",
            "block_weights": {
                WORDS: 1.0,
                CHARS: 1.0,
                FIELDS: self.fields_weight,
                RULES: self.rules_weight,
            },
            "dtype": "float32",
        }


def build_feature_transformer(config: FeatureConfig | None = None) -> ColumnTransformer:
    """An unfitted transformer from `feature_frame` rows to one sparse float32 matrix."""
    config = config or FeatureConfig()
    words = TfidfVectorizer(
        analyzer="word",
        ngram_range=config.word_ngram_range,
        min_df=config.word_min_df,
        max_features=config.word_max_features,
        sublinear_tf=True,
        dtype=np.float32,
    )
    chars = TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=config.char_ngram_range,
        min_df=config.char_min_df,
        max_features=config.char_max_features,
        sublinear_tf=True,
        dtype=np.float32,
    )
    return ColumnTransformer(
        [
            (WORDS, words, TEXT_COLUMN),
            (CHARS, chars, TEXT_COLUMN),
            (FIELDS, DictVectorizer(dtype=np.float32), FIELDS_COLUMN),
            (RULES, DictVectorizer(dtype=np.float32), RULES_COLUMN),
        ],
        sparse_threshold=1.0,  # always sparse
        transformer_weights={
            WORDS: 1.0,
            CHARS: 1.0,
            FIELDS: config.fields_weight,
            RULES: config.rules_weight,
        },
    )


def field_values(facts: ReportFacts) -> dict[str, str | list[str]]:
    """The structured fields as DictVectorizer input; unknown (None/empty) fields are left out."""
    values: dict[str, str | list[str]] = {"category": facts.category}
    if facts.duration:
        values["duration"] = facts.duration
    if facts.raised_before is not None:
        values["raised_before"] = "yes" if facts.raised_before else "no"
    if facts.raised_with:
        values["raised_with"] = sorted(set(facts.raised_with))
    if facts.involved:
        values["involved"] = sorted(set(facts.involved))
    if facts.desired_outcome:
        values["desired_outcome"] = facts.desired_outcome
    if facts.urgency:
        values["urgency"] = facts.urgency
    return values


def feature_frame(
    reports: Sequence[ReportFacts], fired_rules: Sequence[Sequence[str]] | None = None
) -> np.ndarray:
    """Rows of (text, field dict, rule dict) for the ColumnTransformer; `fired_rules` holds the
    ids of the rules that fired on each report (none when not given)."""
    if fired_rules is not None and len(fired_rules) != len(reports):
        raise ValueError("fired_rules must have one entry per report")
    frame = np.empty((len(reports), 3), dtype=object)
    for row, facts in enumerate(reports):
        frame[row, TEXT_COLUMN] = facts.text
        frame[row, FIELDS_COLUMN] = field_values(facts)
        frame[row, RULES_COLUMN] = rule_values(fired_rules[row] if fired_rules else ())
    return frame


def rule_values(rule_ids: Sequence[str]) -> dict[str, float]:
    """The fired rules as DictVectorizer input: one feature per rule id."""
    return dict.fromkeys(rule_ids, 1.0)


def readable_field(feature: str) -> str:
    """'desired_outcome=formal_action' -> 'desired outcome: formal action'."""
    name, _, value = feature.partition("=")
    return f"{name.replace('_', ' ')}: {value.replace('_', ' ')}"
