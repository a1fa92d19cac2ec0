"""Helpers for the Trust Leader tests: cases made through the real intake path, signed-in
clients and API tokens for the demo staff."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pyotp
from flask import Flask, g
from flask.testing import FlaskClient

from service.auth import new_api_token
from service.db import AuditEvent, Case, User, utcnow
from service.extensions import db
from service.intake.service import submit_report
from service.schemas.reports import ReportCreateSchema
from tests.factories import PASSWORD, Org, report_payload

ACCOUNT = (
    "My team lead keeps moving my shifts without warning and told me that if I complain "
    "again I will be let go. I have spoken to a lawyer about it."
)


def submit(org: Org, **overrides: Any) -> tuple[Case, str]:
    """A report submitted as a reporter would; returns its case and the receipt code."""
    overrides.setdefault("text", ACCOUNT)
    data = ReportCreateSchema().load(report_payload(org, **overrides))
    submission = submit_report(data)
    case = db.session.get(Case, submission.case_id)
    assert case is not None
    return case, submission.receipt


def assign(case: Case, user: User | None) -> Case:
    """Put the case with this Trust Leader (or nobody), whatever routing chose."""
    case.assignee_id = user.id if user else None
    case.routing_state = "assigned" if user else "unassigned"
    case.assigned_at = utcnow() if user else None
    db.session.commit()
    return case


def set_risk(case: Case, level: str, score: float) -> Case:
    case.report.risk_level = level
    case.report.risk_score = score
    db.session.commit()
    return case


def case_for(org: Org, user: User | None, level: str | None = None, **overrides: Any) -> Case:
    case, _ = submit(org, **overrides)
    assign(case, user)
    if level:
        set_risk(case, level, {"low": 0.1, "moderate": 0.4, "high": 0.7, "critical": 0.9}[level])
    return case


def audit_events(case_id: int, action: str) -> list[AuditEvent]:
    """The case's audit events of one kind, oldest first."""
    return list(
        db.session.execute(
            db.select(AuditEvent)
            .where(AuditEvent.case_id == case_id, AuditEvent.action == action)
            .order_by(AuditEvent.id)
        ).scalars()
    )


def csrf_token(client: FlaskClient, path: str) -> str:
    # The tests hold one app context open, which requests share, and Flask-WTF caches the
    # token in `g`: forget it, so the page carries the token of this client's own session.
    g.pop("csrf_token", None)
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


RECOVERY_CODE = r"<code>([0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4})</code>"


def signed_in(app: Flask, email: str, password: str = PASSWORD) -> FlaskClient:
    """A client signed in as a person would: password, then the second factor if the account
    has one (or enrolment first, if its role requires one and it has none yet)."""
    client = app.test_client()
    sign_in(client, email, password)
    return client


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD) -> None:
    response = client.post(
        "/login",
        data={"csrf_token": csrf_token(client, "/login"), "email": email, "password": password},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    step = urlsplit(response.headers["Location"]).path
    if step == "/login/second-factor":
        pass_second_factor(client, email)
    elif step == "/account/second-factor":
        enrol_second_factor(client)


def fresh_code(email: str) -> str:
    """The account's current TOTP code, as its authenticator app shows it. Tests sign the same
    account in many times within one 30-second step, which a person never does, and a code
    is accepted once: forget the step last used, so this code counts."""
    user = db.session.execute(db.select(User).where(User.email == email)).scalar_one()
    assert user.totp_secret, f"{email} has no second factor"
    user.totp_last_step = None
    db.session.commit()
    return pyotp.TOTP(user.totp_secret).now()


def pass_second_factor(client: FlaskClient, email: str) -> None:
    response = post_form(client, "/login/second-factor", {"code": fresh_code(email)})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]


def enrol_second_factor(client: FlaskClient) -> list[str]:
    """Set up TOTP from the enrolment page (reading the key as a person would type it);
    returns the recovery codes shown once."""
    g.pop("csrf_token", None)
    page = client.get("/account/second-factor").get_data(as_text=True)
    match = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page)
    assert match, "no key on the enrolment page"
    code = pyotp.TOTP(match.group(1).replace(" ", "")).now()
    response = post_form(client, "/account/second-factor", {"code": code})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    codes = re.findall(RECOVERY_CODE, response.get_data(as_text=True))
    assert len(codes) == 10
    return codes


def post_form(client: FlaskClient, path: str, data: dict[str, Any], page: str | None = None):  # type: ignore[no-untyped-def]
    """POST a form the way a browser would: with the CSRF token of the page it sits on."""
    data = {"csrf_token": csrf_token(client, page or path), **data}
    return client.post(path, data=data)


def bearer(user: User, label: str = "test") -> dict[str, str]:
    token = new_api_token(user, label)
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}
