"""Every deadline, exactly on it and an hour short: the acknowledge-by and feedback-by times a
case gets, the warning before acknowledge-by, the breach at it, and 'overdue' in the queue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

import service.cases.service as cases_service
import service.intake.service as intake_service
import service.routing.sla as sla_module
from service.cases.service import QueueFilters, list_queue
from service.db import AuditEvent, Case, Notification
from service.extensions import db
from service.routing.sla import check_deadlines, check_feedback_deadlines
from tests.boundaries.clock import NOW, freeze
from tests.cases.support import case_for, submit

HOUR = timedelta(hours=1)
LEVELS = ["critical", "high", "moderate", "low"]


@pytest.mark.parametrize("level", LEVELS)
def test_acknowledge_by_is_the_levels_hours_after_the_opening_hour(app, org, monkeypatch, level):
    settings = app.config["DEFUSE"]
    monkeypatch.setattr(
        intake_service, "score_new_report", _scored_as(level, intake_service.score_new_report)
    )
    freeze(monkeypatch, NOW + timedelta(minutes=59, seconds=59), intake_service)
    case, _ = submit(org)
    assert case.report.risk_level == level
    assert case.opened_at == NOW  # the hour, not the minute
    assert case.ack_due_at - case.opened_at == timedelta(hours=settings.sla_hours[level])
    assert case.feedback_due_at - case.opened_at == timedelta(days=settings.feedback_days)


def _scored_as(level, real):  # type: ignore[no-untyped-def]
    """The real scoring, with its level replaced: each level's deadline must be its own."""

    def score(report):  # type: ignore[no-untyped-def]
        real(report)
        report.risk_level = level

    return score


def _waiting_case(org, level: str, due):  # type: ignore[no-untyped-def]
    case = case_for(org, org.staff["leader"], level)
    case.status, case.ack_due_at, case.breached_at, case.ack_warned_at = "new", due, None, None
    db.session.commit()
    return case


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize(
    ("short", "breached"), [(timedelta(0), True), (HOUR, False)], ids=["exactly", "an-hour-short"]
)
def test_breach_exactly_at_acknowledge_by(app, org, monkeypatch, level, short, breached):
    case = _waiting_case(org, level, NOW)
    freeze(monkeypatch, NOW - short, sla_module)
    result = check_deadlines()
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert result["breached"] == int(breached)
    assert (case.breached_at == NOW) is breached
    assert (case.breached_at is None) is (not breached)
    events = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.case_id == case.id)
    ).all()
    assert ("case.deadline_breached" in events) is breached
    lead_breach = db.session.scalars(
        select(Notification).where(
            Notification.kind == "breach", Notification.recipient_id == org.staff["lead"].id
        )
    ).all()
    assert bool(lead_breach) is breached


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize(
    ("short", "warned"), [(timedelta(0), True), (HOUR, False)], ids=["exactly", "an-hour-short"]
)
def test_warning_exactly_at_the_warning_time(app, org, monkeypatch, level, short, warned):
    settings = app.config["DEFUSE"]
    sla = timedelta(hours=settings.sla_hours[level])
    due = NOW + sla
    warn_at = due - sla * (1 - settings.sla_warning_fraction)
    case = _waiting_case(org, level, due)
    leader = org.staff["leader"]
    freeze(monkeypatch, warn_at - short, sla_module)
    assert check_deadlines() == {"warned": int(warned), "breached": 0}
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert (case.ack_warned_at is not None) is warned
    notices = db.session.scalars(
        select(Notification).where(
            Notification.kind == "deadline", Notification.recipient_id == leader.id
        )
    ).all()
    assert len(notices) == int(warned)


@pytest.mark.parametrize(
    ("status", "field"), [("new", "ack_due_at"), ("acknowledged", "feedback_due_at")]
)
@pytest.mark.parametrize(
    ("past", "overdue"),
    [(HOUR, True), (timedelta(0), False), (-HOUR, False)],
    ids=["an-hour-past", "exactly", "an-hour-short"],
)
def test_overdue_in_the_queue_only_once_the_deadline_has_passed(
    app, org, monkeypatch, status, field, past, overdue
):
    lead = org.staff["lead"]
    case = case_for(org, None, "low")
    case.status = status
    setattr(case, field, NOW)
    db.session.commit()
    freeze(monkeypatch, NOW + past, cases_service)
    rows, _ = list_queue(lead, QueueFilters(scope="overdue"))
    assert [row.case.id for row in rows] == ([case.id] if overdue else [])
    (row,) = [r for r in list_queue(lead, QueueFilters(scope="all"))[0] if r.case.id == case.id]
    assert row.deadline == NOW and row.overdue is overdue


# -- feedback to the reporter ------------------------------------------------------------------


def _case_awaiting_feedback(org, due):  # type: ignore[no-untyped-def]
    case = case_for(org, org.staff["leader"], "moderate")
    case.status, case.feedback_due_at = "acknowledged", due
    case.feedback_given_at = case.feedback_warned_at = case.feedback_breached_at = None
    db.session.commit()
    return case


def _events(case: Case, action: str) -> list[AuditEvent]:
    return db.session.scalars(
        select(AuditEvent).where(AuditEvent.case_id == case.id, AuditEvent.action == action)
    ).all()


def _first_lines(recipient_id: int, kind: str) -> list[str]:
    bodies = db.session.scalars(
        select(Notification.body).where(
            Notification.kind == kind, Notification.recipient_id == recipient_id
        )
    ).all()
    return [body.split("\n")[0] for body in bodies]


@pytest.mark.parametrize(
    ("short", "breached"), [(timedelta(0), True), (HOUR, False)], ids=["exactly", "an-hour-short"]
)
def test_feedback_breach_exactly_at_feedback_by(app, org, monkeypatch, short, breached):
    case = _case_awaiting_feedback(org, NOW)
    freeze(monkeypatch, NOW - short, sla_module)
    # An hour short, the case is inside the warning window instead.
    assert check_feedback_deadlines() == {"warned": int(not breached), "breached": int(breached)}
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert (case.feedback_breached_at == NOW) is breached
    events = _events(case, "case.feedback_breached")
    assert [e.actor_kind for e in events] == (["system"] if breached else [])
    told = _first_lines(org.staff["lead"].id, "feedback_breach")
    expected = f"Feedback to the reporter was due {NOW:%d %b %Y} on case {case.id}."
    assert told == ([expected] if breached else [])


@pytest.mark.parametrize(
    ("short", "warned"), [(timedelta(0), True), (HOUR, False)], ids=["exactly", "an-hour-short"]
)
def test_feedback_warning_exactly_at_the_warning_time(app, org, monkeypatch, short, warned):
    settings = app.config["DEFUSE"]
    warn_before = timedelta(days=settings.feedback_days - settings.feedback_warning_days)
    due = NOW + warn_before
    case = _case_awaiting_feedback(org, due)
    freeze(monkeypatch, NOW - short, sla_module)
    assert check_feedback_deadlines() == {"warned": int(warned), "breached": 0}
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert (case.feedback_warned_at == NOW - short) is warned
    events = _events(case, "case.feedback_warned")
    assert [e.actor_kind for e in events] == (["system"] if warned else [])
    told = _first_lines(org.staff["leader"].id, "feedback_due")
    expected = f"Feedback to the reporter is due {due:%d %b %Y} on case {case.id}."
    assert told == ([expected] if warned else [])


def test_every_case_due_is_counted_and_told_about(app, org, monkeypatch):
    """Two cases at each deadline at once: each is counted, warned or alerted about by its id."""
    settings = app.config["DEFUSE"]
    sla = timedelta(hours=settings.sla_hours["moderate"])
    ack_warn_at = NOW + sla * settings.sla_warning_fraction
    near = [_waiting_case(org, "moderate", NOW + sla) for _ in range(2)]
    freeze(monkeypatch, ack_warn_at, sla_module)
    assert check_deadlines() == {"warned": 2, "breached": 0}
    assert sorted(_first_lines(org.staff["leader"].id, "deadline")) == sorted(
        f"The acknowledge-by deadline is near on case {case.id}." for case in near
    )

    freeze(monkeypatch, NOW + sla, sla_module)
    assert check_deadlines()["breached"] == 2
    reasons = {
        e.case_id: e.detail["reason"]
        for case in near
        for e in _events(case, "case.reroute_requested")
    }
    assert reasons == {case.id: "deadline breached" for case in near}

    feedback = [_case_awaiting_feedback(org, NOW) for _ in range(2)]
    freeze(monkeypatch, NOW, sla_module)
    assert check_feedback_deadlines() == {"warned": 0, "breached": 2}
    assert all(len(_events(case, "case.feedback_breached")) == 1 for case in feedback)


def test_every_case_near_its_feedback_deadline_is_warned(app, org, monkeypatch):
    settings = app.config["DEFUSE"]
    warn_before = timedelta(days=settings.feedback_days - settings.feedback_warning_days)
    cases = [_case_awaiting_feedback(org, NOW + warn_before) for _ in range(2)]
    freeze(monkeypatch, NOW, sla_module)
    assert check_feedback_deadlines() == {"warned": 2, "breached": 0}
    assert all(len(_events(case, "case.feedback_warned")) == 1 for case in cases)
