"""Helpers for guide tests: a writable copy of the shipped guides, and in-place edits."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from service.guides import GUIDES_DIR


def copy_shipped_guides(destination: Path, translations: bool = True) -> Path:
    """Copy guides/ with its lock; without translations, only the English files and their lock
    entries (for tests of one file's rules, which a translation mirroring it would also fail)."""
    target = destination / "guides"
    if translations:
        shutil.copytree(GUIDES_DIR, target)
        return target
    target.mkdir()
    for path in GUIDES_DIR.iterdir():
        if path.is_file():
            shutil.copy2(path, target / path.name)
    lock_path = target / "versions.lock.json"
    lock = json.loads(lock_path.read_text(encoding="utf-8"))
    english = {name: entry for name, entry in lock.items() if "/" not in name}
    lock_path.write_text(json.dumps(english, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return target


def edit_guide(directory: Path, stem: str, change: Callable[[dict[str, Any]], None]) -> Path:
    """Load guides/<stem>.yaml (or "de/bullying"), let `change` mutate it, write it back."""
    path = directory / f"{stem}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path
