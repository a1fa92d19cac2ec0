"""Sign-in at its edges: the pending second-factor step on both sides of its time limit, the
break-glass admin's password session, and who the audit log names when an account's sign-in
is delayed."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from service import auth, sign_in_throttle
from service.db import AuditEvent, User
from service.extensions import db
from service.passwords import NO_PASSWORD
from tests.auth.test_second_factor import password_step
from tests.cases.support import csrf_token, fresh_code, post_form, sign_in
from tests.conftest import make_app
from tests.factories import PASSWORD, seed_org

NOW = datetime(2026, 6, 15, 12, 0, 0)
LEAD = "lead@demo.defuse"
LEADER = "leader@demo.defuse"  # password only


@pytest.mark.parametrize(
    ("age", "accepted"),
    [(auth.PENDING_SECONDS, True), (auth.PENDING_SECONDS + 1, False), (None, False)],
)
def test_the_second_factor_step_lasts_exactly_its_time(app, org, monkeypatch, age, accepted):
    """A code typed exactly PENDING_SECONDS after the password is still taken; a second
    later, or with no start time at all, the step is over and forgotten: back to the
    password."""
    client = app.test_client()
    assert password_step(client, LEAD).headers["Location"] == "/login/second-factor"
    monkeypatch.setattr(auth, "utcnow", lambda: NOW)
    with client.session_transaction() as stored:
        pending = dict(stored["pending"])
        if age is None:
            del pending["at"]
        else:
            pending["at"] = NOW.timestamp() - age
        stored["pending"] = pending
    response = post_form(client, "/login/second-factor", {"code": fresh_code(LEAD)}, page="/login")
    assert response.status_code == 302
    assert response.headers["Location"] == ("/cases" if accepted else "/login")
    with client.session_transaction() as stored:
        assert "pending" not in stored
        assert ("uid" in stored) is accepted


def _oidc(settings, local_sign_in: str):  # type: ignore[no-untyped-def]
    return settings.replace(
        oidc_issuer="http://127.0.0.1:9",  # never reached: only the sign-in page is read
        oidc_client_id="defuse",
        oidc_client_secret="from-the-secret-store",
        oidc_role_map={"defuse-admins": "admin"},
        local_sign_in=local_sign_in,
        break_glass_admin="admin@demo.defuse" if local_sign_in == "break-glass" else "",
    )


def test_the_break_glass_admin_keeps_a_working_password_session(settings):
    """With sign-in through the organisation and passwords kept for one admin, that admin's
    password session stays open on the pages after signing in."""
    app = make_app(_oidc(settings, "break-glass"))
    with app.app_context():
        seed_org()
        client = app.test_client()
        sign_in(client, "admin@demo.defuse")
        for _ in range(2):
            assert client.get("/admin/users").status_code == 200


def test_a_delay_caused_from_a_signed_in_browser_is_the_systems_in_the_audit_log(limited_app):
    """The delay is the system's doing, whoever typed the wrong passwords: a colleague signed
    in in the same browser is not named as its actor."""
    staff = seed_org().staff
    browser = limited_app.test_client()
    sign_in(browser, LEAD)
    for n in range(sign_in_throttle.FREE_FAILURES + 1):
        browser.environ_base["REMOTE_ADDR"] = f"198.51.100.{n}"
        response = browser.post(
            "/login",
            data={
                "csrf_token": csrf_token(browser, "/login"),
                "email": LEADER,
                "password": "wrong password!",
            },
        )
        assert response.status_code == 401
    (event,) = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "staff.sign_in_delayed")
    ).scalars()
    assert (event.actor_kind, event.actor_id) == ("system", None)
    assert event.detail["target_user"] == staff["leader"].id != staff["lead"].id


@pytest.mark.parametrize("change", ["deactivated", "sessions ended", "deleted"])
def test_a_second_factor_step_ends_when_the_account_changes_under_it(app, org, change):
    """Between the password and the code, the account is deactivated, has its sessions ended
    by an admin, or is gone: the code no longer signs anyone in, and the step is forgotten."""
    client = app.test_client()
    assert password_step(client, LEAD).headers["Location"] == "/login/second-factor"
    code = fresh_code(LEAD)
    lead = db.session.execute(select(User).where(User.email == LEAD)).scalar_one()
    if change == "deactivated":
        lead.active = False
    elif change == "sessions ended":
        lead.session_generation += 1
    else:
        with client.session_transaction() as stored:
            stored["pending"] = {**stored["pending"], "uid": 10**6}
    db.session.commit()
    response = post_form(client, "/login/second-factor", {"code": code}, page="/login")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    with client.session_transaction() as stored:
        assert "pending" not in stored and "uid" not in stored


@pytest.mark.parametrize(
    ("sign_in_by", "organisation", "password_form", "break_glass"),
    [
        ("passwords", False, True, False),
        ("on", True, True, False),
        ("break-glass", True, True, True),
        ("off", True, False, False),
    ],
)
def test_the_sign_in_page_offers_the_ways_that_are_switched_on(
    settings, sign_in_by, organisation, password_form, break_glass
):
    app = make_app(settings if sign_in_by == "passwords" else _oidc(settings, sign_in_by))
    with app.app_context():
        page = app.test_client().get("/login?next=/cases/7").get_data(as_text=True)
    assert ('id="sso-sign-in"' in page) is organisation
    assert ('id="password-sign-in"' in page) is password_form
    assert ("break-glass administrator only" in page) is break_glass
    assert ("Or with a Defuse password" in page) is (sign_in_by == "on")
    if organisation:  # where to go after signing in is handed on to the organisation's sign-in
        assert 'href="/login/oidc?next=/cases/7"' in page


def test_a_wrong_password_is_named_on_the_page(app, org):
    response = password_step(app.test_client(), LEAD, password="not the password at all")
    assert response.status_code == 401
    page = response.get_data(as_text=True)
    assert 'role="alert" id="login-error">That email and password do not match an active ' in page
    assert 'aria-describedby="login-error"' in page


@pytest.mark.parametrize("password", [PASSWORD, NO_PASSWORD, ""])
def test_an_account_without_a_password_takes_none(app, org, password):
    """An account made through the organisation's sign-in has no password: no password opens
    it, not the one it had before, not the marker stored in its place, not an empty one."""
    leader = db.session.execute(select(User).where(User.email == LEADER)).scalar_one()
    leader.password_hash = NO_PASSWORD
    db.session.commit()
    response = password_step(app.test_client(), LEADER, password=password)
    assert response.status_code == 401
    assert "That email and password do not match an active account." in response.get_data(
        as_text=True
    )


@pytest.mark.parametrize(
    ("target", "kept"),
    [
        ("/cases/7", True),
        ("/cases?sort=X&q=XX", True),  # capitals and query strings are ordinary paths
        ("//evil.example/cases", False),
        ("/\\evil.example", False),
        ("/\t/evil.example", False),
        ("https://evil.example/", False),
        ("cases", False),
    ],
)
def test_sign_in_goes_on_only_to_a_path_on_this_site(app, org, target, kept):
    client = app.test_client()
    response = client.post(
        "/login",
        query_string={"next": target},
        data={
            "csrf_token": csrf_token(client, "/login"),
            "email": LEADER,
            "password": PASSWORD,
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == (target if kept else "/cases")


def test_a_session_ends_when_its_account_is_deactivated_by_any_path(app, org):
    """Deactivation from the admin pages also ends sessions by their generation; an account
    switched off any other way (a directory sync, the database) is signed out all the same."""
    client = app.test_client()
    sign_in(client, LEADER)
    assert client.get("/cases").status_code == 200
    leader = db.session.execute(select(User).where(User.email == LEADER)).scalar_one()
    leader.active = False
    db.session.commit()
    response = client.get("/cases")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_the_api_takes_only_tokens_never_the_browsers_session(app, org):
    """A signed-in browser's cookie opens no API route (so a page elsewhere cannot call the
    API as the staff member); a wrong token is refused with the reason."""
    browser = app.test_client()
    sign_in(browser, LEADER)
    assert browser.get("/cases").status_code == 200
    no_token = browser.get("/api/v1/cases")
    assert no_token.status_code == 401
    assert no_token.get_json()["error"] == {
        "code": "unauthorized",
        "message": "Send an API token as 'Authorization: Bearer <token>'.",
    }
    refused = browser.get("/api/v1/cases", headers={"Authorization": "Bearer not-a-token"})
    assert refused.status_code == 401
    assert refused.get_json()["error"] == {
        "code": "unauthorized",
        "message": "The API token is missing, invalid or revoked.",
    }
