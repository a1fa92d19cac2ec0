from pathlib import Path

import pytest

from service.guides import GUIDES_DIR, GuideLibrary, load_guides
from tests.guides.guide_helpers import copy_shipped_guides


@pytest.fixture(scope="module")
def library() -> GuideLibrary:
    return load_guides(GUIDES_DIR)


@pytest.fixture
def guides_dir(tmp_path: Path) -> Path:
    """A writable copy of the shipped guides (including the version lock)."""
    return copy_shipped_guides(tmp_path)
