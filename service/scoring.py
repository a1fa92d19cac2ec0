"""The risk engine bound to the app and the database: loading it once, scoring reports as they
arrive, marking hotspots, and rescoring after a rule or model change."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import NamedTuple

import numpy as np
from flask import Flask, current_app
from sqlalchemy import func

from service.analytics.rollups import count_rescore
from service.db import Case, OrgUnit, Report, RiskRollup, utcnow
from service.engine.facts import ReportFacts
from service.engine.hotspots import HotspotModel
from service.extensions import db

log = logging.getLogger(__name__)
_ENGINE_KEY = "defuse.risk_engine"
MODEL_NAME = "escalation"


class HotspotSignal(NamedTuple):
    hotspot: bool
    reports: int  # about the unit in the window, this one included
    expected: float | None  # None: the unit has no headcount, so it is not judged
    q_value: float | None


def build_risk_engine(app: Flask):  # type: ignore[no-untyped-def]
    from service.classifier.load import load_model
    from service.classifier.registry import active_model_dir, model_thresholds
    from service.engine.risk import LevelThresholds, RiskEngine
    from service.engine.rules import load_rule_set

    settings = app.config["DEFUSE"]
    rules = load_rule_set(settings.rules_dir)
    model_dir = active_model_dir(settings.models_dir, MODEL_NAME)
    model = load_model(model_dir) if model_dir else None
    if model is None:
        log.warning("no active classifier under %s: scoring with rules only", settings.models_dir)
    if settings.level_thresholds is not None:
        moderate, high, critical = settings.level_thresholds
        thresholds = LevelThresholds(moderate=moderate, high=high, critical=critical)
    else:
        thresholds = model_thresholds(model) if model is not None else LevelThresholds()
    return RiskEngine(rules, model, thresholds, hotspot_boost=settings.hotspot_boost)


def get_risk_engine(app: Flask | None = None):  # type: ignore[no-untyped-def]
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    engine = app.extensions.get(_ENGINE_KEY)
    if engine is None:
        engine = app.extensions[_ENGINE_KEY] = build_risk_engine(app)
    return engine


def facts_for(report: Report) -> ReportFacts:
    return ReportFacts(
        text=report.text or "",
        category=report.category,
        duration=report.duration,
        raised_before=report.raised_before,
        raised_with=tuple(report.raised_with or ()),
        involved=tuple(report.involved or ()),
        desired_outcome=report.desired_outcome,
        urgency=report.urgency,
        language=report.language,
    )


def _apply(report: Report, hotspot: bool, signal: HotspotSignal | None = None) -> None:
    assessment = get_risk_engine().assess(facts_for(report), hotspot=hotspot)
    report.risk_score = assessment.score
    report.risk_level = assessment.level
    explanation = dict(assessment.explanation)
    if signal is not None:  # what the hotspot model saw when the report arrived
        explanation["hotspot"] = {
            **explanation["hotspot"],
            "reports_in_window": signal.reports,
            "expected": signal.expected,
            "q_value": signal.q_value,
        }
    report.risk_explanation = explanation
    report.rule_pack_version = assessment.rule_pack_version
    report.model_version = assessment.model_version
    report.hotspot = hotspot


def _hotspot_window(report: Report) -> tuple:  # type: ignore[type-arg]
    """Other reports about the same org unit inside the hotspot window."""
    since = report.submitted_on - timedelta(days=current_app.config["DEFUSE"].hotspot_window_days)
    return (
        Report.org_unit_id == report.org_unit_id,
        Report.submitted_on >= since,
        Report.id != report.id,
        Report.text.is_not(None),
    )


HISTORY_DAYS = 365


def _reports_per_unit(first: date, last: date) -> dict[int, int]:
    rows = db.session.execute(
        db.select(RiskRollup.org_unit_id, func.sum(RiskRollup.reports))
        .where(RiskRollup.day.between(first, last))
        .group_by(RiskRollup.org_unit_id)
    ).all()
    return {unit_id: int(total or 0) for unit_id, total in rows}


def hotspot_signal(report: Report) -> HotspotSignal:
    """Is the report's unit a hotspot, counting this report? The hotspot model
    (service/engine/hotspots.py) on the last DEFUSE_HOTSPOT_WINDOW_DAYS days of every unit with
    a headcount, against each unit's own history of the year before (since the first report),
    with false-discovery control across the units."""
    settings = current_app.config["DEFUSE"]
    model = HotspotModel.from_settings(settings)
    window_days = settings.hotspot_window_days
    today = report.submitted_on
    window_start = today - timedelta(days=window_days - 1)
    first_report = db.session.scalar(db.select(func.min(RiskRollup.day)))
    history_start = max(
        window_start - timedelta(days=HISTORY_DAYS), _as_date(first_report or window_start)
    )
    history_days = max(0, (window_start - history_start).days)
    units = db.session.execute(db.select(OrgUnit.id, OrgUnit.headcount)).all()
    ids = [unit_id for unit_id, _ in units]
    headcount = np.array([np.nan if h is None else float(h) for _, h in units])
    window = _reports_per_unit(window_start, today)
    window[report.org_unit_id] = window.get(report.org_unit_id, 0) + 1  # not counted yet
    history = _reports_per_unit(history_start, window_start - timedelta(days=1))
    observed = np.array([window.get(unit_id, 0) for unit_id in ids], dtype=float)
    past = np.array([history.get(unit_id, 0) for unit_id in ids], dtype=float)
    known = np.nan_to_num(headcount)
    org_rate = model.organisation_rate(float(past.sum()), float(known.sum() * history_days))
    test = model.test(observed, headcount * window_days, past, known * history_days, org_rate)
    at = ids.index(report.org_unit_id) if report.org_unit_id in ids else -1
    if at < 0 or not np.isfinite(test.expected[at]):
        return HotspotSignal(False, int(observed[at]) if at >= 0 else 1, None, None)
    return HotspotSignal(
        bool(test.hotspot[at]),
        int(observed[at]),
        round(float(test.expected[at]), 2),
        float(f"{float(test.q_value[at]):.3g}"),
    )


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def score_new_report(report: Report) -> None:
    """Score a report being submitted. If its org unit is a hotspot (`hotspot_signal`), it and
    the other reports about the unit within the window get the hotspot boost.

    Neighbours are not loaded unless needed: loading one decrypts its text. Only those not yet
    boosted (a few, once, when the unit becomes a hotspot) are loaded. Rescoring changes cases
    only: released analytics months are frozen (service/analytics/cube.py)."""
    signal = hotspot_signal(report)
    _apply(report, signal.hotspot, signal)
    if signal.hotspot:
        window = _hotspot_window(report)
        unboosted = db.select(Report).where(*window, Report.hotspot.is_not(True))
        for other in db.session.execute(unboosted).scalars():
            rescore(other, hotspot=True)


def rescore(report: Report, hotspot: bool | None = None) -> bool:
    """Recompute a stored report's score; returns True if its level changed."""
    old_level, old_score = report.risk_level, report.risk_score
    _apply(report, report.hotspot if hotspot is None else hotspot)
    count_rescore(report, old_level, old_score)
    return report.risk_level != old_level


def rescore_open_reports() -> tuple[int, int]:
    """Rescore every report whose case is still open. Returns (rescored, level changed)."""
    from service.db.cases import OPEN_STATUSES

    reports = db.session.execute(
        db.select(Report)
        .join(Case, Case.report_id == Report.id)
        .where(Case.status.in_(OPEN_STATUSES), Report.text.is_not(None))
    ).scalars()
    rescored = changed = 0
    for report in reports:
        rescored += 1
        changed += rescore(report)
    db.session.commit()
    log.info("rescored %d open reports at %s, %d changed level", rescored, utcnow(), changed)
    return rescored, changed
