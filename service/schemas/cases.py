"""Schemas of the cases API (/api/v1/cases), shared with the case pages' forms.

What a viewer sees of a case is a whitelist per viewer (CTFd style): `CaseSchema.for_viewer`.
The assignee sees everything a case has, including the reporter's opt-in contact; a lead
reading someone else's (or an unassigned) case sees the same without the contact. A receipt
hash is in no schema at all.
"""

from __future__ import annotations

import re
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate

from service.db.cases import OUTCOMES, RESOLUTIONS, STATUSES
from service.schemas.fields import Id, Text
from service.vocab import CATEGORIES, LEVELS

BODY_MAX = 5000
PER_PAGE_MAX = 100


def _one_of(choices: tuple[str, ...]) -> validate.OneOf:
    return validate.OneOf(choices, error="Must be one of: {choices}.")


ASSIGNEE_PATTERN = re.compile(r"^([0-9]{1,9}|none)$")


class AssigneeFilter(fields.Field):
    """A Trust Leader's id, or "none" for unassigned cases."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        text = str(value)
        if not ASSIGNEE_PATTERN.fullmatch(text):
            raise ValidationError("Must be a Trust Leader's id or 'none'.")
        return text if text == "none" else int(text)


class CaseListArgsSchema(Schema):
    status = fields.String(
        validate=_one_of((*STATUSES, "open")),
        metadata={"description": "A status, or 'open' for new, acknowledged and in conversation."},
    )
    assignee = AssigneeFilter(
        metadata={
            "description": "A Trust Leader's id, or 'none' for unassigned (leads only).",
            "type": "string",
            "pattern": ASSIGNEE_PATTERN.pattern,
        }
    )
    level = fields.String(validate=_one_of(LEVELS))
    category = fields.String(validate=_one_of(CATEGORIES))
    page = fields.Integer(
        load_default=1, validate=validate.Range(min=1, max=100_000, error="Must be 1 or more.")
    )
    per_page = fields.Integer(
        load_default=25,
        validate=validate.Range(min=1, max=PER_PAGE_MAX, error=f"Must be 1 to {PER_PAGE_MAX}."),
    )


class RiskSummarySchema(Schema):
    score = fields.Float(required=True)
    level = fields.String(required=True)


class RiskSchema(RiskSummarySchema):
    explanation = fields.Dict(
        required=True,
        metadata={
            "description": "As written by the risk engine: fired rules with matched words, "
            "the classifier's strongest terms, hotspot boost, forced level."
        },
    )


class ReportFieldsSchema(Schema):
    """The scrubbed account and the structured fields of the report behind a case."""

    text = fields.String(allow_none=True, metadata={"description": "Scrubbed; null once removed."})
    text_removed = fields.Boolean()
    redactions = fields.Dict(keys=fields.String(), values=fields.Integer())
    submitted_on = fields.Date()
    org_unit = fields.Integer()
    duration = fields.String(allow_none=True)
    raised_before = fields.Boolean(allow_none=True)
    raised_with = fields.List(fields.String())
    involved = fields.List(fields.String())
    desired_outcome = fields.String(allow_none=True)
    urgency = fields.String(allow_none=True)
    language = fields.String()


class CaseSchema(Schema):
    """A case as listed and read. Which fields a viewer gets is decided by `for_viewer`."""

    id = fields.Integer(required=True)
    report_id = fields.Integer(required=True)
    status = fields.String(required=True)
    assignee = fields.Integer(required=True, allow_none=True)
    routing_state = fields.String()
    category = fields.String()
    risk = fields.Nested(RiskSchema, required=True)
    hotspot = fields.Boolean()
    opened_at = fields.DateTime()
    ack_due_at = fields.DateTime()
    feedback_due_at = fields.DateTime()
    deadline = fields.DateTime(allow_none=True)
    overdue = fields.Boolean()
    acknowledged_at = fields.DateTime(allow_none=True)
    feedback_given_at = fields.DateTime(
        allow_none=True, metadata={"description": "When a message marked as feedback was sent."}
    )
    needs_language = fields.String(
        allow_none=True,
        metadata={"description": "Routed to a fallback language: still needs a speaker of this."},
    )
    closed_at = fields.DateTime(allow_none=True)
    outcome = fields.String(allow_none=True)
    escalated = fields.Boolean(allow_none=True)
    unread_messages = fields.Integer()
    guide_id = fields.String(allow_none=True)
    guide_version = fields.String(allow_none=True)
    guide_language = fields.String(
        allow_none=True,
        metadata={
            "description": "The language of the guide version the case is worked from "
            "(en, de, fr...): the report's if the assignee speaks it and a guide exists in it, "
            "else the assignee's first language with a guide, else en. Null before routing."
        },
    )
    report = fields.Nested(ReportFieldsSchema)
    contact = fields.String(
        allow_none=True,
        metadata={"description": "The reporter's opt-in contact: only ever shown to the assignee."},
    )

    SUMMARY = (
        "id",
        "report_id",
        "status",
        "assignee",
        "routing_state",
        "category",
        "risk",
        "hotspot",
        "opened_at",
        "ack_due_at",
        "feedback_due_at",
        "deadline",
        "overdue",
        "acknowledged_at",
        "feedback_given_at",
        "needs_language",
        "closed_at",
        "outcome",
        "escalated",
        "unread_messages",
        "guide_id",
        "guide_version",
        "guide_language",
    )
    VIEWS: dict[str, tuple[str, ...]] = {
        "assignee": (*SUMMARY, "report", "contact"),
        "lead": (*SUMMARY, "report"),
        "list": SUMMARY,
    }

    @classmethod
    def for_viewer(cls, view: str) -> CaseSchema:
        return cls(only=cls.VIEWS[view])


class CaseSummarySchema(CaseSchema):
    """A case as listed: no account, no explanation (it quotes the account's words). Read the
    case itself for those; each read is audited."""

    risk = fields.Nested(RiskSummarySchema, required=True)


class CaseListSchema(Schema):
    cases = fields.List(
        fields.Nested(CaseSummarySchema(only=CaseSchema.VIEWS["list"])), required=True
    )
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    total = fields.Integer(required=True)
    pages = fields.Integer(required=True)


class TransitionSchema(Schema):
    class Meta:
        unknown = RAISE

    status = fields.String(required=True, validate=_one_of(STATUSES))
    outcome = fields.String(
        load_default=None,
        allow_none=True,
        validate=_one_of(OUTCOMES),
        metadata={"description": "Required when closing: what finally happened."},
    )
    resolution = fields.String(
        load_default=None,
        allow_none=True,
        validate=_one_of(RESOLUTIONS),
        metadata={"description": "When closing straight from an open status: how it ended."},
    )
    closing_message = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=BODY_MAX, error=f"Keep it under {BODY_MAX} characters."),
        metadata={
            "description": "When closing: a last message to the reporter, sent as feedback. "
            "Required unless the reporter has had feedback already or withdrew."
        },
    )

    @pre_load
    def _blank_is_none(self, data: Any, **_: Any) -> Any:
        if isinstance(data, dict):
            data = {k: (None if v == "" and k != "status" else v) for k, v in data.items()}
        return data


class BodySchema(Schema):
    class Meta:
        unknown = RAISE

    body = Text(
        required=True,
        validate=validate.Length(min=1, max=BODY_MAX, error=f"Must be 1 to {BODY_MAX} characters."),
    )

    @pre_load
    def _strip(self, data: Any, **_: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("body"), str):
            data = {**data, "body": data["body"].strip()}
        return data


class MessageCreateSchema(BodySchema):
    feedback = fields.Boolean(
        load_default=False,
        metadata={
            "description": "This message tells the reporter what is being done: it stops the "
            "feedback clock (EU 2019/1937, Art. 9)."
        },
    )
    mark_in_conversation = fields.Boolean(
        load_default=False,
        metadata={
            "description": "Also move the case to in_conversation (through acknowledged if "
            "new). Without it the status never changes."
        },
    )


class FeedbackExtensionSchema(Schema):
    class Meta:
        unknown = RAISE

    until = fields.Date(
        required=True,
        error_messages={
            "required": "Choose the new date feedback is due by.",
            "invalid": "Enter a date like 2025-06-30.",
        },
        metadata={"description": "The new feedback-by date: at most six months after opening."},
    )
    reason = fields.String(
        required=True,
        validate=validate.Length(min=1, max=1000, error="Say why, in at most 1000 characters."),
        error_messages={"required": "Say why the reporter must wait longer."},
        metadata={"description": "Why: kept as a private note and audited."},
    )

    @pre_load
    def _strip(self, data: Any, **_: Any) -> Any:
        if isinstance(data, dict):
            data = {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}
            if data.get("until") == "":
                data.pop("until")
            if data.get("reason") == "":
                data.pop("reason")
        return data


class NoteSchema(Schema):
    id = fields.Integer(required=True)
    author = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    body = fields.String(allow_none=True)


class NoteListSchema(Schema):
    notes = fields.List(fields.Nested(NoteSchema), required=True)


class MessageSchema(Schema):
    id = fields.Integer(required=True)
    from_reporter = fields.Boolean(required=True)
    author = fields.Integer(
        allow_none=True, metadata={"description": "Staff author; null for the reporter."}
    )
    created_at = fields.DateTime(
        required=True, metadata={"description": "The reporter's messages: the day only."}
    )
    read_at = fields.DateTime(
        allow_none=True, metadata={"description": "When staff read a reporter's message."}
    )
    read_by_reporter = fields.Boolean(
        required=True,
        metadata={"description": "A staff message the reporter has opened (never when)."},
    )
    feedback = fields.Boolean(
        metadata={"description": "A staff message marked as feedback to the reporter."}
    )
    body = fields.String(allow_none=True)


class MessageListSchema(Schema):
    messages = fields.List(fields.Nested(MessageSchema), required=True)


class StepTickSchema(Schema):
    class Meta:
        unknown = RAISE

    step = Text(
        required=True,
        validate=validate.Length(min=1, max=80),
        metadata={"description": "A step key from GET .../guide"},
    )
    ticked = fields.Boolean(required=True, metadata={"description": "false unticks"})


class GuideStepSchema(Schema):
    key = fields.String(required=True)
    text = fields.String(required=True)
    section = fields.String(required=True)
    level = fields.String(allow_none=True)
    ticked = fields.Boolean(required=True)
    ticked_at = fields.DateTime(allow_none=True)


class GuideProgressSchema(Schema):
    available = fields.Boolean(required=True)
    guide_id = fields.String(allow_none=True)
    version = fields.String(allow_none=True)
    language = fields.String(
        allow_none=True, metadata={"description": "The language the guide is shown in."}
    )
    title = fields.String(allow_none=True)
    steps = fields.List(fields.Nested(GuideStepSchema), required=True)
    ticked = fields.Integer(required=True)
    total = fields.Integer(required=True)
    earlier_ticks = fields.List(
        fields.String(),
        metadata={"description": "Keys ticked earlier that the current guide no longer has."},
    )


class AssignSchema(Schema):
    class Meta:
        unknown = RAISE

    assignee = Id(required=True, strict=True)
    reason = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=1000),
        metadata={
            "description": "Why, when assigning someone not eligible (language, capacity, "
            "category). A conflict of interest can never be overridden."
        },
    )


class AvailabilitySchema(Schema):
    """A Trust Leader's own availability: away until this date (inclusive), or null."""

    class Meta:
        unknown = RAISE

    away_until = fields.Date(load_default=None, allow_none=True)

    @pre_load
    def _blank_is_none(self, data: Any, **_: Any) -> Any:
        if isinstance(data, dict) and data.get("away_until") == "":
            data = {**data, "away_until": None}
        return data
