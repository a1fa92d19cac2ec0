"""The guides in guides/ load, cover every category and resolve correctly at every level."""

from __future__ import annotations

import dataclasses
import re

import pytest

from service.guides import (
    BEHAVIOUR_LABELS,
    BEHAVIOURS,
    GUIDES_DIR,
    GuideLibrary,
    check_guides,
    load_guides,
)
from service.vocab import CATEGORIES, LEVELS

KEBAB = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
ALL_CASES = [(category, level) for category in CATEGORIES for level in LEVELS]


def test_shipped_guides_pass_every_check() -> None:
    assert check_guides(GUIDES_DIR) == []


def test_every_category_has_a_guide(library: GuideLibrary) -> None:
    assert library.categories == CATEGORIES
    for category in CATEGORIES:
        guide = library.for_case(category, "low")
        assert guide.category == category
        assert guide.title and guide.summary


@pytest.mark.parametrize(("category", "level"), ALL_CASES)
def test_resolved_guide_has_the_four_behaviours_in_order(
    library: GuideLibrary, category: str, level: str
) -> None:
    guide = library.for_case(category, level)
    assert [section.behaviour for section in guide.sections] == list(BEHAVIOURS)
    assert [section.label for section in guide.sections] == [
        "Attending",
        "Understanding",
        "Empathising",
        "Helping",
    ]
    assert all(section.label == BEHAVIOUR_LABELS[section.behaviour] for section in guide.sections)
    for section in guide.sections:
        assert section.steps, f"{category}/{level}: {section.behaviour} has no steps"


@pytest.mark.parametrize(("category", "level"), ALL_CASES)
def test_step_keys_are_unique_and_kebab_case(
    library: GuideLibrary, category: str, level: str
) -> None:
    keys = [step.key for step in library.for_case(category, level).steps()]
    assert len(keys) == len(set(keys))
    assert all(KEBAB.fullmatch(key) for key in keys), keys
    assert library.for_case(category, level).step_keys() == frozenset(keys)


@pytest.mark.parametrize("category", CATEGORIES)
def test_low_has_no_extra_steps_and_each_level_adds_to_the_one_below(
    library: GuideLibrary, category: str
) -> None:
    low, moderate, high, critical = (library.for_case(category, level) for level in LEVELS)
    assert {step.level for step in low.steps()} == {None}
    assert low.step_keys() <= moderate.step_keys() <= high.step_keys()
    assert high.step_keys() < critical.step_keys()
    assert low.step_keys() < high.step_keys()

    high_extras = {step.key for step in high.steps() if step.level == "high"}
    critical_extras = {step.key for step in critical.steps() if step.level == "critical"}
    assert high_extras, f"{category}: no extra steps at high"
    assert critical_extras, f"{category}: no extra steps at critical"
    assert high_extras <= {step.key for step in critical.steps() if step.level == "high"}
    assert not critical_extras & high.step_keys()


@pytest.mark.parametrize("category", CATEGORIES)
def test_extra_steps_lead_each_section_highest_level_first(
    library: GuideLibrary, category: str
) -> None:
    order = {"critical": 0, "high": 1, "moderate": 2, None: 3}
    for section in library.for_case(category, "critical").sections:
        ranks = [order[step.level] for step in section.steps]
        assert ranks == sorted(ranks), f"{category}/{section.behaviour}: {ranks}"


@pytest.mark.parametrize("category", CATEGORIES)
def test_critical_starts_with_immediate_safety_and_ends_with_a_safety_plan(
    library: GuideLibrary, category: str
) -> None:
    critical = library.for_case(category, "critical")
    attending, *_, helping = critical.sections
    assert attending.steps[0].key == "check-immediate-safety"
    assert {"contact-on-call-lead", "safety-plan-before-ending"} <= critical.step_keys()


@pytest.mark.parametrize("category", CATEGORIES)
def test_every_guide_has_the_supporting_lists(library: GuideLibrary, category: str) -> None:
    guide = library.for_case(category, "low")
    assert guide.opening_questions and guide.reflective_prompts
    assert guide.avoid_saying and all(item.say and item.why for item in guide.avoid_saying)
    assert guide.resources and all(item.name and item.detail for item in guide.resources)
    assert guide.escalation_signs
    # shared immediate-safety signs come before the category's own
    assert "risk of harm" in guide.escalation_signs[0]


def test_version_names_the_guide_and_the_shared_file(library: GuideLibrary) -> None:
    for category in CATEGORIES:
        version = library.for_case(category, "high").version
        assert re.fullmatch(rf"{category}@\d+\+common@\d+", version), version
        assert library.guide_versions[category] == version


def test_library_version_is_a_stable_content_hash(library: GuideLibrary) -> None:
    assert re.fullmatch(r"[0-9a-f]{16}", library.version)
    assert load_guides(GUIDES_DIR).version == library.version


def test_resolved_guide_is_immutable(library: GuideLibrary) -> None:
    guide = library.for_case("bullying", "high")
    with pytest.raises(dataclasses.FrozenInstanceError):
        guide.version = "bullying@99"  # type: ignore[misc]
    assert isinstance(guide.sections, tuple)


def test_for_case_rejects_values_outside_the_vocabulary(library: GuideLibrary) -> None:
    with pytest.raises(ValueError, match="category"):
        library.for_case("gossip", "low")
    with pytest.raises(ValueError, match="level"):
        library.for_case("bullying", "severe")


def test_safety_guide_puts_immediate_danger_first_at_every_level(library: GuideLibrary) -> None:
    low = library.for_case("safety", "low")
    assert low.sections[0].steps[0].key == "ask-if-danger-is-live"
    assert low.opening_questions[0] == "Is anyone in danger right now?"


def test_retaliation_guide_reassures_and_warns_against_promising_confidentiality(
    library: GuideLibrary,
) -> None:
    guide = library.for_case("retaliation", "low")
    assert guide.sections[0].steps[0].key == "reassure-about-protection"
    assert "be-honest-about-confidentiality" in guide.step_keys()
    assert any("confidential" in item.say.lower() for item in guide.avoid_saying)


def test_discrimination_guide_warns_against_questioning_the_motive(library: GuideLibrary) -> None:
    guide = library.for_case("discrimination", "low")
    assert any(item.say.startswith("Are you sure it was because") for item in guide.avoid_saying)


def test_crisis_resources_are_generic_and_present_everywhere(library: GuideLibrary) -> None:
    for category in CATEGORIES:
        crisis = [r for r in library.for_case(category, "low").resources if "Crisis" in r.name]
        assert crisis and "emergency number" in crisis[0].detail
