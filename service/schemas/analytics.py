"""Schemas of the HR analytics API (/api/v1/analytics). Only aggregates: no field here can
carry report text, a report or case id, a single report's score, or a time finer than a
week."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from service.analytics.cube import ALL
from service.analytics.periods import KINDS
from service.schemas.fields import Id
from service.vocab import CATEGORIES


class AnalyticsQuerySchema(Schema):
    """Filters shared by every analytics endpoint. Dates are snapped outward to whole periods;
    only complete months are ever answered."""

    class Meta:
        unknown = EXCLUDE  # as webargs does for query strings: unknown names are ignored

    period = fields.String(
        load_default="month",
        validate=validate.OneOf(KINDS),
        metadata={
            "description": "Length of each period: ISO weeks, or months and quarters "
            "made of whole ISO weeks."
        },
    )
    first_day = fields.Date(
        data_key="from",
        metadata={
            "description": "First day wanted; the period holding it is included. "
            "Default: six complete months back."
        },
    )
    last_day = fields.Date(
        data_key="to",
        metadata={
            "description": "Last day wanted; the period holding it is included if it is "
            "complete. Default: the end of the last complete month."
        },
    )
    depth = fields.Integer(
        load_default=1,
        validate=validate.Range(min=0, max=20),
        metadata={"description": "Depth of the org tree to group by (0: the top unit)."},
    )
    unit = Id(
        metadata={"description": "Only this org unit and the units below it."},
    )
    category = fields.String(
        validate=validate.OneOf((*CATEGORIES, ALL)),
        metadata={
            "description": "One category, or 'all' for the total only. Default: each "
            "category and the total."
        },
    )


class PeriodSchema(Schema):
    label = fields.String(required=True, metadata={"description": "2025-W10, 2025-03, 2025-Q1"})
    start = fields.Date(required=True, metadata={"description": "A Monday"})
    end = fields.Date(required=True, metadata={"description": "A Sunday, inclusive"})


class QueryEchoSchema(Schema):
    """The filters as answered: the range snapped to whole, complete periods."""

    period = fields.String(required=True)
    from_ = fields.Date(data_key="from", attribute="from", required=True, allow_none=True)
    to = fields.Date(required=True, allow_none=True)
    released_to = fields.Date(
        required=True, metadata={"description": "Last day of the last complete month."}
    )
    depth = fields.Integer(required=True)
    unit = fields.Integer(required=True, allow_none=True)
    category = fields.String(required=True, allow_none=True)
    k = fields.Integer(required=True, metadata={"description": "The anonymity threshold."})


class ChangeSchema(Schema):
    """Against the previous period; null unless both periods are shown."""

    reports = fields.Integer(required=True, allow_none=True)
    mean_risk = fields.Float(required=True, allow_none=True)
    high_or_critical_share = fields.Float(required=True, allow_none=True)


class MeasuresSchema(Schema):
    """Figures of one cell. A suppressed cell has every figure null: it is never shown as 0."""

    suppressed = fields.Boolean(
        required=True,
        metadata={
            "description": "Fewer than k reports, or hidden so that a "
            "small cell cannot be worked out from the others."
        },
    )
    reports = fields.Integer(required=True, allow_none=True)
    mean_risk = fields.Float(required=True, allow_none=True)
    high_or_critical_share = fields.Float(
        required=True,
        allow_none=True,
        metadata={
            "description": "Null unless the high-or-critical reports and the others are each "
            "at least k and cannot be worked out by subtraction (so never exactly 0 or 1)."
        },
    )
    resolved_cases = fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "Null unless at least k and protected like report counts."},
    )
    resolved_informally_share = fields.Float(
        required=True,
        allow_none=True,
        metadata={
            "description": "Of the resolved cases; null unless both sides are at least k "
            "and protected."
        },
    )
    referred_formal_share = fields.Float(
        required=True,
        allow_none=True,
        metadata={
            "description": "Of the resolved cases; null unless both sides are at least k "
            "and protected."
        },
    )
    median_hours_to_acknowledge = fields.Integer(
        required=True,
        allow_none=True,
        metadata={
            "description": "Upper bound of the bucket (1, 2, 4, 8, 12, 24, 48, 72, 96, "
            "120, 144, 168, 336, 720 hours) holding the median; null when fewer than k "
            "cases were acknowledged."
        },
    )


class CellSchema(MeasuresSchema):
    unit = fields.Integer(required=True)
    remainder = fields.Boolean(
        required=True,
        metadata={
            "description": "The unit's own reports and its sub-units "
            "too small to show on their own."
        },
    )
    category = fields.String(required=True, metadata={"description": "A category, or 'all'."})
    period = fields.String(required=True, metadata={"description": "A period label."})
    change = fields.Nested(ChangeSchema, required=True)


class UnitRowSchema(Schema):
    unit = fields.Integer(required=True)
    external_id = fields.String(
        required=True,
        metadata={"description": "The organisation's own id of the unit (unit_id of its HR file)."},
    )
    remainder = fields.Boolean(required=True)
    name = fields.String(required=True)
    depth = fields.Integer(required=True)
    parent = fields.Integer(required=True, allow_none=True)
    retired = fields.Boolean(
        required=True,
        metadata={"description": "No longer in the organisation; its history is kept."},
    )


class RiskTableSchema(Schema):
    query = fields.Nested(QueryEchoSchema, required=True)
    periods = fields.List(fields.Nested(PeriodSchema), required=True)
    units = fields.List(fields.Nested(UnitRowSchema), required=True)
    categories = fields.List(fields.String(), required=True)
    cells = fields.List(
        fields.Nested(CellSchema),
        required=True,
        metadata={"description": "One per unit row, category and period."},
    )


class SummaryChangeSchema(ChangeSchema):
    median_hours_to_acknowledge = fields.Integer(
        required=True, allow_none=True, metadata={"description": "Difference of the buckets."}
    )


class SummaryPeriodSchema(MeasuresSchema):
    period = fields.Nested(PeriodSchema, required=True)
    change = fields.Nested(SummaryChangeSchema, required=True)


class HeadlineSchema(Schema):
    """The latest period of the range against the one before. Report figures are released
    figures; case figures are read live and shown only where the period's reports are and
    they rest on at least k cases. Every `*_change` is null unless both periods show it."""

    period = fields.Nested(PeriodSchema, required=True, allow_none=True)
    reports = fields.Integer(allow_none=True)
    reports_change = fields.Integer(allow_none=True)
    high_or_critical_share = fields.Float(allow_none=True)
    high_or_critical_share_change = fields.Float(allow_none=True)
    median_hours_to_acknowledge = fields.Integer(allow_none=True)
    median_hours_to_acknowledge_change = fields.Integer(allow_none=True)
    median_days_to_feedback = fields.Float(
        allow_none=True,
        metadata={"description": "Whole days from opening to first feedback, cases opened then."},
    )
    median_days_to_feedback_change = fields.Float(allow_none=True)
    overdue_cases = fields.Integer(
        allow_none=True,
        metadata={"description": "Cases opened in the period, open and past a deadline now."},
    )
    overdue_cases_change = fields.Integer(allow_none=True)


class SummaryCategorySchema(MeasuresSchema):
    category = fields.String(required=True)


class SummarySchema(Schema):
    query = fields.Nested(QueryEchoSchema, required=True)
    unit = fields.Integer(required=True, allow_none=True)
    name = fields.String(required=True)
    total = fields.Nested(
        MeasuresSchema,
        required=True,
        metadata={"description": "Over the whole range; shown only if every period is."},
    )
    periods = fields.List(fields.Nested(SummaryPeriodSchema), required=True)
    categories = fields.List(fields.Nested(SummaryCategorySchema), required=True)
    headline = fields.Nested(HeadlineSchema, required=True)


class HotspotSchema(Schema):
    """A released unit-period with improbably many reports for the unit's headcount and own
    history (see service/engine/hotspots.py for the model)."""

    unit = fields.Integer(required=True)
    name = fields.String(required=True)
    depth = fields.Integer(required=True)
    period = fields.Nested(PeriodSchema, required=True)
    reports = fields.Integer(required=True)
    headcount = fields.Integer(
        required=True, metadata={"description": "People in the unit and the units below it."}
    )
    expected = fields.Float(
        required=True,
        metadata={
            "description": "Reports expected in the period from the unit's headcount and its "
            "released history of the year before, shrunk towards the organisation's rate."
        },
    )
    rate_per_100 = fields.Float(
        required=True, metadata={"description": "Reports per 100 employees a year (annualised)."}
    )
    p_value = fields.Float(
        required=True,
        metadata={
            "description": "The surprise: chance of at least this many reports if the "
            "unit ran at its expected rate (negative binomial)."
        },
    )
    q_value = fields.Float(
        required=True,
        metadata={
            "description": "p_value adjusted for testing every unit of the period "
            "(Benjamini-Hochberg); a hotspot has q_value <= false_discovery_rate."
        },
    )
    mean_risk = fields.Float(required=True)
    high_or_critical_share = fields.Float(
        required=True,
        allow_none=True,
        metadata={
            "description": "Null unless both the high-or-critical reports and the "
            "others are at least k and protected."
        },
    )


class HotspotListSchema(Schema):
    query = fields.Nested(QueryEchoSchema, required=True)
    false_discovery_rate = fields.Float(required=True)
    hotspots = fields.List(fields.Nested(HotspotSchema), required=True)
