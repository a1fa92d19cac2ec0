from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from service.classifier.data import files_sha256
from service.classifier.features import (
    feature_frame,
    field_values,
    is_function_word,
    readable_field,
)
from service.classifier.model import char_wb_ngrams
from service.engine.facts import ReportFacts


def test_field_values_leave_out_unknowns_and_spell_out_booleans() -> None:
    facts = ReportFacts(
        text="t",
        category="pay",
        raised_before=False,
        involved=("my manager", "a peer", "my manager"),
        urgency="urgent",
    )
    assert field_values(facts) == {
        "category": "pay",
        "raised_before": "no",
        "involved": ["a peer", "my manager"],
        "urgency": "urgent",
    }
    assert field_values(ReportFacts(text="t", category="other")) == {"category": "other"}


def test_feature_frame_has_text_fields_and_rules_columns() -> None:
    reports = [ReportFacts(text="a", category="pay"), ReportFacts(text="b", category="other")]
    frame = feature_frame(reports, [["legal-001", "calm-002"], []])
    assert frame.shape == (2, 3)
    assert frame.dtype == np.dtype(object)
    assert list(frame[:, 0]) == ["a", "b"]
    assert frame[1, 1] == {"category": "other"}
    assert frame[0, 2] == {"legal-001": 1.0, "calm-002": 1.0}
    assert frame[1, 2] == {}
    assert feature_frame(reports)[0, 2] == {}
    with pytest.raises(ValueError, match="one entry per report"):
        feature_frame(reports, [[]])


def test_function_words_are_never_reasons_but_negations_stay_words() -> None:
    assert is_function_word("the") and is_function_word("to the")
    assert is_function_word("they're") and is_function_word("I’ve")
    assert not is_function_word("not") and not is_function_word("didn")
    assert not is_function_word("tribunal") and not is_function_word("the tribunal")


def test_readable_field_names() -> None:
    assert readable_field("involved=my manager") == "involved: my manager"
    assert readable_field("desired_outcome=formal_action") == "desired outcome: formal action"


def test_data_hash_depends_on_content_not_listing_order(tmp_path) -> None:
    a = tmp_path / "a.jsonl"
    b = tmp_path / "b.jsonl"
    a.write_text("1\n")
    b.write_text("2\n")
    first = files_sha256([a, b])
    assert first == files_sha256([b, a])
    b.write_text("3\n")
    assert files_sha256([a, b]) != first


@pytest.mark.parametrize("ngram_range", [(3, 5), (2, 4), (1, 1), (4, 6)])
def test_char_wb_ngrams_match_scikit_learn(ngram_range: tuple[int, int]) -> None:
    analyzer = TfidfVectorizer(analyzer="char_wb", ngram_range=ngram_range).build_analyzer()
    for word in ["a", "ab", "abc", "abcd", "tribunal.", "wörds", "i've", "x" * 12, "[name]"]:
        assert char_wb_ngrams(word, *ngram_range) == analyzer(word), word
