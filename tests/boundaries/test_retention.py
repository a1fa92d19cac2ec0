"""Retention on both sides: a case closed exactly the retention period ago loses its words
once the period has passed, one closed a day short of it keeps them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

import service.retention as retention
from service.db import AuditEvent, Case, Message, Note, Report
from service.extensions import db
from service.retention import purge_expired
from tests.boundaries.clock import NOW, freeze
from tests.cases.support import case_for

SECOND = timedelta(seconds=1)
DAY = timedelta(days=1)


@pytest.mark.parametrize(
    ("closed_ago", "removed"),
    [
        (timedelta(0), True),  # the period plus a second: it has passed
        (SECOND, False),  # exactly the period: not yet past
        (DAY, False),  # a day short
    ],
    ids=["period-passed", "exactly-the-period", "a-day-short"],
)
@pytest.mark.parametrize("dry_run", [False, True], ids=["run", "dry-run"])
def test_retention_period_boundary(app, org, monkeypatch, closed_ago, removed, dry_run):
    period = timedelta(days=app.config["DEFUSE"].retention_days)
    leader = org.staff["leader"]
    case = case_for(org, leader)
    case.status, case.outcome, case.escalated = "closed", "resolved", False
    case.closed_at = NOW - period + closed_ago - SECOND
    db.session.add(Note(case_id=case.id, author_id=leader.id, body="a note"))
    db.session.add(Message(case_id=case.id, from_reporter=False, body="a message"))
    other = case_for(org, leader)  # still open, however old: never touched
    other.status, other.opened_at = "acknowledged", NOW - 10 * period
    db.session.commit()
    freeze(monkeypatch, NOW, retention)

    result = purge_expired(dry_run=dry_run)

    assert (result.cases, result.notes, result.messages) == ((1, 1, 1) if removed else (0, 0, 0))
    db.session.expire_all()
    report = db.session.get(Case, case.id).report
    gone = removed and not dry_run
    assert (report.text is None) is gone
    assert (report.text_removed_on == NOW.date()) is gone
    assert db.session.scalar(select(func.count(Note.id))) == (0 if gone else 1)
    assert db.session.scalar(select(func.count(Message.id))) == (0 if gone else 1)
    assert db.session.get(Case, other.id).report.text is not None
    assert db.session.get(Case, case.id).outcome == "resolved"  # the label stays


def test_retention_runs_once_per_case(app, org, monkeypatch):
    case = case_for(org, org.staff["leader"])
    case.status, case.closed_at = "closed", NOW - timedelta(days=400)
    db.session.commit()
    freeze(monkeypatch, NOW, retention)
    assert purge_expired(dry_run=False).cases == 1
    assert purge_expired(dry_run=False).cases == 0  # text already removed
    assert db.session.scalar(select(func.count()).select_from(Report)) == 1


@pytest.mark.parametrize("dry_run", [False, True], ids=["run", "dry-run"])
def test_retention_counts_a_case_without_notes_or_messages_as_none(app, org, monkeypatch, dry_run):
    # The command's output says "0 note(s), 0 message(s)": a case with none must not count one.
    case = case_for(org, org.staff["leader"])
    case.status, case.closed_at = "closed", NOW - timedelta(days=400)
    db.session.commit()
    freeze(monkeypatch, NOW, retention)
    result = purge_expired(dry_run=dry_run)
    assert (result.cases, result.notes, result.messages) == (1, 0, 0)


def test_retention_removes_contact_and_explanation_and_audits_it(app, org, monkeypatch):
    case = case_for(org, org.staff["leader"])
    case.report.contact = "call me on the ward phone"
    case.report.risk_explanation = {"rules": ["workload.overtime"]}
    case.status, case.closed_at = "closed", NOW - timedelta(days=400)
    db.session.commit()
    freeze(monkeypatch, NOW, retention)

    purge_expired(dry_run=False)

    db.session.expire_all()
    report = db.session.get(Case, case.id).report
    # NULL, not an empty value: nothing of the words is left, encrypted or not.
    assert report.contact is None
    assert report.risk_explanation_json is None
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "case.text_removed")
    ).all()
    assert [(e.case_id, e.actor_kind, e.actor_id) for e in events] == [(case.id, "system", None)]
