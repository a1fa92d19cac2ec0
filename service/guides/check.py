"""One call for CI and `defuse rules test`: every problem with the guides, as lines."""

from __future__ import annotations

from pathlib import Path

from service.guides.loader import read_guide_files
from service.guides.lock import lock_problems


def check_guides(directory: Path) -> list[str]:
    """Schema, completeness, key uniqueness and version-lock problems; empty means OK."""
    files = read_guide_files(directory)
    if files.problems:
        return files.problems
    return lock_problems(files)
