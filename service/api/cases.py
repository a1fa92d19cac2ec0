"""The Trust Leader API: /api/v1/cases. Bearer tokens only (`defuse tokens create EMAIL`).

The same rules as the pages, from the same code (service.cases.service): a Trust Leader lists
and reads only their own cases; a lead lists and reads every case and may reassign; only the
assignee changes a case; HR analysts and admins get 403 on every endpoint here. Every read of
a case's content and every change is audited.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, NoReturn

from flask import jsonify
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from service.auth import api_user
from service.cases import service
from service.db import Case, User, utcnow
from service.db.people import CASE_WORKER_ROLES
from service.extensions import db
from service.schemas.cases import (
    AssignSchema,
    BodySchema,
    CaseListArgsSchema,
    CaseListSchema,
    CaseSchema,
    FeedbackExtensionSchema,
    GuideProgressSchema,
    MessageCreateSchema,
    MessageListSchema,
    MessageSchema,
    NoteListSchema,
    NoteSchema,
    StepTickSchema,
    TransitionSchema,
)

PREFIX = "/cases"
blp = Blueprint(
    "cases_api",
    __name__,
    description="Trust Leader cases: list, read, move along the workflow, notes, the anonymous "
    "thread and the listening-guide checklist. Bearer token of a trust_leader or lead.",
)

SECURITY = [{"bearer": []}]
ERRORS = {
    401: "Missing, invalid or revoked token",
    403: "Your role, or this case, is not yours to read or change",
    404: "No such case",
}


@blp.after_request
def _no_store(response):  # type: ignore[no-untyped-def]
    response.headers["Cache-Control"] = "no-store"
    return response


@blp.before_request
def _case_workers_only() -> None:
    # Before argument parsing, as in the analytics API: a caller without a valid token, or of
    # the wrong role, gets 401/403 whatever the body, and learns nothing about its fields.
    api_user(CASE_WORKER_ROLES)


def _worker() -> User:
    return api_user(CASE_WORKER_ROLES)


def _case(user: User, case_id: int) -> Case:
    return service.load_case_for(user, case_id, via="api")


def _refuse(error: service.WorkflowError) -> NoReturn:
    if error.field:
        abort(422, message=error.message, messages={"json": {error.field: [error.message]}})
    abort(409, message=error.message)


def _explanation(case: Case) -> dict[str, Any]:
    try:
        return case.report.risk_explanation
    except (ValueError, TypeError):  # unreadable JSON must not make the case unreadable
        return {}


def case_fields(case: Case, unread: int, now: datetime) -> dict[str, Any]:
    """Every field a case can show; the viewer's schema picks what they may see."""
    report = case.report
    deadline = service.deadline_of(case)
    return {
        "id": case.id,
        "report_id": case.report_id,
        "status": case.status,
        "assignee": case.assignee_id,
        "routing_state": case.routing_state,
        "category": report.category,
        "risk": {
            "score": report.risk_score,
            "level": report.risk_level,
            "explanation": _explanation(case),
        },
        "hotspot": report.hotspot,
        "opened_at": case.opened_at,
        "ack_due_at": case.ack_due_at,
        "feedback_due_at": case.feedback_due_at,
        "deadline": deadline,
        "overdue": deadline is not None and deadline < now,
        "acknowledged_at": case.acknowledged_at,
        "feedback_given_at": case.feedback_given_at,
        "needs_language": case.needs_language,
        "closed_at": case.closed_at,
        "outcome": case.outcome,
        "escalated": case.escalated,
        "unread_messages": unread,
        "guide_id": case.guide_id,
        "guide_version": case.guide_version,
        # Cases from before languages were recorded were given the English guide.
        "guide_language": (case.guide_language or "en") if case.guide_id else None,
        "report": {
            "text": report.text,
            "text_removed": report.text_removed_on is not None,
            "redactions": dict(report.redactions or {}),
            "submitted_on": report.submitted_on,
            "org_unit": report.org_unit_id,
            "duration": report.duration,
            "raised_before": report.raised_before,
            "raised_with": list(report.raised_with or []),
            "involved": list(report.involved or []),
            "desired_outcome": report.desired_outcome,
            "urgency": report.urgency,
            "language": report.language,
        },
        "contact": report.contact,
    }


def _case_response(user: User, case: Case):  # type: ignore[no-untyped-def]
    view = "assignee" if case.assignee_id == user.id else "lead"
    fields = case_fields(case, service.unread_count(case), utcnow())
    return jsonify(CaseSchema.for_viewer(view).dump(fields))


def _summary(row: service.QueueRow, now: datetime) -> dict[str, Any]:
    fields = case_fields(row.case, row.unread, now)
    fields["risk"] = {"score": fields["risk"]["score"], "level": fields["risk"]["level"]}
    return fields


@blp.route("")
class Cases(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(CaseListArgsSchema, location="query")
    @blp.response(200, CaseListSchema)
    @blp.alt_response(401, description=ERRORS[401])
    @blp.alt_response(403, description=ERRORS[403])
    def get(self, args: dict[str, Any]):  # type: ignore[no-untyped-def]
        """List cases, highest risk first, then the nearest deadline.

        A Trust Leader gets their own cases; a lead gets every case. Filter with ?status=
        (a status, or 'open'), ?assignee= (an id, or 'none'), ?level= and ?category=; page with
        ?page= and ?per_page= (at most 100). Items are summaries: read a case for its account
        and risk explanation.
        """
        user = _worker()
        filters = service.QueueFilters(
            scope="all",
            status=args.get("status"),
            level=args.get("level"),
            category=args.get("category"),
            assignee=args.get("assignee"),
        )
        page, per_page = args["page"], args["per_page"]
        rows, total = service.list_queue(user, filters, page=page, per_page=per_page)
        now = utcnow()
        return {
            "cases": [_summary(row, now) for row in rows],
            "page": page,
            "per_page": per_page,
            "total": total,
            "pages": max(1, math.ceil(total / per_page)),
        }


@blp.route("/<int:case_id>")
class CaseResource(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, CaseSchema)
    @blp.alt_response(401, description=ERRORS[401])
    @blp.alt_response(403, description=ERRORS[403])
    @blp.alt_response(404, description=ERRORS[404])
    def get(self, case_id: int):  # type: ignore[no-untyped-def]
        """Read a case: the scrubbed account, structured fields and explained risk score.

        The reporter's opt-in contact is included only for the assigned Trust Leader.
        """
        user = _worker()
        case = _case(user, case_id)
        service.record_view(user, case, via="api")
        db.session.commit()
        return _case_response(user, case)


@blp.route("/<int:case_id>/transition")
class CaseTransition(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(TransitionSchema)
    @blp.response(200, CaseSchema)
    @blp.alt_response(409, description="The workflow does not allow this change now")
    @blp.alt_response(422, description="Invalid status, or a missing outcome when closing")
    @blp.alt_response(403, description=ERRORS[403])
    def post(self, data: dict[str, Any], case_id: int):  # type: ignore[no-untyped-def]
        """Move the case: new -> acknowledged -> in_conversation -> resolved_informally |
        referred_formal | withdrawn -> closed.

        Closing needs an `outcome`; closing straight from acknowledged or in_conversation
        needs the `resolution` too, and unless the reporter has had feedback or withdrew, a
        `closing_message` (sent to them as feedback).
        """
        user = _worker()
        case = _case(user, case_id)
        try:
            service.transition(
                user,
                case,
                data["status"],
                outcome=data["outcome"],
                resolution=data["resolution"],
                closing_message=data["closing_message"],
            )
        except service.WorkflowError as error:
            db.session.rollback()
            _refuse(error)
        return _case_response(user, case)


@blp.route("/<int:case_id>/assignee")
class CaseAssignee(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(AssignSchema)
    @blp.response(200, CaseSchema)
    @blp.alt_response(422, description="Not eligible: the reason is given")
    @blp.alt_response(403, description="Only leads reassign")
    def put(self, data: dict[str, Any], case_id: int):  # type: ignore[no-untyped-def]
        """Reassign the case (leads only) to an eligible Trust Leader.

        Someone untrained for the category, without the language or at capacity is refused
        with why, unless a `reason` is given (kept as a note, audited). Someone conflicted
        (same line of management, or HR when HR is involved) or away is always refused.
        """
        user = _worker()
        case = _case(user, case_id)
        try:
            service.reassign(user, case, data["assignee"], override_reason=data["reason"])
        except service.WorkflowError as error:
            db.session.rollback()
            _refuse(error)
        return _case_response(user, case)


def _note(note: Any) -> dict[str, Any]:
    return {
        "id": note.id,
        "author": note.author_id,
        "created_at": note.created_at,
        "body": note.body,
    }


def _message(message: Any) -> dict[str, Any]:
    return {
        "id": message.id,
        "from_reporter": message.from_reporter,
        "author": message.author_id,
        "created_at": message.created_at,
        "read_at": message.read_at,
        "read_by_reporter": message.read_by_reporter,
        "feedback": bool(message.is_feedback),
        "body": message.body,
    }


@blp.route("/<int:case_id>/notes")
class CaseNotes(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, NoteListSchema)
    def get(self, case_id: int):  # type: ignore[no-untyped-def]
        """The private notes on the case (never shown to the reporter)."""
        user = _worker()
        case = _case(user, case_id)
        service.record_view(user, case, via="api-notes")
        db.session.commit()
        return {"notes": [_note(n) for n in service.notes_of(case)]}

    @blp.doc(security=SECURITY)
    @blp.arguments(BodySchema)
    @blp.response(201, NoteSchema)
    @blp.alt_response(409, description="The case is closed")
    def post(self, data: dict[str, Any], case_id: int):  # type: ignore[no-untyped-def]
        """Add a private note (assignee only)."""
        user = _worker()
        case = _case(user, case_id)
        try:
            note = service.add_note(user, case, data["body"])
        except service.WorkflowError as error:
            db.session.rollback()
            _refuse(error)
        return _note(note)


@blp.route("/<int:case_id>/messages")
class CaseMessages(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, MessageListSchema)
    def get(self, case_id: int):  # type: ignore[no-untyped-def]
        """The anonymous thread. When the assignee reads it, the reporter's messages are marked
        read."""
        user = _worker()
        case = _case(user, case_id)
        service.record_view(user, case, via="api-messages")
        service.mark_reporter_messages_read(user, case)
        db.session.commit()
        return {"messages": [_message(m) for m in service.messages_of(case)]}

    @blp.doc(security=SECURITY)
    @blp.arguments(MessageCreateSchema)
    @blp.response(201, MessageSchema)
    @blp.alt_response(409, description="The case is closed")
    def post(self, data: dict[str, Any], case_id: int):  # type: ignore[no-untyped-def]
        """Write to the reporter (assignee only). They read it at /follow-up with their receipt
        code; it is sent nowhere else. The status changes only with `mark_in_conversation`;
        `feedback` marks the message as feedback, which stops the feedback clock."""
        user = _worker()
        case = _case(user, case_id)
        try:
            message = service.send_message(
                user,
                case,
                data["body"],
                feedback=data["feedback"],
                mark_in_conversation=data["mark_in_conversation"],
            )
        except service.WorkflowError as error:
            db.session.rollback()
            _refuse(error)
        return _message(message)


@blp.route("/<int:case_id>/feedback-deadline")
class CaseFeedbackDeadline(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(FeedbackExtensionSchema)
    @blp.response(200, CaseSchema)
    @blp.alt_response(409, description="Closed, not open, or feedback already given")
    @blp.alt_response(422, description="A date too early or past six months, or no reason")
    def post(self, data: dict[str, Any], case_id: int):  # type: ignore[no-untyped-def]
        """Extend the feedback deadline (assignee or lead), to at most six months after
        opening, with a reason (kept as a private note, audited)."""
        user = _worker()
        case = _case(user, case_id)
        try:
            service.extend_feedback(user, case, data["until"], data["reason"])
        except service.WorkflowError as error:
            db.session.rollback()
            _refuse(error)
        return _case_response(user, case)


@blp.route("/<int:case_id>/withdrawal")
class CaseWithdrawal(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, CaseSchema)
    @blp.alt_response(409, description="The case is not withdrawn (or already closed)")
    @blp.alt_response(403, description="Only leads undo a withdrawal")
    def delete(self, case_id: int):  # type: ignore[no-untyped-def]
        """Undo a withdrawal (leads only): the case returns to the status it had. A closed
        case stays closed."""
        user = _worker()
        case = _case(user, case_id)
        try:
            service.undo_withdrawal(user, case)
        except service.WorkflowError as error:
            db.session.rollback()
            _refuse(error)
        return _case_response(user, case)


def _progress(case: Case) -> dict[str, Any]:
    progress = service.guide_progress(case)
    guide = progress.guide
    return {
        "available": guide is not None,
        "guide_id": guide.guide_id if guide else case.guide_id,
        "version": guide.version if guide else case.guide_version,
        "language": guide.language if guide else case.guide_language,
        "title": guide.title if guide else None,
        "steps": [
            {
                "key": step.key,
                "text": step.text,
                "section": step.section,
                "level": step.level,
                "ticked": step.ticked,
                "ticked_at": step.ticked_at,
            }
            for step in progress.steps
        ],
        "ticked": progress.ticked,
        "total": progress.total,
        "earlier_ticks": [tick.step_key for tick in progress.earlier],
    }


@blp.route("/<int:case_id>/guide")
class CaseGuide(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, GuideProgressSchema)
    def get(self, case_id: int):  # type: ignore[no-untyped-def]
        """The listening guide for this case as a checklist, with what was ticked and when."""
        user = _worker()
        case = _case(user, case_id)
        service.record_view(user, case, via="api-guide")
        db.session.commit()
        return _progress(case)

    @blp.doc(security=SECURITY)
    @blp.arguments(StepTickSchema)
    @blp.response(200, GuideProgressSchema)
    @blp.alt_response(422, description="Unknown step key")
    def post(self, data: dict[str, Any], case_id: int):  # type: ignore[no-untyped-def]
        """Tick (or, with "ticked": false, untick) one step. Both are audited."""
        user = _worker()
        case = _case(user, case_id)
        try:
            service.set_steps(user, case, [(data["step"], data["ticked"])])
        except service.WorkflowError as error:
            db.session.rollback()
            _refuse(error)
        return _progress(case)
