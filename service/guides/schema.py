"""Marshmallow schemas for listening-guide files.

Two kinds of file: one guide per concern category (`guides/<category>.yaml`, GuideSchema) and an
optional `guides/_common.yaml` (CommonSchema) holding steps and lists shared by every guide.
Unknown fields are rejected (marshmallow's default), so a misspelt field fails loudly.
"""

from __future__ import annotations

import re
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from service.i18n import N_
from service.vocab import CATEGORIES

# The four behaviours of compassionate leadership (Michael West), in conversation order.
BEHAVIOURS: tuple[str, ...] = ("attending", "understanding", "empathising", "helping")
# English and marked for the catalogue; the case page translates them where shown.
BEHAVIOUR_LABELS: dict[str, str] = {
    "attending": N_("Attending"),
    "understanding": N_("Understanding"),
    "empathising": N_("Empathising"),
    "helping": N_("Helping"),
}
# The same names in each language guides are translated into (guides/<lang>/); a translation
# folder needs its entry here, because section names come from the methodology, not the files.
BEHAVIOUR_LABELS_BY_LANGUAGE: dict[str, dict[str, str]] = {
    "en": BEHAVIOUR_LABELS,
    "de": {
        "attending": "Zuwenden",
        "understanding": "Verstehen",
        "empathising": "Mitfühlen",
        "helping": "Helfen",
    },
    "fr": {
        "attending": "Être attentif",
        "understanding": "Comprendre",
        "empathising": "Faire preuve d'empathie",
        "helping": "Aider",
    },
}

# Levels that may carry extra steps; "low" is the base guide itself.
EXTRA_LEVELS: tuple[str, ...] = ("moderate", "high", "critical")

KEY_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
ID_PATTERN = KEY_PATTERN
SEMVER_PATTERN = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)")


class Text(fields.String):
    """Non-empty text; whitespace is collapsed so re-wrapping a YAML paragraph changes nothing."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = " ".join(super()._deserialize(value, attr, data, **kwargs).split())
        if not text:
            raise ValidationError("must not be empty")
        return text


class Version(fields.Field):
    """A positive integer (3) or a semantic version string ("1.2.0"); loaded as a string."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            return str(value)
        if isinstance(value, str) and SEMVER_PATTERN.fullmatch(value):
            return value
        raise ValidationError("must be a positive integer or a semantic version like 1.2.0")


def _kebab(what: str) -> validate.Regexp:
    return validate.Regexp(
        KEY_PATTERN, error=f"{what} must be kebab-case (lowercase letters, digits, single hyphens)"
    )


def _text_list(*, required: bool) -> fields.List:
    if required:
        return fields.List(Text(), required=True, validate=validate.Length(min=1))
    return fields.List(Text(), load_default=list)


class StepSchema(Schema):
    key = fields.String(required=True, validate=_kebab("key"))
    text = Text(required=True)


class AvoidSayingSchema(Schema):
    say = Text(required=True)
    why = Text(required=True)


class ResourceSchema(Schema):
    name = Text(required=True)
    detail = Text(required=True)


def _steps(*, required: bool) -> fields.List:
    if required:
        return fields.List(
            fields.Nested(StepSchema), required=True, validate=validate.Length(min=1)
        )
    return fields.List(fields.Nested(StepSchema), load_default=list)


class BehavioursSchema(Schema):
    """A guide's base steps: every behaviour section must be present and non-empty."""

    attending = _steps(required=True)
    understanding = _steps(required=True)
    empathising = _steps(required=True)
    helping = _steps(required=True)


class SharedStepsSchema(Schema):
    """Steps shared by every guide (in _common.yaml): any section may be left out."""

    attending = _steps(required=False)
    understanding = _steps(required=False)
    empathising = _steps(required=False)
    helping = _steps(required=False)


class LevelStepsSchema(SharedStepsSchema):
    """Extra steps for one risk level; a level that is listed must add something."""

    @validates_schema
    def _has_a_step(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not any(data.get(behaviour) for behaviour in BEHAVIOURS):
            raise ValidationError("must add at least one step to some behaviour")


class GuideLevelsSchema(Schema):
    """A category guide must say what changes at high and critical risk."""

    moderate = fields.Nested(LevelStepsSchema)
    high = fields.Nested(LevelStepsSchema, required=True)
    critical = fields.Nested(LevelStepsSchema, required=True)


class SharedLevelsSchema(Schema):
    moderate = fields.Nested(LevelStepsSchema)
    high = fields.Nested(LevelStepsSchema)
    critical = fields.Nested(LevelStepsSchema)


class GuideSchema(Schema):
    id = fields.String(required=True, validate=_kebab("id"))
    version = Version(required=True)
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    title = Text(required=True)
    summary = Text(required=True)
    behaviours = fields.Nested(BehavioursSchema, required=True)
    opening_questions = _text_list(required=True)
    reflective_prompts = _text_list(required=True)
    avoid_saying = fields.List(
        fields.Nested(AvoidSayingSchema), required=True, validate=validate.Length(min=1)
    )
    resources = fields.List(
        fields.Nested(ResourceSchema), required=True, validate=validate.Length(min=1)
    )
    escalation_signs = _text_list(required=True)
    by_level = fields.Nested(GuideLevelsSchema, required=True)


class CommonSchema(Schema):
    version = Version(required=True)
    behaviours = fields.Nested(SharedStepsSchema, load_default=dict)
    opening_questions = _text_list(required=False)
    reflective_prompts = _text_list(required=False)
    avoid_saying = fields.List(fields.Nested(AvoidSayingSchema), load_default=list)
    resources = fields.List(fields.Nested(ResourceSchema), load_default=list)
    escalation_signs = _text_list(required=False)
    by_level = fields.Nested(SharedLevelsSchema, load_default=dict)
