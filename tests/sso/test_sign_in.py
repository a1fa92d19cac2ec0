"""Staff single sign-on through a real OpenID provider (oidc-provider, started by the suite):
discovery, the provider's own login and consent pages, the code exchange with PKCE, ID token
checks, and the accounts and roles it leads to. Every refusal is a clear page, never a 500."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.db import AuditEvent, User
from service.extensions import db
from service.passwords import NO_PASSWORD
from tests.cases.support import csrf_token
from tests.conftest import make_app
from tests.factories import PASSWORD, seed_org
from tests.oidc.provider import CLIENT_ID, OpenIdProvider, with_query
from tests.sso.conftest import sso_settings


@pytest.fixture
def org(sso_app: Flask):  # type: ignore[no-untyped-def]
    return seed_org()


def begin(client: FlaskClient) -> str:
    """Press "Sign in with your organisation": returns where the browser is sent."""
    response = client.get("/login/oidc")
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return response.headers["Location"]


def come_back(client: FlaskClient, callback_url: str):  # type: ignore[no-untyped-def]
    """The provider sends the browser back to our callback."""
    parts = urlsplit(callback_url)
    return client.get(f"{parts.path}?{parts.query}")


def sign_in(client: FlaskClient, provider: OpenIdProvider, login: str):  # type: ignore[no-untyped-def]
    return come_back(client, provider.log_in(begin(client), login))


def user(email: str) -> User:
    db.session.expire_all()
    return db.session.execute(db.select(User).where(User.email == email)).scalar_one()


def refusal(response) -> str:  # type: ignore[no-untyped-def]
    page = response.get_data(as_text=True)
    assert "Sign-in with your organisation did not work" in page, page[:500]
    return page


# --- the way in -------------------------------------------------------------------------------


def test_sign_in_page_offers_the_organisation_only_when_configured(sso_app, settings, org):
    page = sso_app.test_client().get("/login").get_data(as_text=True)
    assert "Sign in with your organisation" in page and 'id="password-sign-in"' in page
    plain = make_app(settings)
    with plain.app_context():
        page = plain.test_client().get("/login").get_data(as_text=True)
        assert "Sign in with your organisation" not in page
        assert plain.test_client().get("/login/oidc").status_code == 404


def test_a_trust_leader_signs_in_through_the_provider(sso_app, provider, org):
    client = sso_app.test_client()
    authorize = begin(client)
    # Discovery found the provider's endpoint; Authlib sent state, nonce and PKCE (S256).
    assert authorize.startswith(provider.issuer + "/auth?")
    query = parse_qs(urlsplit(authorize).query)
    assert query["client_id"] == [CLIENT_ID]
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    assert query["state"][0] and query["nonce"][0]
    assert set(query["scope"][0].split()) >= {"openid", "email", "groups"}

    response = come_back(client, provider.log_in(authorize, "leader"))
    assert response.status_code == 302 and response.headers["Location"] == "/cases"
    assert client.get("/cases").status_code == 200
    leader = user("leader@demo.defuse")
    assert leader.sso_subject == "leader"
    event = db.session.execute(
        db.select(AuditEvent).where(AuditEvent.action == "staff.signed_in")
    ).scalar_one()
    assert event.actor_id == leader.id and event.detail["method"] == "sso"


def test_single_sign_on_goes_back_to_the_page_asked_for(sso_app, provider, org):
    client = sso_app.test_client()
    login_page = client.get("/cases/availability")
    assert login_page.headers["Location"].startswith("/login?next=")
    assert "next=/cases/availability" in client.get(login_page.headers["Location"]).get_data(
        as_text=True
    ).replace("%2F", "/")
    authorize = client.get("/login/oidc?next=/cases/availability").headers["Location"]
    response = come_back(client, provider.log_in(authorize, "leader"))
    assert response.headers["Location"] == "/cases/availability"


def test_a_lead_in_both_groups_is_a_lead_and_the_provider_is_the_second_factor(
    sso_app, provider, org
):
    # The demo lead has a TOTP second factor for password sign-in; SSO does not ask for it.
    assert user("lead@demo.defuse").has_second_factor
    client = sso_app.test_client()
    response = sign_in(client, provider, "lead")
    assert response.status_code == 302 and response.headers["Location"] == "/cases"
    assert client.get("/cases?view=unassigned").status_code == 200
    assert "organisation" in client.get("/account/second-factor").get_data(as_text=True)


def test_the_role_follows_the_directory(sso_app, provider, org):
    hr = user("hr@demo.defuse")
    hr.role = "admin"  # changed by hand here; the directory says hr_analyst
    db.session.commit()
    client = sso_app.test_client()
    assert sign_in(client, provider, "hr").headers["Location"] == "/analytics"
    assert user("hr@demo.defuse").role == "hr_analyst"
    assert client.get("/admin/users").status_code == 403


# --- refusals: each a clear page, and nobody signed in ------------------------------------------


def assert_nobody_signed_in(client: FlaskClient) -> None:
    response = client.get("/cases")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_an_id_token_for_another_audience_is_refused(sso_app, provider, org):
    # azp naming us would satisfy Authlib's own check: the audience itself must include us.
    provider.next_id_token(claims={"aud": ["someone-else"], "azp": CLIENT_ID})
    client = sso_app.test_client()
    response = sign_in(client, provider, "leader")
    assert response.status_code == 401
    assert "issued for another application" in refusal(response)
    assert_nobody_signed_in(client)
    assert user("leader@demo.defuse").sso_subject is None


def test_an_expired_id_token_is_refused(sso_app, provider, org):
    provider.next_id_token(exp_offset=-3600)
    client = sso_app.test_client()
    response = sign_in(client, provider, "leader")
    assert response.status_code == 401
    assert "had expired" in refusal(response)
    assert_nobody_signed_in(client)


def test_an_id_token_from_another_issuer_is_refused(sso_app, provider, org):
    provider.next_id_token(claims={"iss": "https://idp.elsewhere.example"})
    client = sso_app.test_client()
    response = sign_in(client, provider, "leader")
    assert response.status_code == 401
    assert "different identity provider" in refusal(response)
    assert_nobody_signed_in(client)


def test_an_id_token_with_another_nonce_is_refused(sso_app, provider, org):
    provider.next_id_token(claims={"nonce": "replayed-from-another-sign-in"})
    client = sso_app.test_client()
    response = sign_in(client, provider, "leader")
    assert response.status_code == 401
    assert "does not belong to this attempt" in refusal(response)
    assert_nobody_signed_in(client)


def test_a_bad_state_is_refused(sso_app, provider, org):
    client = sso_app.test_client()
    callback = provider.log_in(begin(client), "leader")
    response = come_back(client, with_query(callback, state="forged-by-someone-else"))
    assert response.status_code == 400
    assert "not started from this browser" in refusal(response)
    assert_nobody_signed_in(client)


def test_a_callback_in_another_browser_is_refused(sso_app, provider, org):
    """Login CSRF: a code and state from someone else's sign-in, opened in my browser."""
    attacker = sso_app.test_client()
    callback = provider.log_in(begin(attacker), "leader")
    victim = sso_app.test_client()
    response = come_back(victim, callback)
    assert response.status_code == 400
    refusal(response)
    assert_nobody_signed_in(victim)


def test_the_same_callback_cannot_be_used_twice(sso_app, provider, org):
    client = sso_app.test_client()
    callback = provider.log_in(begin(client), "leader")
    assert come_back(client, callback).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client, "/cases")})
    assert come_back(client, callback).status_code == 400


def test_a_user_without_a_defuse_role_is_refused(sso_app, provider, org):
    client = sso_app.test_client()
    response = sign_in(client, provider, "no-role")
    assert response.status_code == 403
    assert "no Defuse role" in refusal(response)
    assert_nobody_signed_in(client)


def test_groups_that_give_two_separate_roles_are_refused(sso_app, provider, org):
    response = sign_in(sso_app.test_client(), provider, "both-sides")
    assert response.status_code == 403
    assert "more than one Defuse role (hr_analyst, trust_leader)" in refusal(response)


def test_an_unverified_email_is_not_linked(sso_app, provider, org):
    response = sign_in(sso_app.test_client(), provider, "unverified")
    assert response.status_code == 403
    assert "did not confirm your email" in refusal(response)
    assert user("leader3@demo.defuse").sso_subject is None


def test_no_account_is_created_unless_switched_on(sso_app, provider, org):
    response = sign_in(sso_app.test_client(), provider, "newcomer")
    assert response.status_code == 403
    assert "no Defuse account" in refusal(response)
    assert (
        db.session.execute(
            db.select(User).where(User.email == "newcomer@demo.defuse")
        ).scalar_one_or_none()
        is None
    )


def test_accounts_are_created_on_first_sign_in_when_switched_on(settings, provider):
    app = make_app(sso_settings(settings, provider.issuer, oidc_create_accounts=True))
    with app.app_context():
        seed_org()
        client = app.test_client()
        response = sign_in(client, provider, "new-analyst")
        assert response.status_code == 302 and response.headers["Location"] == "/analytics"
        analyst = user("new.analyst@demo.defuse")
        assert (analyst.role, analyst.name, analyst.sso_subject, analyst.active) == (
            "hr_analyst",
            "Ari Analyst",
            "new-analyst",
            True,
        )
        # No password works for it: it signs in only through the organisation.
        assert analyst.password_hash == NO_PASSWORD
        other = app.test_client()
        answer = other.post(
            "/login",
            data={
                "csrf_token": csrf_token(other, "/login"),
                "email": "new.analyst@demo.defuse",
                "password": NO_PASSWORD,
            },
        )
        assert answer.status_code == 401


def test_a_new_trust_leader_is_created_switched_off_until_an_admin_sets_their_unit(
    settings, provider
):
    app = make_app(sso_settings(settings, provider.issuer, oidc_create_accounts=True))
    with app.app_context():
        seed_org()
        response = sign_in(app.test_client(), provider, "newcomer")
        assert response.status_code == 403
        assert "administrator now needs to set the unit you work in" in refusal(response)
        newcomer = user("newcomer@demo.defuse")
        assert (newcomer.role, newcomer.active, newcomer.org_unit_id) == (
            "trust_leader",
            False,
            None,
        )
        assert newcomer.sso_subject == "newcomer"
        # Signing in again before an admin has placed them is refused, and creates nothing more.
        again = sign_in(app.test_client(), provider, "newcomer")
        assert again.status_code == 403
        count = db.session.scalar(
            db.select(db.func.count()).select_from(User).where(User.email == "newcomer@demo.defuse")
        )
        assert count == 1


def test_an_account_linked_to_one_identity_refuses_another(sso_app, provider, org):
    assert sign_in(sso_app.test_client(), provider, "leader").status_code == 302
    response = sign_in(sso_app.test_client(), provider, "impostor")
    assert response.status_code == 403
    assert "already linked to a different organisation account" in refusal(response)


def test_a_deactivated_account_is_refused(sso_app, provider, org):
    leader = user("leader@demo.defuse")
    leader.active = False
    db.session.commit()
    response = sign_in(sso_app.test_client(), provider, "leader")
    assert response.status_code == 403
    assert "switched off" in refusal(response)


def test_an_unreachable_provider_is_a_clear_page(settings, org):
    closed_port = "http://127.0.0.1:9"  # discard: nothing listens
    app = make_app(sso_settings(settings, closed_port))
    with app.app_context():
        response = app.test_client().get("/login/oidc")
        assert response.status_code == 503
        assert "cannot be reached" in refusal(response)


# --- local passwords switched off, or kept for the break-glass admin ------------------------------


def password_sign_in(client: FlaskClient, email: str):  # type: ignore[no-untyped-def]
    # The report form's token: with passwords off, the sign-in page has no form to take it from.
    return client.post(
        "/login",
        data={"csrf_token": csrf_token(client, "/"), "email": email, "password": PASSWORD},
    )


def test_with_passwords_off_only_the_organisation_signs_in(settings, provider):
    app = make_app(sso_settings(settings, provider.issuer, local_sign_in="off"))
    with app.app_context():
        seed_org()
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        assert "Sign in with your organisation" in page and 'id="password-sign-in"' not in page
        response = password_sign_in(client, "leader@demo.defuse")
        assert response.status_code == 403
        assert "Password sign-in is switched off" in response.get_data(as_text=True)
        assert_nobody_signed_in(client)
        assert sign_in(client, provider, "leader").status_code == 302


def test_break_glass_keeps_one_admin_password(settings, provider):
    app = make_app(
        sso_settings(
            settings,
            provider.issuer,
            local_sign_in="break-glass",
            break_glass_admin="admin@demo.defuse",
        )
    )
    with app.app_context():
        seed_org()
        client = app.test_client()
        assert "break-glass administrator only" in client.get("/login").get_data(as_text=True)
        assert password_sign_in(client, "leader@demo.defuse").status_code == 403
        # The break-glass admin still passes the second factor after the password.
        response = password_sign_in(client, "admin@demo.defuse")
        assert response.status_code == 302
        assert response.headers["Location"] == "/login/second-factor"
