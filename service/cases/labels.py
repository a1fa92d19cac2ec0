"""Outcome labels for retraining the classifier: what finally happened to closed cases.

`export_outcome_labels()` needs only an app context (no CLI, no request): the lead wires it to
a command that writes one `json.dumps(row)` per line. Each row has the fields
service/classifier/data.py reads (text, escalated, category and the structured fields), plus
the outcome and the month it was closed. No case or report id, no contact, no receipt hash:
the file is training data, not a way back to a case.
"""

from __future__ import annotations

from typing import Any

from service.db import Case, Report
from service.extensions import db
from service.vocab import ANSWER_FIELDS

STRUCTURED_FIELDS = (*ANSWER_FIELDS, "language")


def label_row(case: Case) -> dict[str, Any]:
    report = case.report
    row: dict[str, Any] = {
        "text": report.text,
        "category": report.category,
        **{name: _plain(getattr(report, name)) for name in STRUCTURED_FIELDS},
        "escalated": bool(case.escalated),
        "outcome": case.outcome,
        "closed_month": case.closed_at.strftime("%Y-%m") if case.closed_at else None,
    }
    return row


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, list | tuple) else value


def export_outcome_labels() -> list[dict[str, Any]]:
    """JSONL-ready dicts of every closed case that has an outcome and still has its text
    (retention removes the text of old cases; those cannot be learnt from), oldest first."""
    cases = db.session.execute(
        db.select(Case)
        .join(Case.report)
        .where(
            Case.status == "closed",
            Case.outcome.is_not(None),
            Case.escalated.is_not(None),
            Report.text.is_not(None),
            Report.text_removed_on.is_(None),
        )
        .order_by(Case.closed_at, Case.id)
    ).scalars()
    return [label_row(case) for case in cases if (case.report.text or "").strip()]
