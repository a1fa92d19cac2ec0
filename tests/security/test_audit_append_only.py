"""The audit log is append-only in the database itself: UPDATE and DELETE on audit_events are
refused by the database (triggers), whatever the caller, ORM or raw SQL. Runs on SQLite by
default and on PostgreSQL with DEFUSE_TEST_DATABASE_URL, the two databases we ship for."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from service.audit import record
from service.db import AuditEvent
from service.db.audit import AuditLogIsAppendOnly
from service.extensions import db


@pytest.fixture
def event(app):  # type: ignore[no-untyped-def]
    row = record("case.viewed", case_id=7, actor_kind="system", note="original")
    db.session.commit()
    return row.id


def _unchanged(event_id: int) -> None:
    db.session.rollback()
    db.session.expire_all()
    row = db.session.get(AuditEvent, event_id)
    assert row is not None, "the audit event was deleted"
    assert (row.action, row.case_id, row.detail) == ("case.viewed", 7, {"note": "original"})


REFUSED = [
    "UPDATE audit_events SET action = 'case.rewritten' WHERE id = :id",
    "UPDATE audit_events SET case_id = NULL",
    "DELETE FROM audit_events WHERE id = :id",
    "DELETE FROM audit_events",
]


@pytest.mark.parametrize("statement", REFUSED)
def test_the_database_refuses_to_rewrite_the_audit_log(event, statement):
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text(statement), {"id": event})
        db.session.commit()
    _unchanged(event)


def test_the_orm_cannot_rewrite_it_either(event):
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(update(AuditEvent).values(action="case.rewritten"))
        db.session.flush()
    _unchanged(event)
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(delete(AuditEvent).where(AuditEvent.id == event))
        db.session.flush()
    _unchanged(event)
    # Through the unit of work, the model's own guard refuses before the database is asked.
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.delete(db.session.get(AuditEvent, event))
        db.session.flush()
    _unchanged(event)
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.get(AuditEvent, event).action = "case.rewritten"
        db.session.flush()
    _unchanged(event)


def test_appending_still_works(event):
    """The other side of the boundary: the triggers refuse rewriting, not writing."""
    record("case.viewed", case_id=8, actor_kind="system")
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) >= 2
