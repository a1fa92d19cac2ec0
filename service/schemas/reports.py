"""The report a reporter submits, shared by the web form and POST /api/v1/reports, so both
accept and refuse exactly the same things."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate, validates_schema

from service.schemas.fields import Id, Text
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


def _one_of(choices: tuple[str, ...]) -> validate.OneOf:
    return validate.OneOf(choices, error="Must be one of: {choices}.")


class ReportCreateSchema(Schema):
    class Meta:
        unknown = RAISE

    org_unit = Id(
        required=True,
        strict=True,
        error="Unknown org unit.",
        metadata={"description": "id from GET /api/v1/org-units"},
    )
    category = fields.String(required=True, validate=_one_of(CATEGORIES))
    text = Text(
        required=True,
        validate=validate.Length(
            min=TEXT_MIN,
            max=TEXT_MAX,
            error=f"Must be between {TEXT_MIN} and {TEXT_MAX} characters.",
        ),
        metadata={"description": "The account, in the reporter's words. Scrubbed before storing."},
    )
    duration = fields.String(load_default=None, allow_none=True, validate=_one_of(DURATIONS))
    raised_before = fields.Boolean(load_default=None, allow_none=True)
    raised_with = fields.List(
        fields.String(validate=_one_of(RAISED_WITH)),
        load_default=list,
        validate=validate.Length(max=len(RAISED_WITH)),
    )
    involved = fields.List(
        fields.String(validate=_one_of(INVOLVED_ROLES)),
        load_default=list,
        validate=validate.Length(max=len(INVOLVED_ROLES)),
        metadata={"description": "Roles, never names: 'my manager', 'a peer', ..."},
    )
    desired_outcome = fields.String(
        load_default=None, allow_none=True, validate=_one_of(DESIRED_OUTCOMES)
    )
    urgency = fields.String(load_default="normal", validate=_one_of(URGENCIES))
    language = fields.String(load_default="en", validate=_one_of(LANGUAGES))
    contact = Text(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=CONTACT_MAX),
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
                "Leave this empty if the concern was not raised before.", "raised_with"
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
        validate=validate.Length(min=1, max=TEXT_MAX, error=f"Must be 1 to {TEXT_MAX} characters."),
    )


class OrgUnitSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    parent = fields.Integer(allow_none=True, required=True)


class OrgUnitListSchema(Schema):
    org_units = fields.List(fields.Nested(OrgUnitSchema), required=True)
