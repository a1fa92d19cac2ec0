"""The Trust Leader workspace: the queue (/cases), the case page (/cases/<id>) and its forms,
and a Trust Leader's own availability. Server-rendered, no JavaScript, every form with CSRF.

The rules (who sees and changes what) live in service.cases.service, shared with the API.
Every page here sends Cache-Control: no-store.
"""

from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import Forbidden, NotFound

from service.auth import roles_required
from service.cases import display, service
from service.cases.service import (
    OUTCOME_LABELS,
    QUEUE_SCOPES,
    REASON_LABELS,
    SCOPE_LABELS,
    STATUS_LABELS,
    QueueFilters,
    WorkflowError,
    in_page_language,
    status_in_sentence,
    status_label,
)
from service.db import Case, User, utcnow
from service.db.cases import OPEN_STATUSES, OUTCOMES, STATUSES
from service.db.people import CASE_WORKER_ROLES
from service.errors import handle_http_exception
from service.extensions import db
from service.i18n import N_
from service.labels import label
from service.schemas.cases import (
    AvailabilitySchema,
    BodySchema,
    FeedbackExtensionSchema,
    TransitionSchema,
)
from service.schemas.messages import translated
from service.vocab import CATEGORIES, LEVELS

bp = Blueprint("cases", __name__, template_folder="templates")

PER_PAGE = 50
# The button that moves a case to each status.
ACTION_LABELS = {
    "acknowledged": N_("Acknowledge"),
    "in_conversation": N_("Mark as in conversation"),
    "resolved_informally": N_("Mark as resolved informally"),
    "referred_formal": N_("Mark as referred to a formal process"),
    "withdrawn": N_("Mark as withdrawn"),
}
# Changes that are hard to take back are confirmed on a page of their own (no JavaScript).
CONFIRMED_STATUSES = ("withdrawn", "closed")


@bp.after_request
def _no_store(response):  # type: ignore[no-untyped-def]
    # Case content must never be kept by a browser or a shared cache.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(Forbidden)
@bp.errorhandler(NotFound)
def _refused(error):  # type: ignore[no-untyped-def]
    # service.cases.service words its refusals in English (the API's language); a page says
    # them in its own.
    if error.description and error.description != type(error).description:
        error = type(error)(_(error.description))
    return handle_http_exception(error)


@bp.context_processor
def _helpers() -> dict[str, Any]:
    # The label dicts are English; templates translate what they show with _().
    return {
        "when": display.when,
        "day": display.day,
        "countdown": display.countdown,
        "age": display.age,
        "percent": display.percent,
        "removed": display.removed,
        "number": display.number,
        "signed": display.signed,
        "status_labels": STATUS_LABELS,
        "outcome_labels": OUTCOME_LABELS,
        "reason_labels": REASON_LABELS,
        "status_in_sentence": status_in_sentence,
        "people_named": _people_named,
    }


def _people_named(codes: list[str]) -> str:
    """Who the report names as involved or told, as the reporter's form words them."""
    return ", ".join(label("person", code) for code in codes)


def _worker() -> User:
    return g.user  # type: ignore[no-any-return]


# --- the queue ------------------------------------------------------------------------------


def _choice(value: str | None, allowed: tuple[str, ...]) -> str | None:
    return value if value in allowed else None


@bp.get("/cases")
@roles_required(*CASE_WORKER_ROLES)
def queue():  # type: ignore[no-untyped-def]
    user = _worker()
    args = request.args
    lead = service.is_lead(user)
    filters = QueueFilters(
        scope=(_choice(args.get("scope"), QUEUE_SCOPES) or "attention") if lead else "mine",
        status=_choice(args.get("status"), (*STATUSES, "open", "any")) or "open",
        level=_choice(args.get("level"), LEVELS),
        category=_choice(args.get("category"), CATEGORIES),
    )
    query_filters = QueueFilters(
        scope=filters.scope,
        status=None if filters.status == "any" else filters.status,
        level=filters.level,
        category=filters.category,
    )
    page = page_number(args.get("page"))
    rows, total = service.list_queue(user, query_filters, page=page, per_page=PER_PAGE)
    assignees = _names({row.case.assignee_id for row in rows if row.case.assignee_id})
    return render_template(
        "cases/queue.html",
        rows=rows,
        total=total,
        page=page,
        pages=max(1, math.ceil(total / PER_PAGE)),
        filters=filters,
        lead=lead,
        scopes=QUEUE_SCOPES,
        scope_labels=SCOPE_LABELS,
        statuses=STATUSES,
        levels=LEVELS,
        categories=CATEGORIES,
        assignees=assignees,
        now=utcnow(),
    )


def page_number(raw: str | None) -> int:
    """?page= as a positive number; anything else is the first page."""
    return int(raw) if raw and raw.isdigit() and 0 < len(raw) < 6 and int(raw) > 0 else 1


def _names(user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    rows = db.session.execute(
        db.select(User.id, User.name, User.email).where(User.id.in_(user_ids))
    ).all()
    return {row.id: row.name or row.email for row in rows}


# --- the case page --------------------------------------------------------------------------


def _explanation(case: Case) -> service.ExplanationView:
    try:
        return service.explanation_view(case.report.risk_explanation)
    except (ValueError, TypeError):
        return service.ExplanationView()


def _render_case(
    case: Case,
    errors: dict[str, list[str]] | None = None,
    values: MultiDict[str, str] | None = None,
    status: int = 200,
):  # type: ignore[no-untyped-def]
    user = _worker()
    is_assignee = case.assignee_id == user.id
    messages = service.messages_of(case)
    unread_ids = {m.id for m in messages if m.from_reporter and m.read_at is None}
    service.record_view(user, case)
    service.mark_reporter_messages_read(user, case)
    db.session.commit()

    report = case.report
    workable = is_assignee and case.status != "closed" and report.text_removed_on is None
    notes = service.notes_of(case)
    people = _names(
        {n.author_id for n in notes}
        | {m.author_id for m in messages if m.author_id}
        | ({case.assignee_id} if case.assignee_id else set())
    )
    now = utcnow()
    deadline = service.deadline_of(case)
    options = (
        service.assignment_options(case)
        if service.is_lead(user) and case.status != "closed"
        else []
    )
    can_extend = (
        (is_assignee or service.is_lead(user))
        and case.status in OPEN_STATUSES
        and case.feedback_given_at is None
        and report.text_removed_on is None
    )
    return (
        render_template(
            "cases/case.html",
            case=case,
            report=report,
            explanation=_explanation(case),
            progress=service.guide_progress(case),
            notes=notes,
            messages=messages,
            unread_ids=unread_ids,
            people=people,
            is_assignee=is_assignee,
            is_lead=service.is_lead(user),
            workable=workable,
            transitions=[s for s in service.allowed_transitions(case) if s != "closed"],
            action_labels=ACTION_LABELS,
            # A new case is acknowledged (or withdrawn) first; closing is offered after that.
            can_close=workable and case.status != "new" and service.can_close(case),
            closing_resolutions=service.closing_resolutions(case),
            outcomes=OUTCOMES,
            options=options,
            overridable=service.OVERRIDABLE_REASONS,
            can_extend=can_extend,
            extension_limit=service.feedback_extension_limit(case),
            can_undo_withdrawal=service.is_lead(user)
            and case.status == "withdrawn"
            and report.text_removed_on is None,
            deadline=deadline,
            overdue=deadline is not None and deadline < now,
            now=now,
            errors=errors or {},
            values=values or MultiDict(),
        ),
        status,
    )


@bp.get("/cases/<int:case_id>")
@roles_required()
def case_page(case_id: int):  # type: ignore[no-untyped-def]
    case = service.load_case_for(_worker(), case_id)
    return _render_case(case)


def _failed(case: Case, error: WorkflowError, key: str, field_keys: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    """Re-render the case with the message beside the form (or the field) it concerns."""
    db.session.rollback()
    name = error.field if error.field in field_keys else key
    return _render_case(
        case,
        errors={name: [error.translated()]},
        values=request.form,
        status=error.status_code,
    )


def _back(case: Case):  # type: ignore[no-untyped-def]
    # To the top of the page, where the confirmation is shown (an anchor would scroll past it).
    return redirect(url_for("cases.case_page", case_id=case.id))


def _save_ticks(user: User, case: Case) -> int:
    """Every form on the case page carries the checklist (one form, many buttons), so ticks
    not yet saved are kept whichever button is pressed. Only the steps whose box changed
    since the page was drawn are applied, so a tick made elsewhere meanwhile is never undone
    by a stale page. Commits; returns how many changed."""
    form = request.form
    ticked, was = set(form.getlist("ticked")), set(form.getlist("was"))
    changes = [
        (key, key in ticked)
        for key in dict.fromkeys(form.getlist("shown"))
        if (key in ticked) != (key in was)
    ]
    if not changes:
        return 0
    return service.set_steps(user, case, changes)


# What a page says when a form's field fails its schema. The schemas word their messages for
# the API, in English; the page words them in its own language.
FIELD_MESSAGES = {
    "status": N_("Choose one of the options."),
    "outcome": N_("Choose one of the options."),
    "resolution": N_("Choose one of the options."),
    "closing_message": N_("Keep it under %(max)d characters."),
    "until": N_("Enter a date like 2025-06-30."),
}
# ...and for the free-text fields, by whether anything was written at all.
EMPTY_MESSAGES = {
    "body": N_("Write something first."),
    "reason": N_("Say why the reporter must wait longer."),
}
TOO_LONG_MESSAGES = {
    "body": (N_("Keep it under %(max)d characters."), service.BODY_MAX),
    "reason": (N_("Say why, in at most %(max)d characters."), 1000),
}


def _refusal(error: ValidationError, default: str, text: str = "") -> WorkflowError:
    """The first field a schema refused, with the page's message for it. `text` is what was
    written in the free-text field refused, if that is the one."""
    messages = error.messages if isinstance(error.messages, dict) else {}
    name = next(iter(messages), default)
    if name in EMPTY_MESSAGES:
        message, most = TOO_LONG_MESSAGES[name]
        if not text.strip():
            return WorkflowError(EMPTY_MESSAGES[name], name)
        if len(text.strip()) > most:
            return WorkflowError(message, name, max=most)
        # Something else about the text (invisible characters, say): the schema's own words.
        return WorkflowError(" ".join(map(str, messages.get(name) or ())), name)
    return WorkflowError(
        FIELD_MESSAGES.get(name, N_("Check this field.")), name, max=service.BODY_MAX
    )


def _with_ticks(text: str, ticks: int) -> str:
    if not ticks:
        return text
    return " ".join(
        (
            text,
            ngettext(
                "Checklist saved too (%(num)d change).",
                "Checklist saved too (%(num)d changes).",
                ticks,
            ),
        )
    )


def _ticks_saved(ticks: int) -> str:
    return ngettext(
        "Checklist saved (%(num)d change).", "Checklist saved (%(num)d changes).", ticks
    )


@bp.post("/cases/<int:case_id>/status")
@roles_required()
def change_status(case_id: int):  # type: ignore[no-untyped-def]
    user = _worker()
    case = service.load_case_for(user, case_id)
    closing = request.form.get("status") == "closed"
    key = "close" if closing else "status"
    try:
        ticks = _save_ticks(user, case)
    except WorkflowError as error:
        return _failed(case, error, "guide")
    names = ("status", "outcome", "resolution", "closing_message") if closing else ("status",)
    fields_shown = ("outcome", "resolution", "closing_message")
    try:
        data = TransitionSchema().load({name: request.form.get(name, "") for name in names})
    except ValidationError as error:
        return _failed(case, _refusal(error, key), key, fields_shown)
    if data["status"] in CONFIRMED_STATUSES and request.form.get("confirm") != "yes":
        try:
            service.require_assignee(user, case)
            service.require_workable(case)
            problem = (
                service.closing_problem(
                    case, data["outcome"], data["resolution"], data["closing_message"]
                )
                if closing
                else None
            )
            if (
                problem is None
                and not closing
                and "withdrawn" not in service.allowed_transitions(case)
            ):
                problem = service.WorkflowError(
                    N_("A case that is %(status)s cannot be withdrawn."),
                    status=status_label(case.status),
                )
        except WorkflowError as error:
            problem = error
        if problem is not None:
            return _failed(case, problem, key, fields_shown)
        if ticks:
            flash(_ticks_saved(ticks))
        return render_template(
            "cases/confirm.html", case=case, data=data, action_labels=ACTION_LABELS
        )
    try:
        service.transition(
            user,
            case,
            data["status"],
            outcome=data["outcome"],
            resolution=data["resolution"],
            closing_message=data["closing_message"],
        )
    except WorkflowError as error:
        return _failed(case, error, key, fields_shown)
    flash(
        _with_ticks(
            in_page_language(
                N_("Case %(id)s is now: %(status)s."), id=case.id, status=status_label(case.status)
            ),
            ticks,
        )
    )
    return _back(case)


@bp.post("/cases/<int:case_id>/guide")
@roles_required()
def update_guide(case_id: int):  # type: ignore[no-untyped-def]
    """Save the checklist (see _save_ticks)."""
    user = _worker()
    case = service.load_case_for(user, case_id)
    try:
        service.require_assignee(user, case)
        changed = _save_ticks(user, case)
    except WorkflowError as error:
        return _failed(case, error, "guide")
    flash(_ticks_saved(changed))
    return _back(case)


def _body(name: str) -> str:
    """The text of the message or note box (`name`); `body` from a form of its own."""
    raw = request.form.get(name, request.form.get("body", ""))
    try:
        return BodySchema().load({"body": raw})["body"]  # type: ignore[no-any-return]
    except ValidationError as error:
        raise _refusal(error, "body", raw) from None


@bp.post("/cases/<int:case_id>/messages")
@roles_required()
def send_message(case_id: int):  # type: ignore[no-untyped-def]
    user = _worker()
    case = service.load_case_for(user, case_id)
    try:
        ticks = _save_ticks(user, case)
    except WorkflowError as error:
        return _failed(case, error, "guide")
    feedback = request.form.get("feedback") == "yes"
    try:
        service.send_message(
            user,
            case,
            _body("message_body"),
            feedback=feedback,
            mark_in_conversation=request.form.get("mark_in_conversation") == "yes",
        )
    except WorkflowError as error:
        return _failed(case, error, "message", ("mark_in_conversation",))
    text = (
        _(
            "Message sent. The reporter reads it with their receipt code. It counts as "
            "feedback: the feedback deadline is met."
        )
        if feedback
        else _("Message sent. The reporter reads it with their receipt code.")
    )
    flash(_with_ticks(text, ticks))
    return _back(case)


@bp.post("/cases/<int:case_id>/notes")
@roles_required()
def add_note(case_id: int):  # type: ignore[no-untyped-def]
    user = _worker()
    case = service.load_case_for(user, case_id)
    try:
        ticks = _save_ticks(user, case)
    except WorkflowError as error:
        return _failed(case, error, "guide")
    try:
        service.add_note(user, case, _body("note_body"))
    except WorkflowError as error:
        return _failed(case, error, "note")
    flash(_with_ticks(_("Note added."), ticks))
    return _back(case)


@bp.post("/cases/<int:case_id>/assignee")
@roles_required()
def reassign(case_id: int):  # type: ignore[no-untyped-def]
    user = _worker()
    case = service.load_case_for(user, case_id)
    raw = request.form.get("assignee", "")
    try:
        if not raw.isdigit():
            raise WorkflowError(N_("Choose who should take the case."), "assignee")
        assignee = service.reassign(
            user, case, int(raw), override_reason=request.form.get("override_reason", "")
        )
    except WorkflowError as error:
        if error.field == "reason":  # named apart from the deadline extension's reason here
            error = WorkflowError(error.message, "override_reason")
        return _failed(case, error, "assignee", ("assignee", "override_reason"))
    flash(
        _(
            "Case %(id)s is now assigned to %(name)s.",
            id=case.id,
            name=assignee.name or assignee.email,
        )
    )
    if not service.can_view(user, case):
        return redirect(url_for("cases.queue"))
    return _back(case)


@bp.post("/cases/<int:case_id>/feedback-deadline")
@roles_required()
def extend_feedback(case_id: int):  # type: ignore[no-untyped-def]
    user = _worker()
    case = service.load_case_for(user, case_id)
    try:
        data = FeedbackExtensionSchema().load(
            {name: request.form.get(name, "") for name in ("until", "reason")}
        )
    except ValidationError as error:
        reason = request.form.get("reason", "")
        return _failed(case, _refusal(error, "until", reason), "extend", ("until", "reason"))
    try:
        service.extend_feedback(user, case, data["until"], data["reason"])
    except WorkflowError as error:
        return _failed(case, error, "extend", ("until", "reason"))
    flash(
        _(
            "Feedback is now due by %(time)s. The reason is in the notes.",
            time=display.when(case.feedback_due_at),
        )
    )
    return _back(case)


@bp.post("/cases/<int:case_id>/reopen")
@roles_required()
def undo_withdrawal(case_id: int):  # type: ignore[no-untyped-def]
    user = _worker()
    case = service.load_case_for(user, case_id)
    try:
        status = service.undo_withdrawal(user, case)
    except WorkflowError as error:
        return _failed(case, error, "status")
    flash(
        in_page_language(
            N_("The withdrawal is undone: case %(id)s is %(status)s again."),
            id=case.id,
            status=status_label(status),
        )
    )
    return _back(case)


# --- availability ---------------------------------------------------------------------------


@bp.route("/cases/availability", methods=["GET", "POST"])
@roles_required(*CASE_WORKER_ROLES)
def availability():  # type: ignore[no-untyped-def]
    """A Trust Leader sets the date they are away until; routing skips them until then."""
    from service.people import PeopleError, update_profile

    user = _worker()
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        raw = "" if request.form.get("clear") else request.form.get("away_until", "")
        try:
            data = AvailabilitySchema().load({"away_until": raw})
        except ValidationError:
            errors["away_until"] = [_("Enter a date like 2025-06-30, or clear it.")]
        else:
            away = data["away_until"]
            if away is not None and away < utcnow().date():
                errors["away_until"] = [_("Choose today or a later date, or clear it.")]
            else:
                try:
                    update_profile(user, away_until=away)
                except PeopleError as error:
                    errors["away_until"] = [translated(error.message)]
                else:
                    db.session.commit()
                    flash(
                        _(
                            "You are marked away until %(date)s: no new cases until then.",
                            date=display.day(away),
                        )
                        if away
                        else _("You are marked available for new cases.")
                    )
                    return redirect(url_for("cases.availability"))
    return (
        render_template("cases/availability.html", user=user, errors=errors, today=utcnow().date()),
        422 if errors else 200,
    )
