"""Guides in several languages: English in guides/, translations in guides/<lang>/. Every
translation loads, mirrors its English file (checked with messages naming the file and key),
is versioned in the one lock, and the language a leader gets is chosen in one place."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from service.guides import GUIDES_DIR, GuideError, GuideLibrary, check_guides, update_lock
from service.guides.schema import BEHAVIOUR_LABELS_BY_LANGUAGE
from service.vocab import CATEGORIES, LEVELS
from tests.guides.guide_helpers import edit_guide

SHIPPED = sorted(path.name for path in GUIDES_DIR.iterdir() if path.is_dir())


def problems_of(directory: Path) -> str:
    return "\n".join(check_guides(directory))


def test_german_is_shipped_and_every_folder_is_a_loaded_language(library: GuideLibrary) -> None:
    assert "de" in SHIPPED
    assert library.languages == ("en", *SHIPPED)


@pytest.mark.parametrize("language", SHIPPED)
@pytest.mark.parametrize("level", LEVELS)
def test_each_translation_mirrors_english_at_every_level(
    library: GuideLibrary, language: str, level: str
) -> None:
    for category in CATEGORIES:
        english = library.for_case(category, level)
        translated = library.for_case(category, level, language)
        assert translated.language == language and english.language == "en"
        assert translated.guide_id == english.guide_id == category
        assert [s.behaviour for s in translated.sections] == [s.behaviour for s in english.sections]
        assert [[step.key for step in s.steps] for s in translated.sections] == [
            [step.key for step in s.steps] for s in english.sections
        ]
        assert [step.level for step in translated.steps()] == [
            step.level for step in english.steps()
        ]
        for name in ("opening_questions", "reflective_prompts", "avoid_saying", "resources"):
            assert len(getattr(translated, name)) == len(getattr(english, name)), name
        assert len(translated.escalation_signs) == len(english.escalation_signs)
        # translated, not copied: no step reads the same as in English
        same = {
            a.key
            for a, b in zip(translated.steps(), english.steps(), strict=True)
            if a.text == b.text
        }
        assert same == set(), (category, same)
        assert translated.title != english.title and translated.summary != english.summary


@pytest.mark.parametrize("language", SHIPPED)
def test_sections_carry_the_behaviour_names_of_their_language(
    library: GuideLibrary, language: str
) -> None:
    guide = library.for_case("bullying", "low", language)
    assert [section.label for section in guide.sections] == list(
        BEHAVIOUR_LABELS_BY_LANGUAGE[language].values()
    )
    assert guide.sections[0].label != "Attending"


def test_german_guide_reads_as_german(library: GuideLibrary) -> None:
    guide = library.for_case("harassment", "critical", "de")
    assert guide.title == "Zuhören, wenn jemand belästigt wird"
    assert [section.label for section in guide.sections] == [
        "Zuwenden",
        "Verstehen",
        "Mitfühlen",
        "Helfen",
    ]
    first = guide.sections[0].steps[0]
    assert first.key == "check-immediate-safety" and "112" in first.text
    assert library.versions_by_language["de"]["harassment"] == guide.version


def test_each_language_has_its_own_versions(library: GuideLibrary) -> None:
    lock = json.loads((GUIDES_DIR / "versions.lock.json").read_text(encoding="utf-8"))
    for language in SHIPPED:
        for category in CATEGORIES:
            assert f"{language}/{category}" in lock
            version = library.versions_by_language[language][category]
            assert version.startswith(f"{category}@{lock[f'{language}/{category}']['version']}")
        assert f"{language}/_common" in lock


def test_for_case_refuses_a_language_with_no_guides(library: GuideLibrary) -> None:
    with pytest.raises(ValueError, match="language"):
        library.for_case("bullying", "low", "pl")


# --- which language a leader gets ----------------------------------------------------------


@pytest.mark.parametrize(
    ("report", "leader", "expected"),
    [
        ("de", ["en", "de"], "de"),  # the report's, when the leader speaks it
        ("de", ["de"], "de"),
        ("de", ["en"], "en"),  # the leader doesn't speak it: their first with a guide
        ("en", ["de", "en"], "en"),  # the report's wins over the leader's first
        ("pl", ["pl", "de", "en"], "de"),  # no Polish guide: the first of theirs that has one
        ("pl", ["pl"], "en"),  # none of theirs has a guide: English
        ("de", [], "en"),  # no leader yet
        (None, ["de"], "de"),
    ],
)
def test_language_for(library: GuideLibrary, report: Any, leader: list[str], expected: str) -> None:
    assert library.language_for(report, leader) == expected


# --- a translation must mirror its English file ----------------------------------------------


def test_the_shipped_copy_with_translations_passes(all_guides_dir: Path) -> None:
    assert check_guides(all_guides_dir) == []


def test_a_missing_key_is_named(all_guides_dir: Path) -> None:
    edit_guide(all_guides_dir, "de/bullying", lambda d: d["behaviours"]["attending"].pop())
    problems = check_guides(all_guides_dir)
    assert problems == [
        f"{all_guides_dir}/de/bullying.yaml: field 'behaviours.attending': missing key "
        f"'go-gently' (it is in {all_guides_dir}/bullying.yaml)"
    ]
    with pytest.raises(GuideError, match="missing key 'go-gently'"):
        from service.guides import load_guides

        load_guides(all_guides_dir)


def test_an_extra_key_is_named(all_guides_dir: Path) -> None:
    def add(data: dict[str, Any]) -> None:
        data["by_level"]["high"]["helping"].append({"key": "call-a-friend", "text": "Text."})

    edit_guide(all_guides_dir, "de/pay", add)
    assert (
        "de/pay.yaml: field 'by_level.high.helping': extra key 'call-a-friend' (not in "
        in problems_of(all_guides_dir)
    )


def test_a_renamed_key_is_both_missing_and_extra(all_guides_dir: Path) -> None:
    edit_guide(
        all_guides_dir,
        "de/_common",
        lambda d: d["by_level"]["critical"]["attending"][0].update(key="check-safety"),
    )
    message = problems_of(all_guides_dir)
    assert "de/_common.yaml: field 'by_level.critical.attending': missing key " in message
    assert "'check-immediate-safety'" in message and "extra key 'check-safety'" in message


def test_a_level_the_english_file_lacks_is_extra(all_guides_dir: Path) -> None:
    edit_guide(
        all_guides_dir,
        "de/safety",
        lambda d: d["by_level"].update(moderate={"helping": [{"key": "x-step", "text": "T."}]}),
    )
    assert "de/safety.yaml: field 'by_level.moderate.helping': extra key 'x-step'" in (
        problems_of(all_guides_dir)
    )


def test_keys_must_keep_the_english_order(all_guides_dir: Path) -> None:
    edit_guide(all_guides_dir, "de/workload", lambda d: d["behaviours"]["helping"].reverse())
    message = problems_of(all_guides_dir)
    assert "de/workload.yaml: field 'behaviours.helping': keys must be in the order of" in message
    assert "missing key" not in message


def test_list_lengths_and_the_id_must_match(all_guides_dir: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        data["opening_questions"].pop()
        data["id"] = "mobbing"

    edit_guide(all_guides_dir, "de/bullying", change)
    message = problems_of(all_guides_dir)
    assert "de/bullying.yaml: field 'opening_questions': has 3 items; " in message
    assert "bullying.yaml has 4" in message
    assert "de/bullying.yaml: field 'id': must be 'bullying' as in " in message


def test_a_translation_is_schema_checked_like_english(all_guides_dir: Path) -> None:
    edit_guide(all_guides_dir, "de/harassment", lambda d: d.pop("summary"))
    assert "de/harassment.yaml: field 'summary': missing" in problems_of(all_guides_dir)


def test_a_missing_translated_file_is_named(all_guides_dir: Path) -> None:
    (all_guides_dir / "de" / "pay.yaml").unlink()
    assert (
        f"{all_guides_dir}/de: no translation of {all_guides_dir}/pay.yaml "
        f"(expected {all_guides_dir}/de/pay.yaml)" in problems_of(all_guides_dir)
    )


def test_a_translation_without_an_english_file_is_refused(all_guides_dir: Path) -> None:
    (all_guides_dir / "_common.yaml").unlink()
    assert "de/_common.yaml: has no English file" in problems_of(all_guides_dir)


@pytest.mark.parametrize("name", ["xx", "en", "german"])
def test_an_unknown_language_folder_is_refused(all_guides_dir: Path, name: str) -> None:
    shutil.copytree(all_guides_dir / "de", all_guides_dir / name)
    assert f"{all_guides_dir}/{name}: unknown language folder" in problems_of(all_guides_dir)


def test_a_language_needs_its_behaviour_names(all_guides_dir: Path) -> None:
    shutil.copytree(all_guides_dir / "de", all_guides_dir / "pl")
    assert "pl: no behaviour names for 'pl'" in problems_of(all_guides_dir)


# --- the lock covers translations ----------------------------------------------------------


def test_an_edited_translation_without_a_bump_fails_the_lock(all_guides_dir: Path) -> None:
    edit_guide(
        all_guides_dir,
        "de/bullying",
        lambda d: d["behaviours"]["attending"][0].update(text="Ganz neuer Wortlaut."),
    )
    problems = check_guides(all_guides_dir)
    assert len(problems) == 1
    assert (
        "de/bullying.yaml: field 'version': content changed but the version is still 1"
        in (problems[0])
    )
    with pytest.raises(GuideError, match="bump it"):
        update_lock(all_guides_dir)

    edit_guide(all_guides_dir, "de/bullying", lambda d: d.update(version=2))
    assert "out of date for de/bullying (locked at version 1, file has 2)" in (
        problems_of(all_guides_dir)
    )
    update_lock(all_guides_dir)
    assert check_guides(all_guides_dir) == []
    lock = json.loads((all_guides_dir / "versions.lock.json").read_text(encoding="utf-8"))
    assert lock["de/bullying"]["version"] == "2" and lock["bullying"]["version"] == "1"


def test_a_translation_missing_from_the_lock_fails(all_guides_dir: Path) -> None:
    lock_path = all_guides_dir / "versions.lock.json"
    lock = json.loads(lock_path.read_text(encoding="utf-8"))
    del lock["de/pay"]
    lock_path.write_text(json.dumps(lock), encoding="utf-8")
    assert "de/pay.yaml: not in " in problems_of(all_guides_dir)
