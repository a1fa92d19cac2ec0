"""Moving a case and closing it: each refusal as the Trust Leader reads it (the whole message,
in English for the API and in the page's language), the field it is shown beside, what a
closing accepts at its boundaries, and the audit trail a move leaves."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime

import pytest
from flask import Flask, g
from sqlalchemy import select

from service.cases import service
from service.cases.service import WorkflowError
from service.db import AuditEvent, Message, utcnow
from service.extensions import db
from tests.cases.support import case_for

CLOSING = "Thank you for raising this. We talked with the team and agreed changes."
NO_FEEDBACK_YET = (
    "The reporter has not been given feedback yet. Write them a closing message: "
    "it is what they read when they next follow up."
)
OPEN_RESOLUTIONS = "Resolved informally, Referred to a formal process, Withdrawn"


@pytest.fixture
def case(org, leader):  # type: ignore[no-untyped-def]
    return case_for(org, leader)


@contextmanager
def page_in(app: Flask, language: str) -> Iterator[None]:
    """A request whose page is in this language (the locale Flask-Babel caches is forgotten
    on the way in and out: the request shares the test's app context)."""
    g.pop("_flask_babel", None)
    with app.test_request_context("/", headers={"Accept-Language": language}):
        yield
    g.pop("_flask_babel", None)


def status_changes(case_id: int) -> list[AuditEvent]:
    return list(
        db.session.execute(
            select(AuditEvent)
            .where(AuditEvent.case_id == case_id, AuditEvent.action == "case.status_changed")
            .order_by(AuditEvent.id)
        ).scalars()
    )


# status, outcome, resolution, closing message, feedback already given -> message, field
CLOSING_REFUSALS = [
    (
        "acknowledged",
        None,
        "resolved_informally",
        CLOSING,
        False,
        "Choose what finally happened before closing.",
        "outcome",
    ),
    (
        "resolved_informally",
        "finished",
        None,
        CLOSING,
        False,
        "Choose what finally happened before closing.",
        "outcome",
    ),
    (
        "acknowledged",
        "resolved",
        None,
        CLOSING,
        False,
        "Choose how the case was resolved before closing it.",
        "resolution",
    ),
    (
        "new",
        "resolved",
        "resolved_informally",
        CLOSING,
        False,
        "From new the resolution can be: Withdrawn.",
        "resolution",
    ),
    (
        "acknowledged",
        "resolved",
        "closed",
        CLOSING,
        False,
        f"From acknowledged the resolution can be: {OPEN_RESOLUTIONS}.",
        "resolution",
    ),
    (
        "in_conversation",
        "resolved",
        "new",
        CLOSING,
        False,
        f"From in conversation the resolution can be: {OPEN_RESOLUTIONS}.",
        "resolution",
    ),
    (
        "resolved_informally",
        "resolved",
        "referred_formal",
        CLOSING,
        False,
        "This case was already resolved as resolved informally.",
        "resolution",
    ),
    (
        "referred_formal",
        "formal_grievance",
        "withdrawn",
        CLOSING,
        False,
        "This case was already resolved as referred to a formal process.",
        "resolution",
    ),
    (
        "withdrawn",
        "withdrawn",
        "resolved_informally",
        None,
        False,
        "This case was already resolved as withdrawn.",
        "resolution",
    ),
    (
        "resolved_informally",
        "resolved",
        None,
        "x" * 5001,
        False,
        "Keep it under 5000 characters.",
        "closing_message",
    ),
    (
        "resolved_informally",
        "resolved",
        None,
        "x" * 5001,
        True,
        "Keep it under 5000 characters.",
        "closing_message",
    ),
    ("resolved_informally", "resolved", None, None, False, NO_FEEDBACK_YET, "closing_message"),
    (
        "in_conversation",
        "mediated",
        "resolved_informally",
        " \n ",
        False,
        NO_FEEDBACK_YET,
        "closing_message",
    ),  # fmt: skip
    (
        "referred_formal",
        "legal_claim",
        "referred_formal",
        "",
        False,
        NO_FEEDBACK_YET,
        "closing_message",
    ),  # fmt: skip
]


def test_closing_refusals_say_what_is_missing_beside_its_field(case, leader):
    for status, outcome, resolution, message, given, expected, field in CLOSING_REFUSALS:
        case.status = status
        case.feedback_given_at = utcnow() if given else None
        row = (status, outcome, resolution, message and message[:10], given)
        with pytest.raises(WorkflowError) as refused:
            service.transition(
                leader,
                case,
                "closed",
                outcome=outcome,
                resolution=resolution,
                closing_message=message,
            )
        assert (refused.value.message, refused.value.field) == (expected, field), row
        assert refused.value.status_code == 422, row
        assert case.status == status, row  # nothing moved


# status, outcome, resolution, closing message, feedback already given
CLOSINGS_ACCEPTED = [
    ("resolved_informally", "resolved", "resolved_informally", CLOSING, False),
    ("referred_formal", "formal_grievance", None, CLOSING, False),
    ("resolved_informally", "resolved", None, "x" * 5000, False),
    ("resolved_informally", "resolved", None, "  " + "x" * 5000 + "\n", False),
    ("acknowledged", "resolved", "resolved_informally", CLOSING, False),
    ("in_conversation", "mediated", "referred_formal", CLOSING, False),
    # Feedback given before: nothing more need be said.
    ("resolved_informally", "no_further_action", None, None, True),
    ("in_conversation", "resolved", "resolved_informally", "", True),
    # The reporter withdrew: there is no one to tell.
    ("withdrawn", "withdrawn", None, None, False),
    ("withdrawn", "resigned", "withdrawn", None, False),
    ("new", "no_further_action", "withdrawn", None, False),
    ("resolved_informally", "withdrawn", None, None, False),
]


def test_closings_that_are_accepted(case):
    for status, outcome, resolution, message, given in CLOSINGS_ACCEPTED:
        case.status = status
        case.feedback_given_at = utcnow() if given else None
        problem = service.closing_problem(case, outcome, resolution, message)
        assert problem is None, (status, outcome, resolution, problem and problem.message)


def test_closing_refusals_on_a_german_page(app, case):
    case.status = "acknowledged"
    wrong_resolution = service.closing_problem(case, "resolved", "new", CLOSING)
    case.status = "resolved_informally"
    already = service.closing_problem(case, "resolved", "withdrawn", CLOSING)
    assert wrong_resolution is not None and already is not None
    with page_in(app, "de"):
        assert wrong_resolution.translated() == (
            "Vom Status „Bestätigt“ aus ist als Ergebnis möglich: Im Gespräch geklärt, "
            "An ein formelles Verfahren übergeben, Zurückgezogen."
        )
        assert (
            already.translated() == "Dieser Fall wurde bereits als „Im Gespräch geklärt“ erledigt."
        )
    with page_in(app, "en"):
        assert wrong_resolution.translated() == (
            f"From acknowledged the resolution can be: {OPEN_RESOLUTIONS}."
        )


# target, outcome, resolution, closing message -> message, field
MOVE_REFUSALS = [
    ("reopened", None, None, None, "Unknown status 'reopened'.", "status"),
    ("", None, None, None, "Unknown status ''.", "status"),
    (
        "acknowledged",
        "resolved",
        None,
        None,
        "Give an outcome only when closing the case.",
        "outcome",
    ),
    (
        "withdrawn",
        None,
        "withdrawn",
        None,
        "Give a resolution only when closing the case.",
        "resolution",
    ),
    (
        "acknowledged",
        None,
        None,
        CLOSING,
        "Write a closing message only when closing the case.",
        "closing_message",
    ),
]


def test_a_move_refuses_what_only_closing_takes_and_unknown_statuses(case, leader):
    for target, outcome, resolution, message, expected, field in MOVE_REFUSALS:
        with pytest.raises(WorkflowError) as refused:
            service.transition(
                leader,
                case,
                target,
                outcome=outcome,
                resolution=resolution,
                closing_message=message,
            )
        assert (refused.value.message, refused.value.field) == (expected, field), target
        assert refused.value.status_code == 422
        assert case.status == "new"
    assert status_changes(case.id) == []


def test_closing_from_an_open_status_records_each_step_and_sends_the_message(case, leader):
    service.transition(leader, case, "acknowledged")
    assert case.closed_at is None
    service.transition(
        leader,
        case,
        "closed",
        resolution="referred_formal",
        outcome="legal_claim",
        closing_message=CLOSING,
    )

    assert (case.status, case.outcome, case.escalated) == ("closed", "legal_claim", True)
    assert case.closed_at is not None
    changes = status_changes(case.id)
    assert [(e.actor_id, e.actor_kind, e.detail) for e in changes] == [
        (leader.id, "staff", {"from_status": "new", "to_status": "acknowledged"}),
        (leader.id, "staff", {"from_status": "acknowledged", "to_status": "referred_formal"}),
        (
            leader.id,
            "staff",
            {
                "from_status": "referred_formal",
                "to_status": "closed",
                "outcome": "legal_claim",
                "escalated": True,
            },
        ),
    ]
    message = db.session.execute(select(Message).where(Message.case_id == case.id)).scalar_one()
    assert (message.body, message.is_feedback, message.from_reporter) == (CLOSING, True, False)
    sent = db.session.execute(
        select(AuditEvent).where(
            AuditEvent.case_id == case.id, AuditEvent.action == "message.to_reporter"
        )
    ).scalar_one()
    assert sent.detail == {"message_id": message.id, "feedback": True, "closing": True}
    assert case.feedback_given_at is not None

    # Closed: no change at all, whatever is asked.
    for target, kwargs in (
        ("acknowledged", {}),
        ("withdrawn", {}),
        ("closed", {"outcome": "resolved", "closing_message": CLOSING}),
    ):
        with pytest.raises(WorkflowError) as refused:
            service.transition(leader, case, target, **kwargs)  # type: ignore[arg-type]
        assert refused.value.message == "This case is closed; it can no longer change.", target
        assert (refused.value.field, refused.value.status_code) == (None, 409)
    assert len(status_changes(case.id)) == 3
    assert not service.can_close(case)


def test_closing_a_resolved_case_with_feedback_given_records_the_outcome(case, leader):
    service.transition(leader, case, "acknowledged")
    service.transition(leader, case, "resolved_informally")
    case.feedback_given_at = utcnow()
    service.transition(leader, case, "closed", outcome="resolved", resolution="resolved_informally")
    assert status_changes(case.id)[-1].detail == {
        "from_status": "resolved_informally",
        "to_status": "closed",
        "outcome": "resolved",
        "escalated": False,
    }
    # Nothing to say, so nothing was sent.
    assert db.session.scalar(select(db.func.count(Message.id))) == 0


CAN_CLOSE = {
    "new": True,  # as withdrawn
    "acknowledged": True,
    "in_conversation": True,
    "resolved_informally": True,
    "referred_formal": True,
    "withdrawn": True,
    "closed": False,
}


def test_which_statuses_can_be_closed(case):
    for status, expected in CAN_CLOSE.items():
        case.status = status
        assert service.can_close(case) is expected, status


def test_a_case_with_a_status_outside_the_workflow_can_go_nowhere(case, leader):
    """A status the workflow no longer knows (from older data) is a dead end, not a crash."""
    case.status = "on_hold"
    assert service.allowed_transitions(case) == ()
    with pytest.raises(WorkflowError) as refused:
        service.transition(leader, case, "acknowledged")
    assert refused.value.message == (
        "A case that is on_hold cannot become acknowledged. It can move to: ."
    )
    assert case.status == "on_hold"


def test_a_status_is_written_mid_sentence_in_the_page_language(app):
    assert service.status_in_sentence("in_conversation") == "in conversation"
    assert service.status_in_sentence("referred_formal") == "referred to a formal process"
    with page_in(app, "de"):
        assert service.status_in_sentence("in_conversation") == "Im Gespräch"
        assert service.status_in_sentence("withdrawn") == "Zurückgezogen"
    # A status with no label is written as its code.
    assert str(service.status_label("on_hold")) == "on_hold"
    assert str(service.status_label("on_hold", lower=False)) == "on_hold"


def test_a_refused_move_on_a_german_page(app, case, leader):
    with pytest.raises(WorkflowError) as refused:
        service.transition(leader, case, "in_conversation")
    assert str(refused.value) == refused.value.message  # a ValueError with its message
    with page_in(app, "de"):
        assert refused.value.translated() == (
            "Ein Fall im Status „Neu“ kann nicht auf „Im Gespräch“ wechseln. "
            "Möglich ist: Bestätigt, Zurückgezogen, Abgeschlossen (mit dem Ergebnis)."
        )


def test_a_date_in_a_refusal_is_iso_in_english_and_written_out_on_a_page(app, case, leader):
    case.feedback_due_at = datetime(2026, 5, 3, 10)
    with pytest.raises(WorkflowError) as refused:
        service.extend_feedback(leader, case, date(2026, 5, 1), "They are on leave.")
    assert refused.value.message == "Choose a date after the current deadline (2026-05-03)."
    assert str(refused.value) == refused.value.message
    with page_in(app, "de"):
        assert refused.value.translated() == (
            "Wählen Sie ein Datum nach der jetzigen Frist (3. Mai 2026)."
        )
    with page_in(app, "en"):
        assert refused.value.translated() == (
            "Choose a date after the current deadline (3 May 2026)."
        )


@pytest.mark.parametrize("junk", [7, "", ["critical"], {"level": "high"}, True])
def test_an_explanation_ignores_texts_that_are_not_text(junk):
    view = service.explanation_view(
        {
            "base": {"source": junk},
            "forced_level": {"level": junk},
            "rule_pack_version": junk,
            "model": {"version": junk},
            "model_version": "m-3",
            "rules": [{"id": "r1", "min_level": junk}],
        }
    )
    assert (view.base_source, view.forced_level, view.rule_pack_version) == (None, None, None)
    assert view.model_version == "m-3"
    assert view.rules[0].min_level is None
