"""The shipped catalogues are complete: every text on a page is in each catalogue it must be
in, translated, not fuzzy, with the same placeholders as the English. Texts are collected
from the sources here, as `make translations-update` does, so a new text without a
translation turns this red (run `make translations-update`, then translate)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from service.i18n import REPORTER_LOCALES, STAFF_LOCALES, TRANSLATIONS_DIR, is_reporter_source

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None, "lazy_gettext": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
TRANSLATED = [code for code in REPORTER_LOCALES if code != "en"]


@cache
def source_messages() -> dict[str, set[str]]:
    """msgid -> the source files it appears in."""
    with open(ROOT / "babel.cfg") as config:
        method_map, options_map = parse_mapping_cfg(config)
    found: dict[str, set[str]] = {}
    for filename, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        msgid = message[0] if isinstance(message, tuple) else message  # a plural: its singular
        if msgid:
            found.setdefault(msgid, set()).add(filename.replace("\\", "/"))
    return found


@cache
def catalogue(code: str) -> Catalog:
    with open(TRANSLATIONS_DIR / code / "LC_MESSAGES" / "messages.po", "rb") as po:
        return read_po(po, locale=code)


def required(code: str) -> set[str]:
    """The texts a language must have: every text in the staff languages, the reporter's
    texts in the others."""
    messages = source_messages()
    if code in STAFF_LOCALES:
        return set(messages)
    return {m for m, files in messages.items() if any(map(is_reporter_source, files))}


def test_texts_are_found_in_the_sources():
    # A broken extraction would make every other check here pass on nothing.
    messages = source_messages()
    assert "Staff sign-in" in messages and "Report a concern" in messages
    assert len(messages) > 200
    reporter = required("es")
    assert "Report a concern" in reporter and "Reset second factor" not in reporter


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_required_text_is_translated(code):
    po = catalogue(code)
    missing, fuzzy = [], []
    for msgid in sorted(required(code)):
        entry = po.get(msgid)
        if entry is None:
            # A plural is keyed by its singular.
            entry = next((m for m in po if isinstance(m.id, tuple) and m.id[0] == msgid), None)
        strings = entry.string if entry is not None else ""
        if not all(strings if isinstance(strings, tuple) else [strings]):
            missing.append(msgid)
        elif entry.fuzzy:
            fuzzy.append(msgid)
    assert not missing, f"{code}: {len(missing)} untranslated, e.g. {missing[:5]}"
    assert not fuzzy, f"{code}: {len(fuzzy)} fuzzy, e.g. {fuzzy[:5]}"


@pytest.mark.parametrize("code", TRANSLATED)
def test_translations_keep_their_placeholders(code):
    # A translation that drops or renames %(name)s breaks the page it is on.
    wrong = []
    for message in catalogue(code):
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = set(PLACEHOLDER.findall(ids[-1])) | set(PLACEHOLDER.findall(ids[0]))
        for string in strings:
            if string and set(PLACEHOLDER.findall(string)) - expected:
                wrong.append((ids[0], string))
            if (
                string
                and not isinstance(message.id, tuple)
                and set(PLACEHOLDER.findall(string)) != set(PLACEHOLDER.findall(ids[0]))
            ):
                wrong.append((ids[0], string))
    assert not wrong, f"{code}: {wrong[:3]}"
