"""The scrubber on the PII set (pii_set.jsonl, see make_pii_set.py): with no staff directory,
at least 95% of the listed personal strings are gone, in every language the form offers,
and at least 98% of the ordinary words in reports without any survive."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from service.privacy.scrub import Scrubber
from service.vocab import LANGUAGES

ROWS = [
    json.loads(line)
    for line in Path(__file__).with_name("pii_set.jsonl").read_text("utf-8").splitlines()
]
MIN_RECALL = 0.95
MIN_KEPT = 0.98


@pytest.fixture(scope="module")
def scrubber() -> Scrubber:
    return Scrubber()  # no directory: every name here must be found without one


def _recall(scrubber: Scrubber, rows: list[dict]) -> tuple[float, list[str]]:
    found, missed = 0, []
    for row in rows:
        text = scrubber.scrub(row["text"], language=row["language"]).text
        for value in row["pii"]:
            if value in text:
                missed.append(f"{row['language']}: {value!r} in {text!r}")
            else:
                found += 1
    return found / (found + len(missed)), missed


def _kept(scrubber: Scrubber, rows: list[dict]) -> tuple[float, list[str]]:
    kept, lost = 0, []
    for row in rows:
        words = scrubber.scrub(row["text"], language=row["language"]).text.split()
        present = {w.strip(".,:;!?") for w in words}
        for word in row["keep"]:
            if word in present:
                kept += 1
            else:
                lost.append(f"{row['language']}: {word!r} in {row['text']!r}")
    return kept / (kept + len(lost)), lost


def test_the_set_is_big_enough_and_covers_every_language() -> None:
    with_pii = [row for row in ROWS if row["pii"]]
    without = [row for row in ROWS if not row["pii"]]
    assert len(with_pii) >= 200 and len(without) >= 100
    assert {row["language"] for row in with_pii} == set(LANGUAGES)
    assert {row["language"] for row in without} == set(LANGUAGES)


def test_recall_of_personal_strings(scrubber: Scrubber) -> None:
    recall, missed = _recall(scrubber, [row for row in ROWS if row["pii"]])
    assert recall >= MIN_RECALL, "\n".join(missed)


@pytest.mark.parametrize("language", LANGUAGES)
def test_recall_in_each_language(scrubber: Scrubber, language: str) -> None:
    rows = [row for row in ROWS if row["pii"] and row["language"] == language]
    recall, missed = _recall(scrubber, rows)
    assert recall >= 0.9, "\n".join(missed)


def test_ordinary_words_are_kept(scrubber: Scrubber) -> None:
    kept, lost = _kept(scrubber, [row for row in ROWS if not row["pii"]])
    assert kept >= MIN_KEPT, "\n".join(lost)


def test_the_measures_can_fail() -> None:
    """The raw text holds every listed string, so recall measures the scrubber."""

    rows = [row for row in ROWS if row["pii"]]
    unchanged = sum(v in row["text"] for row in rows for v in row["pii"])
    assert unchanged == sum(len(row["pii"]) for row in rows)


TITLE_ROWS = [row for row in ROWS if row["pii"] and row["keep"]]


def test_every_language_has_title_and_cue_word_cases() -> None:
    assert {row["language"] for row in TITLE_ROWS} == set(LANGUAGES)


@pytest.mark.parametrize("row", TITLE_ROWS, ids=lambda row: f"{row['language']}-{row['pii'][0]}")
def test_a_name_after_a_title_or_role_goes_and_the_title_stays(scrubber: Scrubber, row) -> None:
    text = scrubber.scrub(row["text"], language=row["language"]).text
    assert not [value for value in row["pii"] if value in text], text
    present = {w.strip(",:;!?") for w in text.split()}
    assert set(row["keep"]) <= present, text
