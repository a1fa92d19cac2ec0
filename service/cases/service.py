"""The Trust Leader's work on a case: who may see and change it, the status workflow, the
listening-guide checklist, private notes, the anonymous thread, and reassignment.

Shared by the pages (service.cases.views) and the JSON API (service.api.cases), so both
enforce exactly the same rules. Refusals are werkzeug HTTP exceptions (403/404) or a
WorkflowError (409, or 422 when it names a field); each change is audited and committed here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from statistics import median
from typing import Any

from flask import current_app
from sqlalchemy import Select, and_, func, or_
from sqlalchemy import case as sql_case
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import Forbidden, NotFound

from service.audit import record
from service.db import Case, GuideTick, Message, Note, Report, User, utcnow
from service.db.base import MAX_ID
from service.db.cases import ESCALATED_OUTCOMES, OPEN_STATUSES, OUTCOMES, RESOLUTIONS, STATUSES
from service.db.people import CASE_WORKER_ROLES
from service.extensions import db
from service.i18n import N_
from service.vocab import LEVELS

log = logging.getLogger(__name__)

# Where a case may go next. Closing is also allowed straight from an open status when the
# resolution is given with it (in_conversation -> resolved_informally -> closed, in one step).
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("acknowledged", "withdrawn"),
    "acknowledged": ("in_conversation", "resolved_informally", "referred_formal", "withdrawn"),
    "in_conversation": ("resolved_informally", "referred_formal", "withdrawn"),
    "resolved_informally": ("closed",),
    "referred_formal": ("closed",),
    "withdrawn": ("closed",),
    "closed": (),
}

# Labels are English and marked for the catalogue; pages translate them where shown (the API
# keeps the codes).
STATUS_LABELS: dict[str, str] = {
    "new": N_("New"),
    "acknowledged": N_("Acknowledged"),
    "in_conversation": N_("In conversation"),
    "resolved_informally": N_("Resolved informally"),
    "referred_formal": N_("Referred to a formal process"),
    "withdrawn": N_("Withdrawn"),
    "closed": N_("Closed"),
}

OUTCOME_LABELS: dict[str, str] = {
    "resolved": N_("Resolved"),
    "mediated": N_("Resolved through mediation"),
    "no_further_action": N_("No further action needed"),
    "withdrawn": N_("Withdrawn by the reporter"),
    "formal_grievance": N_("Became a formal grievance"),
    "legal_claim": N_("Became a legal or tribunal claim"),
    "resigned": N_("The reporter resigned"),
}

BODY_MAX = 5000


class Label(str):
    """A label (one of the dicts here) as the value of a message's placeholder: the page
    translates it with the message. `lower` writes it in lower case in the English message,
    mid-sentence; translations quote the label as it is instead."""

    msgid: str

    def __new__(cls, msgid: str, *, lower: bool = False) -> Label:
        label = super().__new__(cls, msgid.lower() if lower else msgid)
        label.msgid = msgid
        return label


class WorkflowError(ValueError):
    """A change the case's state does not allow (HTTP 409), or, when `field` is set, a value
    that is not acceptable (HTTP 422, with the message shown beside that field).

    `text` is a catalogue text with %(name)s placeholders filled from `params`; `message` is
    it in English (the API's language), `translated()` in the page's language. This code also
    runs outside requests (the worker, the CLI, tests), so it never translates by itself."""

    def __init__(self, text: str, field: str | None = None, **params: Any) -> None:
        self.text = text
        self.params = params
        english = {name: _english(value) for name, value in params.items()}
        self.message = text % english if params else text
        super().__init__(self.message)
        self.field = field

    def translated(self) -> str:
        return in_page_language(self.text, **self.params)

    @property
    def status_code(self) -> int:
        return 422 if self.field else 409


@dataclass(frozen=True)
class Day:
    """A date as the value of a message's placeholder: ISO in English (the API), the page
    language's way of writing dates on a page."""

    value: date


def _english(value: Any) -> Any:
    if isinstance(value, tuple):  # a list of labels
        return ", ".join(map(str, value))
    return value.value.isoformat() if isinstance(value, Day) else value


def in_page_language(text: str, **params: Any) -> str:
    """A catalogue text with its placeholders filled, in the page's language (labels and
    dates among the values too). Needs a request."""
    from flask_babel import gettext

    return gettext(text, **{name: _translated(value) for name, value in params.items()})


def _translated(value: Any) -> Any:
    from flask_babel import gettext

    from service.cases.display import day

    if isinstance(value, tuple):
        return ", ".join(map(_translated, value))
    if isinstance(value, Day):
        return day(value.value)
    if isinstance(value, Label):
        translated = gettext(value.msgid)
        # Untranslated (an English page): as the English message writes it, maybe lower case.
        return str(value) if translated == value.msgid else translated
    return value


def status_label(code: str, *, lower: bool = True) -> Label:
    """A status as a message's placeholder value: lower case mid-sentence in English."""
    return Label(STATUS_LABELS.get(code, code), lower=lower)


def status_in_sentence(code: str) -> str:
    """A status as a page writes it mid-sentence: 'in conversation', 'Im Gespräch'."""
    return str(_translated(status_label(code)))


# --- access ---------------------------------------------------------------------------------


def may_work_cases(user: User | None) -> bool:
    return user is not None and user.active and user.role in CASE_WORKER_ROLES


def is_lead(user: User) -> bool:
    return user.role == "lead"


def can_view(user: User, case: Case) -> bool:
    """Leads see every case; a Trust Leader only the cases assigned to them."""
    if not may_work_cases(user):
        return False
    return is_lead(user) or case.assignee_id == user.id


def load_case_for(user: User, case_id: int, *, via: str = "page") -> Case:
    """The case, if this user may open it. A refusal is audited (who tried which case) and
    answered 403 whether the case belongs to someone else or the role never sees cases."""
    case = db.session.get(Case, case_id) if 0 < case_id <= MAX_ID else None
    if case is None:
        raise NotFound(N_("There is no case with that number."))
    if not can_view(user, case):
        record("case.access_denied", case_id=case.id, actor_id=user.id, role=user.role, via=via)
        db.session.commit()
        raise Forbidden(N_("You may not open this case."))
    return case


def require_assignee(user: User, case: Case) -> None:
    """Only the assigned Trust Leader works a case; leads read it and may reassign it."""
    if case.assignee_id != user.id:
        raise Forbidden(
            N_(
                "Only the Trust Leader assigned to this case can change it. "
                "Reassign it to yourself first."
            )
            if is_lead(user)
            else N_("Only the Trust Leader assigned to this case can change it.")
        )


def require_workable(case: Case) -> None:
    if case.status == "closed" or case.report.text_removed_on is not None:
        raise WorkflowError(N_("This case is closed; it can be read but not changed."))


def record_view(user: User, case: Case, via: str = "page") -> None:
    record("case.viewed", case_id=case.id, actor_id=user.id, via=via)


# --- the queue ------------------------------------------------------------------------------


LEVEL_RANK = {level: rank for rank, level in enumerate(LEVELS)}
QUEUE_SCOPES = ("attention", "mine", "unassigned", "overdue", "all")
SCOPE_LABELS = {
    "attention": N_("Mine, unassigned and overdue"),
    "mine": N_("Assigned to me"),
    "unassigned": N_("Unassigned"),
    "overdue": N_("Overdue"),
    "all": N_("All cases"),
}


def deadline_column():  # type: ignore[no-untyped-def]
    """The next deadline: acknowledge-by while new, feedback-by while open, none once resolved."""
    return sql_case(
        (Case.status == "new", Case.ack_due_at),
        (
            and_(Case.status.in_(OPEN_STATUSES), Case.feedback_given_at.is_(None)),
            Case.feedback_due_at,
        ),
        else_=None,
    )


def _overdue_clause(now: datetime):  # type: ignore[no-untyped-def]
    return and_(Case.status.in_(OPEN_STATUSES), deadline_column() < now)


def _unread_subquery():  # type: ignore[no-untyped-def]
    return (
        db.select(Message.case_id, func.count(Message.id).label("unread"))
        .where(Message.from_reporter.is_(True), Message.read_at.is_(None))
        .group_by(Message.case_id)
        .subquery()
    )


@dataclass(frozen=True)
class QueueFilters:
    scope: str = "mine"  # for leads; a Trust Leader always sees only their own
    status: str | None = None  # a status, "open", or None for any
    level: str | None = None
    category: str | None = None
    assignee: int | str | None = None  # a user id, "none" for unassigned, or None for any


@dataclass(frozen=True)
class QueueRow:
    case: Case
    unread: int
    deadline: datetime | None
    overdue: bool


def queue_select(user: User, filters: QueueFilters, now: datetime) -> Select[Any]:
    """Cases this user may list, highest risk first, then the nearest deadline."""
    unread = _unread_subquery()
    deadline = deadline_column()
    statement = (
        db.select(Case, func.coalesce(unread.c.unread, 0))
        .join(Case.report)
        .outerjoin(unread, unread.c.case_id == Case.id)
    )
    if is_lead(user):
        scope = filters.scope if filters.scope in QUEUE_SCOPES else "attention"
        if scope == "mine":
            statement = statement.where(Case.assignee_id == user.id)
        elif scope == "unassigned":
            statement = statement.where(Case.assignee_id.is_(None))
        elif scope == "overdue":
            statement = statement.where(_overdue_clause(now))
        elif scope == "attention":
            statement = statement.where(
                or_(
                    Case.assignee_id == user.id,
                    Case.assignee_id.is_(None),
                    _overdue_clause(now),
                )
            )
    else:
        statement = statement.where(Case.assignee_id == user.id)

    if filters.status == "open":
        statement = statement.where(Case.status.in_(OPEN_STATUSES))
    elif filters.status:
        statement = statement.where(Case.status == filters.status)
    if filters.level:
        statement = statement.where(Report.risk_level == filters.level)
    if filters.category:
        statement = statement.where(Report.category == filters.category)
    if filters.assignee == "none":
        statement = statement.where(Case.assignee_id.is_(None))
    elif isinstance(filters.assignee, int):
        statement = statement.where(Case.assignee_id == filters.assignee)

    level_rank = sql_case(LEVEL_RANK, value=Report.risk_level, else_=0)
    return statement.order_by(
        level_rank.desc(),
        deadline.is_(None),  # cases with a deadline first
        deadline.asc(),
        Case.id.asc(),
    )


def _row(case: Case, unread: int, now: datetime) -> QueueRow:
    deadline = deadline_of(case)
    return QueueRow(
        case=case,
        unread=int(unread or 0),
        deadline=deadline,
        overdue=deadline is not None and deadline < now,
    )


def list_queue(
    user: User, filters: QueueFilters, page: int = 1, per_page: int = 50
) -> tuple[list[QueueRow], int]:
    """One page of the user's queue and the total number of matching cases."""
    now = utcnow()
    statement = queue_select(user, filters, now)
    total = db.session.scalar(
        db.select(func.count()).select_from(statement.order_by(None).subquery())
    )
    rows = db.session.execute(statement.limit(per_page).offset((page - 1) * per_page)).all()
    return [_row(case, unread, now) for case, unread in rows], int(total or 0)


def deadline_of(case: Case) -> datetime | None:
    """Acknowledge-by while new; feedback-by while open until feedback is given."""
    if case.status == "new":
        return case.ack_due_at
    if case.status in OPEN_STATUSES and case.feedback_given_at is None:
        return case.feedback_due_at
    return None


def unread_count(case: Case) -> int:
    return int(
        db.session.scalar(
            db.select(func.count(Message.id)).where(
                Message.case_id == case.id,
                Message.from_reporter.is_(True),
                Message.read_at.is_(None),
            )
        )
        or 0
    )


# --- the status workflow ---------------------------------------------------------------------


def allowed_transitions(case: Case) -> tuple[str, ...]:
    return TRANSITIONS.get(case.status, ())


def can_close(case: Case) -> bool:
    """Closing is possible from a resolution, or from an open status with a resolution."""
    return case.status in RESOLUTIONS or bool(closing_resolutions(case))


def closing_resolutions(case: Case) -> tuple[str, ...]:
    """The resolutions that may be given when closing straight from the current status."""
    if case.status in OPEN_STATUSES:
        return tuple(s for s in TRANSITIONS[case.status] if s in RESOLUTIONS)
    return ()


def _refuse_transition(case: Case, target: str) -> WorkflowError:
    """Never for a closed case: transition() refuses any change to one before asking here, so
    there is always somewhere to go."""
    allowed = [status_label(s, lower=False) for s in allowed_transitions(case)]
    if closing_resolutions(case):  # open: closing with the resolution in one step
        allowed.append(Label(N_("Closed (with its resolution)")))
    return WorkflowError(
        N_("A case that is %(status)s cannot become %(target)s. It can move to: %(next)s."),
        status=status_label(case.status),
        target=status_label(target),
        next=tuple(allowed),
    )


def transition(
    user: User,
    case: Case,
    target: str,
    *,
    outcome: str | None = None,
    resolution: str | None = None,
    closing_message: str | None = None,
) -> None:
    """Move the case along the workflow. Closing needs an outcome, and from an open status a
    resolution too; the outcome becomes the classifier's escalation label. Closing also needs
    the reporter to have been given feedback, unless they withdrew: `closing_message` is sent
    to them as feedback, the last thing they read at follow-up. Commits."""
    require_assignee(user, case)
    if target not in STATUSES:
        raise WorkflowError(N_("Unknown status %(status)s."), "status", status=repr(target))
    if case.status == "closed" or case.report.text_removed_on is not None:
        raise WorkflowError(N_("This case is closed; it can no longer change."))
    if target != "closed":
        if outcome:
            raise WorkflowError(N_("Give an outcome only when closing the case."), "outcome")
        if resolution:
            raise WorkflowError(N_("Give a resolution only when closing the case."), "resolution")
        if closing_message:
            raise WorkflowError(
                N_("Write a closing message only when closing the case."), "closing_message"
            )
        if target not in allowed_transitions(case):
            raise _refuse_transition(case, target)
        _move(user, case, target)
        db.session.commit()
        return

    problem = closing_problem(case, outcome, resolution, closing_message)
    if problem is not None:
        raise problem
    if case.status in OPEN_STATUSES:
        assert resolution is not None  # closing_problem otherwise
        _move(user, case, resolution)
    if closing_message and closing_message.strip():
        _add_staff_message(user, case, closing_message, feedback=True, closing=True)
    case.outcome = outcome
    case.escalated = outcome in ESCALATED_OUTCOMES
    _move(user, case, "closed")
    db.session.commit()


def closing_problem(
    case: Case,
    outcome: str | None,
    resolution: str | None,
    closing_message: str | None = None,
) -> WorkflowError | None:
    """Why the case cannot be closed with these answers, or None: checked before a closing is
    confirmed, and again when it is made."""
    if outcome not in OUTCOMES:
        return WorkflowError(N_("Choose what finally happened before closing."), "outcome")
    if case.status in OPEN_STATUSES:
        if resolution is None:
            return WorkflowError(
                N_("Choose how the case was resolved before closing it."), "resolution"
            )
        if resolution not in closing_resolutions(case):
            return WorkflowError(
                N_("From %(status)s the resolution can be: %(choices)s."),
                "resolution",
                status=status_label(case.status),
                choices=tuple(status_label(s, lower=False) for s in closing_resolutions(case)),
            )
    elif resolution and resolution != case.status:
        return WorkflowError(
            N_("This case was already resolved as %(status)s."),
            "resolution",
            status=status_label(case.status),
        )
    message = (closing_message or "").strip()
    if len(message) > BODY_MAX:
        return WorkflowError(
            N_("Keep it under %(max)d characters."), "closing_message", max=BODY_MAX
        )
    # Art. 9(1)(f): the reporter is told what was done, unless they withdrew.
    withdrew = "withdrawn" in (case.status, resolution, outcome)
    if not message and case.feedback_given_at is None and not withdrew:
        return WorkflowError(
            N_(
                "The reporter has not been given feedback yet. Write them a closing message: "
                "it is what they read when they next follow up."
            ),
            "closing_message",
        )
    return None


def _move(user: User, case: Case, target: str) -> None:
    from service.analytics.rollups import count_acknowledgement, count_resolution

    previous = case.status
    case.status = target
    now = utcnow()
    if target == "acknowledged" and case.acknowledged_at is None:
        case.acknowledged_at = now
        count_acknowledgement(case)
    if target in RESOLUTIONS:
        count_resolution(case, target)
    detail: dict[str, Any] = {"from_status": previous, "to_status": target}
    if target == "closed":
        case.closed_at = now
        detail.update(outcome=case.outcome, escalated=case.escalated)
    record("case.status_changed", case_id=case.id, actor_id=user.id, **detail)


# --- the listening guide ---------------------------------------------------------------------


def guide_for(case: Case):  # type: ignore[no-untyped-def]
    """The listening guide for the case's category and current level, in the language recorded
    on the case (English for cases from before, or if that translation is no longer shipped),
    or None if the guide library cannot be loaded (the case stays readable without it)."""
    try:
        from service.guides import get_guides

        library = get_guides()
        language = case.guide_language if case.guide_language in library.languages else "en"
        return library.for_case(case.report.category, case.report.risk_level, language)
    except Exception as error:  # noqa: BLE001 - a broken guide library must not hide the case
        log.warning("listening guide unavailable for a case: %s", type(error).__name__)
        return None


def _reattach_guide(case: Case, assignee: User) -> None:
    """On reassignment the guide's language is chosen again for the new assignee; the recorded
    version changes only with the language (or when none was recorded yet)."""
    try:
        from service.guides import get_guides

        library = get_guides()
    except Exception as error:  # noqa: BLE001 - reassigning must not wait for the guides
        log.warning("listening guide unavailable for a case: %s", type(error).__name__)
        return
    language = library.language_for(case.report.language, assignee.languages or ())
    if case.guide_id is not None and (case.guide_language or "en") == language:
        return
    guide = library.for_case(case.report.category, case.report.risk_level, language)
    case.guide_id, case.guide_version = guide.guide_id, guide.version
    case.guide_language = guide.language


def ticks_of(case: Case) -> dict[str, GuideTick]:
    rows = db.session.execute(
        db.select(GuideTick).where(GuideTick.case_id == case.id).order_by(GuideTick.ticked_at)
    ).scalars()
    return {tick.step_key: tick for tick in rows}


def _set_step(user: User, case: Case, step_key: str, ticked: bool, known: frozenset[str]) -> bool:
    existing = db.session.execute(
        db.select(GuideTick).where(GuideTick.case_id == case.id, GuideTick.step_key == step_key)
    ).scalar_one_or_none()
    if ticked and existing is None:
        if step_key not in known:
            raise WorkflowError(N_("That step is not part of this case's guide."), "step")
        try:
            with db.session.begin_nested():
                db.session.add(GuideTick(case_id=case.id, step_key=step_key, ticked_by_id=user.id))
        except IntegrityError:  # ticked at the same moment elsewhere: already done
            return False
        record("guide.step_ticked", case_id=case.id, actor_id=user.id, step=step_key)
        return True
    if not ticked and existing is not None:
        db.session.delete(existing)
        record(
            "guide.step_unticked",
            case_id=case.id,
            actor_id=user.id,
            step=step_key,
            ticked_at=existing.ticked_at.isoformat(timespec="seconds"),
        )
        return True
    if not ticked and step_key not in known:
        raise WorkflowError(N_("That step is not part of this case's guide."), "step")
    return False


def set_steps(user: User, case: Case, changes: Iterable[tuple[str, bool]]) -> int:
    """Tick or untick guide steps ((key, ticked) pairs); returns how many changed. Commits."""
    require_assignee(user, case)
    require_workable(case)
    guide = guide_for(case)
    if guide is None:
        raise WorkflowError(N_("The listening guide is not available right now; try again later."))
    known = frozenset(guide.step_keys())
    changed = 0
    for step_key, ticked in changes:
        changed += _set_step(user, case, step_key, ticked, known)
    db.session.commit()
    return changed


@dataclass(frozen=True)
class StepProgress:
    key: str
    text: str
    section: str
    level: str | None
    ticked_at: datetime | None

    @property
    def ticked(self) -> bool:
        return self.ticked_at is not None


@dataclass(frozen=True)
class GuideProgress:
    guide: Any  # ResolvedGuide | None
    steps: list[StepProgress] = field(default_factory=list)
    # Ticks on steps the current guide no longer has (re-worded guide, changed level).
    earlier: list[GuideTick] = field(default_factory=list)

    @property
    def ticked(self) -> int:
        return sum(step.ticked for step in self.steps)

    @property
    def sections(self) -> list[tuple[str, list[StepProgress]]]:
        """The steps grouped by section, in the guide's order."""
        grouped: dict[str, list[StepProgress]] = {}
        for step in self.steps:
            grouped.setdefault(step.section, []).append(step)
        return list(grouped.items())

    @property
    def total(self) -> int:
        return len(self.steps)


def guide_progress(case: Case) -> GuideProgress:
    guide = guide_for(case)
    ticks = ticks_of(case)
    if guide is None:
        return GuideProgress(guide=None, earlier=list(ticks.values()))
    steps = []
    for section in guide.sections:
        for step in section.steps:
            tick = ticks.pop(step.key, None)
            steps.append(
                StepProgress(
                    key=step.key,
                    text=step.text,
                    section=section.label,
                    level=getattr(step, "level", None),
                    ticked_at=tick.ticked_at if tick else None,
                )
            )
    return GuideProgress(guide=guide, steps=steps, earlier=list(ticks.values()))


# --- notes and the anonymous thread ---------------------------------------------------------


def _clean_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise WorkflowError(N_("Write something first."), "body")
    if len(body) > BODY_MAX:
        raise WorkflowError(N_("Keep it under %(max)d characters."), "body", max=BODY_MAX)
    if "\x00" in body:
        raise WorkflowError(N_("Must not contain NUL characters."), "body")
    return body


def notes_of(case: Case) -> list[Note]:
    return list(
        db.session.execute(
            db.select(Note).where(Note.case_id == case.id).order_by(Note.id)
        ).scalars()
    )


def add_note(user: User, case: Case, body: str) -> Note:
    """A private note; the reporter never sees it. Commits."""
    require_assignee(user, case)
    require_workable(case)
    note = Note(case_id=case.id, author_id=user.id, body=_clean_body(body))
    db.session.add(note)
    db.session.flush()
    record("note.added", case_id=case.id, actor_id=user.id, note_id=note.id)
    db.session.commit()
    return note


def messages_of(case: Case) -> list[Message]:
    return list(
        db.session.execute(
            db.select(Message).where(Message.case_id == case.id).order_by(Message.id)
        ).scalars()
    )


def mark_reporter_messages_read(user: User, case: Case) -> int:
    """When the assignee opens the thread, the reporter's messages count as read."""
    if case.assignee_id != user.id:
        return 0
    result = db.session.execute(
        db.update(Message)
        .where(
            Message.case_id == case.id,
            Message.from_reporter.is_(True),
            Message.read_at.is_(None),
        )
        .values(read_at=utcnow())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def send_message(
    user: User,
    case: Case,
    body: str,
    *,
    feedback: bool = False,
    mark_in_conversation: bool = False,
) -> Message:
    """Write to the anonymous reporter, who reads it at /follow-up with the receipt code. It is
    sent nowhere else. The status moves only when the Trust Leader asks for it
    (`mark_in_conversation`, through acknowledged if the case is new); a message marked as
    `feedback` stops the feedback clock. Commits."""
    require_assignee(user, case)
    require_workable(case)
    if mark_in_conversation and case.status not in ("new", "acknowledged", "in_conversation"):
        raise WorkflowError(
            N_("A case that is %(status)s cannot go back into conversation."),
            "mark_in_conversation",
            status=status_label(case.status),
        )
    message = _add_staff_message(user, case, body, feedback=feedback)
    if mark_in_conversation:
        if case.status == "new":
            _move(user, case, "acknowledged")
        if case.status == "acknowledged":
            _move(user, case, "in_conversation")
    db.session.commit()
    return message


def _add_staff_message(
    user: User, case: Case, body: str, *, feedback: bool, closing: bool = False
) -> Message:
    message = Message(
        case_id=case.id,
        from_reporter=False,
        author_id=user.id,
        body=_clean_body(body),
        is_feedback=feedback,
    )
    db.session.add(message)
    db.session.flush()
    record(
        "message.to_reporter",
        case_id=case.id,
        actor_id=user.id,
        message_id=message.id,
        feedback=feedback,
        closing=closing,
    )
    if feedback and case.feedback_given_at is None:
        case.feedback_given_at = message.created_at or utcnow()
        record("case.feedback_given", case_id=case.id, actor_id=user.id, message_id=message.id)
    return message


# --- the feedback deadline ------------------------------------------------------------------


def feedback_extension_limit(case: Case) -> date:
    """The latest date feedback may be moved to: six months after opening by default."""
    max_days = current_app.config["DEFUSE"].feedback_max_days
    return (case.opened_at + timedelta(days=max_days)).date()


def extend_feedback(user: User, case: Case, until: date | None, reason: str) -> None:
    """Move the feedback deadline to `until` (at most six months after opening), for a reason
    kept as a private note on the case and audited. The assignee or a lead may. Commits."""
    if not (is_lead(user) or case.assignee_id == user.id):
        raise Forbidden(N_("Only the assigned Trust Leader or a lead can extend the deadline."))
    require_workable(case)
    if case.status not in OPEN_STATUSES:
        raise WorkflowError(N_("Only an open case has a feedback deadline to extend."))
    if case.feedback_given_at is not None:
        raise WorkflowError(N_("The reporter has already been given feedback on this case."))
    current = case.feedback_due_at.date()
    limit = feedback_extension_limit(case)
    if until is None:
        raise WorkflowError(N_("Choose the new date feedback is due by."), "until")
    if until <= current:
        raise WorkflowError(
            N_("Choose a date after the current deadline (%(date)s)."),
            "until",
            date=Day(current),
        )
    if until > limit:
        raise WorkflowError(
            N_("Feedback can be extended to %(date)s at the latest (six months)."),
            "until",
            date=Day(limit),
        )
    reason = (reason or "").strip()
    if not reason:
        raise WorkflowError(N_("Say why the reporter must wait longer."), "reason")
    note = Note(
        case_id=case.id,
        author_id=user.id,
        body=_clean_body(
            f"Feedback deadline extended from {current.isoformat()} to {until.isoformat()}. "
            f"Reason: {reason}"
        ),
    )
    db.session.add(note)
    db.session.flush()
    previous = case.feedback_due_at
    # Same hour of the day as before: deadlines count from the opening hour.
    case.feedback_due_at = datetime.combine(until, previous.time())
    case.feedback_warned_at = None  # warn again before the new date
    record(
        "case.feedback_extended",
        case_id=case.id,
        actor_id=user.id,
        from_due=previous.isoformat(timespec="hours"),
        to_due=case.feedback_due_at.isoformat(timespec="hours"),
        note_id=note.id,
    )
    db.session.commit()


def _opened_between(
    statement: Select[Any],
    opened_since: datetime | None,
    opened_before: datetime | None,
    unit_ids: Iterable[int] | None,
) -> Select[Any]:
    if opened_since is not None:
        statement = statement.where(Case.opened_at >= opened_since)
    if opened_before is not None:
        statement = statement.where(Case.opened_at < opened_before)
    if unit_ids is not None:
        statement = statement.join(Report, Report.id == Case.report_id).where(
            Report.org_unit_id.in_(list(unit_ids))
        )
    return statement


def median_days_to_feedback(
    opened_since: datetime | None = None,
    opened_before: datetime | None = None,
    unit_ids: Iterable[int] | None = None,
) -> float | None:
    """Median whole days from opening to the first feedback, over cases opened in
    [`opened_since`, `opened_before`) (all by default) about the given org units (all by
    default); None below the anonymity threshold, so a single case's timing is never shown.
    For the analytics headline. Days are counted in SQL: only the day counts are read."""
    if db.session.get_bind().dialect.name == "postgresql":
        seconds = func.extract("epoch", Case.feedback_given_at - Case.opened_at)
        days = func.floor(seconds / 86400)
    else:
        days = func.floor(func.julianday(Case.feedback_given_at) - func.julianday(Case.opened_at))
    statement = _opened_between(
        db.select(days.label("days"), func.count()).where(Case.feedback_given_at.is_not(None)),
        opened_since,
        opened_before,
        unit_ids,
    ).group_by(days)
    histogram = [(int(d), int(n)) for d, n in db.session.execute(statement).all()]
    if sum(n for _, n in histogram) < current_app.config["DEFUSE"].anonymity_k:
        return None
    return float(median([d for d, n in histogram for _ in range(n)]))


def overdue_cases(
    now: datetime,
    opened_since: datetime | None = None,
    opened_before: datetime | None = None,
    unit_ids: Iterable[int] | None = None,
) -> tuple[int, int]:
    """(cases, of which overdue now) among cases opened in [`opened_since`, `opened_before`)
    about the given org units: open and past their acknowledge-by or feedback-by deadline, as
    in the queue's "overdue" view. For the analytics headline, which shows them only above
    the anonymity threshold."""
    statement = _opened_between(
        db.select(func.count(), func.count().filter(_overdue_clause(now))).select_from(Case),
        opened_since,
        opened_before,
        unit_ids,
    )
    cases, overdue = db.session.execute(statement).one()
    return int(cases or 0), int(overdue or 0)


# --- undoing a withdrawal -------------------------------------------------------------------


def status_before_withdrawal(case: Case) -> str:
    """The status the case had when it was marked withdrawn, from the audit log."""
    from service.db import AuditEvent

    events = db.session.execute(
        db.select(AuditEvent)
        .where(AuditEvent.case_id == case.id, AuditEvent.action == "case.status_changed")
        .order_by(AuditEvent.id.desc())
    ).scalars()
    for event in events:
        detail = event.detail or {}
        if detail.get("to_status") == "withdrawn" and detail.get("from_status") in OPEN_STATUSES:
            return str(detail["from_status"])
    return "acknowledged" if case.acknowledged_at else "new"


def undo_withdrawal(lead: User, case: Case) -> str:
    """A lead puts a case marked withdrawn by mistake back where it was. A closed case stays
    closed: closing recorded its outcome as the classifier's label. Commits."""
    from service.analytics.rollups import uncount_resolution

    if not is_lead(lead):
        raise Forbidden(N_("Only a lead can undo a withdrawal."))
    require_workable(case)
    if case.status != "withdrawn":
        raise WorkflowError(
            N_("Only a case marked as withdrawn (and not yet closed) can be reopened.")
        )
    previous = status_before_withdrawal(case)
    case.status = previous
    uncount_resolution(case, "withdrawn")
    record(
        "case.status_changed",
        case_id=case.id,
        actor_id=lead.id,
        from_status="withdrawn",
        to_status=previous,
        undo=True,
    )
    db.session.commit()
    return previous


# --- reassignment ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AssignmentOption:
    user: User
    open_cases: int
    reason: str | None  # why they may not take the case; None if they may

    @property
    def eligible(self) -> bool:
        return self.reason is None


def _case_to_route(case: Case):  # type: ignore[no-untyped-def]
    from service.routing.choose import CaseToRoute

    report = case.report
    return CaseToRoute(
        case_id=case.id,
        org_unit_id=report.org_unit_id,
        category=report.category,
        language=report.language,
        level=report.risk_level,
        involved=tuple(report.involved or ()),
        previous_assignee_id=None,  # a lead's explicit choice; only automatic re-routing skips
    )


def assignment_options(case: Case, today: date | None = None) -> list[AssignmentOption]:
    """Every active case worker, with the reason each one may not take this case."""
    from service.routing.choose import exclusion_reason
    from service.routing.service import load_candidates, load_org_tree

    today = today or utcnow().date()
    tree = load_org_tree()
    route = _case_to_route(case)
    candidates = {c.id: c for c in load_candidates()}
    users = db.session.execute(
        db.select(User).where(User.id.in_(list(candidates))).order_by(User.name, User.id)
    ).scalars()
    options = []
    for user in users:
        candidate = candidates[user.id]
        reason = (
            "already assigned"
            if user.id == case.assignee_id
            else exclusion_reason(route, candidate, tree, today)
        )
        options.append(AssignmentOption(user, len(candidate.open_levels), reason))
    return options


# Reasons a lead may override with a recorded reason. A conflict of interest never (nor
# what stops anyone taking cases at all: away, inactive, capacity 0, no org unit).
OVERRIDABLE_REASONS = frozenset(
    {"language", "at capacity", "not trained for category", "previous assignee"}
)
# How the case page words each reason (service.routing.choose), translated where shown.
REASON_LABELS = {
    "already assigned": N_("already assigned"),
    "inactive": N_("inactive"),
    "away": N_("away"),
    "no categories": N_("no categories"),
    "no languages": N_("no languages"),
    "capacity 0": N_("capacity 0"),
    "no org unit": N_("no org unit"),
    "retired org unit": N_("retired org unit"),
    "not trained for category": N_("not trained for category"),
    "language": N_("language"),
    "at capacity": N_("at capacity"),
    "previous assignee": N_("previous assignee"),
    "conflict of interest: line of management": N_("conflict of interest: line of management"),
    "conflict of interest: involved": N_("conflict of interest: involved"),
}


def reassign(lead: User, case: Case, assignee_id: int, override_reason: str | None = None) -> User:
    """A lead hands the case to an eligible Trust Leader (themselves included). One without
    the language, untrained or full may be chosen anyway with `override_reason`, kept as a
    private note and audited; a conflicted or away one is refused with the reason. Commits."""
    from service.notify import notify

    if not is_lead(lead):
        raise Forbidden(N_("Only a lead can reassign cases."))
    if case.status == "closed":
        raise WorkflowError(N_("A closed case cannot be reassigned."))
    if assignee_id == case.assignee_id:
        raise WorkflowError(N_("The case is already assigned to that Trust Leader."), "assignee")
    option = next((o for o in assignment_options(case) if o.user.id == assignee_id), None)
    if option is None:
        raise WorkflowError(N_("Choose an active Trust Leader or lead."), "assignee")
    who = option.user.name or option.user.email
    override_reason = (override_reason or "").strip()
    if option.reason is not None and option.reason not in OVERRIDABLE_REASONS:
        raise WorkflowError(
            N_("%(name)s cannot take this case: %(reason)s."),
            "assignee",
            name=who,
            reason=Label(option.reason),
        )
    if option.reason is not None and not override_reason:
        raise WorkflowError(
            N_("%(name)s is not eligible (%(reason)s). To assign the case anyway, say why."),
            "reason",
            name=who,
            reason=Label(option.reason),
        )
    override = option.reason
    from service.routing.service import take_routing_round

    # A routing job still queued for this round then finds it stale; one deciding right now
    # has taken it first, and this reassignment refuses.
    if not take_routing_round(case.id, case.routing_round):
        db.session.rollback()
        raise WorkflowError(
            N_("The case was routed just now; reload it and try again."), "assignee"
        )
    db.session.refresh(case, ["routing_round"])
    now = utcnow()
    previous = case.assignee_id
    assignee = option.user
    case.assignee_id = assignee.id
    case.routing_state = "assigned"
    case.assigned_at = now
    assignee.last_assigned_at = now
    _reattach_guide(case, assignee)
    # The case needs a speaker of its language until it is with one.
    if case.report.language in (assignee.languages or ()):
        case.needs_language = None
    elif override == "language":
        case.needs_language = case.report.language
    detail: dict[str, Any] = {"from_assignee": previous, "to_assignee": assignee.id}
    if override:
        note = Note(
            case_id=case.id,
            author_id=lead.id,
            body=_clean_body(
                f"Assigned to {who} although not eligible ({override}): {override_reason}"
            ),
        )
        db.session.add(note)
        db.session.flush()
        detail.update(override=override, note_id=note.id)
    record("case.reassigned", case_id=case.id, actor_id=lead.id, **detail)
    notify(assignee, "assigned", case.id, "A case has been assigned to you")
    db.session.commit()
    return assignee


# --- reading the risk explanation -----------------------------------------------------------


@dataclass(frozen=True)
class FiredRule:
    id: str
    title: str
    summary: str  # plain language for the Trust Leader; the title when a rule has none
    weight: float | None
    min_level: str | None
    matched: list[str]
    tags: tuple[str, ...] = ()

    @property
    def calming(self) -> bool:
        """A rule written to lower the risk (its pack weight is negative), whatever weight
        fitting later gave it."""
        return "deescalation" in self.tags


@dataclass(frozen=True)
class ModelTerm:
    term: str
    weight: float | None


@dataclass(frozen=True)
class ExplanationView:
    """report.risk_explanation (written by service/engine/risk.py), read defensively: any part
    may be missing or malformed (older rule packs, retention) without breaking the page."""

    score: float | None = None
    raw_score: float | None = None
    base_source: str | None = None
    base_probability: float | None = None
    rules: list[FiredRule] = field(default_factory=list)
    model_version: str | None = None
    model_probability: float | None = None
    terms: list[ModelTerm] = field(default_factory=list)
    hotspot_applied: bool = False
    hotspot_boost: float | None = None
    forced_level: str | None = None
    forced_by: list[str] = field(default_factory=list)
    rule_pack_version: str | None = None

    @property
    def empty(self) -> bool:
        return self.score is None and not self.rules and not self.terms


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _strings(value: Any) -> list[str]:
    if not isinstance(value, list | tuple):
        return []
    return [str(item) for item in value if isinstance(item, str | int | float)]


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def explanation_view(explanation: Any) -> ExplanationView:
    data = _dict(explanation)
    rules = []
    for rule in data.get("rules") or []:
        rule = _dict(rule)
        if not rule:
            continue
        rule_id = _text(rule.get("id")) or "rule"
        title = _text(rule.get("title")) or rule_id
        rules.append(
            FiredRule(
                id=rule_id,
                title=title,
                summary=_text(rule.get("summary")) or title,
                weight=_number(rule.get("weight")),
                min_level=_text(rule.get("min_level")),
                matched=_strings(rule.get("matched")),
                tags=tuple(_strings(rule.get("tags"))),
            )
        )
    model = _dict(data.get("model"))
    terms = [
        ModelTerm(term=str(item["term"]), weight=_number(item.get("weight")))
        for item in (model.get("top_terms") or [])
        if isinstance(item, dict) and _text(item.get("term"))
    ]
    base = _dict(data.get("base"))
    hotspot = _dict(data.get("hotspot"))
    forced = _dict(data.get("forced_level"))
    return ExplanationView(
        score=_number(data.get("score")),
        raw_score=_number(data.get("raw_score")),
        base_source=_text(base.get("source")),
        base_probability=_number(base.get("probability")),
        rules=rules,
        model_version=_text(model.get("version")) or _text(data.get("model_version")),
        model_probability=_number(model.get("probability")),
        terms=terms,
        hotspot_applied=bool(hotspot.get("applied")),
        hotspot_boost=_number(hotspot.get("boost")),
        forced_level=_text(forced.get("level")),
        forced_by=_strings(forced.get("by")),
        rule_pack_version=_text(data.get("rule_pack_version")),
    )
