"""The real-grounded corpus keeps the promises of its data card, and its test split stays frozen.

A failure here means the corpus files were edited: rebuild them with scripts/build-real-corpus
(which never moves the frozen test split) rather than by hand.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from pathlib import Path

import pytest
from scipy.stats import ks_2samp

from service.classifier.data import read_labelled_dir, source_domain
from service.vocab import CATEGORIES

REAL = Path(__file__).resolve().parents[2] / "models" / "data" / "real"
ESCALATED = {"grievance", "agency_charge", "tribunal", "legal_claim", "resigned"}
NOT_ESCALATED = {"resolved_informally", "mediated", "faded", "ongoing_low"}
OUTCOME_WORDS = re.compile(
    r"\b(grievances?|tribunals?|lawyers?|solicitors?|lawsuits?|sue|suing|eeoc|acas|"
    r"constructive dismissal)\b",
    re.IGNORECASE,
)


def _items(split: str) -> list[dict]:
    lines = (REAL / split / f"{split}.jsonl").read_text("utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="module")
def train() -> list[dict]:
    return _items("train")


@pytest.fixture(scope="module")
def test() -> list[dict]:
    return _items("test")


def test_the_test_split_is_frozen() -> None:
    recorded, name = (REAL / "FROZEN_TEST.sha256").read_text().split()
    assert name == "test/test.jsonl"
    assert hashlib.sha256((REAL / name).read_bytes()).hexdigest() == recorded


def test_sizes_and_no_domain_or_text_on_both_sides(train, test) -> None:  # type: ignore[no-untyped-def]
    assert len(train) + len(test) >= 600
    assert len(test) >= 150
    train_domains = {source_domain(i["source"]) for i in train}
    test_domains = {source_domain(i["source"]) for i in test}
    assert not train_domains & test_domains
    normal = {" ".join(i["text"].lower().split()) for i in train}
    assert not [i for i in test if " ".join(i["text"].lower().split()) in normal]


def test_every_item_records_source_outcome_and_evidence(train, test) -> None:  # type: ignore[no-untyped-def]
    for item in train + test:
        assert item["source"].startswith(("http://", "https://"))
        assert item["evidence"].strip()
        outcomes = ESCALATED if item["escalated"] else NOT_ESCALATED
        assert item["outcome"] in outcomes, item["outcome"]


def test_balance_promised_by_the_data_card(train, test) -> None:  # type: ignore[no-untyped-def]
    items = train + test
    labels = Counter((i["category"], i["escalated"]) for i in items)
    for category in CATEGORIES:
        assert labels[(category, True)] >= 10 and labels[(category, False)] >= 10, category
    domains = Counter(source_domain(i["source"]) for i in items)
    assert max(domains.values()) <= 0.05 * len(items)
    # The two labels have the same length distribution.
    lengths = {
        label: [len(i["text"]) for i in items if i["escalated"] is label] for label in (True, False)
    }
    assert ks_2samp(lengths[True], lengths[False]).pvalue > 0.05
    # Escalated accounts do not name their own outcome (typed before it).
    for label in (True, False):
        named = [i for i in items if i["escalated"] is label and OUTCOME_WORDS.search(i["text"])]
        assert len(named) <= 0.05 * len(lengths[label])
    # Form answers on about half of the items.
    answered = sum(i["desired_outcome"] is not None or i["duration"] is not None for i in items)
    assert 0.35 <= answered / len(items) <= 0.65


def test_the_trainer_reads_both_splits_with_domains_as_groups() -> None:
    train = read_labelled_dir(REAL / "train")
    test = read_labelled_dir(REAL / "test")
    assert {r.group for r in train}.isdisjoint({r.group for r in test})
    assert all("." in r.group and ":" not in r.group for r in train + test)  # domains, not lines
