"""What no request may carry into the app, checked once for every request before any view.

Two kinds of character can never be stored, whatever the field: an unpaired UTF-16 surrogate
(JSON allows "\\ud800", but it cannot be encoded as UTF-8, so encryption and the database
driver fail on it) and NUL (PostgreSQL text refuses it). Rather than trust every view, schema
and ad-hoc `request.form.get` to remember, this guard walks the query string, the form, the
URL's own parts and the JSON body, and answers 422 with a message per field before anything
is read or written. Field-specific rules (lengths, choices, "some visible text") stay in the
schemas (service/schemas/fields.py).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from flask import Flask, request
from werkzeug.exceptions import UnprocessableEntity

from service.schemas.messages import Phrase

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
UNSTORABLE_MESSAGE = Phrase.gettext(
    "Contains a character that cannot be stored (a NUL or an unpaired surrogate)."
)

# Letters that render as nothing although Unicode files them as letters or marks.
_BLANK_GLYPHS = frozenset("\u115f\u1160\u3164\uffa0\u2800\u034f\u180e")
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"})


def unstorable(text: str) -> bool:
    return UNSTORABLE.search(text) is not None


def has_visible_text(text: str) -> bool:
    """Whether anything in the text would show: not only spaces, control characters or
    zero-width and other format characters."""
    return any(
        char not in _BLANK_GLYPHS and unicodedata.category(char) not in _INVISIBLE_CATEGORIES
        for char in text
    )


def safe_name(name: str) -> str:
    """A field name as it may be echoed back (a hostile name must not break the answer)."""
    return UNSTORABLE.sub("?", name)[:100] or "?"


class UnstorableInput(UnprocessableEntity):
    """422 naming each field that holds an unstorable character; JSON under /api, an HTML page
    elsewhere (service.errors renders both)."""

    def __init__(self, problems: dict[str, list[str]]) -> None:
        names = ", ".join(sorted(problems))
        super().__init__(
            f"Some fields hold characters that cannot be stored: {names}. Nothing was saved."
        )
        self.data = {"message": "Some fields are invalid.", "messages": problems}


def _walk_json(value: Any, field: str, problems: dict[str, list[str]]) -> None:
    if isinstance(value, str):
        if unstorable(value):
            problems.setdefault(safe_name(field), [UNSTORABLE_MESSAGE])
    elif isinstance(value, dict):
        for key, item in value.items():
            name = key if field == "_body" else field
            if unstorable(key):
                problems.setdefault(safe_name(key), [UNSTORABLE_MESSAGE])
            _walk_json(item, name, problems)
    elif isinstance(value, list):
        for item in value:
            _walk_json(item, field, problems)


def find_problems() -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    sources = [request.args, request.form] if request.method != "GET" else [request.args]
    for source in sources:
        for key, value in source.items(multi=True):
            if unstorable(key) or unstorable(value):
                problems.setdefault(safe_name(key), [UNSTORABLE_MESSAGE])
    for key, value in (request.view_args or {}).items():
        if isinstance(value, str) and unstorable(value):
            problems.setdefault(safe_name(key), [UNSTORABLE_MESSAGE])
    if request.is_json and request.get_data(cache=True):
        body = request.get_json(silent=True, cache=True)
        if body is not None:
            _walk_json(body, "_body", problems)
    return problems


def refuse_unstorable_input() -> None:
    problems = find_problems()
    if problems:
        raise UnstorableInput(problems)


def init_app(app: Flask) -> None:
    app.before_request(refuse_unstorable_input)
