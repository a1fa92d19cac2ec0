from pathlib import Path

import pytest

from service.guides import GUIDES_DIR, GuideLibrary, load_guides
from tests.guides.guide_helpers import copy_shipped_guides


@pytest.fixture(scope="module")
def library() -> GuideLibrary:
    return load_guides(GUIDES_DIR)


@pytest.fixture
def guides_dir(tmp_path: Path) -> Path:
    """A writable copy of the shipped English guides (with their part of the version lock)."""
    return copy_shipped_guides(tmp_path, translations=False)


@pytest.fixture
def all_guides_dir(tmp_path: Path) -> Path:
    """A writable copy of every shipped guide, translations included, and the whole lock."""
    return copy_shipped_guides(tmp_path)
