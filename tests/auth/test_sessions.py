"""Sessions live on the server: signing out, deactivation, a new role or a new password end
them, and a cookie copied before any of those opens nothing afterwards."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from service.db import ApiToken, User
from service.extensions import db
from tests.cases.support import bearer, post_form, sign_in, signed_in
from tests.conftest import make_app
from tests.factories import seed_org

COOKIE = "defuse_session"


@pytest.fixture(params=["files", "redis"])
def any_store_app(request, settings) -> Flask:  # type: ignore[no-untyped-def]
    """The app with its session store on files (no Redis) and on Redis."""
    if request.param == "redis":
        settings = request.getfixturevalue("redis_settings")
    app = make_app(settings)
    with app.app_context():
        seed_org()
        yield app


def _copy_of(browser, app: Flask):  # type: ignore[no-untyped-def]
    """Another browser holding a copy of this browser's session cookie, as a thief would."""
    cookie = browser.get_cookie(COOKIE)
    assert cookie is not None, "no session cookie was set"
    thief = app.test_client()
    thief.set_cookie(COOKIE, cookie.value)
    return thief


def test_a_cookie_saved_before_sign_out_no_longer_opens_the_queue(any_store_app):
    browser = signed_in(any_store_app, "leader@demo.defuse")
    thief = _copy_of(browser, any_store_app)
    assert thief.get("/cases").status_code == 200  # the copy works while signed in

    assert post_form(browser, "/logout", {}, page="/cases").status_code == 302

    assert browser.get("/cases").status_code == 302
    response = thief.get("/cases")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_signing_out_ends_the_accounts_other_sessions(app, org):
    laptop = signed_in(app, "leader@demo.defuse")
    phone = signed_in(app, "leader@demo.defuse")
    post_form(laptop, "/logout", {}, page="/cases")
    assert phone.get("/cases").status_code == 302


def test_the_session_id_changes_at_sign_in(app, org):
    browser = app.test_client()
    browser.get("/login")  # a session (for the form's CSRF token) before signing in
    planted = browser.get_cookie(COOKIE)
    assert planted is not None
    signed_in_browser = signed_in(app, "leader@demo.defuse")
    assert signed_in_browser.get_cookie(COOKIE).value != planted.value

    sign_in(browser, "leader@demo.defuse")
    assert browser.get_cookie(COOKIE).value != planted.value
    # The id from before sign-in opens nothing.
    fixed = app.test_client()
    fixed.set_cookie(COOKIE, planted.value)
    assert fixed.get("/cases").status_code == 302


@pytest.fixture
def admin(app, org):  # type: ignore[no-untyped-def]
    return signed_in(app, "admin@demo.defuse")


def _edit(admin, user: User, **changes: str):  # type: ignore[no-untyped-def]
    form = {
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "languages": list(user.languages),
        "categories": list(user.categories),
        "capacity": str(user.capacity),
        "active": "1",
        "org_unit_id": str(user.org_unit_id or ""),
    }
    form.update(changes)
    page = f"/admin/users/{user.id}"
    return post_form(admin, page, form, page=page)


def test_a_role_change_ends_the_accounts_sessions(app, org, admin):
    # Lead to Trust Leader: a change the second-factor policy alone would let through.
    lead = org.staff["lead"]
    browser = signed_in(app, lead.email)
    assert browser.get("/cases").status_code == 200
    response = _edit(admin, lead, role="trust_leader")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    db.session.expire_all()
    assert db.session.get(User, lead.id).role == "trust_leader"
    assert browser.get("/cases").status_code == 302


def test_an_unchanged_role_keeps_the_sessions(app, org, admin):
    leader = org.staff["leader4"]
    browser = signed_in(app, leader.email)
    assert _edit(admin, leader, name="Renamed").status_code == 302
    assert browser.get("/cases").status_code == 200


def _live_tokens(user_id: int) -> int:
    db.session.expire_all()
    return len(
        db.session.execute(
            select(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        ).all()
    )


def test_a_password_reset_revokes_api_tokens(app, org, admin, client):
    leader = org.staff["leader"]
    headers = bearer(leader)
    assert client.get("/api/v1/cases", headers=headers).status_code == 200
    page = f"/admin/users/{leader.id}"
    response = post_form(admin, f"{page}/password", {"password": "a brand new password"}, page=page)
    assert response.status_code == 302
    assert _live_tokens(leader.id) == 0
    assert client.get("/api/v1/cases", headers=headers).status_code == 401


def test_a_password_reset_may_keep_api_tokens(app, org, admin, client):
    leader = org.staff["leader"]
    headers = bearer(leader)
    page = f"/admin/users/{leader.id}"
    response = post_form(
        admin,
        f"{page}/password",
        {"password": "a brand new password", "keep_tokens": "1"},
        page=page,
    )
    assert response.status_code == 302
    assert client.get("/api/v1/cases", headers=headers).status_code == 200


# --- API tokens ----------------------------------------------------------------------------


def test_an_api_token_is_read_whatever_the_case_of_its_scheme(app, org, client):
    token = bearer(org.staff["leader"])["Authorization"].split(" ", 1)[1]
    for header in (f"Bearer {token}", f"bearer {token}", f"BEARER {token}", f"Bearer {token} "):
        response = client.get("/api/v1/cases", headers={"Authorization": header})
        assert response.status_code == 200, header
    for header in (f"Basic {token}", f"Bearer {token[4:]}", f"Bearer{token}", "Bearer dfs_x"):
        assert client.get("/api/v1/cases", headers={"Authorization": header}).status_code == 401


def test_a_deactivated_accounts_api_token_opens_nothing(app, org, client):
    leader = org.staff["leader"]
    headers = bearer(leader)
    assert client.get("/api/v1/cases", headers=headers).status_code == 200
    leader.active = False
    db.session.commit()
    assert client.get("/api/v1/cases", headers=headers).status_code == 401


def test_a_token_on_a_page_neither_signs_in_nor_is_refused(app, org, client):
    # Pages use the session cookie only: a token sent to one is not read at all.
    headers = bearer(org.staff["leader"])
    response = client.get("/cases", headers=headers)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


# --- what each way of signing in is still worth under today's policy -----------------------


@pytest.mark.parametrize(
    ("who", "method", "policy", "complete"),
    [
        ("leader", "password", {}, True),  # a second factor is not required of them
        ("leader", "password+totp", {}, True),
        ("leader", "password+recovery-code", {}, True),
        ("leader", "", {}, False),  # no method recorded: not a sign-in at all
        ("lead", "password", {}, False),  # required of a lead: a password alone is not enough
        ("lead", "password+totp", {}, True),
        ("lead", "password+recovery-code", {}, True),
        ("leader", "sso", {}, False),  # single sign-on since switched off
        ("leader", "sso", {"oidc_issuer": "https://login.example.org"}, True),
        ("leader", "password", {"oidc_issuer": "https://x.example", "local_sign_in": "off"}, False),
    ],
)
def test_sign_in_complete_follows_todays_policy(
    app, org, monkeypatch, who, method, policy, complete
):
    from dataclasses import replace

    from service.auth import sign_in_complete

    monkeypatch.setitem(app.config, "DEFUSE", replace(app.config["DEFUSE"], **policy))
    assert sign_in_complete(org.staff[who], method) is complete


@pytest.mark.parametrize(
    ("who", "home"),
    [("leader", "/cases"), ("lead", "/cases"), ("hr", "/analytics"), ("admin", "/admin/users")],
)
def test_each_role_lands_on_its_own_home_after_sign_in(app, org, who, home):
    from service.auth import home_for

    with app.test_request_context("/login"):
        assert home_for(org.staff[who]) == home


def test_every_sign_out_ends_the_other_sessions_not_only_the_first(app, org):
    for _ in range(3):
        laptop = signed_in(app, "leader@demo.defuse")
        phone = signed_in(app, "leader@demo.defuse")
        assert phone.get("/cases").status_code == 200
        post_form(laptop, "/logout", {}, page="/cases")
        assert phone.get("/cases").status_code == 302


def test_a_password_hashed_with_old_parameters_is_rehashed_at_sign_in(app, org):
    from argon2 import PasswordHasher

    from service import passwords
    from tests.factories import PASSWORD

    leader = org.staff["leader"]
    leader.password_hash = PasswordHasher(time_cost=1, memory_cost=8192).hash(PASSWORD)
    db.session.commit()
    old = leader.password_hash
    assert passwords.needs_rehash(old)
    signed_in(app, "leader@demo.defuse")
    db.session.expire_all()
    new = db.session.get(User, leader.id).password_hash
    assert new != old and not passwords.needs_rehash(new)
    assert passwords.verify_secret(new, PASSWORD)


def test_the_api_says_what_is_missing_and_what_is_not_allowed(app, org, client):
    missing = client.get("/api/v1/cases")
    assert missing.status_code == 401
    assert missing.get_json()["error"] == {
        "code": "unauthorized",
        "message": "Send an API token as 'Authorization: Bearer <token>'.",
    }
    refused = client.get("/api/v1/cases", headers=bearer(org.staff["hr"]))
    assert refused.status_code == 403
    assert refused.get_json()["error"] == {
        "code": "forbidden",
        "message": "Your role may not use this endpoint.",
    }


def test_a_new_api_token_has_256_random_bits_and_only_its_hash_and_label_are_kept(app, org):
    from service.auth import new_api_token

    leader = org.staff["leader"]
    tokens = {new_api_token(leader, "laptop") for _ in range(3)}
    unlabelled = new_api_token(leader)
    db.session.commit()
    assert len(tokens) == 3
    # 32 random bytes are 43 URL-safe characters after the visible prefix.
    assert all(t.startswith("dfs_") and len(t) == 4 + 43 for t in tokens)
    rows = db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == leader.id).order_by(ApiToken.id)
    ).all()
    assert [r.label for r in rows] == ["laptop"] * 3 + [""]
    tokens.add(unlabelled)
    assert not {r.token_hash for r in rows} & tokens
