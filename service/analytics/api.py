"""GET /api/v1/analytics/{risk,summary,hotspots}: HR aggregates, for hr_analyst and admin.

Authenticated by API token (Authorization: Bearer). Every figure comes from query.py, which
shows only what anonymity.py released.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from service.analytics import query
from service.auth import api_user
from service.errors import ErrorSchema
from service.schemas.analytics import (
    AnalyticsQuerySchema,
    HotspotListSchema,
    RiskTableSchema,
    SummarySchema,
)

PREFIX = "/analytics"
ANALYST_ROLES = ("hr_analyst", "admin")
blp = Blueprint(
    "analytics_api",
    __name__,
    description="HR aggregates. Only complete months, whole periods and cells of at least k "
    "reports (k is in each answer); see service/analytics/anonymity.py for the rule.",
)


@blp.before_request
def _analysts_only() -> None:
    # Before argument parsing, so a caller without a valid token learns nothing else.
    api_user(ANALYST_ROLES)


def _filters(args: dict[str, Any]) -> query.Filters:
    return query.Filters(
        period=args["period"],
        first_day=args.get("first_day"),
        last_day=args.get("last_day"),
        depth=args["depth"],
        unit=args.get("unit"),
        category=args.get("category"),
    )


def _json(body: dict[str, Any]) -> bytes:
    """The body as JSON, straight from plain types. marshmallow takes ~100 ms to dump a few
    thousand nested cells; the schemas still document the shape, and the tests (schemathesis
    among them) check every answer against them."""
    return json.dumps(body, separators=(",", ":"), default=_iso, check_circular=False).encode()


def _iso(value: object) -> str:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _answer(kind: str | None, compute, args: dict[str, Any]):  # type: ignore[no-untyped-def]
    """The answer as JSON; serialising a large table costs more than computing it, so the
    bytes are cached too, under the same key as the answer (query.cached). `kind` None: an
    answer with live parts, serialised each time."""
    filters = _filters(args)
    try:
        if kind is None:
            return Response(_json(compute(filters)), mimetype="application/json")
        body = query.cached(f"json:{kind}", filters, lambda: _json(compute(filters)))
        return Response(body, mimetype="application/json")
    except query.UnknownUnit as error:
        abort(404, message=error.message)
    except query.QueryError as error:
        abort(422, messages={"query": {error.field: [error.message]}})


_COMMON_DOC = {"security": [{"bearer": []}]}


def _errors(view):  # type: ignore[no-untyped-def]
    view = blp.alt_response(401, schema=ErrorSchema, description="No valid API token")(view)
    view = blp.alt_response(403, schema=ErrorSchema, description="Not an HR analyst or admin")(view)
    view = blp.alt_response(404, schema=ErrorSchema, description="No such org unit")(view)
    return blp.alt_response(422, schema=ErrorSchema, description="Invalid filters")(view)


@blp.route("/risk")
class Risk(MethodView):
    @blp.doc(**_COMMON_DOC)
    @blp.arguments(AnalyticsQuerySchema, location="query", as_kwargs=False)
    @blp.response(200, RiskTableSchema)
    @_errors
    def get(self, args):  # type: ignore[no-untyped-def]
        """Reports by org unit, category and period, with risk, resolution and
        acknowledgement figures per cell and the change against the previous period."""
        return _answer("risk", lambda filters: query.risk_json(query.risk_table(filters)), args)


@blp.route("/summary")
class Summary(MethodView):
    @blp.doc(**_COMMON_DOC)
    @blp.arguments(AnalyticsQuerySchema, location="query", as_kwargs=False)
    @blp.response(200, SummarySchema)
    @_errors
    def get(self, args):  # type: ignore[no-untyped-def]
        """Totals for one unit (or the whole organisation): per period, per category and
        over the range, and the headline of the latest period (with case figures)."""
        return _answer(
            None,
            lambda filters: {**query.summary(filters), "headline": query.headline(filters)},
            args,
        )


@blp.route("/hotspots")
class Hotspots(MethodView):
    @blp.doc(**_COMMON_DOC)
    @blp.arguments(AnalyticsQuerySchema, location="query", as_kwargs=False)
    @blp.response(200, HotspotListSchema)
    @_errors
    def get(self, args):  # type: ignore[no-untyped-def]
        """Units where at least k reports of a period were flagged as a hotspot: the deepest
        such unit, with aggregate figures only (no case, no text)."""
        return _answer("hotspots", query.hotspots, args)
