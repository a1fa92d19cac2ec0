"""Who may open, change and reassign a case, with the exact refusals each one is given; what a
reassignment writes (the note for an override, the audit entry, the notification); the
choice of Trust Leaders a lead is offered; and the order and counts of the queue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update
from werkzeug.exceptions import Forbidden, NotFound

from service.cases import service
from service.cases.service import WorkflowError
from service.db import Case, Note, Notification, Report, utcnow
from service.db.base import MAX_ID
from service.extensions import db
from service.intake.service import add_reporter_message
from service.notify import case_link
from tests.cases.support import audit_events, case_for

NOT_A_CASE_WORKER = "Choose an active Trust Leader or lead."


def notes(case_id: int) -> list[Note]:
    return list(db.session.execute(select(Note).where(Note.case_id == case_id)).scalars())


def refusal(call) -> WorkflowError:  # type: ignore[no-untyped-def]
    with pytest.raises(WorkflowError) as refused:
        call()
    return refused.value


# --- reassigning ----------------------------------------------------------------------------


def test_reassignment_refusals_say_exactly_why_and_change_nothing(org):
    lead, leader = org.staff["lead"], org.staff["leader"]
    leader2, leader3, leader4 = org.staff["leader2"], org.staff["leader3"], org.staff["leader4"]
    # leader4 works in the Complaints Team, where the concern is: a conflict of interest.
    case = case_for(org, leader, org_unit=org.unit("Complaints Team"))
    leader3.languages = ["fr"]  # may be chosen anyway, with a reason
    leader2.languages = ["fr"]
    leader2.name = ""  # an account without a name is named by its email
    db.session.commit()

    with pytest.raises(Forbidden) as not_a_lead:
        service.reassign(leader, case, leader3.id, "they asked")
    assert not_a_lead.value.description == "Only a lead can reassign cases."

    refusals = [
        (leader.id, None, "The case is already assigned to that Trust Leader.", "assignee"),
        (org.staff["hr"].id, None, NOT_A_CASE_WORKER, "assignee"),
        (MAX_ID, None, NOT_A_CASE_WORKER, "assignee"),
        (
            leader4.id,
            "I know them well",
            "Kim (Trust Leader) cannot take this case: conflict of interest: line of management.",
            "assignee",
        ),
        (
            leader3.id,
            None,
            "Jo (Trust Leader) is not eligible (language). To assign the case anyway, say why.",
            "reason",
        ),
        (
            leader3.id,
            "   ",
            "Jo (Trust Leader) is not eligible (language). To assign the case anyway, say why.",
            "reason",
        ),
        (
            leader2.id,
            None,
            "leader2@demo.defuse is not eligible (language). To assign the case anyway, say why.",
            "reason",
        ),
    ]
    for assignee_id, reason, message, field in refusals:
        refused = refusal(lambda: service.reassign(lead, case, assignee_id, reason))  # noqa: B023
        assert (refused.message, refused.field, refused.status_code) == (message, field, 422)

    case.status = "closed"
    db.session.commit()
    refused = refusal(lambda: service.reassign(lead, case, leader3.id, "they asked"))
    assert (refused.message, refused.field, refused.status_code) == (
        "A closed case cannot be reassigned.",
        None,
        409,
    )

    db.session.rollback()
    assert db.session.get(Case, case.id).assignee_id == leader.id
    assert audit_events(case.id, "case.reassigned") == [] and notes(case.id) == []


def test_choosing_someone_without_the_language_keeps_the_reason_as_a_note(org):
    lead, leader, leader3 = org.staff["lead"], org.staff["leader"], org.staff["leader3"]
    case = case_for(org, leader)
    leader3.languages = ["fr"]
    db.session.commit()
    before = utcnow()

    assert service.reassign(lead, case, leader3.id, "  Jo knows the team's history.  ") == leader3

    after = utcnow()
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert (case.assignee_id, case.routing_state) == (leader3.id, "assigned")
    assert before <= case.assigned_at <= after
    assert leader3.last_assigned_at == case.assigned_at
    assert case.needs_language == "en"  # still needs an English speaker
    [note] = notes(case.id)
    assert note.author_id == lead.id
    assert note.body == (
        "Assigned to Jo (Trust Leader) although not eligible (language): "
        "Jo knows the team's history."
    )
    [event] = audit_events(case.id, "case.reassigned")
    assert (event.actor_id, event.actor_kind) == (lead.id, "staff")
    assert event.detail == {
        "from_assignee": leader.id,
        "to_assignee": leader3.id,
        "override": "language",
        "note_id": note.id,
    }
    [notice] = db.session.execute(
        select(Notification).where(Notification.recipient_id == leader3.id)
    ).scalars()
    assert notice.kind == "assigned"
    assert notice.body == (
        f"A case has been assigned to you on case {case.id}.\n\n"
        f"Open it in Defuse: {case_link(case.id)}\n"
    )


def test_handing_a_case_to_a_speaker_of_its_language_clears_the_need(org):
    lead, leader, leader3 = org.staff["lead"], org.staff["leader"], org.staff["leader3"]
    case = case_for(org, leader)
    case.needs_language = "en"  # routing fell back to someone without English
    db.session.commit()

    service.reassign(lead, case, leader3.id)

    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert case.assignee_id == leader3.id and case.needs_language is None
    assert notes(case.id) == []  # nothing to explain
    [event] = audit_events(case.id, "case.reassigned")
    assert event.detail == {"from_assignee": leader.id, "to_assignee": leader3.id}


def test_reassignment_refused_when_routing_moved_the_round_first(org):
    lead, leader3 = org.staff["lead"], org.staff["leader3"]
    case = case_for(org, None)
    db.session.execute(
        update(Case)
        .where(Case.id == case.id)
        .values(routing_round=case.routing_round + 1)
        .execution_options(synchronize_session=False)
    )
    refused = refusal(lambda: service.reassign(lead, case, leader3.id))
    assert (refused.message, refused.field) == (
        "The case was routed just now; reload it and try again.",
        "assignee",
    )


def test_the_lead_is_offered_everyone_by_name_with_why_each_may_not_take_it(org):
    leader, leader3 = org.staff["leader"], org.staff["leader3"]
    # The concern involves HR, and leader3 now works in People and Culture.
    leader3.org_unit_id = org.unit("People and Culture")
    db.session.commit()
    case = case_for(org, leader, involved=["my manager", "hr"])

    options = service.assignment_options(case)

    assert [(o.user.email, o.open_cases, o.reason) for o in options] == [
        ("leader2@demo.defuse", 0, None),  # Alex
        ("leader3@demo.defuse", 0, "conflict of interest: involved"),  # Jo
        ("leader4@demo.defuse", 0, None),  # Kim
        ("lead@demo.defuse", 0, None),  # Morgan
        ("leader@demo.defuse", 1, "already assigned"),  # Sam
    ]


# --- opening and changing a case ------------------------------------------------------------


def test_who_may_open_a_case_and_what_the_others_are_told(org):
    leader, lead = org.staff["leader"], org.staff["lead"]
    case = case_for(org, leader)
    assert service.load_case_for(leader, case.id) == case
    assert service.load_case_for(lead, case.id) == case

    for case_id in (0, -1, MAX_ID + 1, case.id + 1):
        with pytest.raises(NotFound) as missing:
            service.load_case_for(lead, case_id)
        assert missing.value.description == "There is no case with that number.", case_id
    # Case numbers run from 1 to the last an id column holds: a row outside is never opened.
    for case_id, receipt in ((MAX_ID, "f"), (0, "e")):
        db.session.add(
            Case(
                id=case_id,
                report=Report(
                    org_unit_id=case.report.org_unit_id,
                    category="workload",
                    submitted_on=case.report.submitted_on,
                    receipt_hash=receipt * 64,
                ),
                assignee_id=leader.id,
                opened_at=case.opened_at,
                ack_due_at=case.ack_due_at,
                feedback_due_at=case.feedback_due_at,
            )
        )
    db.session.commit()
    assert service.load_case_for(leader, MAX_ID).id == MAX_ID
    with pytest.raises(NotFound):
        service.load_case_for(leader, 0)

    for name, via in (("leader2", None), ("hr", "api"), ("admin", None)):
        user = org.staff[name]
        with pytest.raises(Forbidden) as refused:
            if via:
                service.load_case_for(user, case.id, via=via)
            else:
                service.load_case_for(user, case.id)
        assert refused.value.description == "You may not open this case."
    denied = audit_events(case.id, "case.access_denied")
    assert [(e.actor_id, e.detail) for e in denied] == [
        (org.staff["leader2"].id, {"role": "trust_leader", "via": "page"}),
        (org.staff["hr"].id, {"role": "hr_analyst", "via": "api"}),
        (org.staff["admin"].id, {"role": "admin", "via": "page"}),
    ]


def test_only_the_assignee_changes_a_case_and_a_closed_case_stays_as_it_is(org):
    leader = org.staff["leader"]
    case = case_for(org, leader)
    with pytest.raises(Forbidden) as lead_refused:
        service.add_note(org.staff["lead"], case, "note")
    assert lead_refused.value.description == (
        "Only the Trust Leader assigned to this case can change it. Reassign it to yourself first."
    )
    with pytest.raises(Forbidden) as other_refused:
        service.add_note(org.staff["leader2"], case, "note")
    assert other_refused.value.description == (
        "Only the Trust Leader assigned to this case can change it."
    )
    case.status = "closed"
    db.session.commit()
    refused = refusal(lambda: service.add_note(leader, case, "note"))
    assert (refused.message, refused.status_code) == (
        "This case is closed; it can be read but not changed.",
        409,
    )
    assert notes(case.id) == []


# --- the queue ------------------------------------------------------------------------------


def test_queue_order_unread_counts_and_an_unknown_scope(org):
    leader, lead = org.staff["leader"], org.staff["lead"]
    cases = [case_for(org, leader) for _ in range(6)]
    unassigned = case_for(org, None)
    no_deadline, high_late, high_tie_a, high_tie_b, unknown, low = cases
    soon = utcnow() + timedelta(days=2)
    # Levels set after every submission: a hotspot rescores the earlier reports.
    for case, level, due in (
        (no_deadline, "high", None),
        (high_late, "high", soon + timedelta(days=3)),
        (high_tie_a, "high", soon + timedelta(days=1)),
        (high_tie_b, "high", soon + timedelta(days=1)),
        (unknown, "severe", soon),  # a level this version does not know ranks as low
        (low, "low", soon + timedelta(days=1)),
        (unassigned, "moderate", soon),
    ):
        case.report.risk_level = level
        if due is None:  # feedback given: no deadline left
            case.status = "acknowledged"
            case.feedback_given_at = utcnow()
        else:
            case.ack_due_at = due
    db.session.commit()
    add_reporter_message(high_late, "Are you there?")
    add_reporter_message(high_late, "Hello?")

    rows, total = service.list_queue(leader, service.QueueFilters())
    assert [(r.case.id, r.unread) for r in rows] == [
        (high_tie_a.id, 0),
        (high_tie_b.id, 0),
        (high_late.id, 2),
        (no_deadline.id, 0),
        (unknown.id, 0),
        (low.id, 0),
    ]
    assert total == 6

    # With a moderate case in the list too, the unknown level still ranks below it.
    everything, _ = service.list_queue(lead, service.QueueFilters(scope="all"))
    assert [r.case.id for r in everything][-3:] == [unassigned.id, unknown.id, low.id]

    # A scope the lead's page does not know shows what needs their attention.
    attention, _ = service.list_queue(lead, service.QueueFilters(scope="attention"))
    unknown_scope, total = service.list_queue(lead, service.QueueFilters(scope="bogus"))
    assert [r.case.id for r in unknown_scope] == [r.case.id for r in attention]
    assert [r.case.id for r in attention] == [unassigned.id] and total == 1


def test_cases_alike_in_level_and_deadline_are_listed_by_their_number(org):
    due = utcnow() + timedelta(days=3)
    # Numbered the other way round from their reports, so no storage order hides the rule.
    later, earlier = (
        Case(
            id=case_id,
            report=Report(
                id=report_id,
                org_unit_id=org.unit("Call Centre"),
                category="workload",
                submitted_on=due.date(),
                receipt_hash=str(report_id) * 16,
                risk_level="high",
            ),
            assignee_id=org.staff["leader2"].id,
            opened_at=utcnow(),
            ack_due_at=due,
            feedback_due_at=due + timedelta(days=60),
        )
        for case_id, report_id in ((5002, 6001), (5001, 6002))
    )
    db.session.add_all([later, earlier])
    db.session.commit()

    for user, filters in (
        (org.staff["leader2"], service.QueueFilters()),
        (org.staff["lead"], service.QueueFilters(scope="all")),
        (org.staff["lead"], service.QueueFilters(scope="all", level="high")),
        (org.staff["lead"], service.QueueFilters(scope="all", category="workload")),
    ):
        rows, _ = service.list_queue(user, filters)
        assert [r.case.id for r in rows] == [5001, 5002], filters
