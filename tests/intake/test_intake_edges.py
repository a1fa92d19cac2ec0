"""The reporter's follow-up message, called as the views and the API call it: scrubbed in the
report's language, dated to the day, audited as the reporter's on its case, and sent once per
submission key on each case."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import func, select

from service.db import AuditEvent, Message, Notification, Report, to_day, utcnow
from service.extensions import db
from service.intake.service import add_reporter_message, reporter_status, submit_report
from service.schemas.reports import ReportCreateSchema
from tests.cases.support import submit
from tests.factories import report_payload

#: German: "Gestern" and "Dienstplanung" are ordinary words in German, unknown capitalised
#: words (so taken for names) in English.
GERMAN = "Gestern hat der Schichtleiter die Dienstplanung wieder geändert."
GERMAN_ACCOUNT = (
    "Mein Teamleiter ändert ständig meine Schichten ohne Vorwarnung und hat gesagt, dass ich "
    "gehen muss, wenn ich mich noch einmal beschwere."
)


def _messages(case_id: int) -> list[Message]:
    return list(
        db.session.execute(
            select(Message).where(Message.case_id == case_id).order_by(Message.id)
        ).scalars()
    )


def test_a_reply_is_scrubbed_in_the_language_of_its_report(org):
    """A German report's replies are read as German: ordinary German words are not taken
    for names (as they would be in English), so the Trust Leader reads what was written."""
    case, _ = submit(org, text=GERMAN_ACCOUNT, language="de")
    assert case.report.language == "de"
    sent = add_reporter_message(case, GERMAN)
    assert sent.message.body == GERMAN
    assert "[name]" not in _messages(case.id)[0].body


def test_a_reporters_message_is_dated_to_the_day_only(org):
    """The thread keeps the reporter's message to the day, never the moment they wrote."""
    case, _ = submit(org)
    add_reporter_message(case, "Thank you, Friday works.")
    (stored,) = _messages(case.id)
    assert stored.created_at == to_day(utcnow())
    assert stored.from_reporter is True


def test_a_reply_is_audited_as_the_reporters_on_its_case_to_the_hour(org):
    """The audit log shows a reporter's message on this case, done by the reporter (not the
    system), timed only to the hour."""
    case, _ = submit(org)
    add_reporter_message(case, "Thank you.")
    events = list(
        db.session.execute(
            select(AuditEvent).where(AuditEvent.action == "message.from_reporter")
        ).scalars()
    )
    assert [(e.case_id, e.actor_kind, e.actor_id) for e in events] == [(case.id, "reporter", None)]
    at = events[0].at
    assert (at.minute, at.second, at.microsecond) == (0, 0, 0)


def test_the_same_key_on_another_case_sends_a_message_there(org):
    """A submission key holds a resend back on its own case only: the same key used on
    another reporter's case is that case's own new message, not a replay of the first."""
    first, _ = submit(org)
    second, _ = submit(org)
    one = add_reporter_message(first, "On the first case.", submission_key="k" * 16)
    two = add_reporter_message(second, "On the second case.", submission_key="k" * 16)
    assert not one.replayed and not two.replayed
    assert two.message.case_id == second.id
    assert [m.body for m in _messages(first.id)] == ["On the first case."]
    assert [m.body for m in _messages(second.id)] == ["On the second case."]


def test_a_key_is_matched_as_spelled_another_key_is_another_message(org):
    """Keys are compared as given, whatever they spell: a second, different key on the same
    case is a second message, even when the first key was the word "None"."""
    case, _ = submit(org)
    add_reporter_message(case, "First.", submission_key="None")
    later = add_reporter_message(case, "Second.", submission_key="another-key-0001")
    assert not later.replayed and later.message.body == "Second."
    assert [m.body for m in _messages(case.id)] == ["First.", "Second."]


def test_a_resend_is_answered_from_the_record_without_undoing_the_callers_work(org):
    """A resend with a used key is answered by looking it up, before anything is written:
    nothing is filed, and the caller's own unsaved changes in the transaction are kept (no
    rollback of work that is not the resend's)."""
    case, _ = submit(org)
    first = add_reporter_message(case, "Once.", submission_key="k" * 16)
    first_id = first.message.id
    case.status = "acknowledged"  # the caller's pending change, not yet committed
    again = add_reporter_message(case, "Once.", submission_key="k" * 16)
    assert again.replayed and again.message.id == first_id
    db.session.commit()
    db.session.expire_all()
    assert case.status == "acknowledged"
    assert [m.body for m in _messages(case.id)] == ["Once."]
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "message.from_reporter")
        )
        == 1
    )


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("We keep being asked to cover extra shifts and nobody says for how long.", False),
        ("Since this started I have had thoughts of ending my life and I cannot sleep.", True),
    ],
)
def test_a_resent_report_is_answered_exactly_as_it_was_first(org, text, crisis):
    """The same submission key filed twice answers with the first report's case, receipt,
    day and crisis signposting (only marked as replayed), and files nothing more."""
    data = ReportCreateSchema().load(report_payload(org, text=text))
    first = submit_report(data, submission_key="k" * 16, key_payload=data)
    again = submit_report(data, submission_key="k" * 16, key_payload=data)
    assert first.crisis is crisis and first.submitted_on is not None
    assert again == replace(first, replayed=True)
    assert db.session.scalar(select(func.count()).select_from(Report)) == 1


def test_a_reply_tells_staff_in_the_fixed_words_for_a_reporters_message(org):
    """Staff are told of a reporter's reply in the fixed headline (never the reply's text)."""
    case, _ = submit(org)
    db.session.execute(db.delete(Notification))
    db.session.commit()
    add_reporter_message(case, "Friday works for me.")
    bodies = (
        db.session.execute(select(Notification.body).where(Notification.kind == "message"))
        .scalars()
        .all()
    )
    assert bodies
    for body in bodies:
        assert body.startswith(f"There is a new message from the reporter on case {case.id}.\n")
        assert "Friday" not in body


@pytest.mark.parametrize("removed", [False, True])
def test_the_reporters_status_says_when_the_details_were_removed(org, removed):
    """The status a reporter reads says "(details removed)" exactly when the report's text has
    been removed, and flags it as `text_removed`."""
    case, _ = submit(org)
    if removed:
        case.report.text_removed_on = utcnow().date()
        db.session.commit()
    status = reporter_status(case)
    expected = "Received: waiting for a Trust Leader" + (" (details removed)" if removed else "")
    assert str(status["status_label"]) == expected
    assert status["text_removed"] is removed and status["status"] == "new"
