"""Listening guides: structured, per-category checklists built on compassionate leadership.

Load once at start-up with `load_guides(GUIDES_DIR)` (raises GuideError); then
`library.for_case(category, level)` gives the ResolvedGuide for a case: store its `version`
on the case and check ticked keys against `step_keys()`. `check_guides(directory)` returns
every problem as a line (empty means OK) for CI and `defuse rules test`. Inside the app,
`get_guides()` returns the library for DEFUSE_GUIDES_DIR, loaded once per app.

Translations live in `guides/<lang>/` and mirror the English files key for key;
`library.language_for(report_language, leader_languages)` picks the language a leader gets,
`library.for_case(category, level, language)` the guide in it (record its `language` too).
"""

from service.guides.app import get_guides
from service.guides.check import check_guides
from service.guides.loader import GUIDES_DIR, load_guides
from service.guides.lock import update_lock
from service.guides.model import (
    AvoidSaying,
    GuideError,
    GuideLibrary,
    ResolvedGuide,
    Resource,
    Section,
    Step,
)
from service.guides.schema import BEHAVIOUR_LABELS, BEHAVIOURS

__all__ = [
    "BEHAVIOURS",
    "BEHAVIOUR_LABELS",
    "GUIDES_DIR",
    "AvoidSaying",
    "GuideError",
    "GuideLibrary",
    "ResolvedGuide",
    "Resource",
    "Section",
    "Step",
    "check_guides",
    "get_guides",
    "load_guides",
    "update_lock",
]
