"""Administration pages (admins only): staff accounts, API tokens, the org tree, the audit
log (read only), the local notification outbox and failed background jobs.

Admins never see case content: the audit log and notifications hold ids and statuses only.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext, ngettext
from marshmallow import ValidationError
from redis.exceptions import RedisError
from werkzeug.datastructures import MultiDict

from service import second_factor
from service.admin import forms, jobs
from service.audit import record
from service.auth import new_api_token, roles_required
from service.cases.display import when
from service.db import ApiToken, AuditEvent, Case, Notification, OrgUnit, User, utcnow
from service.db.base import MAX_ID
from service.db.cases import OPEN_STATUSES
from service.db.people import CASE_WORKER_ROLES, ROLES
from service.drift import drift_report
from service.extensions import db
from service.org import (
    OrgEditError,
    UnitEdit,
    active_units,
    all_units,
    case_workers_in,
    update_unit,
)
from service.people import (
    PeopleError,
    create_user,
    edit_profile,
    revoke_api_tokens,
    set_password,
)
from service.routing.service import unroutable_staff
from service.schemas.messages import translated
from service.vocab import CATEGORIES, LANGUAGES

log = logging.getLogger(__name__)
bp = Blueprint("admin", __name__, template_folder="templates")
PER_PAGE = 50


@bp.after_request
def _no_store(response):  # type: ignore[no-untyped-def]
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.context_processor
def _helpers() -> dict[str, Any]:
    # Every admin page shows when the live model has drifted (service/drift.py).
    return {"when": when, "drift_warnings": drift_report().warnings}


def _page() -> int:
    raw = request.args.get("page", "")
    return int(raw) if raw.isdigit() and 0 < len(raw) < 6 and int(raw) > 0 else 1


def _pages(total: int) -> int:
    return max(1, math.ceil(total / PER_PAGE))


# --- accounts -------------------------------------------------------------------------------


def _unit_choices(current_unit_id: int | None = None) -> list[OrgUnit]:
    """The units staff can be placed in (active ones), and the account's own unit if it has
    been retired since, so that the form shows where they are instead of silently changing it."""
    units = active_units()
    current = db.session.get(OrgUnit, current_unit_id) if current_unit_id else None
    if current is not None and current.retired:
        units.append(current)
    return units


def _open_cases(user_id: int) -> int:
    return int(
        db.session.scalar(
            db.select(db.func.count(Case.id)).where(
                Case.assignee_id == user_id, Case.status.in_(OPEN_STATUSES)
            )
        )
        or 0
    )


def values_from_user(user: User) -> dict[str, Any]:
    return {
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "org_unit_id": str(user.org_unit_id or ""),
        "languages": list(user.languages or []),
        "categories": list(user.categories or []),
        "capacity": str(user.capacity),
        "on_call": user.on_call,
        "away_until": user.away_until.isoformat() if user.away_until else "",
        "active": user.active,
    }


def values_from_form(form: MultiDict[str, str]) -> dict[str, Any]:
    return {
        "email": form.get("email", ""),
        "name": form.get("name", ""),
        "role": form.get("role", ""),
        "org_unit_id": form.get("org_unit_id", ""),
        "languages": form.getlist("languages"),
        "categories": form.getlist("categories"),
        "capacity": form.get("capacity", ""),
        "on_call": bool(form.get("on_call")),
        "away_until": form.get("away_until", ""),
        "active": bool(form.get("active")),
    }


NEW_ACCOUNT_DEFAULTS: dict[str, Any] = {
    "email": "",
    "name": "",
    "role": "trust_leader",
    "org_unit_id": "",
    "languages": ["en"],
    "categories": list(CATEGORIES),
    "capacity": "8",
    "on_call": False,
    "away_until": "",
    "active": True,
}


def _form_context(current_unit_id: int | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "roles": ROLES,
        "languages": LANGUAGES,
        "categories": CATEGORIES,
        "org_units": _unit_choices(current_unit_id),
        "sso_enabled": current_app.config["DEFUSE"].oidc_enabled,
        **extra,
    }


@bp.get("/admin")
@roles_required("admin")
def index():  # type: ignore[no-untyped-def]
    return redirect(url_for("admin.users"))


@bp.get("/admin/users")
@roles_required("admin")
def users():  # type: ignore[no-untyped-def]
    accounts = list(db.session.execute(db.select(User).order_by(User.role, User.email)).scalars())
    open_counts = dict(
        db.session.execute(
            db.select(Case.assignee_id, db.func.count(Case.id))
            .where(Case.assignee_id.is_not(None), Case.status.in_(OPEN_STATUSES))
            .group_by(Case.assignee_id)
        ).all()
    )
    return render_template(
        "admin/users.html",
        accounts=accounts,
        open_counts=open_counts,
        unroutable=unroutable_staff(accounts),
        today=utcnow().date(),
    )


@bp.route("/admin/users/new", methods=["GET", "POST"])
@roles_required("admin")
def new_user():  # type: ignore[no-untyped-def]
    errors: dict[str, list[str]] = {}
    values = values_from_form(request.form) if request.method == "POST" else NEW_ACCOUNT_DEFAULTS
    if request.method == "POST":
        try:
            data = forms.CreateFormSchema().load(request.form)  # type: ignore[arg-type]
        except ValidationError as error:
            errors = forms.field_messages(error)
        else:
            exists = db.session.execute(
                db.select(User.id).where(User.email == data["email"])
            ).first()
            if exists:
                errors["email"] = [gettext("An account with this email already exists.")]
            elif data["password"] is None and not current_app.config["DEFUSE"].oidc_enabled:
                errors["password"] = [gettext("Set an initial password.")]
            else:
                try:
                    user = create_user(
                        email=data["email"],
                        role=data["role"],
                        password=data["password"],
                        name=data["name"],
                        org_unit_id=data["org_unit_id"],
                        categories=data["categories"],
                        languages=data["languages"],
                        capacity=data["capacity"],
                        on_call=data["on_call"],
                    )
                except PeopleError as error:
                    db.session.rollback()
                    errors[error.field] = [translated(error.message)]
                else:
                    flash(gettext("Account created for %(email)s.", email=user.email))
                    return redirect(url_for("admin.edit_user", user_id=user.id))
    return (
        render_template("admin/user_new.html", errors=errors, values=values, **_form_context()),
        422 if errors else 200,
    )


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id) if 0 < user_id <= MAX_ID else None
    if user is None:
        abort(404)
    return user


def _render_edit(
    user: User,
    errors: dict[str, list[str]] | None = None,
    new_token: str | None = None,
    status: int = 200,
    form: MultiDict[str, str] | None = None,
):  # type: ignore[no-untyped-def]
    tokens = list(
        db.session.execute(
            db.select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
        ).scalars()
    )
    return (
        render_template(
            "admin/user_edit.html",
            user=user,
            values=values_from_form(form) if form is not None else values_from_user(user),
            tokens=tokens,
            errors=errors or {},
            new_token=new_token,
            open_cases=_open_cases(user.id),
            second_factor_required=second_factor.required_for(
                user, current_app.config["DEFUSE"].totp_required_roles
            ),
            recovery_codes_left=second_factor.recovery_codes_left(user),
            unroutable=unroutable_staff([user]).get(user.id, []),
            **_form_context(user.org_unit_id),
        ),
        status,
    )


def _self_lockout(admin: User, user: User, data: dict[str, Any]) -> str | None:
    if admin.id == user.id and (data["role"] != "admin" or not data["active"]):
        return gettext("You cannot remove your own admin access or deactivate your own account.")
    return None


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@roles_required("admin")
def edit_user(user_id: int):  # type: ignore[no-untyped-def]
    user = _user_or_404(user_id)
    if request.method == "GET":
        return _render_edit(user)
    try:
        data = forms.EditFormSchema().load(request.form)  # type: ignore[arg-type]
    except ValidationError as error:
        return _render_edit(user, forms.field_messages(error), status=422, form=request.form)
    problem = _self_lockout(g.user, user, data)
    if problem:
        return _render_edit(user, {"role": [problem]}, status=422, form=request.form)
    open_cases = _open_cases(user.id)
    if open_cases and user.role in CASE_WORKER_ROLES and data["role"] not in CASE_WORKER_ROLES:
        return _render_edit(
            user,
            {
                "role": [
                    ngettext(
                        "%(num)d open case is assigned to this account: a lead must reassign "
                        "it before the role can change.",
                        "%(num)d open cases are assigned to this account: a lead must reassign "
                        "them before the role can change.",
                        open_cases,
                    )
                ]
            },
            status=422,
            form=request.form,
        )
    try:
        changes = edit_profile(user, data)
    except PeopleError as error:
        db.session.rollback()
        return _render_edit(
            user, {error.field: [translated(error.message)]}, status=422, form=request.form
        )
    if not changes:
        flash(gettext("Nothing changed."))
        return redirect(url_for("admin.edit_user", user_id=user.id))
    db.session.commit()
    message = gettext("Profile saved.")
    if changes.get("active") is False:
        message += " " + gettext("The account is deactivated and signed out everywhere.")
        if open_cases:
            message += " " + ngettext(
                "It still holds %(num)d open case: ask a lead to reassign it.",
                "It still holds %(num)d open cases: ask a lead to reassign them.",
                open_cases,
            )
    flash(message)
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.post("/admin/users/<int:user_id>/password")
@roles_required("admin")
def reset_password(user_id: int):  # type: ignore[no-untyped-def]
    user = _user_or_404(user_id)
    try:
        set_password(user, request.form.get("password", ""))
    except PeopleError as error:
        db.session.rollback()
        return _render_edit(user, {error.field: [translated(error.message)]}, status=422)
    # A reset usually means the account may be in someone else's hands: its tokens go too,
    # unless the admin ticks "keep API tokens" (say, for a reset the owner asked for).
    revoked = 0 if request.form.get("keep_tokens") else revoke_api_tokens(user)
    db.session.commit()
    flash(
        ngettext(
            "Password reset for %(email)s; their existing sessions have ended and %(num)d API "
            "token was revoked.",
            "Password reset for %(email)s; their existing sessions have ended and %(num)d API "
            "tokens were revoked.",
            revoked,
            email=user.email,
        )
        if revoked
        else gettext(
            "Password reset for %(email)s; their existing sessions have ended.", email=user.email
        )
    )
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.post("/admin/users/<int:user_id>/second-factor/reset")
@roles_required("admin")
def reset_second_factor(user_id: int):  # type: ignore[no-untyped-def]
    """For a lost phone and lost recovery codes: they set up a new one at next sign-in."""
    user = _user_or_404(user_id)
    second_factor.reset(user)
    db.session.commit()
    flash(
        gettext(
            "Second factor removed for %(email)s; their sessions have ended. They set up a new "
            "one at their next sign-in.",
            email=user.email,
        )
    )
    return redirect(url_for("admin.edit_user", user_id=user.id) + "#sign-in")


@bp.post("/admin/users/<int:user_id>/tokens")
@roles_required("admin")
def create_token(user_id: int):  # type: ignore[no-untyped-def]
    user = _user_or_404(user_id)
    try:
        label = forms.TokenFormSchema().load(request.form)["label"]  # type: ignore[arg-type]
    except ValidationError as error:
        return _render_edit(user, forms.field_messages(error), status=422)
    token = new_api_token(user, label)
    db.session.flush()
    record("token.created", target_user=user.id)
    db.session.commit()
    # Shown once, on this no-store page; only its hash is kept.
    return _render_edit(user, new_token=token)


@bp.post("/admin/users/<int:user_id>/tokens/<int:token_id>/revoke")
@roles_required("admin")
def revoke_token(user_id: int, token_id: int):  # type: ignore[no-untyped-def]
    token = db.session.get(ApiToken, token_id) if 0 < token_id <= MAX_ID else None
    if token is None or token.user_id != user_id:
        abort(404)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record("token.revoked", target_user=user_id, token_id=token.id)
        db.session.commit()
        flash(gettext("Token revoked: it no longer works."))
    return redirect(url_for("admin.edit_user", user_id=user_id) + "#tokens")


# --- the organisation ------------------------------------------------------------------------


@bp.get("/admin/org")
@roles_required("admin")
def org_tree():  # type: ignore[no-untyped-def]
    units = all_units()
    staff = dict(
        db.session.execute(
            db.select(User.org_unit_id, db.func.count(User.id))
            .where(User.org_unit_id.is_not(None), User.active.is_(True))
            .group_by(User.org_unit_id)
        ).all()
    )
    return render_template("admin/org.html", units=units, staff=staff)


def _unit_or_404(unit_id: int) -> OrgUnit:
    unit = db.session.get(OrgUnit, unit_id) if 0 < unit_id <= MAX_ID else None
    if unit is None:
        abort(404)
    return unit


def _parent_choices(unit: OrgUnit) -> list[OrgUnit]:
    """Active units outside this one's subtree (moving under itself would be a cycle), and its
    current parent whatever it is, so the form never changes it unasked."""
    below = {
        u.id
        for u in db.session.execute(db.select(OrgUnit)).scalars()
        if u.path.startswith(unit.path)
    }
    choices = [u for u in active_units() if u.id not in below]
    if unit.parent is not None and unit.parent not in choices:
        choices.append(unit.parent)
    return choices


def _render_unit(unit: OrgUnit, errors: dict[str, list[str]] | None = None, form=None):  # type: ignore[no-untyped-def]
    values = (
        {
            "name": form.get("name", ""),
            "parent_id": form.get("parent_id", ""),
            "headcount": form.get("headcount", ""),
            "retired": bool(form.get("retired")),
            "is_hr": bool(form.get("is_hr")),
        }
        if form is not None
        else {
            "name": unit.name,
            "parent_id": str(unit.parent_id or ""),
            "headcount": "" if unit.headcount is None else str(unit.headcount),
            "retired": unit.retired,
            "is_hr": unit.is_hr,
        }
    )
    staff = list(
        db.session.execute(
            db.select(User).where(User.org_unit_id == unit.id).order_by(User.email)
        ).scalars()
    )
    return (
        render_template(
            "admin/org_unit.html",
            unit=unit,
            values=values,
            errors=errors or {},
            parents=_parent_choices(unit),
            staff=staff,
        ),
        422 if errors else 200,
    )


@bp.route("/admin/org/<int:unit_id>", methods=["GET", "POST"])
@roles_required("admin")
def edit_unit(unit_id: int):  # type: ignore[no-untyped-def]
    unit = _unit_or_404(unit_id)
    if request.method == "GET":
        return _render_unit(unit)
    try:
        data = forms.UnitFormSchema().load(request.form)  # type: ignore[arg-type]
    except ValidationError as error:
        return _render_unit(unit, forms.field_messages(error), request.form)
    was_retired = unit.retired
    try:
        changed = update_unit(unit, UnitEdit(**data))
    except OrgEditError as error:
        db.session.rollback()
        return _render_unit(unit, {error.field: [translated(error.message)]}, request.form)
    db.session.commit()
    if not changed:
        flash(gettext("Nothing changed."))
    else:
        message = gettext("%(unit)s saved.", unit=unit.name)
        stranded = case_workers_in([unit.id]) if unit.retired and not was_retired else []
        if stranded:
            message += " " + ngettext(
                "%(num)d Trust Leader or lead works in it and gets no case until moved to an "
                "active unit: %(names)s.",
                "%(num)d Trust Leaders or leads work in it and get no case until moved to an "
                "active unit: %(names)s.",
                len(stranded),
                names=", ".join(stranded),
            )
        flash(message)
    return redirect(url_for("admin.edit_unit", unit_id=unit.id))


# --- the audit log --------------------------------------------------------------------------


@bp.get("/admin/audit")
@roles_required("admin")
def audit():  # type: ignore[no-untyped-def]
    """The audit log, newest first, filterable by case and action. Read only: there is no
    route that changes it, and the database refuses updates and deletes anyway."""
    errors: dict[str, list[str]] = {}
    raw_case = (request.args.get("case_id") or "").strip()
    action = (request.args.get("action") or "").strip()
    case_id: int | None = None
    if raw_case:
        if raw_case.isdigit() and len(raw_case) < 10:
            case_id = int(raw_case)
        else:
            errors["case_id"] = [gettext("Enter a case number.")]
    statement = db.select(AuditEvent)
    if case_id is not None:
        statement = statement.where(AuditEvent.case_id == case_id)
    if action:
        statement = statement.where(AuditEvent.action == action)
    total = int(
        db.session.scalar(db.select(db.func.count()).select_from(statement.subquery())) or 0
    )
    page = _page()
    events = list(
        db.session.execute(
            statement.order_by(AuditEvent.id.desc()).limit(PER_PAGE).offset((page - 1) * PER_PAGE)
        ).scalars()
    )
    actions = [
        row[0]
        for row in db.session.execute(
            db.select(AuditEvent.action).distinct().order_by(AuditEvent.action)
        ).all()
    ]
    return (
        render_template(
            "admin/audit.html",
            events=events,
            total=total,
            page=page,
            pages=_pages(total),
            case_id=raw_case,
            action=action,
            actions=actions,
            errors=errors,
        ),
        422 if errors else 200,
    )


# --- notifications and background jobs ------------------------------------------------------


@bp.get("/admin/notifications")
@roles_required("admin")
def notifications():  # type: ignore[no-untyped-def]
    """The local outbox: every notification sent to staff (they never carry report text)."""
    total = int(db.session.scalar(db.select(db.func.count(Notification.id))) or 0)
    page = _page()
    rows = list(
        db.session.execute(
            db.select(Notification)
            .order_by(Notification.id.desc())
            .limit(PER_PAGE)
            .offset((page - 1) * PER_PAGE)
        ).scalars()
    )
    return render_template(
        "admin/notifications.html",
        notifications=rows,
        total=total,
        page=page,
        pages=_pages(total),
    )


@bp.get("/admin/jobs")
@roles_required("admin")
def failed_jobs():  # type: ignore[no-untyped-def]
    report = jobs.failed_jobs()
    return render_template("admin/jobs.html", report=report)


@bp.post("/admin/jobs/<queue_name>/<job_id>/retry")
@roles_required("admin")
def retry_job(queue_name: str, job_id: str):  # type: ignore[no-untyped-def]
    try:
        retried = jobs.retry(queue_name, job_id)
    except jobs.NoRedis:
        flash(gettext("Redis is not configured, so there are no queued jobs to retry."))
        return redirect(url_for("admin.failed_jobs"))
    except RedisError as error:
        log.warning("retrying a job failed: %s", type(error).__name__)
        flash(gettext("Redis did not answer; nothing was retried. Try again shortly."))
        return redirect(url_for("admin.failed_jobs"))
    if not retried:
        abort(404)
    record("job.retried", queue=queue_name, job_id=job_id)
    db.session.commit()
    flash(gettext("Job %(job)s is queued again on %(queue)s.", job=job_id, queue=queue_name))
    return redirect(url_for("admin.failed_jobs"))
