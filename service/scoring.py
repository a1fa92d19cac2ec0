"""The risk engine bound to the app and the database: loading it once, scoring reports as they
arrive, marking hotspots, and rescoring after a rule or model change."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Flask, current_app
from sqlalchemy import func

from service.analytics.rollups import count_rescore
from service.db import Case, Report, utcnow
from service.engine.facts import ReportFacts
from service.extensions import db

log = logging.getLogger(__name__)
_ENGINE_KEY = "defuse.risk_engine"
MODEL_NAME = "escalation"


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


def _apply(report: Report, hotspot: bool) -> None:
    assessment = get_risk_engine().assess(facts_for(report), hotspot=hotspot)
    report.risk_score = assessment.score
    report.risk_level = assessment.level
    report.risk_explanation = assessment.explanation
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


def score_new_report(report: Report) -> None:
    """Score a report being submitted. If it makes its org unit a hotspot (several reports
    within the window), it and the other reports in the window get the hotspot boost.

    Neighbours are counted, not loaded: a busy unit has hundreds, and loading one decrypts its
    text. Only those not yet boosted (a few, once, when the unit becomes a hotspot) are loaded."""
    window = _hotspot_window(report)
    neighbours = db.session.scalar(db.select(func.count()).select_from(Report).where(*window))
    hotspot = (neighbours or 0) + 1 >= current_app.config["DEFUSE"].hotspot_min_reports
    _apply(report, hotspot)
    if hotspot:
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
