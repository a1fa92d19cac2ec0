"""Messages worded once and read in two ways: in English by the JSON API, in the reader's
language on a page.

A `Phrase` is the English string itself (so marshmallow, the API and its tests see plain text),
and it keeps the catalogue msgid and the values it was worded with, so `translated()` can word it
again in the page's language, numbers formatted for that locale. Build one with
`Phrase.gettext(msgid, **values)` or `Phrase.ngettext(singular, plural, num, **values)`: the
names match gettext's, so pybabel extracts the msgids from those calls.
"""

from __future__ import annotations

from typing import Any

from flask_babel import format_decimal, get_translations


class _Unfilled(dict):  # type: ignore[type-arg]
    """Values for %-formatting that keep a placeholder no value was given for yet (marshmallow
    fills `choices` later, through `format`)."""

    def __missing__(self, key: str) -> str:
        return f"%({key})s"


def _english(value: Any) -> Any:
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else value


class Phrase(str):
    msgid: str
    plural: str | None
    values: dict[str, Any]

    def __new__(cls, msgid: str, plural: str | None = None, **values: Any) -> Phrase:
        wording = plural if plural is not None and values.get("num") != 1 else msgid
        english = wording % _Unfilled({k: _english(v) for k, v in values.items()})
        message = super().__new__(cls, english)
        message.msgid, message.plural, message.values = msgid, plural, values
        return message

    @classmethod
    def gettext(cls, msgid: str, **values: Any) -> Phrase:
        return cls(msgid, **values)

    @classmethod
    def ngettext(cls, singular: str, plural: str, num: int, **values: Any) -> Phrase:
        return cls(singular, plural, num=num, **values)

    def format(self, *args: Any, **kwargs: Any) -> Phrase:  # type: ignore[override]
        # Marshmallow words its validators' messages with str.format (OneOf passes `choices`):
        # take the values this message has a placeholder for, ignore the rest.
        wording = self.msgid + (self.plural or "")
        used = {k: v for k, v in kwargs.items() if f"%({k})" in wording}
        if not used:
            return self
        return Phrase(self.msgid, self.plural, **{**self.values, **used})

    # Immutable: marshmallow deep-copies its fields (and their messages) for each schema.
    def __copy__(self) -> Phrase:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Phrase:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.msgid, self.plural, self.values))


def _rebuild(msgid: str, plural: str | None, values: dict[str, Any]) -> Phrase:
    return Phrase(msgid, plural, **values)


def translated(message: Any) -> str:
    """A message in the current page's language (anything that is not a Phrase as it is)."""
    if not isinstance(message, Phrase):
        return str(message)
    values = {k: _localised(v) for k, v in message.values.items()}
    catalogue = get_translations()
    if message.plural is None:
        wording = catalogue.ugettext(message.msgid)
    else:
        # Not flask_babel.ngettext: it takes `num` as the count, and here `num` is the count
        # already written for the locale ("5.000").
        wording = catalogue.ungettext(message.msgid, message.plural, message.values["num"])
    return wording % values if values else wording


def _localised(value: Any) -> Any:
    if isinstance(value, Phrase):
        return translated(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return format_decimal(value)
    return value
