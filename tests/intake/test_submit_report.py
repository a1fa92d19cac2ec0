"""What `submit_report` stores, field by field, and how it answers a resend that races the
first: the reporter's answers as given (or their defaults), the language, the new case and its
first routing round, the audit entry, the pages to leads, and the thread as the reporter reads
it back."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select, text

import service.intake.service as intake_service
from service.db import (
    AuditEvent,
    Case,
    Message,
    Notification,
    OutboxEntry,
    Report,
    SubmissionKey,
    utcnow,
)
from service.extensions import db
from service.intake import once
from service.intake.service import (
    add_reporter_message,
    needs_crisis_support,
    report_language,
    reporter_messages,
    submit_report,
)
from service.notify import PAGE_KIND
from service.schemas.reports import ReportCreateSchema
from tests.cases.support import submit
from tests.factories import report_payload

#: Russian is detected but not offered: the report keeps the form's language.
RUSSIAN = "Мой руководитель постоянно меняет мои смены без предупреждения и угрожает мне."
CRISIS = "Since this started I have had thoughts of ending my life and I cannot sleep."


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


#: The report form's optional answers, as the report stores them.
ANSWERS = (
    "duration",
    "raised_before",
    "raised_with",
    "involved",
    "desired_outcome",
    "urgency",
    "contact",
)


def _answers(report: Report) -> dict[str, Any]:
    return {name: getattr(report, name) for name in ANSWERS}


def _scored_as(level: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real scoring, with the level it gives replaced."""
    real = intake_service.score_new_report

    def score(report: Report) -> None:
        real(report)
        report.risk_level = level

    monkeypatch.setattr(intake_service, "score_new_report", score)


def _page_bodies() -> list[str]:
    return list(
        db.session.execute(select(Notification.body).where(Notification.kind == PAGE_KIND))
        .scalars()
        .all()
    )


def _earlier_misses_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The other request of a race commits between this one's look-up and its write: the
    first look-up finds nothing, every later one finds what the other request filed."""
    real = once.earlier
    calls = {"n": 0}

    def earlier(*args: Any, **kwargs: Any) -> once.Earlier | None:
        calls["n"] += 1
        return None if calls["n"] == 1 else real(*args, **kwargs)

    monkeypatch.setattr(once, "earlier", earlier)


def test_every_answer_on_the_form_is_stored_as_given(org):
    data = ReportCreateSchema().load(
        report_payload(
            org,
            duration="months",
            raised_before=True,
            raised_with=["my manager", "hr"],
            involved=["a peer", "senior manager"],
            desired_outcome="mediation",
            urgency="urgent",
            contact="Signal, evenings",
        )
    )
    report = db.session.get(Report, submit_report(data).report_id)
    assert (report.org_unit_id, report.category) == (org.unit("Call Centre"), "workload")
    assert _answers(report) == {
        "duration": "months",
        "raised_before": True,
        "raised_with": ["my manager", "hr"],
        "involved": ["a peer", "senior manager"],
        "desired_outcome": "mediation",
        "urgency": "urgent",
        "contact": "Signal, evenings",
    }


def test_a_report_with_only_the_required_answers_gets_the_defaults(org):
    """The demo and the benchmarks call with only unit, category and text; the other answers
    are then empty and the urgency normal."""
    submission = submit_report(
        {
            "org_unit": org.unit("Call Centre"),
            "category": "workload",
            "text": "We keep being asked to cover extra shifts and nobody says for how long.",
        }
    )
    report = db.session.get(Report, submission.report_id)
    assert _answers(report) == {
        "duration": None,
        "raised_before": None,
        "raised_with": [],
        "involved": [],
        "desired_outcome": None,
        "urgency": "normal",
        "contact": None,
    }
    assert (report.language, report.form_language) == ("en", "en")


@pytest.mark.parametrize("form_language", ["de", "fr"])
def test_a_text_in_a_language_not_offered_keeps_the_forms_language(org, form_language):
    """The Russian text is detected as Russian, which is not offered: the report is scrubbed,
    scored and routed in the language the reporter chose on the form, and both are kept."""
    case, _ = submit(org, text=RUSSIAN, language=form_language)
    report = case.report
    assert (report.language, report.form_language, report.detected_language) == (
        form_language,
        form_language,
        "ru",
    )
    assert report_language(RUSSIAN, form_language) == form_language


def test_a_text_the_detector_is_sure_of_overrides_the_forms_language_and_is_scrubbed_in_it(org):
    german = (
        "Mein Teamleiter ändert ständig meine Schichten ohne Vorwarnung und hat gesagt, dass "
        "ich gehen muss, wenn ich mich noch einmal beschwere."
    )
    case, _ = submit(org, text=german, language="en")
    report = case.report
    assert (report.language, report.form_language, report.detected_language) == ("de", "en", "de")
    assert report_language(german, "en") == "de"
    # Scrubbed as German: read as English, its capitalised nouns would be taken for names.
    assert report.text == german


def test_a_new_case_waits_for_its_first_routing_round(org, monkeypatch, app):
    """Before routing runs, the case is new and pending, its deadlines count from the opening
    hour, and exactly its own outbox entry is handed over, once."""
    handed: list[Any] = []
    monkeypatch.setattr(intake_service, "relay_outbox_soon", handed.append)
    submission = submit_report(ReportCreateSchema().load(report_payload(org)))
    case = db.session.get(Case, submission.case_id)
    settings = app.config["DEFUSE"]
    assert (case.status, case.routing_state, case.assignee_id) == ("new", "pending", None)
    assert case.ack_due_at - case.opened_at == settings.sla[case.report.risk_level]
    assert (case.feedback_due_at - case.opened_at).days == settings.feedback_days
    (entry,) = db.session.execute(select(OutboxEntry)).scalars().all()
    assert (entry.case_id, entry.routing_round, entry.job) == (case.id, 0, "route_case")
    assert handed == [[(entry.id, case.id, 0)]]


def test_a_submission_hands_over_only_its_own_routing_job(org):
    """An entry an outage left waiting is the scheduled relay's work: a new submission does
    not pick it up on the reporter's request."""
    waiting, _ = submit(org)
    db.session.execute(
        db.update(OutboxEntry).where(OutboxEntry.case_id == waiting.id).values(enqueued_at=None)
    )
    db.session.commit()
    fresh, _ = submit(org)
    entries = {e.case_id: e.enqueued_at for e in db.session.execute(select(OutboxEntry)).scalars()}
    assert entries[waiting.id] is None
    assert entries[fresh.id] is not None


def test_the_submission_is_audited_on_its_case_as_the_reporters(org):
    case, _ = submit(org)
    events = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "report.submitted")
    ).scalars()
    assert [(e.case_id, e.actor_kind, e.actor_id) for e in events] == [(case.id, "reporter", None)]


@pytest.mark.parametrize(
    ("level", "account", "headline"),
    [
        ("critical", None, "A critical case has come in"),
        ("critical", CRISIS, "A report mentions a risk to someone's life"),
        ("high", CRISIS, "A report mentions a risk to someone's life"),
        ("high", None, None),
        ("low", None, None),
    ],
)
def test_leads_are_paged_for_a_critical_case_and_for_a_risk_to_life(
    org, monkeypatch, level, account, headline
):
    """A risk to life pages the leads with that reason whatever the level; a critical case
    pages them as critical; anything else pages nobody."""
    _scored_as(level, monkeypatch)
    case, _ = submit(org, **({"text": account} if account else {}))
    bodies = _page_bodies()
    if headline is None:
        assert bodies == []
    else:
        assert bodies
        assert all(body.startswith(f"{headline}: case {case.id}.\n") for body in bodies)


@pytest.mark.parametrize(
    ("explanation", "crisis"),
    [
        (None, False),
        ({}, False),
        ({"score": 0.4}, False),
        ({"rules": []}, False),
        ({"rules": [{"id": "r1", "tags": None}, {"id": "r2"}]}, False),
        ({"rules": [{"id": "r1", "tags": ["escalation"]}]}, False),
        ({"rules": [{"id": "r1"}, {"id": "r2", "tags": ["signpost.crisis"]}]}, True),
    ],
)
def test_crisis_support_is_shown_only_when_a_crisis_rule_fired(explanation, crisis):
    assert needs_crisis_support(Report(risk_explanation=explanation)) is crisis


def test_a_resend_of_a_report_is_answered_without_undoing_the_callers_work(org):
    """A resend is answered by looking the key up before anything is written: the caller's
    own unsaved changes in the transaction are kept."""
    data = ReportCreateSchema().load(report_payload(org))
    first = submit_report(data, submission_key="k" * 16, key_payload=data)
    case = db.session.get(Case, first.case_id)
    case.status = "acknowledged"  # the caller's pending change, not yet committed
    again = submit_report(data, submission_key="k" * 16, key_payload=data)
    assert again == replace(first, replayed=True)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Case, first.case_id).status == "acknowledged"
    assert _count(Report) == 1


def test_two_identical_reports_at_once_file_one_and_answer_both_with_it(org, monkeypatch):
    data = ReportCreateSchema().load(report_payload(org))
    first = submit_report(data, submission_key="k" * 16, key_payload=data)
    _earlier_misses_once(monkeypatch)
    again = submit_report(data, submission_key="k" * 16, key_payload=data)
    assert again == replace(first, replayed=True)
    assert (_count(Report), _count(Case)) == (1, 1)


def test_a_key_raced_with_another_report_is_refused(org, monkeypatch):
    """The same key arriving at once with a different report is refused, as it is when the
    two come one after the other; nothing more is filed."""
    data = ReportCreateSchema().load(report_payload(org))
    submit_report(data, submission_key="k" * 16, key_payload=data)
    other = ReportCreateSchema().load(report_payload(org, category="bullying"))
    _earlier_misses_once(monkeypatch)
    with pytest.raises(once.KeyReused):
        submit_report(other, submission_key="k" * 16, key_payload=other)
    db.session.rollback()
    assert _count(Report) == 1


@pytest.mark.parametrize("sealed", [None, "unreadable"])
def test_a_resend_whose_receipt_cannot_be_unsealed_gets_no_receipt(org, sealed):
    """After the hash key changes, the receipt sealed with the submission key can no longer
    be read: the resend is still answered with its case, and with an empty receipt rather
    than a made-up one."""
    data = ReportCreateSchema().load(report_payload(org))
    first = submit_report(data, submission_key="k" * 16, key_payload=data)
    if sealed == "unreadable":
        sealed = Fernet(Fernet.generate_key()).encrypt(first.receipt.encode()).decode()
    db.session.execute(db.update(SubmissionKey).values(sealed_receipt=sealed))
    db.session.commit()
    again = submit_report(data, submission_key="k" * 16, key_payload=data)
    assert again == replace(first, receipt="", replayed=True)


def test_two_identical_replies_at_once_store_one_and_answer_both_with_it(org, monkeypatch):
    case, _ = submit(org)
    first = add_reporter_message(case, "Friday works.", submission_key="k" * 16, key_payload="a")
    first_id = first.message.id
    db.session.execute(db.delete(Notification))
    db.session.commit()
    _earlier_misses_once(monkeypatch)
    again = add_reporter_message(case, "Friday works.", submission_key="k" * 16, key_payload="a")
    assert again.replayed and again.message.id == first_id
    assert _count(Message) == 1
    assert _count(Notification) == 0  # the Trust Leader was told once, by the first


def test_a_reply_key_raced_with_another_reply_is_refused(org, monkeypatch):
    case, _ = submit(org)
    add_reporter_message(case, "Friday works.", submission_key="k" * 16, key_payload="a")
    _earlier_misses_once(monkeypatch)
    with pytest.raises(once.KeyReused):
        add_reporter_message(case, "Monday then.", submission_key="k" * 16, key_payload="b")
    db.session.rollback()
    assert [m.body for m in db.session.execute(select(Message)).scalars()] == ["Friday works."]


def _unordered_reads_reversed() -> None:
    """Make a query without ORDER BY come back in another order than the ids: SQLite's own
    switch for this; PostgreSQL returns an updated row after the others."""
    if db.engine.dialect.name == "sqlite":
        db.session.execute(text("PRAGMA reverse_unordered_selects = ON"))


def test_the_reporter_reads_the_thread_in_order_and_only_staff_messages_get_marked_read(org):
    case, _ = submit(org)
    now = utcnow()
    thread = [
        Message(case_id=case.id, from_reporter=False, body="One.", created_at=now),
        Message(case_id=case.id, from_reporter=True, body="Two.", created_at=now),
        Message(case_id=case.id, from_reporter=False, body="Three.", created_at=now),
        Message(
            case_id=case.id,
            from_reporter=False,
            body="Four.",
            created_at=now,
            read_by_reporter=True,
        ),
    ]
    db.session.add_all(thread)
    db.session.commit()
    thread[0].body = "One, edited."  # on PostgreSQL the row now sits after the others
    db.session.commit()
    _unordered_reads_reversed()
    read = reporter_messages(case)
    assert [m.body for m in read] == ["One, edited.", "Two.", "Three.", "Four."]
    db.session.expire_all()
    flags = {
        m.body: m.read_by_reporter
        for m in db.session.execute(select(Message).where(Message.case_id == case.id)).scalars()
    }
    assert flags == {"One, edited.": True, "Two.": False, "Three.": True, "Four.": True}
