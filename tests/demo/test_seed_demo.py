"""`defuse seed-demo`: what `make run` shows a newcomer, built through the real intake path."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from service.db import Case, Report, User, utcnow
from service.db.cases import OPEN_STATUSES
from service.demo import DEMO_REPORTS, DEMO_TOTP_SECRET, PRACTICE_CASES
from service.extensions import db
from service.routing.sla import check_feedback_deadlines
from tests.cases.support import csrf_token, post_form


def test_seed_demo_gives_open_queues_and_a_worked_history(app):
    runner = app.test_cli_runner()

    result = runner.invoke(args=["seed-demo", "--reports", "40"])

    assert result.exit_code == 0, result.output
    assert "submitted 40 demo reports" in result.output
    roles = set(db.session.scalars(select(User.role)))
    assert roles == {"admin", "lead", "trust_leader", "hr_analyst"}
    reports = 40 + len(PRACTICE_CASES)
    assert db.session.scalar(select(func.count()).select_from(Report)) == reports
    open_cases = db.session.scalars(select(Case).where(Case.status != "closed")).all()
    closed = db.session.scalars(select(Case).where(Case.status == "closed")).all()
    # The first batch stays open for the Trust Leaders; older ones end with an outcome label.
    assert len(open_cases) >= len(DEMO_REPORTS)
    assert closed and all(c.outcome and c.escalated is not None for c in closed)

    again = runner.invoke(args=["seed-demo"])
    assert f"{reports} reports already present; not adding more" in again.output
    assert db.session.scalar(select(func.count()).select_from(Report)) == reports


def test_seed_demo_leaves_cases_to_practise_on(app):
    result = app.test_cli_runner().invoke(args=["seed-demo", "--reports", "12"])
    assert result.exit_code == 0, result.output
    now = utcnow()
    open_cases = db.session.scalars(select(Case).where(Case.status.in_(OPEN_STATUSES))).all()
    unassigned = [c for c in open_cases if c.assignee_id is None]
    overdue = [c for c in open_cases if c.status == "new" and c.ack_due_at < now]
    # Inside the warning window (80 days by default), before the 90-day deadline.
    feedback_due = [
        c
        for c in open_cases
        if c.feedback_given_at is None
        and c.opened_at + timedelta(days=80) <= now < c.feedback_due_at
        and c.assignee_id is not None
    ]
    needs_speaker = [c for c in open_cases if c.needs_language == "de"]
    assert unassigned and overdue and feedback_due and needs_speaker
    assert needs_speaker[0].assignee_id is not None  # routed to an English speaker meanwhile
    # The worker's next check warns the feedback-due case's Trust Leader, once.
    assert check_feedback_deadlines()["warned"] == len(feedback_due)
    assert check_feedback_deadlines()["warned"] == 0


def test_demo_staff_who_need_a_second_factor_can_sign_in_with_the_demo_code(app):
    runner = app.test_cli_runner()
    seeded = runner.invoke(args=["seed-demo", "--reports", "1"])
    assert DEMO_TOTP_SECRET in seeded.output and "defuse demo-code" in seeded.output
    code = runner.invoke(args=["demo-code"]).output.strip()
    assert len(code) == 6 and code.isdigit()
    client = app.test_client()
    response = client.post(
        "/login",
        data={
            "csrf_token": csrf_token(client, "/login"),
            "email": "hr@demo.defuse",
            "password": "defuse-demo-password",
        },
    )
    assert response.headers["Location"] == "/login/second-factor"
    assert post_form(client, "/login/second-factor", {"code": code}).status_code == 302
    assert client.get("/analytics").status_code == 200
