"""The case workflow, notes, thread, reassignment and outcome labels, at the service level."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, update
from werkzeug.exceptions import Forbidden

from service.cases import service
from service.cases.labels import export_outcome_labels
from service.cases.service import WorkflowError
from service.classifier.data import read_labelled_file
from service.db import (
    AcknowledgementRollup,
    AuditEvent,
    Case,
    Notification,
    ResolutionRollup,
    utcnow,
)
from service.db.cases import ESCALATED_OUTCOMES, OUTCOMES
from service.extensions import db
from service.intake.service import add_reporter_message, reporter_messages
from tests.cases.support import ACCOUNT, case_for, set_risk

CLOSING = "Thank you for raising this. We talked with the team and agreed changes."


@pytest.fixture
def case(org, leader):  # type: ignore[no-untyped-def]
    return case_for(org, leader)


def actions(case_id: int) -> list[str]:
    return list(
        db.session.execute(
            select(AuditEvent.action).where(AuditEvent.case_id == case_id).order_by(AuditEvent.id)
        ).scalars()
    )


def test_full_path_to_closed_sets_label_and_counts(case, leader):
    service.transition(leader, case, "acknowledged")
    assert case.acknowledged_at is not None
    service.transition(leader, case, "in_conversation")
    service.transition(leader, case, "resolved_informally")
    service.transition(leader, case, "closed", outcome="mediated", closing_message=CLOSING)

    assert case.status == "closed" and case.outcome == "mediated"
    assert case.escalated is False and case.closed_at is not None
    assert db.session.scalar(select(AcknowledgementRollup.cases)) == 1
    resolution = db.session.execute(select(ResolutionRollup)).scalar_one()
    assert (resolution.resolution, resolution.cases) == ("resolved_informally", 1)
    changes = [
        (e.detail["from_status"], e.detail["to_status"])
        for e in db.session.execute(
            select(AuditEvent).where(AuditEvent.action == "case.status_changed")
        ).scalars()
    ]
    assert changes == [
        ("new", "acknowledged"),
        ("acknowledged", "in_conversation"),
        ("in_conversation", "resolved_informally"),
        ("resolved_informally", "closed"),
    ]


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_escalated_follows_the_outcome(case, leader, outcome):
    service.transition(leader, case, "acknowledged")
    service.transition(
        leader,
        case,
        "closed",
        resolution="referred_formal",
        outcome=outcome,
        closing_message=CLOSING,
    )
    assert case.status == "closed"
    assert case.escalated is (outcome in ESCALATED_OUTCOMES)


def test_shortcuts_are_allowed(org, leader):
    withdrawn = case_for(org, leader)
    service.transition(leader, withdrawn, "acknowledged")
    service.transition(leader, withdrawn, "withdrawn")
    assert withdrawn.status == "withdrawn"

    never_acknowledged = case_for(org, leader)
    service.transition(
        leader, never_acknowledged, "closed", resolution="withdrawn", outcome="withdrawn"
    )
    assert never_acknowledged.status == "closed"
    assert never_acknowledged.acknowledged_at is None


def test_invalid_transition_says_what_is_possible(case, leader):
    with pytest.raises(WorkflowError) as refused:
        service.transition(leader, case, "in_conversation")
    assert refused.value.status_code == 409
    assert "Acknowledged" in refused.value.message and "Withdrawn" in refused.value.message
    assert case.status == "new"


def test_closing_needs_an_outcome_and_a_resolution(case, leader):
    service.transition(leader, case, "acknowledged")
    with pytest.raises(WorkflowError) as no_outcome:
        service.transition(leader, case, "closed", resolution="resolved_informally")
    assert no_outcome.value.field == "outcome" and no_outcome.value.status_code == 422
    with pytest.raises(WorkflowError) as no_resolution:
        service.transition(leader, case, "closed", outcome="resolved")
    assert no_resolution.value.field == "resolution"
    with pytest.raises(WorkflowError) as outcome_too_early:
        service.transition(leader, case, "in_conversation", outcome="resolved")
    assert outcome_too_early.value.field == "outcome"
    db.session.rollback()
    assert db.session.get(Case, case.id).status == "acknowledged"


def test_a_closed_case_cannot_change(case, leader):
    service.transition(leader, case, "closed", resolution="withdrawn", outcome="withdrawn")
    with pytest.raises(WorkflowError):
        service.transition(leader, case, "acknowledged")
    with pytest.raises(WorkflowError):
        service.add_note(leader, case, "one more thing")
    with pytest.raises(WorkflowError):
        service.send_message(leader, case, "hello again")


def test_only_the_assignee_changes_a_case(case, org):
    for other in (org.staff["leader2"], org.staff["lead"]):
        with pytest.raises(Forbidden):
            service.transition(other, case, "acknowledged")
        with pytest.raises(Forbidden):
            service.send_message(other, case, "hello")
        with pytest.raises(Forbidden):
            service.add_note(other, case, "note")
        with pytest.raises(Forbidden):
            service.set_steps(other, case, [("anything", True)])
    assert case.status == "new"


def test_access_rules(case, org, leader):
    assert service.can_view(leader, case)
    assert service.can_view(org.staff["lead"], case)
    for name in ("leader2", "hr", "admin"):
        assert not service.can_view(org.staff[name], case)
        with pytest.raises(Forbidden):
            service.load_case_for(org.staff[name], case.id)
    denied = (
        db.session.execute(select(AuditEvent).where(AuditEvent.action == "case.access_denied"))
        .scalars()
        .all()
    )
    assert {e.actor_id for e in denied} == {org.staff[n].id for n in ("leader2", "hr", "admin")}


def test_message_reaches_only_the_reporter_thread_and_leaves_the_status(case, leader):
    service.send_message(leader, case, "Thank you for telling us. When could we talk?")
    assert case.status == "new" and case.acknowledged_at is None
    thread = reporter_messages(case)
    assert [m.body for m in thread] == ["Thank you for telling us. When could we talk?"]
    # The reporter has now read it: a flag, and no time that would say when.
    assert thread[0].read_by_reporter and thread[0].read_at is None
    # Writing to the reporter notifies no one.
    assert (
        db.session.scalar(
            select(db.func.count(Notification.id)).where(Notification.kind == "message")
        )
        == 0
    )


def test_reporter_reply_notifies_with_the_case_number_only(case, leader):
    add_reporter_message(case, "Tuesday afternoon works for me, thank you.")
    note = db.session.execute(
        select(Notification).where(Notification.kind == "message")
    ).scalar_one()
    assert note.recipient_id == leader.id
    assert f"case {case.id}" in note.body and "Tuesday" not in note.body + note.subject
    assert service.unread_count(case) == 1
    assert service.mark_reporter_messages_read(leader, case) == 1
    db.session.commit()
    assert service.unread_count(case) == 0


def test_someone_else_viewing_does_not_mark_messages_read(case, org):
    add_reporter_message(case, "Are you there?")
    assert service.mark_reporter_messages_read(org.staff["lead"], case) == 0
    assert service.unread_count(case) == 1


def test_notes_and_bodies_are_validated(case, leader):
    note = service.add_note(leader, case, "  Spoke to them; follow up Friday.  ")
    assert note.body == "Spoke to them; follow up Friday."
    with pytest.raises(WorkflowError) as empty:
        service.add_note(leader, case, "   ")
    assert empty.value.field == "body"
    with pytest.raises(WorkflowError):
        service.send_message(leader, case, "x" * 5001)


def test_audit_trail_has_no_words(case, leader):
    service.add_note(leader, case, "zebracrossing note words")
    service.send_message(leader, case, "pelicanword message words", mark_in_conversation=True)
    service.transition(
        leader,
        case,
        "closed",
        resolution="resolved_informally",
        outcome="resolved",
        closing_message="closingword message words",
    )
    assert {"note.added", "message.to_reporter", "case.status_changed"} <= set(actions(case.id))
    details = json.dumps([e.detail for e in db.session.execute(select(AuditEvent)).scalars()])
    for word in ("zebracrossing", "pelicanword", "closingword", "lawyer", "shifts"):
        assert word not in details


def test_reassign_to_an_eligible_trust_leader(org):
    lead, leader3 = org.staff["lead"], org.staff["leader3"]
    case = case_for(org, None)
    round_before = case.routing_round
    service.reassign(lead, case, leader3.id)
    assert case.assignee_id == leader3.id and case.routing_state == "assigned"
    assert case.routing_round == round_before + 1  # any queued routing job is now stale
    event = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "case.reassigned")
    ).scalar_one()
    assert event.detail == {"from_assignee": None, "to_assignee": leader3.id}
    notice = (
        db.session.execute(select(Notification).where(Notification.recipient_id == leader3.id))
        .scalars()
        .all()[-1]
    )
    assert f"case {case.id}" in notice.body


def test_reassign_refuses_when_routing_took_the_round_meanwhile(org):
    lead, leader3 = org.staff["lead"], org.staff["leader3"]
    case = case_for(org, None)
    seen_round = case.routing_round
    # A routing job decides between the lead opening the case and pressing the button.
    db.session.execute(
        update(Case)
        .where(Case.id == case.id)
        .values(routing_round=seen_round + 1)
        .execution_options(synchronize_session=False)
    )
    assert case.routing_round == seen_round  # what the lead's page was built from

    with pytest.raises(WorkflowError) as refused:
        service.reassign(lead, case, leader3.id)

    assert "routed just now" in refused.value.message
    assert db.session.get(Case, case.id).assignee_id is None
    assert "case.reassigned" not in actions(case.id)


def test_reassign_refuses_a_conflicted_trust_leader_and_says_why(org):
    lead, leader4 = org.staff["lead"], org.staff["leader4"]  # leader4 works in Complaints Team
    case = case_for(org, org.staff["leader"], org_unit=org.unit("Complaints Team"))
    with pytest.raises(WorkflowError) as refused:
        service.reassign(lead, case, leader4.id)
    assert refused.value.field == "assignee"
    assert "conflict of interest" in refused.value.message
    db.session.rollback()
    assert db.session.get(Case, case.id).assignee_id == org.staff["leader"].id


def test_reassign_refuses_someone_away_and_non_leads(org):
    lead, leader2 = org.staff["lead"], org.staff["leader2"]
    case = case_for(org, org.staff["leader"])
    leader2.away_until = utcnow().date()
    db.session.commit()
    with pytest.raises(WorkflowError) as refused:
        service.reassign(lead, case, leader2.id)
    assert "away" in refused.value.message
    with pytest.raises(WorkflowError):
        service.reassign(lead, case, org.staff["hr"].id)  # not a case worker
    with pytest.raises(Forbidden):
        service.reassign(org.staff["leader"], case, org.staff["leader3"].id)


def test_queue_order_and_scopes(org):
    leader, lead = org.staff["leader"], org.staff["lead"]
    low, critical, high_late, high_soon = (case_for(org, leader) for _ in range(4))
    theirs = case_for(org, org.staff["leader2"])
    unassigned = case_for(org, None)
    # Levels set after every submission: a hotspot rescores the earlier reports.
    for case, level in (
        (low, "low"),
        (critical, "critical"),
        (high_late, "high"),
        (high_soon, "high"),
        (theirs, "critical"),
        (unassigned, "moderate"),
    ):
        set_risk(case, level, {"low": 0.1, "moderate": 0.4, "high": 0.7, "critical": 0.9}[level])
    high_soon.ack_due_at = high_late.ack_due_at.replace(year=high_late.ack_due_at.year - 1)
    db.session.commit()

    rows, total = service.list_queue(leader, service.QueueFilters())
    assert [r.case.id for r in rows] == [critical.id, high_soon.id, high_late.id, low.id]
    assert total == 4
    assert rows[1].overdue and not rows[0].overdue

    attention, _ = service.list_queue(lead, service.QueueFilters(scope="attention"))
    ids = {r.case.id for r in attention}
    assert unassigned.id in ids and high_soon.id in ids  # unassigned, and overdue
    assert theirs.id not in ids and low.id not in ids
    everything, total = service.list_queue(lead, service.QueueFilters(scope="all"))
    assert total == 6
    only_high, _ = service.list_queue(lead, service.QueueFilters(scope="all", level="high"))
    assert {r.case.id for r in only_high} == {high_soon.id, high_late.id}


def test_export_outcome_labels(org, leader):
    escalated = case_for(org, leader, category="discrimination", involved=["my manager", "hr"])
    calm = case_for(org, leader)
    still_open_text = ACCOUNT + " This one is still open."
    still_open = case_for(org, leader, text=still_open_text)
    service.transition(leader, escalated, "acknowledged")
    service.transition(
        leader,
        escalated,
        "closed",
        resolution="referred_formal",
        outcome="legal_claim",
        closing_message=CLOSING,
    )
    service.transition(leader, calm, "acknowledged")
    service.transition(
        leader,
        calm,
        "closed",
        resolution="resolved_informally",
        outcome="resolved",
        closing_message=CLOSING,
    )
    removed = case_for(org, leader)
    service.transition(leader, removed, "closed", resolution="withdrawn", outcome="withdrawn")
    removed.report.text = None
    removed.report.text_removed_on = utcnow().date()
    db.session.commit()

    rows = export_outcome_labels()
    assert [r["escalated"] for r in rows] == [True, False]
    first = rows[0]
    assert first["text"] == ACCOUNT
    assert first["category"] == "discrimination" and first["involved"] == ["my manager", "hr"]
    assert first["outcome"] == "legal_claim"
    assert {
        "duration",
        "raised_before",
        "raised_with",
        "desired_outcome",
        "urgency",
        "language",
    } <= set(first)
    for row in rows:
        json.dumps(row)  # JSONL-ready
        assert not {"id", "case_id", "report_id", "contact", "receipt_hash"} & set(row)
    # Only closed cases with their text are exported: the open one (told apart by its text)
    # and the one whose text retention removed are not.
    assert len(rows) == 2
    assert still_open.report.text == still_open_text
    assert still_open_text not in [r["text"] for r in rows]


def test_export_labels_command_writes_what_training_reads(app, org, leader, tmp_path):
    for outcome, resolution in (
        ("legal_claim", "referred_formal"),
        ("resolved", "resolved_informally"),
    ):
        case = case_for(org, leader)
        service.transition(leader, case, "acknowledged")
        service.transition(
            leader, case, "closed", resolution=resolution, outcome=outcome, closing_message=CLOSING
        )
    path = tmp_path / "labels" / "outcomes.jsonl"

    result = app.test_cli_runner().invoke(args=["model", "export-labels", "--output", str(path)])

    assert result.exit_code == 0, result.output
    assert "wrote 2 labelled cases (1 escalated)" in result.output
    assert path.stat().st_mode & 0o077 == 0  # holds report text: owner only
    labelled = read_labelled_file(path)
    assert [r.escalated for r in labelled] == [True, False]


def test_explanation_is_read_defensively():
    view = service.explanation_view(
        {
            "score": 0.71,
            "rules": [
                {
                    "id": "legal-threat",
                    "title": "Mentions legal action",
                    "weight": 1.2,
                    "matched": ["lawyer"],
                },
                "garbage",
                {"weight": "heavy"},
            ],
            "model": {"top_terms": [{"term": "tribunal", "weight": 0.4}, {"weight": 1}]},
            "hotspot": {"applied": True, "boost": 0.1},
            "forced_level": {"level": "critical", "by": ["safety-threat"]},
        }
    )
    assert view.score == 0.71
    assert [r.title for r in view.rules] == ["Mentions legal action", "rule"]
    assert view.rules[0].matched == ["lawyer"] and view.rules[1].weight is None
    assert [t.term for t in view.terms] == ["tribunal"]
    assert view.hotspot_applied and view.forced_level == "critical"
    for junk in (None, [], "text", {"rules": "x", "model": 3, "hotspot": []}):
        assert service.explanation_view(junk).rules == []
