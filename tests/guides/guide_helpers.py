"""Helpers for guide tests: a writable copy of the shipped guides, and in-place edits."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from service.guides import GUIDES_DIR


def copy_shipped_guides(destination: Path) -> Path:
    target = destination / "guides"
    shutil.copytree(GUIDES_DIR, target)
    return target


def edit_guide(directory: Path, stem: str, change: Callable[[dict[str, Any]], None]) -> Path:
    """Load guides/<stem>.yaml, let `change` mutate it, write it back."""
    path = directory / f"{stem}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path
