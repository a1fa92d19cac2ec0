"""The version lock: wording can't change while the version number stays the same."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from service.guides import GuideError, check_guides, update_lock
from service.guides.__main__ import main
from tests.guides.guide_helpers import edit_guide


def reword_first_step(directory: Path, stem: str = "bullying") -> None:
    edit_guide(
        directory,
        stem,
        lambda d: d["behaviours"]["attending"][0].update(text="Completely new wording."),
    )


def test_copied_guides_match_the_lock(guides_dir: Path) -> None:
    assert check_guides(guides_dir) == []


def test_changed_wording_without_a_version_bump_fails(guides_dir: Path) -> None:
    reword_first_step(guides_dir)
    problems = check_guides(guides_dir)
    assert len(problems) == 1
    assert (
        "bullying.yaml: field 'version': content changed but the version is still 1" in problems[0]
    )
    with pytest.raises(GuideError, match="bump it"):
        update_lock(guides_dir)


def test_changed_shared_file_without_a_bump_fails(guides_dir: Path) -> None:
    edit_guide(guides_dir, "_common", lambda d: d["escalation_signs"].append("Something new."))
    assert "_common.yaml: field 'version': content changed" in "\n".join(check_guides(guides_dir))


def test_bump_then_update_lock_passes(guides_dir: Path) -> None:
    reword_first_step(guides_dir)
    edit_guide(guides_dir, "bullying", lambda d: d.update(version=2))
    assert (
        "out of date for bullying (locked at version 1, file has 2)" in check_guides(guides_dir)[0]
    )
    update_lock(guides_dir)
    assert check_guides(guides_dir) == []
    lock = json.loads((guides_dir / "versions.lock.json").read_text(encoding="utf-8"))
    assert lock["bullying"]["version"] == "2"


def test_reformatting_alone_needs_no_bump(guides_dir: Path) -> None:
    path = guides_dir / "pay.yaml"
    text = path.read_text(encoding="utf-8").replace(
        "payroll, and ask when it will be corrected.",
        "payroll,\n        and ask when it will be corrected.",
    )
    path.write_text("# a new comment\n" + text, encoding="utf-8")
    assert "\n        and ask" in path.read_text(encoding="utf-8")
    assert check_guides(guides_dir) == []


def test_version_going_backwards_fails(guides_dir: Path) -> None:
    lock_path = guides_dir / "versions.lock.json"
    lock = json.loads(lock_path.read_text(encoding="utf-8"))
    lock["safety"]["version"] = "3"
    lock_path.write_text(json.dumps(lock), encoding="utf-8")
    assert "safety.yaml: field 'version': went backwards from 3 to 1" in check_guides(guides_dir)[0]


def test_missing_lock_fails(guides_dir: Path) -> None:
    (guides_dir / "versions.lock.json").unlink()
    assert "versions.lock.json: missing" in check_guides(guides_dir)[0]
    update_lock(guides_dir)
    assert check_guides(guides_dir) == []


def test_stale_lock_entry_fails(guides_dir: Path) -> None:
    lock_path = guides_dir / "versions.lock.json"
    lock = json.loads(lock_path.read_text(encoding="utf-8"))
    lock["gossip"] = {"version": "1", "sha256": "0" * 64}
    lock_path.write_text(json.dumps(lock), encoding="utf-8")
    assert "lists 'gossip', which has no guide file" in check_guides(guides_dir)[0]


def test_command_line(guides_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(guides_dir)]) == 0
    reword_first_step(guides_dir)
    assert main([str(guides_dir)]) == 1
    assert "content changed" in capsys.readouterr().err
    assert main([str(guides_dir), "--update-lock"]) == 1
