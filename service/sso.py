"""Staff single sign-on with OpenID Connect, through Authlib's Flask client.

The provider is found by discovery (`<issuer>/.well-known/openid-configuration`). Authlib
makes the state, the nonce and the PKCE (S256) verifier, keeps them in the session and checks
them on the way back, verifies the ID token's signature against the provider's keys, and
checks its expiry and nonce. We add what it leaves to the caller: that the issuer is the one
configured (not merely the one the discovery document names) and that our client id is in
the audience (Authlib alone accepts an ID token for another audience if `azp` names us).

An account is found by the identity's subject once linked, else by its verified email; it
is created on first sign-in only if DEFUSE_OIDC_CREATE_ACCOUNTS is on. The role comes from
the configured claim on every sign-in: the organisation's directory is the authority.
"""

from __future__ import annotations

import logging
from typing import Any

import requests
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Blueprint, Flask, abort, current_app, redirect, render_template, request, session
from joserfc.errors import ExpiredTokenError, InvalidClaimError, JoseError, MissingClaimError

from service.audit import record
from service.auth import METHOD_SSO, home_for, local_path, start_session
from service.config import Settings
from service.db import User
from service.db.people import CASE_WORKER_ROLES
from service.extensions import db
from service.people import PeopleError, create_user, update_profile

log = logging.getLogger(__name__)
bp = Blueprint("sso", __name__)

CLIENT_NAME = "organisation"
EXTENSION = "defuse.sso"
NEXT_KEY = "sso_next"
# A lead is also in the Trust Leaders' group in most directories: that is not ambiguous.
ROLE_PRECEDENCE = {frozenset({"trust_leader", "lead"}): "lead"}


class Refusal(Exception):
    """Why a sign-in with the organisation was refused: shown to the person, logged by code."""

    def __init__(self, code: str, message: str, status: int = 403) -> None:
        super().__init__(code)
        self.code, self.message, self.status = code, message, status


def _settings() -> Settings:
    return current_app.config["DEFUSE"]


def _client():  # type: ignore[no-untyped-def]
    client = current_app.extensions.get(EXTENSION)
    if client is None:
        abort(404)
    return client


def _redirect_uri() -> str:
    # From DEFUSE_BASE_URL, not the request: it must equal, byte for byte, the redirect URI
    # registered at the provider, whatever Host header or proxy the request came through.
    return _settings().base_url + "/login/oidc/callback"


@bp.get("/login/oidc")
def start():  # type: ignore[no-untyped-def]
    client = _client()
    target = request.args.get("next") or ""
    session[NEXT_KEY] = local_path(target)
    try:
        return client.authorize_redirect(_redirect_uri())
    except (requests.RequestException, ValueError) as error:
        return _refused(_unreachable(error))


@bp.get("/login/oidc/callback")
def callback():  # type: ignore[no-untyped-def]
    client = _client()
    try:
        identity = _verified_identity(client)
        user = link_account(identity, _settings())
    except Refusal as refusal:
        db.session.rollback()
        return _refused(refusal)
    target = session.get(NEXT_KEY) or home_for(user)
    start_session(user, METHOD_SSO)
    record("staff.signed_in", actor_id=user.id, actor_kind="staff", method=METHOD_SSO)
    db.session.commit()
    return redirect(target)


def _verified_identity(client) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The ID token's claims, checked, plus the userinfo claims the ID token left out."""
    settings = _settings()
    try:
        token = client.authorize_access_token(
            claims_options={
                "iss": {"essential": True, "values": [settings.oidc_issuer]},
                "aud": {"essential": True, "values": [settings.oidc_client_id]},
            }
        )
    except MismatchingStateError:
        raise Refusal(
            "bad_state",
            "This sign-in was not started from this browser, or it was already used. "
            "Please start again.",
            400,
        ) from None
    except OAuthError as error:
        raise Refusal(
            "provider_error",
            "Your organisation's sign-in did not complete "
            f"({error.error or 'no reason given'}). Please start again.",
            401,
        ) from None
    except ExpiredTokenError:
        raise Refusal(
            "expired_token",
            "The sign-in from your organisation had expired. Please start again (and check "
            "the server's clock if it keeps happening).",
            401,
        ) from None
    except (InvalidClaimError, MissingClaimError) as error:
        problem = _CLAIM_PROBLEMS.get(error.claim, UNVERIFIED)
        raise Refusal(f"bad_claim_{error.claim}", problem + " Nobody was signed in.", 401) from None
    except JoseError:
        raise Refusal("bad_id_token", UNVERIFIED, 401) from None
    except requests.RequestException as error:
        raise _unreachable(error) from None
    claims = token.get("userinfo")
    if not claims:
        raise Refusal("no_id_token", "Your organisation's sign-in sent no ID token.", 401)
    identity = dict(claims)
    if not identity.get("email") or settings.oidc_role_claim not in identity:
        # Many providers keep profile and group claims out of the ID token (as the OpenID
        # spec suggests for the code flow): ask the userinfo endpoint for the rest.
        try:
            extra = dict(client.userinfo(token=token))
        except requests.RequestException as error:
            raise _unreachable(error) from None
        if extra.get("sub") != identity["sub"]:
            raise Refusal("userinfo_subject", "Your organisation's sign-in was inconsistent.", 401)
        identity = {**extra, **identity}
    return identity


UNVERIFIED = "The sign-in from your organisation could not be verified."
_CLAIM_PROBLEMS = {
    "aud": "The sign-in from your organisation was issued for another application.",
    "azp": "The sign-in from your organisation was issued for another application.",
    "iss": "The sign-in came from a different identity provider than the one configured.",
    "nonce": "The sign-in from your organisation does not belong to this attempt.",
    "exp": "The sign-in from your organisation had expired.",
}


def _unreachable(error: Exception) -> Refusal:
    log.warning("identity provider unreachable: %s", type(error).__name__)
    return Refusal(
        "provider_unreachable",
        "Your organisation's sign-in cannot be reached just now. Please try again shortly.",
        503,
    )


def _refused(refusal: Refusal):  # type: ignore[no-untyped-def]
    # The reason code only: never the token, the claims or the email.
    log.info("single sign-on refused: %s", refusal.code)
    session.pop(NEXT_KEY, None)
    return (
        render_template("auth/sso_refused.html", message=refusal.message, code=refusal.code),
        refusal.status,
    )


def role_from_claim(value: Any, role_map: dict[str, str] | Any) -> str | None:
    """The Defuse role for a role claim (a list of groups, or one value). None: no mapped
    value; raises Refusal when the values give roles that must not be combined."""
    values = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    roles = frozenset(role_map[v] for v in values if isinstance(v, str) and v in role_map)
    if not roles:
        return None
    if len(roles) == 1:
        return next(iter(roles))
    if roles in ROLE_PRECEDENCE:
        return ROLE_PRECEDENCE[roles]
    raise Refusal(
        "ambiguous_role",
        "Your organisation's groups give you more than one Defuse role ("
        + ", ".join(sorted(roles))
        + "), which must stay separate. Ask your administrator to keep you in one.",
    )


def _email_verified(identity: dict[str, Any]) -> bool:
    # Some providers (Amazon Cognito among them) send the boolean as a string.
    return identity.get("email_verified") in (True, "true")


def link_account(identity: dict[str, Any], settings: Settings) -> User:
    """The active account this verified identity signs in as; linked, created or refused.
    The caller commits."""
    subject = str(identity["sub"])
    role = role_from_claim(identity.get(settings.oidc_role_claim), settings.oidc_role_map)
    if role is None:
        raise Refusal(
            "missing_role",
            "Your organisation's account has no Defuse role. Ask your administrator to add "
            "you to one of the Defuse groups.",
        )
    user = db.session.execute(
        db.select(User).where(User.sso_subject == subject)
    ).scalar_one_or_none()
    if user is None:
        email = str(identity.get("email") or "").strip().lower()
        if not email or not _email_verified(identity):
            raise Refusal(
                "unverified_email",
                "Your organisation's sign-in did not confirm your email address, so it "
                "cannot be matched to a Defuse account.",
            )
        user = db.session.execute(db.select(User).where(User.email == email)).scalar_one_or_none()
        if user is not None and user.sso_subject is not None:
            raise Refusal(
                "linked_elsewhere",
                "This Defuse account is already linked to a different organisation account. "
                "Ask your administrator.",
            )
        if user is None:
            user = _create_account(identity, email, role, settings)
        user.sso_subject = subject
        record("staff.sso_linked", actor_id=user.id, actor_kind="staff", target_user=user.id)
    if not user.active:
        raise Refusal("inactive", "This Defuse account is switched off. Ask your administrator.")
    if user.role != role:
        try:
            update_profile(user, role=role)
        except PeopleError:
            raise Refusal("role_change", "Your Defuse role could not be updated.") from None
    return user


def _create_account(identity: dict[str, Any], email: str, role: str, settings: Settings) -> User:
    if not settings.oidc_create_accounts:
        raise Refusal(
            "no_account",
            "There is no Defuse account for your organisation account yet. Ask your "
            "administrator to create one for your email address.",
        )
    # A Trust Leader or lead needs the unit they work in before routing can give them cases,
    # and the identity provider does not say which: their account is made switched off, for an
    # admin to place (the accounts page lists it as one routing cannot reach) and switch on.
    placed_later = role in CASE_WORKER_ROLES
    try:
        name = str(identity.get("name") or "")
        user = create_user(
            email=email, role=role, password=None, name=name, active=not placed_later, commit=False
        )
    except PeopleError:
        raise Refusal("create_failed", "A Defuse account could not be created for you.") from None
    if placed_later:
        user.sso_subject = str(identity.get("sub") or "")
        record("staff.sso_account_created", target_user=user.id, role=role)
        db.session.commit()
        raise Refusal(
            "awaiting_unit",
            "Your Defuse account has been created. An administrator now needs to set the unit "
            "you work in, so that you are never given a case from your own line of management; "
            "you can sign in once they have.",
        )
    return user


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    settings: Settings = app.config["DEFUSE"]
    if not settings.oidc_enabled:
        return
    oauth = OAuth(app)  # one registry per app: tests run apps with different providers
    oauth.register(
        name=CLIENT_NAME,
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        server_metadata_url=settings.oidc_discovery_url,
        client_kwargs={
            "scope": settings.oidc_scopes,
            "code_challenge_method": "S256",
            "default_timeout": 10,
        },
    )
    app.extensions[EXTENSION] = oauth.create_client(CLIENT_NAME)
