"""Nothing a reporter did keeps a time finer than the hour (issue 11 part 1): submitting,
writing and reading leave hours (or days) in every table the case touches."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from service.db import AuditEvent, Case, Message, Notification, OutboxEntry
from service.extensions import db
from tests.factories import report_payload


def on_the_hour(moment: datetime | None) -> bool:
    return moment is None or moment == moment.replace(minute=0, second=0, microsecond=0)


def test_submission_reply_and_read_leave_only_hours(client, org):
    created = client.post("/api/v1/reports", json=report_payload(org))
    receipt = created.get_json()["receipt"]
    case = db.session.execute(select(Case)).scalar_one()
    assert case.routing_state == "assigned"
    leader = case.assignee
    db.session.add(Message(case_id=case.id, from_reporter=False, author_id=leader.id, body="Hi"))
    db.session.commit()
    headers = {"X-Receipt": receipt}
    reply = client.post("/api/v1/reports/messages", json={"body": "Thanks"}, headers=headers)
    assert reply.status_code == 201
    client.get("/api/v1/reports/status", headers=headers)  # the reporter reads the thread
    db.session.expire_all()

    times = {
        "audit": [
            e.at
            for e in db.session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id))
        ],
        "outbox": [e.created_at for e in db.session.scalars(select(OutboxEntry))],
        "notifications": [
            t for n in db.session.scalars(select(Notification)) for t in (n.created_at, n.sent_at)
        ],
        "case": [case.opened_at, case.assigned_at],
    }
    assert times["audit"] and times["notifications"]
    for table, values in times.items():
        assert all(on_the_hour(t) for t in values), (table, values)
    messages = list(db.session.scalars(select(Message).order_by(Message.id)))
    staff, reporter = messages
    assert reporter.created_at == reporter.created_at.replace(hour=0, minute=0, second=0)
    # The reporter's read is a flag: no time, for the Trust Leader to match against a login.
    assert staff.read_by_reporter and staff.read_at is None
