"""The report a reporter submits, shared by the web form and POST /api/v1/reports, so both
accept and refuse exactly the same things."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate, validates_schema

from service.i18n import N_
from service.schemas.fields import Id, Text
from service.schemas.messages import Phrase
from service.vocab import (
    CATEGORIES,
    DESIRED_OUTCOMES,
    DURATIONS,
    INVOLVED_ROLES,
    LANGUAGES,
    RAISED_WITH,
    URGENCIES,
)

TEXT_MIN, TEXT_MAX = 20, 5000
CONTACT_MAX = 200

#: Each field's name as the form asks for it: every message starts with it, so a message read
#: on its own (in a summary, or by an API client) says which answer it is about.
FIELD_LABELS = {
    "org_unit": N_("Where it is happening"),
    "category": N_("Kind of concern"),
    "text": N_("Your account"),
    "duration": N_("How long it has been going on"),
    "raised_before": N_("Raised before"),
    "raised_with": N_("Raised with"),
    "involved": N_("Who is involved"),
    "desired_outcome": N_("What you would like to happen"),
    "urgency": N_("Urgency"),
    "language": N_("Language"),
    "contact": N_("How to reach you"),
    "body": N_("Your message"),
}
REQUIRED = {
    "org_unit": N_("%(field)s: choose the team or department."),
    "category": N_("%(field)s: choose the kind of concern."),
    "text": N_("%(field)s: write what is happening."),
    "body": N_("%(field)s: write your message."),
}
IS_REQUIRED = N_("%(field)s: this is required.")
NOT_VALID = N_("%(field)s: not a valid value.")


def field_label(name: str) -> Phrase:
    return Phrase.gettext(FIELD_LABELS[name])


UNKNOWN_ORG_UNIT = Phrase.gettext("%(field)s: unknown org unit.", field=field_label("org_unit"))


def _named(name: str) -> dict[str, str]:
    required = Phrase.gettext(REQUIRED.get(name, IS_REQUIRED), field=field_label(name))
    invalid = Phrase.gettext(NOT_VALID, field=field_label(name))
    return {"required": required, "null": required, "invalid": invalid, "type": invalid}


def _one_of(name: str, choices: tuple[str, ...]) -> validate.OneOf:
    error = Phrase.gettext("%(field)s: must be one of: %(choices)s.", field=field_label(name))
    return validate.OneOf(choices, error=error)


def _too_many(name: str) -> Phrase:
    return Phrase.gettext("%(field)s: too many answers.", field=field_label(name))


def characters(n: int) -> Phrase:
    return Phrase.ngettext("%(num)s character", "%(num)s characters", n)


class TextLength(validate.Length):
    """A length check that says how long the text is and by how much it is off: text over the
    limit is refused with that message, never cut. A Length, so the OpenAPI document still
    states minLength and maxLength."""

    def __init__(self, name: str, minimum: int, maximum: int) -> None:
        super().__init__(min=minimum, max=maximum)
        self.label = field_label(name)

    def __call__(self, value: str) -> str:
        length, minimum, maximum = len(value), self.min or 0, self.max or 0
        if length > maximum:
            raise ValidationError(
                Phrase.gettext(
                    "%(field)s is %(length)s, %(over)s over the limit of %(maximum)s. "
                    "Please shorten it: nothing has been cut.",
                    field=self.label,
                    length=characters(length),
                    over=characters(length - maximum),
                    maximum=maximum,
                )
            )
        if length < minimum:
            raise ValidationError(
                Phrase.gettext(
                    "%(field)s: write at least %(minimum)s (it has %(length)s).",
                    field=self.label,
                    minimum=characters(minimum),
                    length=length,
                )
            )
        return value


class ReportCreateSchema(Schema):
    class Meta:
        unknown = RAISE

    org_unit = Id(
        required=True,
        strict=True,
        error=UNKNOWN_ORG_UNIT,
        error_messages=_named("org_unit"),
        metadata={"description": "id from GET /api/v1/org-units"},
    )
    category = fields.String(
        required=True, validate=_one_of("category", CATEGORIES), error_messages=_named("category")
    )
    text = Text(
        required=True,
        validate=TextLength("text", TEXT_MIN, TEXT_MAX),
        error_messages=_named("text"),
        metadata={
            "description": "The account, in the reporter's words. Scrubbed before storing.",
            "pattern": "^[^\\u0000]*$",
        },
    )
    duration = fields.String(
        load_default=None,
        allow_none=True,
        validate=_one_of("duration", DURATIONS),
        error_messages=_named("duration"),
    )
    raised_before = fields.Boolean(
        load_default=None, allow_none=True, error_messages=_named("raised_before")
    )
    raised_with = fields.List(
        fields.String(
            validate=_one_of("raised_with", RAISED_WITH), error_messages=_named("raised_with")
        ),
        load_default=list,
        validate=validate.Length(max=len(RAISED_WITH), error=_too_many("raised_with")),
        error_messages=_named("raised_with"),
    )
    involved = fields.List(
        fields.String(
            validate=_one_of("involved", INVOLVED_ROLES), error_messages=_named("involved")
        ),
        load_default=list,
        validate=validate.Length(max=len(INVOLVED_ROLES), error=_too_many("involved")),
        error_messages=_named("involved"),
        metadata={"description": "Roles, never names: 'my manager', 'a peer', ..."},
    )
    desired_outcome = fields.String(
        load_default=None,
        allow_none=True,
        validate=_one_of("desired_outcome", DESIRED_OUTCOMES),
        error_messages=_named("desired_outcome"),
    )
    urgency = fields.String(
        load_default="normal",
        validate=_one_of("urgency", URGENCIES),
        error_messages=_named("urgency"),
    )
    language = fields.String(
        load_default="en",
        validate=_one_of("language", LANGUAGES),
        error_messages=_named("language"),
    )
    contact = Text(
        load_default=None,
        allow_none=True,
        validate=TextLength("contact", 0, CONTACT_MAX),
        error_messages=_named("contact"),
        metadata={"description": "Opt-in: only if the reporter wants to be contacted directly."},
    )

    @pre_load
    def _tidy(self, data: Any, **_: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            for key in ("text", "contact", "category"):
                if isinstance(data.get(key), str):
                    data[key] = data[key].strip()
            if isinstance(data.get("category"), str):
                data["category"] = data["category"].lower()
            if data.get("contact") == "":
                data["contact"] = None
        return data

    @validates_schema
    def _consistent(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("raised_with") and data.get("raised_before") is False:
            raise ValidationError(
                Phrase.gettext(
                    "%(field)s: leave this empty if the concern was not raised before.",
                    field=field_label("raised_with"),
                ),
                "raised_with",
            )


class ReportCreatedSchema(Schema):
    id = fields.Integer(required=True)
    receipt = fields.String(
        required=True, metadata={"description": "Shown once; keep it to follow up."}
    )
    status = fields.String(required=True)


class ReportMessageSchema(Schema):
    from_reporter = fields.Boolean(required=True)
    body = fields.String(required=True)
    sent_on = fields.Date(required=True)


class ReportStatusSchema(Schema):
    status = fields.String(required=True)
    status_label = fields.String(required=True)
    submitted_on = fields.Date(required=True)
    text_removed = fields.Boolean(required=True)
    messages = fields.List(fields.Nested(ReportMessageSchema), required=True)


class ReporterReplySchema(Schema):
    class Meta:
        unknown = RAISE

    body = Text(
        required=True,
        validate=TextLength("body", 1, TEXT_MAX),
        error_messages=_named("body"),
    )


class OrgUnitSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    parent = fields.Integer(allow_none=True, required=True)


class OrgUnitListSchema(Schema):
    org_units = fields.List(fields.Nested(OrgUnitSchema), required=True)
