"""Layout of a model artifact: models/<name>/<version>/{model.skops, metadata.json, ...}."""

from __future__ import annotations

import hashlib
from pathlib import Path

MODEL_NAME = "escalation"
MODEL_FILE = "model.skops"
METADATA_FILE = "metadata.json"
CARD_FILE = "MODEL_CARD.md"
CALIBRATION_PLOT = "calibration.png"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def major_minor(version: str) -> tuple[int, int]:
    """'1.9.1' -> (1, 9); '1.10.dev0' -> (1, 10)."""
    parts = version.split(".")
    try:
        return int(parts[0]), int(parts[1])
    except (IndexError, ValueError):
        raise ValueError(f"not a version number: {version!r}") from None


def numbered_versions(model_root: Path) -> list[int]:
    """Integer-named version directories under models/<name>/, ascending."""
    if not model_root.is_dir():
        return []
    return sorted(int(p.name) for p in model_root.iterdir() if p.is_dir() and p.name.isdigit())
