"""A lead undoing a withdrawal made by mistake: the case goes back to the status it was
withdrawn from (its own, latest withdrawal), the undo is audited, and who may undo what."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from werkzeug.exceptions import Forbidden

from service.cases import service
from service.cases.service import WorkflowError
from service.db import AuditEvent
from service.extensions import db
from tests.cases.support import case_for


def last_status_change(case_id: int) -> AuditEvent:
    return db.session.execute(
        select(AuditEvent)
        .where(AuditEvent.case_id == case_id, AuditEvent.action == "case.status_changed")
        .order_by(AuditEvent.id.desc())
        .limit(1)
    ).scalar_one()


def test_undo_puts_the_case_back_where_it_was_and_is_audited(org):
    leader, lead = org.staff["leader"], org.staff["lead"]
    case = case_for(org, leader)
    service.transition(leader, case, "acknowledged")
    service.transition(leader, case, "in_conversation")
    service.transition(leader, case, "withdrawn")

    assert service.undo_withdrawal(lead, case) == "in_conversation"

    assert case.status == "in_conversation"
    event = last_status_change(case.id)
    assert (event.case_id, event.actor_id, event.actor_kind) == (case.id, lead.id, "staff")
    assert event.detail == {
        "from_status": "withdrawn",
        "to_status": "in_conversation",
        "undo": True,
    }

    # Withdrawn again later, from another status: the latest withdrawal is the one undone.
    other = case_for(org, leader)
    service.transition(leader, other, "withdrawn")
    assert service.undo_withdrawal(lead, other) == "new"
    service.transition(leader, other, "acknowledged")
    service.transition(leader, other, "withdrawn")
    assert service.undo_withdrawal(lead, other) == "acknowledged"
    assert other.status == "acknowledged"


def test_another_cases_withdrawal_does_not_count(org):
    leader, lead = org.staff["leader"], org.staff["lead"]
    first, second = case_for(org, leader), case_for(org, leader)
    service.transition(leader, first, "acknowledged")
    service.transition(leader, first, "withdrawn")
    service.transition(leader, second, "acknowledged")
    service.transition(leader, second, "in_conversation")
    service.transition(leader, second, "withdrawn")  # the latest withdrawal of all

    assert service.undo_withdrawal(lead, first) == "acknowledged"
    assert service.undo_withdrawal(lead, second) == "in_conversation"


def test_without_the_withdrawal_in_the_audit_log_the_case_goes_back_by_its_acknowledgement(org):
    """A case marked withdrawn with no record of it (older data) goes back to acknowledged if
    it was acknowledged, else to new; earlier moves say nothing about where it was."""
    leader, lead = org.staff["leader"], org.staff["lead"]
    acknowledged, untouched = case_for(org, leader), case_for(org, leader)
    service.transition(leader, acknowledged, "acknowledged")
    for case in (acknowledged, untouched):
        case.status = "withdrawn"
    db.session.commit()
    # Its one recorded move left "new", but not for "withdrawn": it says nothing here.
    assert service.status_before_withdrawal(acknowledged) == "acknowledged"
    assert service.status_before_withdrawal(untouched) == "new"
    assert service.undo_withdrawal(lead, untouched) == "new"
    assert untouched.status == "new"


def test_only_a_lead_undoes_and_only_a_withdrawal(org):
    leader, lead = org.staff["leader"], org.staff["lead"]
    case = case_for(org, leader)
    service.transition(leader, case, "withdrawn")
    with pytest.raises(Forbidden) as forbidden:
        service.undo_withdrawal(leader, case)
    assert forbidden.value.description == "Only a lead can undo a withdrawal."
    assert case.status == "withdrawn"

    service.undo_withdrawal(lead, case)
    changes = db.session.scalar(
        select(db.func.count(AuditEvent.id)).where(AuditEvent.action == "case.status_changed")
    )
    with pytest.raises(WorkflowError) as refused:
        service.undo_withdrawal(lead, case)
    assert refused.value.message == (
        "Only a case marked as withdrawn (and not yet closed) can be reopened."
    )
    assert (refused.value.field, refused.value.status_code) == (None, 409)
    assert case.status == "new"
    assert (
        db.session.scalar(
            select(db.func.count(AuditEvent.id)).where(AuditEvent.action == "case.status_changed")
        )
        == changes
    )
