"""The guide library of the running app, loaded once from DEFUSE_GUIDES_DIR."""

from __future__ import annotations

from flask import current_app

from service.guides.loader import load_guides
from service.guides.model import GuideLibrary

_EXTENSION_KEY = "defuse.guides"


def get_guides() -> GuideLibrary:
    library = current_app.extensions.get(_EXTENSION_KEY)
    if library is None:
        library = load_guides(current_app.config["DEFUSE"].guides_dir)
        current_app.extensions[_EXTENSION_KEY] = library
    return library
