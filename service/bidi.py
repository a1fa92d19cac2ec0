"""Bidirectional control characters neutralised wherever text is shown (pages, CSV, mail).

A right-to-left override (U+202E) in a report makes the Trust Leader read the text reversed;
embeddings and isolates (U+202A-U+202D, U+2066-U+2069) reorder it in other ways. They are
removed wherever text is displayed, so it reads in the order it was written. Arabic and Hebrew
need none of them: the browser orders them by itself, and the text blocks carry dir="auto".
The left-to-right and right-to-left marks (U+200E, U+200F) have an honest use in mixed
right-to-left text, so they are kept there and removed from text without a right-to-left
letter, where they can only be a disguise.

One place: `neutralise`, applied to every value a template prints (the Jinja `finalize`
hook, so no template can forget it), by the CSV writer and by notifications.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from markupsafe import Markup

_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
_MARKS = re.compile("[\u200e\u200f]")
# Hebrew, Arabic, Syriac, Thaana, NKo ... and their presentation forms.
_RIGHT_TO_LEFT = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")


def neutralise(text: str) -> str:
    """The text without embedding, override and isolate controls (and stray direction marks)."""
    if text.isascii():
        return text
    text = _CONTROLS.sub("", text)
    if not _RIGHT_TO_LEFT.search(text):
        text = _MARKS.sub("", text)
    return text


def _finalize(value: Any) -> Any:
    if isinstance(value, Markup):
        # Already safe markup: removing control characters cannot make it unsafe.
        return Markup(neutralise(str(value)))  # noqa: S704
    if isinstance(value, str):
        return neutralise(value)
    return value


def init_app(app: Flask) -> None:
    app.jinja_env.finalize = _finalize
    app.jinja_env.filters["bidi_safe"] = neutralise
