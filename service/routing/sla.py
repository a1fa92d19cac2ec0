"""Response deadlines: warn the Trust Leader before the acknowledge-by deadline, then re-route
and alert the leads once it has passed."""

from __future__ import annotations

from flask import current_app

from service.audit import record
from service.db import Case, utcnow
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
