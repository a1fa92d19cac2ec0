"""get_guides(): the running app's library, loaded once from the configured directory."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import Flask

from service.guides import GuideError, get_guides
from tests.guides.guide_helpers import edit_guide


def app_with_guides(directory: Path) -> Flask:
    app = Flask(__name__)
    app.config["DEFUSE"] = SimpleNamespace(guides_dir=directory)
    return app


def test_loads_the_configured_directory_once(guides_dir: Path) -> None:
    with app_with_guides(guides_dir).app_context():
        first = get_guides()
        assert first.for_case("pay", "high").version.startswith("pay@")
        (guides_dir / "pay.yaml").unlink()  # a later change on disk is not re-read
        assert get_guides() is first


def test_a_broken_directory_raises_and_is_not_cached(guides_dir: Path) -> None:
    path = edit_guide(guides_dir, "pay", lambda d: d.pop("title"))
    original = path.read_text(encoding="utf-8")
    with app_with_guides(guides_dir).app_context():
        with pytest.raises(GuideError, match="pay.yaml: field 'title': missing"):
            get_guides()
        path.write_text(original.replace("id: pay", "id: pay\ntitle: Pay"), encoding="utf-8")
        assert get_guides().for_case("pay", "low").title == "Pay"
