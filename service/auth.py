"""Staff authentication: argon2id passwords and cookie sessions for pages, hashed bearer tokens
for the API. Reporters never sign in; they hold a receipt code.

Sessions: a fresh session (new random id) at sign-in, ended after inactivity and after an
absolute lifetime, and ended everywhere when the account's session generation changes
(password reset, second-factor reset, deactivation).

Signing in with a password has two steps for accounts with a second factor, or whose role
requires one: the password opens only a pending session, good for the code (or enrolment)
step and nothing else. Single sign-on (service/sso.py) opens a full session directly: the
organisation's identity provider is then responsible for the second factor.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, TypeVar

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext, ngettext
from werkzeug.exceptions import Forbidden, Unauthorized

from service import passwords, second_factor, sign_in_throttle
from service.audit import record
from service.config import Settings
from service.db import ApiToken, User, utcnow
from service.extensions import db
from service.limits import (
    second_factor_codes,
    second_factor_codes_per_account,
    sign_in,
)
from service.privacy import keyed_hash

bp = Blueprint("auth", __name__)
log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])

# How a session was opened (kept in it, and checked on every request).
METHOD_PASSWORD = "password"  # noqa: S105 - a label, not a secret
METHOD_PASSWORD_TOTP = "password+totp"  # noqa: S105
METHOD_PASSWORD_RECOVERY = "password+recovery-code"  # noqa: S105
METHOD_SSO = "sso"
PASSWORD_METHODS = (METHOD_PASSWORD, METHOD_PASSWORD_TOTP, METHOD_PASSWORD_RECOVERY)
# What a half-signed-in session still owes, and how long it may take.
STEP_CODE = "code"
STEP_ENROL = "enrol"
PENDING_SECONDS = 10 * 60

TOKEN_PURPOSE = "api-token"  # noqa: S105 - a label for the keyed hash, not a secret
TOKEN_PREFIX = "dfs_"  # noqa: S105 - the visible prefix of every token, not a secret
# Verifying against this when the account does not exist keeps timing the same either way.
_DUMMY_HASH = passwords.hash_secret(secrets.token_hex(16))


def hash_password(password: str) -> str:
    return passwords.hash_secret(password)


def verify_password(user: User | None, password: str) -> bool:
    if user is None or user.password_hash == passwords.NO_PASSWORD:
        passwords.verify_secret(_DUMMY_HASH, password)  # the same time as a real check
        return False
    if not passwords.verify_secret(user.password_hash, password):
        return False
    if passwords.needs_rehash(user.password_hash):
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


def _settings() -> Settings:
    return current_app.config["DEFUSE"]


def sign_in_complete(user: User, method: str) -> bool:
    """Whether a session opened by this method still satisfies today's sign-in policy: a
    required second factor, local passwords switched off. Checked on every request, so a
    policy or role change takes effect at once, not when old sessions expire."""
    settings = _settings()
    if method == METHOD_SSO:
        return settings.oidc_enabled
    if not settings.password_allowed_for(user.email):
        return False
    if second_factor.required_for(user, settings.totp_required_roles):
        return method in (METHOD_PASSWORD_TOTP, METHOD_PASSWORD_RECOVERY)
    return method in PASSWORD_METHODS


def _user_from_session() -> User | None:
    user_id = session.get("uid")
    if user_id is None:
        return None
    settings = _settings()
    now = utcnow().timestamp()
    started, seen = session.get("started", 0), session.get("seen", 0)
    if (
        now - seen > settings.session_idle_minutes * 60
        or now - started > settings.session_absolute_hours * 3600
    ):
        session.clear()
        return None
    user = db.session.get(User, user_id)
    if (
        user is None
        or not user.active
        or user.session_generation != session.get("gen")
        or not sign_in_complete(user, session.get("method", ""))
    ):
        session.clear()
        return None
    session["seen"] = now
    return user


def load_user() -> None:
    g.user = None
    header = request.headers.get("Authorization")
    if header and request.path.startswith("/api/"):
        g.user = _user_from_token(header)
        if g.user is None:
            raise Unauthorized("The API token is missing, invalid or revoked.")
    elif not request.path.startswith("/api/"):
        g.user = _user_from_session()


def _fresh_session() -> None:
    """Empty the session and give it a new id, deleting the stored one: nothing from before
    this step carries over, and an id someone planted or saw earlier opens nothing."""
    current_app.session_interface.regenerate(session)  # type: ignore[attr-defined]
    session.clear()


def end_all_sessions(user: User) -> None:
    """Every session and pending sign-in of this account ends at its next request. The caller
    commits."""
    user.session_generation += 1


def start_session(user: User, method: str) -> None:
    _fresh_session()
    now = utcnow().timestamp()
    # Every session is permanent (SESSION_PERMANENT): its cookie lasts the absolute limit.
    session.update(uid=user.id, gen=user.session_generation, method=method, started=now, seen=now)


# --- between the password and the second factor -----------------------------------------------
# After a right password, the session holds only `pending`: the account, what is still owed
# (a code, or enrolment) and where to go next. No page but that step and sign-out accepts it.


def _start_pending(user: User, step: str, target: str) -> None:
    _fresh_session()
    session["pending"] = {
        "uid": user.id,
        "gen": user.session_generation,
        "step": step,
        "next": target,
        "at": utcnow().timestamp(),
    }


def pending_user(step: str) -> User | None:
    pending = session.get("pending")
    if not isinstance(pending, dict) or pending.get("step") != step:
        return None
    if utcnow().timestamp() - float(pending.get("at", 0)) > PENDING_SECONDS:
        session.pop("pending", None)
        return None
    user = db.session.get(User, pending.get("uid"))
    if user is None or not user.active or user.session_generation != pending.get("gen"):
        session.pop("pending", None)
        return None
    return user


def _finish_pending(user: User, method: str) -> str:
    """Open the full session for a pending sign-in; returns where to go."""
    target = (session.get("pending") or {}).get("next") or home_for(user)
    start_session(user, method)
    record("staff.signed_in", actor_id=user.id, actor_kind="staff", method=method)
    return target


def roles_required(*roles: str) -> Callable[[F], F]:
    """For pages: sign-in required, and one of the roles (any role if none given)."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if g.get("user") is None:
                # Halfway through signing in: back to the step that is still owed.
                if pending_user(STEP_ENROL) is not None:
                    return redirect(url_for("auth.second_factor_setup"))
                if pending_user(STEP_CODE) is not None:
                    return redirect(url_for("auth.second_factor_code"))
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


def local_path(target: str) -> str:
    """The target if it is a path on this site, else "": never an open redirect. Browsers drop
    tabs and newlines from a URL and read a backslash as a slash, so `/<TAB>/evil.example` is
    `//evil.example` to them: any control character or backslash refuses the target. What is
    left starts with one slash, so it has no scheme; a second slash would start a host."""
    if not target.startswith("/") or any(ch < " " or ch in "\x7f\\" for ch in target):
        return ""
    if target.startswith("//"):
        return ""
    return target


def _local_target() -> str:
    return local_path(request.args.get("next") or "")


def _count_failure(email: str, user: User | None) -> None:
    failures = sign_in_throttle.record_failure(email)
    if sign_in_throttle.under_attack(failures):
        # For admins (the audit log): which account, how many; never the address or the email.
        log.warning(
            "sign-in delays for account %s after %d failures", user.id if user else "-", failures
        )
        record(
            "staff.sign_in_delayed",
            actor_kind="system",
            target_user=user.id if user else None,
            failures=failures,
        )
        db.session.commit()


def _login_page(error: str | None = None, status: int = 200):  # type: ignore[no-untyped-def]
    settings = _settings()
    return (
        render_template(
            "auth/login.html",
            error=error,
            sso_enabled=settings.oidc_enabled,
            passwords=settings.local_sign_in,
            next_path=_local_target(),
        ),
        status,
    )


@bp.route("/login", methods=["GET", "POST"])
@sign_in
def login():  # type: ignore[no-untyped-def]
    if request.method == "GET":
        return _login_page()
    settings = _settings()
    email = (request.form.get("email") or "").strip().lower()
    password = request.form.get("password") or ""
    if not settings.password_allowed_for(email):
        return _login_page(
            gettext("Password sign-in is switched off here: use “Sign in with your organisation”."),
            403,
        )
    wait = sign_in_throttle.seconds_to_wait(email)
    if wait:
        # Not checked at all while the account waits, so the delay cannot be raced for answers.
        response = make_response(
            _login_page(
                ngettext(
                    "Too many wrong passwords for this account. Try again in %(num)d second.",
                    "Too many wrong passwords for this account. Try again in %(num)d seconds.",
                    wait,
                ),
                429,
            )
        )
        response.headers["Retry-After"] = str(wait)
        return response
    user = db.session.execute(db.select(User).where(User.email == email)).scalar_one_or_none()
    if not (verify_password(user, password) and user is not None and user.active):
        _count_failure(email, user)
        return _login_page(gettext("That email and password do not match an active account."), 401)
    sign_in_throttle.record_success(email)
    target = _local_target()
    if user.has_second_factor:
        _start_pending(user, STEP_CODE, target)
        db.session.commit()  # a rehashed password
        return redirect(url_for("auth.second_factor_code"))
    if second_factor.required_for(user, settings.totp_required_roles):
        _start_pending(user, STEP_ENROL, target)
        db.session.commit()
        return redirect(url_for("auth.second_factor_setup"))
    start_session(user, METHOD_PASSWORD)
    record("staff.signed_in", actor_id=user.id, actor_kind="staff", method=METHOD_PASSWORD)
    db.session.commit()
    return redirect(target or home_for(user))


@bp.route("/login/second-factor", methods=["GET", "POST"])
@second_factor_codes
@second_factor_codes_per_account
def second_factor_code():  # type: ignore[no-untyped-def]
    """The code step: a code from the authenticator app, or one recovery code."""
    user = pending_user(STEP_CODE)
    if user is None:
        return redirect(url_for("auth.login"))
    error = None
    if request.method == "POST":
        code = request.form.get("code") or ""
        recovery = request.form.get("recovery_code") or ""
        if code.strip() and second_factor.check_code(user, code):
            target = _finish_pending(user, METHOD_PASSWORD_TOTP)
            db.session.commit()
            return redirect(target)
        if recovery.strip() and second_factor.use_recovery_code(user, recovery):
            target = _finish_pending(user, METHOD_PASSWORD_RECOVERY)
            left = second_factor.recovery_codes_left(user)
            db.session.commit()
            flash(
                ngettext(
                    "You used a recovery code; %(num)d left. If your authenticator is lost, set "
                    "up a new one on your second-factor page.",
                    "You used a recovery code; %(num)d left. If your authenticator is lost, set "
                    "up a new one on your second-factor page.",
                    left,
                )
            )
            return redirect(target)
        error = gettext("That code is not right, or was already used. Try the newest code.")
    return (
        render_template("auth/second_factor.html", error=error, email=user.email),
        401 if error else 200,
    )


def _setup_user() -> tuple[User | None, bool]:
    """Who is setting up a second factor: someone halfway through signing in (who must), or a
    signed-in user (who may)."""
    user = pending_user(STEP_ENROL)
    if user is not None:
        return user, True
    return g.get("user"), False


@bp.route("/account/second-factor", methods=["GET", "POST"])
@second_factor_codes
@second_factor_codes_per_account
def second_factor_setup():  # type: ignore[no-untyped-def]
    user, during_sign_in = _setup_user()
    if user is None:
        return redirect(url_for("auth.login", next=request.path))
    if not during_sign_in and session.get("method") == METHOD_SSO:
        return render_template("auth/second_factor_sso.html")
    if user.has_second_factor and during_sign_in:
        # Set up meanwhile (in another tab): what is owed now is a code.
        session["pending"] = {**session["pending"], "step": STEP_CODE}
        return redirect(url_for("auth.second_factor_code"))
    if user.has_second_factor:
        if request.method == "POST":
            abort(409, gettext("A second factor is already set up for this account."))
        left = second_factor.recovery_codes_left(user)
        return render_template("auth/second_factor_status.html", user=user, codes_left=left)
    secret = second_factor.start_enrolment(user)
    error = None
    if request.method == "POST":
        codes = second_factor.confirm_enrolment(user, request.form.get("code") or "")
        if codes is not None:
            target = (
                _finish_pending(user, METHOD_PASSWORD_TOTP)
                if during_sign_in
                else url_for("auth.second_factor_setup")
            )
            if not during_sign_in:
                # Now that the account has a second factor, this session must have used it.
                session["method"] = METHOD_PASSWORD_TOTP
            db.session.commit()
            return _show_recovery_codes(codes, target)
        error = gettext(
            "That code does not match. Check the time on your phone and try the newest code."
        )
    db.session.commit()  # the secret being enrolled, so a reload shows the same QR code
    uri = second_factor.provisioning_uri(user, secret)
    return (
        render_template(
            "auth/second_factor_setup.html",
            error=error,
            required=during_sign_in,
            qr_code=second_factor.qr_code_svg(uri),
            secret=second_factor.grouped(secret),
            account=user.email,
            issuer=second_factor.ISSUER_NAME,
        ),
        422 if error else 200,
    )


@bp.post("/account/recovery-codes")
@second_factor_codes
@second_factor_codes_per_account
@roles_required()
def new_recovery_codes():  # type: ignore[no-untyped-def]
    """New recovery codes (the old ones stop working), against a current code."""
    user = g.user
    if not user.has_second_factor:
        return redirect(url_for("auth.second_factor_setup"))
    if not second_factor.check_code(user, request.form.get("code") or ""):
        db.session.rollback()
        left = second_factor.recovery_codes_left(user)
        return (
            render_template(
                "auth/second_factor_status.html",
                user=user,
                codes_left=left,
                error=gettext("That code is not right, or was already used."),
            ),
            401,
        )
    codes = second_factor.issue_recovery_codes(user)
    db.session.commit()
    return _show_recovery_codes(codes, url_for("auth.second_factor_setup"))


def _show_recovery_codes(codes: list[str], next_url: str):  # type: ignore[no-untyped-def]
    # Shown once, on a page that is never cached; only their hashes are kept.
    response = make_response(
        render_template("auth/recovery_codes.html", codes=codes, next_url=next_url)
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/logout")
def logout():  # type: ignore[no-untyped-def]
    # Signing out signs this account out everywhere (another browser, a forgotten PC), and
    # deletes this session on the server, so a copy of its cookie opens nothing.
    user = g.get("user")
    if user is not None:
        end_all_sessions(user)
        record("staff.signed_out", actor_id=user.id, actor_kind="staff")
        db.session.commit()
    session.clear()
    flash(gettext("You are signed out."))
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
