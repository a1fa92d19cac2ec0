"""Extending the feedback deadline, notes and the anonymous thread, as their callers see them:
the exact refusal for each wrong input, what is written and audited when it goes through, the
unread counts of the thread and the queue, and the queue's order by the next deadline."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.exceptions import Forbidden

from service.cases import service
from service.cases.service import BODY_MAX, WorkflowError
from service.db import AuditEvent, Case, Message, Note
from service.extensions import db
from service.intake.service import add_reporter_message
from tests.cases.support import case_for


@pytest.fixture
def case(org, leader):  # type: ignore[no-untyped-def]
    case = case_for(org, leader)
    service.transition(leader, case, "acknowledged")
    return case


def events(case: Case, action: str) -> list[AuditEvent]:
    return list(
        db.session.execute(
            select(AuditEvent)
            .where(AuditEvent.case_id == case.id, AuditEvent.action == action)
            .order_by(AuditEvent.id)
        ).scalars()
    )


def rows(model, case: Case) -> int:  # type: ignore[no-untyped-def]
    return len(db.session.execute(select(model).where(model.case_id == case.id)).scalars().all())


def refusal(error: WorkflowError) -> tuple[int, str | None, str]:
    return error.status_code, error.field, error.message


# --- extending the feedback deadline --------------------------------------------------------


def test_each_wrong_extension_is_refused_with_its_own_message(case, leader):
    current = case.feedback_due_at.date()
    limit = service.feedback_extension_limit(case)
    due = case.feedback_due_at
    wrong = [
        (None, "Waiting for HR.", "until", "Choose the new date feedback is due by."),
        (current, "Waiting for HR.", "until", f"Choose a date after the current deadline "
         f"({current.isoformat()})."),
        (current - timedelta(days=1), "Waiting for HR.", "until", "Choose a date after the "
         f"current deadline ({current.isoformat()})."),
        (limit + timedelta(days=1), "Waiting for HR.", "until", "Feedback can be extended to "
         f"{limit.isoformat()} at the latest (six months)."),
        (limit, "", "reason", "Say why the reporter must wait longer."),
        (limit, None, "reason", "Say why the reporter must wait longer."),
        (limit, " \n ", "reason", "Say why the reporter must wait longer."),
    ]  # fmt: skip
    for until, reason, field, message in wrong:
        with pytest.raises(WorkflowError) as refused:
            service.extend_feedback(leader, case, until, reason)
        assert refusal(refused.value) == (422, field, message), (until, reason)
        db.session.rollback()
        assert case.feedback_due_at == due
    assert rows(Note, case) == 0 and events(case, "case.feedback_extended") == []


def test_only_the_assignee_or_a_lead_may_extend(org, case):
    until = case.feedback_due_at.date() + timedelta(days=10)
    with pytest.raises(Forbidden) as refused:
        service.extend_feedback(org.staff["leader2"], case, until, "Busy.")
    assert refused.value.description == (
        "Only the assigned Trust Leader or a lead can extend the deadline."
    )
    service.extend_feedback(org.staff["lead"], case, until, "Waiting for the investigator.")
    assert case.feedback_due_at.date() == until


def test_no_extension_once_the_case_is_resolved_or_feedback_was_given(org, case, leader):
    until = case.feedback_due_at.date() + timedelta(days=10)
    other = case_for(org, leader)
    service.transition(leader, other, "withdrawn")
    with pytest.raises(WorkflowError) as refused:
        service.extend_feedback(leader, other, until, "Waiting for HR.")
    assert refusal(refused.value) == (
        409,
        None,
        "Only an open case has a feedback deadline to extend.",
    )

    service.send_message(leader, case, "Here is what we found.", feedback=True)
    with pytest.raises(WorkflowError) as refused:
        service.extend_feedback(leader, case, until, "Waiting for HR.")
    assert refusal(refused.value) == (
        409,
        None,
        "The reporter has already been given feedback on this case.",
    )


def test_an_extension_keeps_its_reason_as_a_note_and_audits_both_deadlines(case, leader):
    previous = case.feedback_due_at
    until = previous.date() + timedelta(days=30)
    service.extend_feedback(leader, case, until, "  An external investigator is needed. ")

    assert case.feedback_due_at == previous + timedelta(days=30)  # same hour of the day
    (event,) = events(case, "case.feedback_extended")
    (note,) = service.notes_of(case)
    assert event.actor_id == leader.id
    assert event.detail == {
        "from_due": previous.isoformat(timespec="hours"),
        "to_due": case.feedback_due_at.isoformat(timespec="hours"),
        "note_id": note.id,
    }
    assert note.author_id == leader.id
    assert note.body == (
        f"Feedback deadline extended from {previous.date().isoformat()} to "
        f"{until.isoformat()}. Reason: An external investigator is needed."
    )


# --- what a note or a message may say -------------------------------------------------------

EMPTY = "Write something first."
TOO_LONG = f"Keep it under {BODY_MAX} characters."
NUL = "Must not contain NUL characters."


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", EMPTY),
        (None, EMPTY),
        ("  \n\t ", EMPTY),
        ("x" * (BODY_MAX + 1), TOO_LONG),
        (" " + "x" * (BODY_MAX + 1) + " ", TOO_LONG),
        ("Before\x00after", NUL),
        ("\x00", NUL),
    ],
)
def test_a_wrong_note_or_message_is_refused_and_nothing_is_written(case, leader, body, message):
    for write in (service.add_note, service.send_message):
        with pytest.raises(WorkflowError) as refused:
            write(leader, case, body)
        assert refusal(refused.value) == (422, "body", message), write
        db.session.rollback()
    assert rows(Note, case) == 0 and rows(Message, case) == 0


def test_a_note_or_message_of_exactly_the_limit_is_kept_trimmed(case, leader):
    body = "x" * BODY_MAX
    note = service.add_note(leader, case, f"  {body}\n")
    message = service.send_message(leader, case, f"\t{body} ")
    assert note.body == body and message.body == body


# --- notes and the thread, audited ----------------------------------------------------------


def test_a_note_is_audited_with_its_author_and_id(case, leader):
    note = service.add_note(leader, case, "Spoke to HR about the rota.")
    (event,) = events(case, "note.added")
    assert (event.actor_id, event.detail) == (leader.id, {"note_id": note.id})
    assert note.author_id == leader.id


def test_a_message_to_the_reporter_is_audited_and_feedback_once(case, leader):
    first = service.send_message(leader, case, "We are looking into the rota.")
    feedback = service.send_message(leader, case, "We spoke to the team lead.", feedback=True)
    service.send_message(leader, case, "And here is what changes.", feedback=True)

    assert first.author_id == leader.id and feedback.author_id == leader.id
    sent = events(case, "message.to_reporter")
    assert [(e.actor_id, e.detail) for e in sent] == [
        (leader.id, {"message_id": first.id, "feedback": False, "closing": False}),
        (leader.id, {"message_id": feedback.id, "feedback": True, "closing": False}),
        (leader.id, {"message_id": feedback.id + 1, "feedback": True, "closing": False}),
    ]
    (given,) = events(case, "case.feedback_given")
    assert (given.actor_id, given.detail) == (leader.id, {"message_id": feedback.id})


def test_a_message_marks_the_case_in_conversation_from_acknowledged_and_again(case, leader):
    service.send_message(leader, case, "Can we talk on Monday?", mark_in_conversation=True)
    assert case.status == "in_conversation"
    service.send_message(leader, case, "Or on Tuesday?", mark_in_conversation=True)
    assert case.status == "in_conversation" and rows(Message, case) == 2


@pytest.mark.parametrize(
    ("status", "in_a_sentence"),
    [
        ("resolved_informally", "resolved informally"),
        ("referred_formal", "referred to a formal process"),
        ("withdrawn", "withdrawn"),
    ],
)
def test_a_resolved_case_cannot_go_back_into_conversation(case, leader, status, in_a_sentence):
    service.transition(leader, case, status)
    with pytest.raises(WorkflowError) as refused:
        service.send_message(leader, case, "Can we talk again?", mark_in_conversation=True)
    assert refusal(refused.value) == (
        422,
        "mark_in_conversation",
        f"A case that is {in_a_sentence} cannot go back into conversation.",
    )
    db.session.rollback()
    assert case.status == status and rows(Message, case) == 0


# --- unread messages from the reporter ------------------------------------------------------


def test_unread_counts_per_case_until_the_assignee_opens_the_thread(org, case, leader):
    other = case_for(org, leader)
    add_reporter_message(case, "The rota changed again this week.")
    add_reporter_message(case, "And my hours were cut.")
    add_reporter_message(other, "Is anyone reading this?")
    sent = service.send_message(leader, case, "Thank you, we are on it.")
    lead = org.staff["lead"]
    everything = service.QueueFilters(scope="all")

    def queue_unread() -> dict[int, int]:
        return {row.case.id: row.unread for row in service.list_queue(lead, everything)[0]}

    assert (service.unread_count(case), service.unread_count(other)) == (2, 1)
    assert queue_unread() == {case.id: 2, other.id: 1}

    assert service.mark_reporter_messages_read(org.staff["leader2"], case) == 0
    assert service.mark_reporter_messages_read(leader, case) == 2
    db.session.commit()
    assert service.mark_reporter_messages_read(leader, case) == 0  # already read
    assert (service.unread_count(case), service.unread_count(other)) == (0, 1)
    assert queue_unread() == {case.id: 0, other.id: 1}

    db.session.expire_all()
    thread = service.messages_of(case)
    assert [m.id for m in thread] == sorted(m.id for m in thread) and len(thread) == 3
    assert db.session.get(Message, sent.id).read_at is None  # the reporter's side, not ours
    assert all(m.read_at is None for m in service.messages_of(other))


def test_notes_are_listed_in_the_order_written(case, leader):
    written = [service.add_note(leader, case, f"Note {n}.").id for n in range(3)]
    assert [note.id for note in service.notes_of(case)] == written


# --- the queue's order ----------------------------------------------------------------------


def test_a_withdrawn_case_without_feedback_has_no_deadline_in_the_queue(org, leader):
    withdrawn = case_for(org, leader, "moderate")
    service.transition(leader, withdrawn, "withdrawn")
    waiting = case_for(org, leader, "moderate")
    service.transition(leader, waiting, "acknowledged")
    queue = service.list_queue(org.staff["lead"], service.QueueFilters(scope="all"))[0]
    # Cases with a deadline first: the withdrawn one, with none, comes after.
    assert [(row.case.id, row.deadline) for row in queue] == [
        (waiting.id, waiting.feedback_due_at),
        (withdrawn.id, None),
    ]
