"""Malformed guide files fail with GuideError naming the file and the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from service.guides import GuideError, check_guides, load_guides
from tests.guides.guide_helpers import edit_guide


def problems_of(directory: Path) -> str:
    with pytest.raises(GuideError) as caught:
        load_guides(directory)
    assert list(caught.value.problems) == str(caught.value).splitlines()
    return str(caught.value)


def test_a_copy_of_the_shipped_guides_loads(guides_dir: Path) -> None:
    assert load_guides(guides_dir).categories


def test_missing_step_key(guides_dir: Path) -> None:
    edit_guide(guides_dir, "bullying", lambda d: d["behaviours"]["attending"][2].pop("key"))
    message = problems_of(guides_dir)
    assert (
        f"{guides_dir / 'bullying.yaml'}: field 'behaviours.attending[2].key': missing" in message
    )


def test_missing_behaviour_section(guides_dir: Path) -> None:
    edit_guide(guides_dir, "pay", lambda d: d["behaviours"].pop("empathising"))
    assert "pay.yaml: field 'behaviours.empathising': missing" in problems_of(guides_dir)


def test_empty_behaviour_section(guides_dir: Path) -> None:
    edit_guide(guides_dir, "pay", lambda d: d["behaviours"].update(helping=[]))
    assert "pay.yaml: field 'behaviours.helping': shorter than minimum length 1" in problems_of(
        guides_dir
    )


def test_missing_top_level_field(guides_dir: Path) -> None:
    edit_guide(guides_dir, "workload", lambda d: d.pop("escalation_signs"))
    assert "workload.yaml: field 'escalation_signs': missing" in problems_of(guides_dir)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d.update(title=42), "field 'title': must be text"),
        (
            lambda d: d["behaviours"].update(helping="be kind"),
            "field 'behaviours.helping': must be a list",
        ),
        (lambda d: d.update(behaviours=["attending"]), "field 'behaviours': must be a mapping"),
        (lambda d: d.update(version=1.5), "field 'version': must be a positive integer"),
        (lambda d: d.update(version=0), "field 'version': must be a positive integer"),
        (lambda d: d.update(version=True), "field 'version': must be a positive integer"),
        (lambda d: d["avoid_saying"][0].pop("why"), "field 'avoid_saying[0].why': missing"),
        (
            lambda d: d["resources"][1].update(detail="   "),
            "field 'resources[1].detail': must not be empty",
        ),
        (
            lambda d: d["opening_questions"].append(None),
            "field 'opening_questions[4]': must not be empty",
        ),
        (
            lambda d: d["behaviours"]["understanding"][0].update(key="Ask About"),
            "field 'behaviours.understanding[0].key': key must be kebab-case",
        ),
        (lambda d: d.update(escalation_sign=["typo"]), "field 'escalation_sign': unknown field"),
    ],
)
def test_bad_types_and_values(guides_dir: Path, change: Any, expected: str) -> None:
    edit_guide(guides_dir, "bullying", change)
    assert f"bullying.yaml: {expected}" in problems_of(guides_dir)


def test_semantic_version_is_accepted(guides_dir: Path) -> None:
    edit_guide(guides_dir, "bullying", lambda d: d.update(version="2.1.0"))
    assert load_guides(guides_dir).for_case("bullying", "low").version == "bullying@2.1.0+common@1"


def test_duplicate_key_within_a_section(guides_dir: Path) -> None:
    def duplicate(data: dict[str, Any]) -> None:
        data["behaviours"]["helping"][1]["key"] = data["behaviours"]["helping"][0]["key"]

    edit_guide(guides_dir, "retaliation", duplicate)
    message = problems_of(guides_dir)
    assert "retaliation.yaml: field 'behaviours.helping[1].key': duplicate key" in message
    assert "also at behaviours.helping[0].key" in message


def test_duplicate_key_between_a_level_and_the_base(guides_dir: Path) -> None:
    def duplicate(data: dict[str, Any]) -> None:
        data["by_level"]["critical"]["helping"][0]["key"] = "get-the-facts"

    edit_guide(guides_dir, "safety", duplicate)
    assert (
        "safety.yaml: field 'by_level.critical.helping[0].key': duplicate key 'get-the-facts'"
        in problems_of(guides_dir)
    )


def test_duplicate_key_with_the_shared_file(guides_dir: Path) -> None:
    edit_guide(
        guides_dir, "other", lambda d: d["behaviours"]["helping"][0].update(key="write-up-notes")
    )
    message = problems_of(guides_dir)
    assert (
        "other.yaml: field 'behaviours.helping[0].key': duplicate key 'write-up-notes'" in message
    )
    assert "_common.yaml behaviours.helping" in message


def test_unknown_category_in_the_file(guides_dir: Path) -> None:
    edit_guide(guides_dir, "bullying", lambda d: d.update(category="gossip"))
    assert "bullying.yaml: field 'category': must be one of" in problems_of(guides_dir)


def test_unknown_category_as_a_file(guides_dir: Path) -> None:
    (guides_dir / "gossip.yaml").write_text("id: gossip\n", encoding="utf-8")
    assert "gossip.yaml: unknown category 'gossip'" in problems_of(guides_dir)


def test_category_must_match_the_file_name(guides_dir: Path) -> None:
    edit_guide(guides_dir, "bullying", lambda d: d.update(category="harassment"))
    assert "bullying.yaml: field 'category': 'harassment' does not match the file name" in (
        problems_of(guides_dir)
    )


def test_missing_category(guides_dir: Path) -> None:
    (guides_dir / "pay.yaml").unlink()
    assert f"no guide for category 'pay' (expected {guides_dir / 'pay.yaml'})" in problems_of(
        guides_dir
    )


def test_duplicate_guide_id(guides_dir: Path) -> None:
    edit_guide(guides_dir, "other", lambda d: d.update(id="bullying"))
    assert "other.yaml: field 'id': 'bullying' is already used by" in problems_of(guides_dir)


def test_levels_high_and_critical_are_required(guides_dir: Path) -> None:
    edit_guide(guides_dir, "management", lambda d: d["by_level"].pop("critical"))
    assert "management.yaml: field 'by_level.critical': missing" in problems_of(guides_dir)


def test_a_level_must_add_a_step(guides_dir: Path) -> None:
    edit_guide(guides_dir, "management", lambda d: d["by_level"].update(high={"helping": []}))
    assert "management.yaml: field 'by_level.high': must add at least one step" in problems_of(
        guides_dir
    )


def test_low_is_not_an_extra_level(guides_dir: Path) -> None:
    extra = {"helping": [{"key": "x-step", "text": "Something."}]}
    edit_guide(guides_dir, "management", lambda d: d["by_level"].update(low=extra))
    assert "management.yaml: field 'by_level.low': unknown field" in problems_of(guides_dir)


def test_moderate_extras_reach_moderate_and_above(guides_dir: Path) -> None:
    extra = {"helping": [{"key": "check-in-next-week", "text": "Check in next week."}]}
    edit_guide(guides_dir, "pay", lambda d: d["by_level"].update(moderate=extra))
    library = load_guides(guides_dir)
    assert "check-in-next-week" not in library.for_case("pay", "low").step_keys()
    for level in ("moderate", "high", "critical"):
        assert "check-in-next-week" in library.for_case("pay", level).step_keys()


def test_duplicate_yaml_mapping_key(guides_dir: Path) -> None:
    path = guides_dir / "interpersonal.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "title: Again\n", encoding="utf-8")
    message = problems_of(guides_dir)
    assert "interpersonal.yaml: not valid YAML at line" in message
    assert "duplicate mapping key 'title'" in message


def test_invalid_yaml(guides_dir: Path) -> None:
    (guides_dir / "pay.yaml").write_text("id: pay\nsummary: [unclosed\n", encoding="utf-8")
    assert "pay.yaml: not valid YAML at line" in problems_of(guides_dir)


def test_top_level_must_be_a_mapping(guides_dir: Path) -> None:
    (guides_dir / "pay.yaml").write_text("- id: pay\n", encoding="utf-8")
    assert "pay.yaml: must be a mapping of fields at the top level" in problems_of(guides_dir)


def test_stray_files_are_rejected(guides_dir: Path) -> None:
    (guides_dir / "bullying.yml").write_text("id: x\n", encoding="utf-8")
    (guides_dir / "_draft.yaml").write_text("id: x\n", encoding="utf-8")
    message = problems_of(guides_dir)
    assert "bullying.yml: use the .yaml extension" in message
    assert "_draft.yaml: unknown file" in message


def test_shared_file_is_schema_checked(guides_dir: Path) -> None:
    edit_guide(guides_dir, "_common", lambda d: d["by_level"]["critical"]["helping"][0].pop("text"))
    assert "_common.yaml: field 'by_level.critical.helping[0].text': missing" in problems_of(
        guides_dir
    )


def test_guides_work_without_a_shared_file(guides_dir: Path) -> None:
    (guides_dir / "_common.yaml").unlink()
    library = load_guides(guides_dir)
    guide = library.for_case("bullying", "critical")
    assert guide.version == "bullying@1"
    assert "check-immediate-safety" not in guide.step_keys()
    assert {step.level for step in library.for_case("bullying", "low").steps()} == {None}


def test_not_a_directory(tmp_path: Path) -> None:
    assert "not a directory" in problems_of(tmp_path / "nowhere")


def test_check_guides_lists_every_problem_without_raising(guides_dir: Path) -> None:
    edit_guide(guides_dir, "bullying", lambda d: d.pop("title"))
    edit_guide(guides_dir, "pay", lambda d: d.pop("summary"))
    problems = check_guides(guides_dir)
    assert any("bullying.yaml: field 'title': missing" in line for line in problems)
    assert any("pay.yaml: field 'summary': missing" in line for line in problems)


def test_error_messages_do_not_echo_file_content(guides_dir: Path) -> None:
    secret = "PRIVATE-TEXT-THAT-MUST-NOT-LEAK"
    edit_guide(guides_dir, "bullying", lambda d: d.update(category=secret))
    assert secret not in problems_of(guides_dir)
