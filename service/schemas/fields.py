"""Marshmallow fields for what people type and the ids they send, shared by every schema (the
API's and the forms'), so each rule is written once.

`Text`: a string that must show something when it is not empty; text made only of spaces,
control characters or zero-width characters is refused. Unstorable characters (NUL, unpaired
surrogates) are refused here too, for callers outside a request (the request guard in
service/input_guard.py refuses them before any view runs).
`Id`: a database id, which is 32-bit: a larger number names nothing and is refused as input
instead of reaching the database (where PostgreSQL would fail on it).
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate

from service.db.base import MAX_ID
from service.input_guard import UNSTORABLE_MESSAGE, has_visible_text, unstorable
from service.schemas.messages import Phrase

INVISIBLE_MESSAGE = Phrase.gettext(
    "Must contain visible text, not only spaces or invisible characters."
)


class Text(fields.String):
    def __init__(self, **kwargs: Any) -> None:
        metadata = dict(kwargs.pop("metadata", None) or {})
        rule = "Must show some text: not only spaces, control or zero-width characters."
        metadata["description"] = f"{metadata.get('description', '')} {rule}".strip()
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        if unstorable(text):
            raise ValidationError(UNSTORABLE_MESSAGE)
        if text and not has_visible_text(text):
            raise ValidationError(INVISIBLE_MESSAGE)
        return text


class Id(fields.Integer):
    def __init__(self, *, error: str = "Must be a valid id.", **kwargs: Any) -> None:
        validators = [validate.Range(min=1, max=MAX_ID, error=error)]
        extra = kwargs.pop("validate", None)
        if extra is not None:
            validators.extend(extra if isinstance(extra, list) else [extra])
        super().__init__(validate=validators, **kwargs)
