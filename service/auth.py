"""Staff authentication: argon2id passwords and cookie sessions for pages, hashed bearer tokens
for the API. Reporters never sign in; they hold a receipt code.

Sessions: a fresh session (new random id) at sign-in, ended after inactivity and after an
absolute lifetime, and ended everywhere when the account's session generation changes
(password reset, deactivation).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.exceptions import Forbidden, Unauthorized

from service.audit import record
from service.db import ApiToken, User, utcnow
from service.extensions import db
from service.limits import sign_in, sign_in_per_account
from service.privacy import keyed_hash

bp = Blueprint("auth", __name__)
F = TypeVar("F", bound=Callable[..., Any])

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
TOKEN_PURPOSE = "api-token"  # noqa: S105 - a label for the keyed hash, not a secret
TOKEN_PREFIX = "dfs_"  # noqa: S105 - the visible prefix of every token, not a secret
# Verifying against this when the account does not exist keeps timing the same either way.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(user: User | None, password: str) -> bool:
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    if user is None:
        return False
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return True


def new_api_token(user: User, label: str = "") -> str:
    """Create a token for the user; returns it in clear, once. The caller commits."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    db.session.add(
        ApiToken(user_id=user.id, token_hash=keyed_hash(token, TOKEN_PURPOSE), label=label)
    )
    return token


def _user_from_token(header: str) -> User | None:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.startswith(TOKEN_PREFIX):
        return None
    row = db.session.execute(
        db.select(ApiToken).where(
            ApiToken.token_hash == keyed_hash(token.strip(), TOKEN_PURPOSE),
            ApiToken.revoked_at.is_(None),
        )
    ).scalar_one_or_none()
    if row is None or not row.user.active:
        return None
    return row.user


def _user_from_session() -> User | None:
    user_id = session.get("uid")
    if user_id is None:
        return None
    settings = current_app.config["DEFUSE"]
    now = utcnow().timestamp()
    started, seen = session.get("started", 0), session.get("seen", 0)
    if (
        now - seen > settings.session_idle_minutes * 60
        or now - started > settings.session_absolute_hours * 3600
    ):
        session.clear()
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.active or user.session_generation != session.get("gen"):
        session.clear()
        return None
    session["seen"] = now
    return user


def load_user() -> None:
    g.user = None
    g.via_token = False
    header = request.headers.get("Authorization")
    if header and request.path.startswith("/api/"):
        g.user = _user_from_token(header)
        g.via_token = g.user is not None
        if g.user is None:
            raise Unauthorized("The API token is missing, invalid or revoked.")
    elif not request.path.startswith("/api/"):
        g.user = _user_from_session()


def start_session(user: User) -> None:
    session.clear()  # a fresh session: nothing from before sign-in carries over
    now = utcnow().timestamp()
    session.update(
        sid=secrets.token_urlsafe(16),
        uid=user.id,
        gen=user.session_generation,
        started=now,
        seen=now,
    )
    session.permanent = True


def roles_required(*roles: str) -> Callable[[F], F]:
    """For pages: sign-in required, and one of the roles (any role if none given)."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if g.get("user") is None:
                return redirect(url_for("auth.login", next=request.path))
            if roles and g.user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def api_user(roles: Iterable[str]) -> User:
    """For the API: the token's user, who must hold one of the roles."""
    user = g.get("user")
    if user is None:
        raise Unauthorized("Send an API token as 'Authorization: Bearer <token>'.")
    if user.role not in set(roles):
        raise Forbidden("Your role may not use this endpoint.")
    return user


@bp.route("/login", methods=["GET", "POST"])
@sign_in
@sign_in_per_account
def login():  # type: ignore[no-untyped-def]
    error = None
    if request.method == "POST":
        email = (request.form.get("email") or "").strip().lower()
        password = request.form.get("password") or ""
        user = db.session.execute(db.select(User).where(User.email == email)).scalar_one_or_none()
        if verify_password(user, password) and user is not None and user.active:
            start_session(user)
            record("staff.signed_in", actor_id=user.id, actor_kind="staff")
            db.session.commit()
            target = request.args.get("next") or ""
            # Only local paths: never an open redirect.
            if not target.startswith("/") or target.startswith("//"):
                target = home_for(user)
            return redirect(target)
        error = "That email and password do not match an active account."
    return render_template("auth/login.html", error=error), (401 if error else 200)


@bp.post("/logout")
def logout():  # type: ignore[no-untyped-def]
    session.clear()
    flash("You are signed out.")
    return redirect(url_for("auth.login"))


def home_for(user: User) -> str:
    if user.role in ("trust_leader", "lead"):
        return url_for("cases.queue")
    if user.role == "hr_analyst":
        return url_for("analytics.dashboard")
    return url_for("admin.users")


def init_app(app: Flask) -> None:
    app.before_request(load_user)
    app.register_blueprint(bp)

    @app.context_processor
    def _current_user() -> dict[str, Any]:
        return {"current_user": g.get("user")}
