"""Response deadlines: warn the Trust Leader before the acknowledge-by deadline, then re-route
and alert the leads once it has passed; and the same for feedback to the reporter (EU
2019/1937, Art. 9(1)(f)): a warning to the assignee, then an alert to the leads, once each."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from service.audit import record
from service.db import Case, utcnow
from service.db.cases import OPEN_STATUSES
from service.extensions import db
from service.notify import leads, notify
from service.routing.service import request_reroute


def check_deadlines() -> dict[str, int]:
    """Run by the scheduler every minute. Returns counts of warnings and breaches handled."""
    settings = current_app.config["DEFUSE"]
    now = utcnow()
    warned = breached = 0
    waiting = (
        db.session.execute(
            db.select(Case)
            .join(Case.report)
            .where(Case.status == "new", Case.breached_at.is_(None))
            .with_for_update(of=Case, skip_locked=True)
        )
        .scalars()
        .all()
    )
    for case in waiting:
        sla = settings.sla[case.report.risk_level]
        warn_at = case.ack_due_at - sla * (1 - settings.sla_warning_fraction)
        if now >= case.ack_due_at:
            breached += 1
            case.breached_at = now
            record("case.deadline_breached", case_id=case.id, actor_kind="system")
            for lead in leads():
                notify(lead, "breach", case.id, "The acknowledge-by deadline has passed")
            if case.assignee_id is not None:
                request_reroute(case, reason="deadline breached")
        elif now >= warn_at and case.ack_warned_at is None and case.assignee is not None:
            warned += 1
            case.ack_warned_at = now
            notify(case.assignee, "deadline", case.id, "The acknowledge-by deadline is near")
    db.session.commit()
    if breached:
        from service.tasks.relay import relay_outbox_soon

        relay_outbox_soon()
    return {"warned": warned, "breached": breached}


def check_feedback_deadlines() -> dict[str, int]:
    """Run by the scheduler. Open cases whose reporter has had no feedback: the assignee is
    warned once, `feedback_warning_days` after opening (as long before an extended deadline),
    and the leads are alerted once when the deadline passes."""
    settings = current_app.config["DEFUSE"]
    now = utcnow()
    warn_before = timedelta(days=settings.feedback_days - settings.feedback_warning_days)
    waiting = (
        db.session.execute(
            db.select(Case)
            .where(
                Case.status.in_(OPEN_STATUSES),
                Case.feedback_given_at.is_(None),
                Case.feedback_breached_at.is_(None),
                Case.feedback_due_at <= now + warn_before,
            )
            .with_for_update(of=Case, skip_locked=True)
        )
        .scalars()
        .all()
    )
    warned = breached = 0
    for case in waiting:
        due = f"{case.feedback_due_at:%d %b %Y}"
        if now >= case.feedback_due_at:
            breached += 1
            case.feedback_breached_at = now
            record("case.feedback_breached", case_id=case.id, actor_kind="system")
            for lead in leads():
                notify(lead, "feedback_breach", case.id, f"Feedback to the reporter was due {due}")
        elif case.feedback_warned_at is None and case.assignee is not None:
            warned += 1
            case.feedback_warned_at = now
            record("case.feedback_warned", case_id=case.id, actor_kind="system")
            notify(case.assignee, "feedback_due", case.id, f"Feedback to the reporter is due {due}")
    db.session.commit()
    return {"warned": warned, "breached": breached}
