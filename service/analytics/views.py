"""The HR dashboard (/analytics) and its CSV export, for hr_analyst and admin.

Filters are a plain GET form; charts are SVG drawn here (charts.py), each with a data table.
Everything shown comes from query.py, so the page and the CSV obey the same anonymity rule as
the API.
"""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from typing import Any

from flask import Blueprint, Response, render_template, request
from flask_babel import gettext, ngettext
from marshmallow import ValidationError

from service.analytics import charts, display, query
from service.analytics.cube import ALL, load_tree
from service.audit import record
from service.auth import roles_required
from service.bidi import neutralise
from service.extensions import db
from service.i18n import N_
from service.labels import label
from service.schemas.analytics import AnalyticsQuerySchema
from service.vocab import CATEGORIES

bp = Blueprint("analytics", __name__, template_folder="templates")
bp.context_processor(display.template_helpers)
ANALYST_ROLES = ("hr_analyst", "admin")
HOTSPOTS_SHOWN = 25  # the latest; the API lists them all
TREND_CATEGORIES = 4  # the trend chart draws the busiest few; the table lists every one
COARSEN_HINT_SHARE = 0.5  # suggest a coarser view when more of the cells than this are hidden
FIELD_NAMES = {
    "from": N_("First day"),
    "to": N_("Last day"),
    "period": N_("Period"),
    "depth": N_("Group by level"),
    "unit": N_("Org unit"),
    "category": N_("Category"),
}
# What the form says about a filter it cannot use. The API's messages stay in English; the
# form's only choices are its own, so a message per field says enough.
FILTER_PROBLEMS = {
    "from": N_("Enter a date, for example 2025-03-31."),
    "to": N_("Enter a date, for example 2025-03-31."),
    "period": N_("Choose weeks, months or quarters."),
    "depth": N_("Choose a level from the list."),
    "unit": N_("Choose an org unit from the list."),
    "category": N_("Choose a category from the list."),
}
# Filters each fine on its own that do not go together.
QUERY_PROBLEMS = {"from": N_("The first day must be on or before the last day.")}
CSV_COLUMNS = (
    "unit_id",
    "external_id",  # the organisation's own id, to join with its HR data
    "unit",
    "remainder",
    "category",
    "period",
    "period_start",
    "period_end",
    "reports",
    "mean_risk",
    "high_or_critical_share",
    "resolved_cases",
    "resolved_informally_share",
    "referred_formal_share",
    "median_hours_to_acknowledge",
    "change_in_reports",
)


def _form_filters() -> tuple[query.Filters, dict[str, list[str]]]:
    """The GET form's filters; empty fields mean "default"."""
    raw = {key: value for key, value in request.args.items() if value.strip()}
    try:
        args = AnalyticsQuerySchema().load(raw)
    except ValidationError as error:
        messages = error.normalized_messages()
        return query.Filters(), {str(k): [_problem(str(k), FILTER_PROBLEMS)] for k in messages}
    return (
        query.Filters(
            period=args["period"],
            first_day=args.get("first_day"),
            last_day=args.get("last_day"),
            depth=args["depth"],
            unit=args.get("unit"),
            category=args.get("category"),
        ),
        {},
    )


def _problem(field: str, wording: dict[str, str]) -> str:
    english = wording.get(field) or FILTER_PROBLEMS.get(field)
    return gettext(english) if english else gettext("This value cannot be used.")


def _safe(compute, filters: query.Filters, errors: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    try:
        return compute(filters)
    except query.QueryError as error:
        errors.setdefault(error.field, []).append(_problem(error.field, QUERY_PROBLEMS))
        return compute(query.Filters())


@bp.get("/analytics")
@roles_required(*ANALYST_ROLES)
def dashboard():  # type: ignore[no-untyped-def]
    filters, errors = _form_filters()
    heat_category = filters.category or ALL
    table = _safe(query.risk_table, replace(filters, category=heat_category), errors)
    trend = query.trends(table.filters)
    found = query.hotspots(table.filters)["hotspots"]
    tree = load_tree()
    context: dict[str, Any] = {
        "filters": table.filters,
        "answer": table,
        "errors": errors,
        "categories": CATEGORIES,
        "field_names": FIELD_NAMES,
        "headlines": _headlines(query.headline(table.filters), found),
        "heat_category": heat_category,
        "units": [
            {
                "id": tree.ids[i],
                "name": gettext("%(name)s (retired)", name=tree.names[i])
                if tree.retired[i]
                else tree.names[i],
                "depth": tree.depths[i],
            }
            for i in range(tree.size)
        ],
        "max_depth": max(tree.depths, default=0),
        "hotspots": found[:HOTSPOTS_SHOWN],
        "more_hotspots": max(0, len(found) - HOTSPOTS_SHOWN),
        "export_query": request.query_string.decode("ascii", "replace"),
    }
    context.update(_heatmap(table))
    shown_cells = [c for row in context["heat_rows"] for c in row["cells"]]
    hidden = sum(1 for c in shown_cells if c["suppressed"])
    context["suggest_coarser"] = bool(shown_cells) and hidden > COARSEN_HINT_SHARE * len(
        shown_cells
    )
    context.update(_trends(trend, table, filters.category))
    return render_template("analytics/dashboard.html", **context), (400 if errors else 200)


def _headlines(headline: dict[str, Any], found: list[dict[str, Any]]) -> dict[str, Any]:
    """The latest period against the one before (query.headline: released figures, and case
    figures only above the threshold), with the hotspots found in it."""
    if headline["period"] is None:
        return {"period": None}
    label = headline["period"]["label"]
    return {
        **headline,
        "period": label,
        "high_share": headline["high_or_critical_share"],
        "high_change": headline["high_or_critical_share_change"],
        "hotspots": sum(1 for spot in found if spot["period"]["label"] == label),
    }


def _heatmap(answer: query.Answer) -> dict[str, Any]:
    labels = [display.period_name(p, short=True) for p in answer.periods]
    rows: list[dict[str, Any]] = []
    for r, row in enumerate(answer.rows):
        cells = (
            [
                query.measures(answer.values[r, p, 0], answer.shown[r, p, 0], answer.threshold)
                for p in range(1, len(answer.periods) + 1)
            ]
            if answer.values is not None and answer.shown is not None
            else []
        )
        rows.append({"label": _row_label(answer.tree, row), "cells": cells})
    category = answer.categories[0] if answer.categories else ALL
    what = gettext("all categories") if category == ALL else label("topic", category)
    svg = (
        charts.heatmap(
            "heatmap",
            gettext("Risk by org unit and period (%(categories)s)", categories=what),
            gettext(
                "Each cell is coloured by the mean risk of its reports (pale: under 0.2, deep "
                "red: 0.8 or more) and labelled with their number, for each org unit (rows) in "
                "each period (columns); cells with fewer than %(k)s reports, or hidden to "
                "protect another cell, are hatched and marked suppressed. The same figures are "
                "in the table below.",
                k=display.count(answer.threshold.k),
            ),
            [row["label"] for row in rows],
            labels,
            [[charts.HeatCell(c["reports"], c["mean_risk"]) for c in row["cells"]] for row in rows],
        )
        if rows and labels
        else None
    )
    return {"heat_rows": rows, "period_labels": labels, "heatmap_svg": svg}


def _row_label(tree, row) -> str:  # type: ignore[no-untyped-def]
    """query.unit_label, in the page's language."""
    name = tree.names[row.unit_index]
    return gettext("%(name)s (other)", name=name) if row.remainder else name


def _trends(trend: dict[str, Any], answer: query.Answer, category: str | None) -> dict[str, Any]:
    labels = [display.period_name(p, short=True) for p in trend["periods"]]
    wanted = [category] if category and category != ALL else list(CATEGORIES)
    series = [(label("topic", c), [m["reports"] for m in trend["series"][c]]) for c in wanted]
    shown = [(name, values) for name, values in series if any(v is not None for v in values)]
    # The busiest few only: ten overlapping lines answer nothing.
    busiest = sorted(shown, key=lambda item: -sum(v or 0 for v in item[1]))[:TREND_CATEGORIES]
    svg = (
        charts.line_chart(
            "trends",
            ngettext(
                "Reports per period: the busiest category",
                "Reports per period: the %(num)d busiest categories",
                len(busiest),
            ),
            gettext(
                "One line per category among the busiest in this range; a line breaks where a "
                "period is suppressed (marked ×). Every category is in the table below."
            ),
            labels,
            busiest,
        )
        if labels and shown
        else None
    )
    return {"trend_series": series, "trends_svg": svg}


@bp.get("/analytics/export.csv")
@roles_required(*ANALYST_ROLES)
def export_csv():  # type: ignore[no-untyped-def]
    """The table behind the dashboard for the same filters, with the same suppression."""
    filters, errors = _form_filters()
    answer = _safe(query.risk_table, filters, errors)
    units = {(u["unit"], u["remainder"]): u for u in query.risk_json(answer)["units"]}
    spans = {p.label: p for p in answer.periods}
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    cells = list(query.risk_cells(answer))
    for cell in cells:
        period = spans[cell["period"]]
        shown = not cell["suppressed"]
        unit = units[(cell["unit"], cell["remainder"])]
        writer.writerow(
            [
                cell["unit"],
                _csv_text(unit["external_id"]),
                _csv_text(unit["name"]),
                "yes" if cell["remainder"] else "no",
                cell["category"],
                cell["period"],
                period.start.isoformat(),
                period.end.isoformat(),
                cell["reports"] if shown else "suppressed",
                *("" if cell[name] is None else cell[name] for name in CSV_COLUMNS[9:15]),
                "" if cell["change"]["reports"] is None else cell["change"]["reports"],
            ]
        )
    # Every bulk export is audited: who (the signed-in analyst), when, how many rows, and the
    # filters as given (ids and choices, nothing a report said).
    record(
        "export.analytics_csv",
        rows=len(cells),
        period=filters.period,
        depth=filters.depth,
        unit=filters.unit,
        category=filters.category,
        first_day=filters.first_day.isoformat() if filters.first_day else None,
        last_day=filters.last_day.isoformat() if filters.last_day else None,
    )
    db.session.commit()
    return Response(
        buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=defuse-analytics.csv"},
    )


def _csv_text(value: str) -> str:
    """Unit names are typed by admins: never let a spreadsheet read one as a formula, nor
    reorder it with bidirectional controls."""
    value = neutralise(value)
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
