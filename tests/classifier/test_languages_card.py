"""The model card's per-language section: written from the held-out sets, rewritten in place."""

from __future__ import annotations

import json
from pathlib import Path

from service.classifier.evaluate import (
    LANGUAGE_SECTION_END,
    LANGUAGE_SECTION_START,
    replace_language_section,
)

LANGUAGES_DIR = Path(__file__).resolve().parents[2] / "models" / "data" / "languages"


def test_the_held_out_sets_have_forty_reports_half_escalated():
    for language in ("de", "fr"):
        lines = (LANGUAGES_DIR / f"{language}.jsonl").read_text("utf-8").splitlines()
        rows = [json.loads(line) for line in lines]
        assert len(rows) >= 40
        assert sum(row["escalated"] for row in rows) * 2 == len(rows)
        assert {row["language"] for row in rows} == {language}


def test_the_section_is_replaced_not_repeated():
    section = f"{LANGUAGE_SECTION_START}\nnew figures\n{LANGUAGE_SECTION_END}\n"
    card = f"# Card\n\n{LANGUAGE_SECTION_START}\nold figures\n{LANGUAGE_SECTION_END}\ntail\n"
    updated = replace_language_section(card, section)
    assert "old figures" not in updated and updated.count("new figures") == 1
    assert updated.endswith("tail\n")
    # A card without the section gets it appended once.
    appended = replace_language_section("# Card\n", section)
    assert appended == "# Card\n\n" + section
    assert replace_language_section(appended, section) == appended


def test_the_shipped_card_carries_the_figures():
    card = (LANGUAGES_DIR.parents[1] / "escalation" / "3" / "MODEL_CARD.md").read_text("utf-8")
    assert LANGUAGE_SECTION_START in card
    assert "| de | 40 (20) | rules only |" in card and "| fr | 40 (20) | rules only |" in card
