"""`defuse seed-demo`: what `make run` shows a newcomer, built through the real intake path."""

from __future__ import annotations

from sqlalchemy import func, select

from service.db import Case, Report, User
from service.demo import DEMO_REPORTS, DEMO_TOTP_SECRET
from service.extensions import db
from tests.cases.support import csrf_token, post_form


def test_seed_demo_gives_open_queues_and_a_worked_history(app):
    runner = app.test_cli_runner()

    result = runner.invoke(args=["seed-demo", "--reports", "40"])

    assert result.exit_code == 0, result.output
    assert "submitted 40 demo reports" in result.output
    roles = set(db.session.scalars(select(User.role)))
    assert roles == {"admin", "lead", "trust_leader", "hr_analyst"}
    assert db.session.scalar(select(func.count()).select_from(Report)) == 40
    open_cases = db.session.scalars(select(Case).where(Case.status != "closed")).all()
    closed = db.session.scalars(select(Case).where(Case.status == "closed")).all()
    # The first batch stays open for the Trust Leaders; older ones end with an outcome label.
    assert len(open_cases) >= len(DEMO_REPORTS)
    assert closed and all(c.outcome and c.escalated is not None for c in closed)

    again = runner.invoke(args=["seed-demo"])
    assert "40 reports already present; not adding more" in again.output
    assert db.session.scalar(select(func.count()).select_from(Report)) == 40


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
