"""Keeping the rollup tables current, inside the transaction of the write they count.

Each function adds to (or takes from) one day's counts with an upsert, so concurrent writers
never lose a count. Triggers then stamp the week as changed (migration 0002), which is how the
analytics cache notices; nothing here needs to know about the cache.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.dialects import postgresql, sqlite

from service.db import AcknowledgementRollup, Case, Report, ResolutionRollup, RiskRollup
from service.extensions import db


def _upsert(model: type, keys: dict[str, Any], increments: dict[str, float]) -> None:
    """INSERT ... ON CONFLICT DO UPDATE SET n = n + delta: concurrent writers never lose a
    count, on PostgreSQL and SQLite alike."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(model).values(**keys, **increments)
    table = model.__table__  # type: ignore[attr-defined]
    statement = statement.on_conflict_do_update(
        index_elements=list(keys),
        set_={name: table.c[name] + statement.excluded[name] for name in increments},
    )
    db.session.execute(statement)


def _cell(report: Report) -> dict[str, Any]:
    return {
        "day": report.submitted_on,
        "org_unit_id": report.org_unit_id,
        "category": report.category,
    }


def _add_risk(report: Report, level: str, score: float, hotspot: bool, sign: int) -> None:
    _upsert(
        RiskRollup,
        {**_cell(report), "level": level},
        {"reports": sign, "score_sum": sign * score, "hotspots": sign * int(hotspot)},
    )


def _hotspot_before_change(report: Report) -> bool:
    """The hotspot flag as it was before this (unflushed) change to the report: from the
    attribute's history, or, when the attribute had expired before it was set (no history),
    from the stored row, read without flushing the change."""
    state = inspect(report)
    history = state.attrs.hotspot.history
    if history.deleted:
        return bool(history.deleted[0])
    if not history.added or state.identity is None:
        return bool(report.hotspot)
    # The identity, not report.id: loading an expired id would flush the change first.
    with db.session.no_autoflush:
        stored = db.session.execute(
            select(Report.__table__.c.hotspot).where(Report.__table__.c.id == state.identity[0])
        ).scalar()
    return bool(report.hotspot) if stored is None else bool(stored)


def count_new_report(report: Report) -> None:
    _add_risk(report, report.risk_level, report.risk_score, bool(report.hotspot), +1)


def count_rescore(report: Report, old_level: str, old_score: float) -> None:
    """Move a rescored report's count; call right after changing its score, level or
    hotspot flag and before the session flushes (the old flag is read from its history)."""
    old_hotspot = _hotspot_before_change(report)
    if (
        old_level == report.risk_level
        and math.isclose(old_score, report.risk_score)
        and old_hotspot == bool(report.hotspot)
    ):
        return
    _add_risk(report, old_level, old_score, old_hotspot, -1)
    count_new_report(report)


def count_resolution(case: Case, resolution: str) -> None:
    _upsert(ResolutionRollup, {**_cell(case.report), "resolution": resolution}, {"cases": 1})


def uncount_resolution(case: Case, resolution: str) -> None:
    """A lead undid the resolution (a withdrawal marked by mistake)."""
    _upsert(ResolutionRollup, {**_cell(case.report), "resolution": resolution}, {"cases": -1})


def count_acknowledgement(case: Case) -> None:
    if case.acknowledged_at is None:
        return
    hours = max(0, math.ceil((case.acknowledged_at - case.opened_at).total_seconds() / 3600))
    _upsert(AcknowledgementRollup, {**_cell(case.report), "hours": hours}, {"cases": 1})


def move_report_day(report: Report, day: date) -> None:
    """Re-date a report and its rollup counts (used by demo data and benchmarks only)."""
    _add_risk(report, report.risk_level, report.risk_score, bool(report.hotspot), -1)
    report.submitted_on = day
    count_new_report(report)
