"""The second factor for local accounts: enrolment with a QR code, the code step after the
password, recovery codes, replay and rate limits, the admin reset, and the roles that must."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from service.db import AuditEvent, OrgUnit, RecoveryCode, User
from service.demo import DEMO_TOTP_SECRET
from service.extensions import db, limiter
from service.people import create_user
from service.privacy.rotation import encrypted_columns
from tests.cases.support import (
    RECOVERY_CODE,
    csrf_token,
    enrol_second_factor,
    fresh_code,
    post_form,
    signed_in,
)
from tests.conftest import make_app
from tests.factories import PASSWORD, seed_org

NEW_PASSWORD = "a long enough password"  # noqa: S105


def password_step(client: FlaskClient, email: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post(
        "/login",
        data={"csrf_token": csrf_token(client, "/login"), "email": email, "password": password},
    )


def account(email: str) -> User:
    db.session.expire_all()
    return db.session.execute(db.select(User).where(User.email == email)).scalar_one()


def new_account(role: str, email: str | None = None) -> User:
    # Case workers need the unit they work in; any of the demo's will do.
    unit = (
        db.session.scalar(db.select(OrgUnit.id).order_by(OrgUnit.id))
        if role
        in (
            "trust_leader",
            "lead",
        )
        else None
    )
    return create_user(
        email=email or f"new.{role}@demo.defuse",
        role=role,
        password=NEW_PASSWORD,
        org_unit_id=unit,
    )


# --- a role that requires it, not yet enrolled -------------------------------------------------


def test_a_new_lead_must_enrol_after_the_password_and_can_do_nothing_else(app, org):
    new_account("lead")
    client = app.test_client()
    response = password_step(client, "new.lead@demo.defuse", NEW_PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/second-factor"
    # Every staff page sends them back to enrolment; the API does not know them at all.
    for path in ("/cases", "/cases/availability", "/analytics", "/admin/users"):
        answer = client.get(path)
        assert answer.status_code == 302, path
        assert answer.headers["Location"] == "/account/second-factor", path
    assert client.get("/login/second-factor").headers["Location"] == "/login"

    page = client.get("/account/second-factor")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    # The QR code is inline SVG, and there is no script for the CSP to allow.
    assert re.search(r'<figure class="qr"[^>]*><svg[^>]*>\s*<path d="M', html)
    assert "<script" not in html and "unsafe-inline" not in page.headers["Content-Security-Policy"]
    assert "new.lead@demo.defuse (Defuse)" in html

    # A wrong code is refused; reloading shows the same key (the one already scanned).
    key = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', html).group(1)
    wrong = post_form(client, "/account/second-factor", {"code": "000000"})
    assert wrong.status_code == 422 and "does not match" in wrong.get_data(as_text=True)
    assert key in client.get("/account/second-factor").get_data(as_text=True)
    assert client.get("/cases").headers["Location"] == "/account/second-factor"

    codes = enrol_second_factor(client)
    assert len(set(codes)) == 10
    assert client.get("/cases").status_code == 200
    lead = account("new.lead@demo.defuse")
    assert lead.has_second_factor
    actions = set(db.session.execute(db.select(AuditEvent.action)).scalars())
    assert {"staff.second_factor_enrolled", "staff.recovery_codes_issued"} <= actions


def test_recovery_codes_are_shown_once_and_kept_only_as_hashes(app, org):
    new_account("hr_analyst")
    client = app.test_client()
    password_step(client, "new.hr_analyst@demo.defuse", NEW_PASSWORD)
    codes = enrol_second_factor(client)
    page = client.get("/account/second-factor")
    assert page.status_code == 200 and not re.findall(RECOVERY_CODE, page.get_data(as_text=True))
    assert "10 unused recovery codes" in page.get_data(as_text=True)
    hashes = db.session.execute(db.select(RecoveryCode.code_hash)).scalars().all()
    assert len(hashes) == 10 and all(h.startswith("$argon2id$") for h in hashes)
    stored = " ".join(hashes)
    assert not any(code.replace("-", "") in stored or code in stored for code in codes)


def test_the_secret_is_stored_encrypted_with_the_keyring(app, org):
    raw = db.session.execute(
        text("SELECT totp_secret FROM users WHERE email = 'lead@demo.defuse'")
    ).scalar_one()
    assert raw and DEMO_TOTP_SECRET not in raw and raw.startswith("gAAAAA")  # a Fernet token
    assert account("lead@demo.defuse").totp_secret == DEMO_TOTP_SECRET
    assert ("users", "totp_secret") in {(t.name, c.name) for t, c in encrypted_columns()}


# --- the code step -------------------------------------------------------------------------------


def test_an_enrolled_account_needs_a_code_after_the_password(app, org):
    client = app.test_client()
    response = password_step(client, "hr@demo.defuse")
    assert response.headers["Location"] == "/login/second-factor"
    assert client.get("/analytics").headers["Location"] == "/login/second-factor"
    wrong = post_form(client, "/login/second-factor", {"code": "123456"})
    assert wrong.status_code == 401 and "not right" in wrong.get_data(as_text=True)
    right = post_form(client, "/login/second-factor", {"code": fresh_code("hr@demo.defuse")})
    assert right.status_code == 302 and right.headers["Location"] == "/analytics"
    assert client.get("/analytics").status_code == 200
    event = db.session.execute(
        db.select(AuditEvent).where(AuditEvent.action == "staff.signed_in")
    ).scalar_one()
    assert event.detail["method"] == "password+totp"
    assert (event.actor_kind, event.actor_id) == ("staff", account("hr@demo.defuse").id)


def test_a_code_works_once(app, org):
    code = fresh_code("lead@demo.defuse")
    first = app.test_client()
    password_step(first, "lead@demo.defuse")
    assert post_form(first, "/login/second-factor", {"code": code}).status_code == 302
    second = app.test_client()
    password_step(second, "lead@demo.defuse")
    replay = post_form(second, "/login/second-factor", {"code": code})
    assert replay.status_code == 401


def test_codes_from_a_phone_a_little_off_still_work_but_not_far_off(app, org):
    totp = pyotp.TOTP(DEMO_TOTP_SECRET)
    for offset, works in ((-30, True), (30, True), (-120, False), (120, False)):
        fresh_code("admin@demo.defuse")  # forget the step last used
        client = app.test_client()
        password_step(client, "admin@demo.defuse")
        response = post_form(
            client, "/login/second-factor", {"code": totp.at(time.time() + offset)}
        )
        assert (response.status_code == 302) is works, offset


def test_a_recovery_code_works_once(app, org):
    new_account("admin", "second.admin@demo.defuse")
    client = app.test_client()
    password_step(client, "second.admin@demo.defuse", NEW_PASSWORD)
    codes = enrol_second_factor(client)
    for attempt, expected in ((codes[3], 302), (codes[3], 401), (codes[4].upper(), 302)):
        other = app.test_client()
        password_step(other, "second.admin@demo.defuse", NEW_PASSWORD)
        response = post_form(other, "/login/second-factor", {"recovery_code": attempt})
        assert response.status_code == expected, attempt
    assert other.get("/admin/users").status_code == 200
    page = other.get("/account/second-factor").get_data(as_text=True)
    assert "8 unused recovery codes" in page


def test_new_recovery_codes_need_a_current_code_and_replace_the_old(app, org):
    client = signed_in(app, "lead@demo.defuse")
    assert post_form(client, "/account/recovery-codes", {"code": "000000"}).status_code == 401
    first = post_form(client, "/account/recovery-codes", {"code": fresh_code("lead@demo.defuse")})
    old = re.findall(RECOVERY_CODE, first.get_data(as_text=True))
    second = post_form(client, "/account/recovery-codes", {"code": fresh_code("lead@demo.defuse")})
    new = re.findall(RECOVERY_CODE, second.get_data(as_text=True))
    assert len(old) == len(new) == 10 and not set(old) & set(new)
    assert second.headers["Cache-Control"] == "no-store"
    other = app.test_client()
    password_step(other, "lead@demo.defuse")
    assert post_form(other, "/login/second-factor", {"recovery_code": old[0]}).status_code == 401
    assert post_form(other, "/login/second-factor", {"recovery_code": new[0]}).status_code == 302


def test_the_pending_step_expires(app, org, monkeypatch):
    client = app.test_client()
    password_step(client, "lead@demo.defuse")
    from service import auth

    monkeypatch.setattr(auth, "PENDING_SECONDS", -1)
    response = post_form(
        client, "/login/second-factor", {"code": fresh_code("lead@demo.defuse")}, page="/login"
    )
    assert response.status_code == 302 and response.headers["Location"] == "/login"


# --- roles that need not, and the policy on every request -----------------------------------------


def test_a_trust_leader_signs_in_with_a_password_alone_but_may_enrol(app, org):
    client = app.test_client()
    response = password_step(client, "leader@demo.defuse")
    assert response.headers["Location"] == "/cases"
    enrol_second_factor(client)
    assert client.get("/cases").status_code == 200  # this session has now used it
    again = app.test_client()
    assert password_step(again, "leader@demo.defuse").headers["Location"] == "/login/second-factor"


def test_promoting_a_trust_leader_ends_their_password_only_session(app, org):
    leader = signed_in(app, "leader@demo.defuse")
    assert leader.get("/cases").status_code == 200
    promoted = account("leader@demo.defuse")
    promoted.role = "lead"
    db.session.commit()
    response = leader.get("/cases")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_the_required_roles_are_configurable(settings):
    app = make_app(settings.replace(totp_required_roles=("admin",)))
    with app.app_context():
        seed_org()
        new_account("lead")
        client = app.test_client()
        assert password_step(client, "new.lead@demo.defuse", NEW_PASSWORD).headers["Location"] == (
            "/cases"
        )
        new_account("admin")
        other = app.test_client()
        assert password_step(other, "new.admin@demo.defuse", NEW_PASSWORD).headers["Location"] == (
            "/account/second-factor"
        )


# --- admin reset and rate limits ---------------------------------------------------------------


def test_an_admin_reset_ends_sessions_and_asks_for_enrolment_again(app, org):
    lead_browser = signed_in(app, "lead@demo.defuse")
    admin = signed_in(app, "admin@demo.defuse")
    lead = account("lead@demo.defuse")
    page = admin.get(f"/admin/users/{lead.id}").get_data(as_text=True)
    assert "Reset second factor" in page and "On since" in page
    response = post_form(
        admin, f"/admin/users/{lead.id}/second-factor/reset", {}, page=f"/admin/users/{lead.id}"
    )
    assert response.status_code == 302
    assert not account("lead@demo.defuse").has_second_factor
    assert (
        db.session.execute(db.select(RecoveryCode).where(RecoveryCode.user_id == lead.id)).first()
        is None
    )
    assert lead_browser.get("/cases").headers["Location"].startswith("/login")
    again = app.test_client()
    assert password_step(again, "lead@demo.defuse").headers["Location"] == (
        "/account/second-factor"
    )


@pytest.fixture
def limited_app(settings):  # type: ignore[no-untyped-def]
    app = make_app(settings.replace(rate_limits_enabled=True, rate_limit_login="3 per hour"))
    with app.app_context():
        limiter.reset()
        seed_org()
        yield app


def test_codes_are_rate_limited_per_account_like_passwords(limited_app):
    client = limited_app.test_client()
    password_step(client, "lead@demo.defuse")
    token = csrf_token(client, "/login/second-factor")
    guesses = [
        client.post(
            "/login/second-factor",
            data={"csrf_token": token, "code": "000000"},
            # A fresh address each time: the per-account limit still holds.
            environ_base={"REMOTE_ADDR": f"192.0.2.{attempt + 20}"},
        ).status_code
        for attempt in range(4)
    ]
    assert guesses == [401, 401, 401, 429]
    # And per address, as for passwords: two accounts, two guesses each, from one address.
    pending = []
    for email in ("hr@demo.defuse", "admin@demo.defuse"):
        browser = limited_app.test_client()
        browser.environ_base["REMOTE_ADDR"] = "192.0.2.99"
        password_step(browser, email)
        pending.append((browser, csrf_token(browser, "/login/second-factor")))
    answers = [
        browser.post(
            "/login/second-factor", data={"csrf_token": token, "code": "000000"}
        ).status_code
        for browser, token in pending * 2
    ]
    assert answers == [401, 401, 401, 429]


def test_enrolled_in_another_tab_the_pending_sign_in_asks_for_a_code(app, org):
    new_account("lead")
    first, second = app.test_client(), app.test_client()
    password_step(first, "new.lead@demo.defuse", NEW_PASSWORD)
    password_step(second, "new.lead@demo.defuse", NEW_PASSWORD)
    enrol_second_factor(first)
    response = second.get("/account/second-factor")
    assert response.headers["Location"] == "/login/second-factor"
    code = fresh_code("new.lead@demo.defuse")
    assert post_form(second, "/login/second-factor", {"code": code}).status_code == 302


def _enrol(client: FlaskClient):  # type: ignore[no-untyped-def]
    """Confirm enrolment from the setup page; returns the page showing the recovery codes."""
    page = client.get("/account/second-factor").get_data(as_text=True)
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    return post_form(client, "/account/second-factor", {"code": pyotp.TOTP(secret).now()})


def _continue_link(response) -> str:  # type: ignore[no-untyped-def]
    return re.search(r'<a class="button" href="([^"]*)"', response.get_data(as_text=True)).group(1)


def test_the_recovery_codes_page_is_never_cached_and_goes_on_to_the_page_asked_for(app, org):
    new_account("hr_analyst")
    client = app.test_client()
    client.post(
        "/login?next=/analytics",
        data={
            "csrf_token": csrf_token(client, "/login"),
            "email": "new.hr_analyst@demo.defuse",
            "password": NEW_PASSWORD,
        },
    )
    shown = _enrol(client)
    assert shown.status_code == 200
    assert shown.headers["Cache-Control"] == "no-store"
    assert _continue_link(shown) == "/analytics"


def test_enrolling_when_signed_in_goes_back_to_the_second_factor_page(app, org):
    client = signed_in(app, "leader@demo.defuse")  # a trust leader may enrol, need not
    shown = _enrol(client)
    assert shown.headers["Cache-Control"] == "no-store"
    assert _continue_link(shown) == "/account/second-factor"
