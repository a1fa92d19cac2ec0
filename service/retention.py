"""Retention: some time after a case is closed, its words are deleted.

The report's text, contact details and explanation, the case's notes and messages go; the
structured fields, the outcome label and the rollups stay, so aggregates and the classifier's
labels survive. The reporter's receipt then shows the case as closed and removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app

from service.audit import record
from service.db import Case, Message, Note, Report, utcnow
from service.extensions import db


@dataclass(frozen=True)
class RetentionResult:
    cases: int
    notes: int
    messages: int


def expired_cases() -> list[Case]:
    cutoff = utcnow() - timedelta(days=current_app.config["DEFUSE"].retention_days)
    return list(
        db.session.execute(
            db.select(Case)
            .join(Case.report)
            .where(
                Case.status == "closed",
                Case.closed_at < cutoff,
                Report.text_removed_on.is_(None),
            )
        ).scalars()
    )


def purge_expired(dry_run: bool) -> RetentionResult:
    cases = expired_cases()
    case_ids = [case.id for case in cases]
    if not case_ids:
        return RetentionResult(0, 0, 0)
    notes = db.session.scalar(
        db.select(db.func.count()).select_from(Note).where(Note.case_id.in_(case_ids))
    )
    messages = db.session.scalar(
        db.select(db.func.count()).select_from(Message).where(Message.case_id.in_(case_ids))
    )
    if dry_run:
        return RetentionResult(len(cases), notes or 0, messages or 0)
    db.session.execute(db.delete(Note).where(Note.case_id.in_(case_ids)))
    db.session.execute(db.delete(Message).where(Message.case_id.in_(case_ids)))
    today = utcnow().date()
    for case in cases:
        report = case.report
        report.text = None
        report.contact = None
        report.risk_explanation_json = None
        report.text_removed_on = today
        record("case.text_removed", case_id=case.id, actor_kind="system")
    db.session.commit()
    return RetentionResult(len(cases), notes or 0, messages or 0)
