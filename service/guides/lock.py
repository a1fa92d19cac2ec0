"""The version lock: a guide's wording may not change while its version number stays the same.

Cases record the guide version the Trust Leader worked from ("bullying@3"). That record only
means something if version 3 always has the same content, so `guides/versions.lock.json` keeps a
digest of each file's content per version, and `check_guides` fails when they drift apart.
One lock covers every language: English files are listed by stem ("bullying"), translations
by folder and stem ("de/bullying"), each with its own version.

Workflow after editing a guide: bump its `version`, then run
    python -m service.guides --update-lock
`update_lock` refuses to record changed content under an unchanged version.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from service.guides.loader import GuideFiles, content_hash, read_guide_files
from service.guides.model import GuideError
from service.guides.yamlfile import describe

LOCK_FILE = "versions.lock.json"
UPDATE_HINT = "run `python -m service.guides --update-lock`"


def document_digest(data: Mapping[str, Any]) -> str:
    """Digest of everything in a file except its version number."""
    return content_hash({name: value for name, value in data.items() if name != "version"})


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def _read_lock(path: Path) -> tuple[dict[str, dict[str, str]] | None, str | None]:
    if not path.is_file():
        return None, f"{path}: missing; {UPDATE_HINT}"
    try:
        lock = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return None, f"{path}: cannot be read ({exc.__class__.__name__}); {UPDATE_HINT}"
    if not isinstance(lock, dict) or not all(
        isinstance(entry, dict) and {"version", "sha256"} <= entry.keys() for entry in lock.values()
    ):
        return None, f"{path}: not a lock file (stem -> {{version, sha256}}); {UPDATE_HINT}"
    return lock, None


def _bump_problems(files: GuideFiles, lock: Mapping[str, Mapping[str, str]]) -> list[str]:
    """Changes that no lock update may paper over: new wording under an old version number."""
    problems = []
    for stem, data in files.documents.items():
        entry = lock.get(stem)
        if entry is None:
            continue
        if entry["version"] == data["version"] and entry["sha256"] != document_digest(data):
            problems.append(
                describe(
                    files.shown_as(stem),
                    "version",
                    f"content changed but the version is still {data['version']}; bump it",
                )
            )
        elif _version_key(data["version"]) < _version_key(entry["version"]):
            problems.append(
                describe(
                    files.shown_as(stem),
                    "version",
                    f"went backwards from {entry['version']} to {data['version']}",
                )
            )
    return problems


def lock_problems(files: GuideFiles) -> list[str]:
    """Problems between validated guide files and the lock; empty when they agree."""
    lock_path = files.directory / LOCK_FILE
    lock, problem = _read_lock(lock_path)
    if lock is None:
        return [problem] if problem else []
    problems = _bump_problems(files, lock)
    if problems:
        return [f"{line}, then {UPDATE_HINT}" for line in problems]
    for stem, data in files.documents.items():
        entry = lock.get(stem)
        if entry is None:
            problems.append(f"{files.shown_as(stem)}: not in {lock_path}; {UPDATE_HINT}")
        elif entry["version"] != data["version"]:
            problems.append(
                f"{lock_path}: out of date for {stem} (locked at version {entry['version']}, "
                f"file has {data['version']}); {UPDATE_HINT}"
            )
    for stem in lock.keys() - files.documents.keys():
        problems.append(f"{lock_path}: lists '{stem}', which has no guide file; {UPDATE_HINT}")
    return problems


def update_lock(directory: Path) -> Path:
    """Record each file's version and digest. Raises GuideError if a version needs a bump."""
    files = read_guide_files(directory)
    if files.problems:
        raise GuideError(files.problems)
    lock_path = files.directory / LOCK_FILE
    existing, _problem = _read_lock(lock_path)
    problems = _bump_problems(files, existing or {})
    if problems:
        raise GuideError(problems)
    lock = {
        stem: {"version": data["version"], "sha256": document_digest(data)}
        for stem, data in sorted(files.documents.items())
    }
    lock_path.write_text(json.dumps(lock, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return lock_path
