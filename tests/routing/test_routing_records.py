"""What one routing decision writes, exactly: the case's assignee, times and guide, the audit
event, the notifications and the log line, for an assignment, an unassigned case and a
fallback language; and what the decision reads: the case as stored, its report's unit and
involvement, its previous Trust Leader, and only that round's outbox entries."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import Flask, g
from sqlalchemy import select, update

from service.db import Case, Notification, OutboxEntry, to_hour, utcnow
from service.extensions import db
from service.notify import case_link
from service.routing import choose_with_fallback
from service.routing.service import request_reroute, route_case, unroutable_staff
from tests.cases.support import assign, audit_events, case_for, submit
from tests.factories import Org
from tests.routing.test_choose import TODAY, TREE, case, leader

FRENCH = (
    "Mon responsable me crie dessus devant toute l'équipe et personne ne dit rien depuis des "
    "semaines."
)
GERMAN = "Mein Vorgesetzter schreit mich jeden Tag vor dem ganzen Team an und niemand sagt etwas."
CASE_WORKERS = ("lead", "leader", "leader2", "leader3", "leader4")


def only(org: Org, *names: str) -> None:
    """Leave only these case workers active, so the choice among them is known."""
    for name in CASE_WORKERS:
        org.staff[name].active = name in names
    db.session.commit()


def pending(case: Case) -> int:
    """Put the case back for routing, nobody's, and return the round its job carries."""
    assign(case, None)
    request_reroute(case, "test")
    db.session.commit()
    return case.routing_round


def routed_by_a_lead(app: Flask, org: Org, case_id: int, routing_round: int) -> str:
    """Route as the in-process relay does inside a lead's request: still the system's choice."""
    with app.test_request_context("/"):
        g.user = org.staff["lead"]
        return route_case(case_id, routing_round)


def notices(kind: str) -> list[Notification]:
    """Every notification of this kind, oldest first (they name their case only in words)."""
    return list(
        db.session.execute(
            select(Notification).where(Notification.kind == kind).order_by(Notification.id)
        ).scalars()
    )


def hours_around(started: datetime) -> set[datetime]:
    """The hour a decision made since `started` is dated to (two if an hour turned)."""
    return {to_hour(started), to_hour(utcnow())}


def routing_log(caplog) -> list[str]:  # type: ignore[no-untyped-def]
    return [r.getMessage() for r in caplog.records if r.name == "service.routing.service"]


def test_an_assignment_writes_the_case_the_event_the_notice_and_the_log_line(app, org, caplog):
    leader2, leader3 = org.staff["leader2"], org.staff["leader3"]
    only(org, "leader2", "leader3")
    # English first: the guide is in the report's language because they speak it too.
    leader2.languages = leader3.languages = ["en", "fr"]
    db.session.commit()
    case, _ = submit(org, text=FRENCH, language="fr")
    assert case.report.language == "fr"
    routing_round = pending(case)
    # Both free; leader3 was assigned a case longer ago, so takes this one.
    leader2.last_assigned_at = utcnow() - timedelta(days=1)
    leader3.last_assigned_at = utcnow() - timedelta(days=9)
    db.session.commit()
    told_before = len(notices("assigned"))
    caplog.clear()
    started = utcnow()

    with caplog.at_level(logging.INFO, logger="service.routing.service"):
        assert routed_by_a_lead(app, org, case.id, routing_round) == "assigned"

    hours = hours_around(started)
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert (case.assignee_id, case.routing_state, case.needs_language) == (
        leader3.id,
        "assigned",
        None,
    )
    assert case.assigned_at in hours
    assert leader3.last_assigned_at == case.assigned_at
    assert (case.guide_id, case.guide_language) == ("workload", "fr")
    assert case.guide_version.startswith("workload@")
    event = audit_events(case.id, "case.assigned")[-1]
    assert (event.actor_kind, event.actor_id, event.at in hours) == ("system", None, True)
    assert event.detail == {"assignee_id": leader3.id, "round": routing_round}
    [notice] = notices("assigned")[told_before:]
    assert notice.recipient_id == leader3.id
    assert notice.body == (
        f"A new case has been assigned to you on case {case.id}.\n\n"
        f"Open it in Defuse: {case_link(case.id)}\n"
    )
    assert routing_log(caplog) == ["a case was routed: assigned"]


def test_a_case_no_one_may_take_goes_to_the_leads_with_each_reason_counted(app, org, caplog):
    lead, leader2 = org.staff["lead"], org.staff["leader2"]
    only(org, "lead", "leader", "leader2")
    lead.away_until = leader2.away_until = utcnow().date()  # away through today
    db.session.commit()
    # From Payroll, where leader works: a conflict of interest.
    case, _ = submit(org, org_unit=org.unit("Payroll"), category="pay")
    routing_round = pending(case)
    told_before = len(notices("unassigned"))  # routing at submission told them too
    caplog.clear()
    started = utcnow()

    with caplog.at_level(logging.INFO, logger="service.routing.service"):
        assert routed_by_a_lead(app, org, case.id, routing_round) == "unassigned"

    hours = hours_around(started)
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert (case.assignee_id, case.routing_state) == (None, "unassigned")
    assert case.guide_language == "en"  # nobody's languages to choose from yet
    reasons = {"away": 2, "conflict of interest: line of management": 1}
    event = audit_events(case.id, "case.unassigned")[-1]
    assert (event.actor_kind, event.actor_id, event.at in hours) == ("system", None, True)
    assert event.detail == {"round": routing_round, "reasons": reasons}
    [notice] = notices("unassigned")[told_before:]
    assert notice.recipient_id == lead.id  # every active lead is told, even one away
    assert notice.body == (
        "No eligible Trust Leader was found (away: 2, conflict of interest: line of "
        f"management: 1) on case {case.id}.\n\nOpen it in Defuse: {case_link(case.id)}\n"
    )
    assert routing_log(caplog) == ["a case was routed: unassigned"]


def test_a_fallback_speaker_is_named_to_the_leads_and_the_case_keeps_its_need(app, org):
    only(org, "lead", "leader3")
    case, _ = submit(org, text=GERMAN, language="de")
    assert case.report.language == "de"
    routing_round = pending(case)
    before = len(notices("needs_language"))

    assert routed_by_a_lead(app, org, case.id, routing_round) == "assigned"

    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert case.needs_language == "de" and case.guide_language == "en"
    event = audit_events(case.id, "case.assigned")[-1]
    assert event.detail == {
        "assignee_id": case.assignee_id,
        "round": routing_round,
        "fallback_language": "en",
    }
    [notice] = notices("needs_language")[before:]
    assert notice.recipient_id == org.staff["lead"].id
    assert notice.body == (
        "No eligible Trust Leader speaks German, so one who speaks English was assigned "
        "(reassign it when a German speaker is free) on case "
        f"{case.id}.\n\nOpen it in Defuse: {case_link(case.id)}\n"
    )


def test_when_hr_is_involved_no_one_in_an_hr_unit_takes_the_case(app, org):
    leader2, leader3 = org.staff["leader2"], org.staff["leader3"]
    only(org, "leader2", "leader3")
    leader2.org_unit_id = org.unit("People and Culture")  # an HR unit
    db.session.commit()
    case, _ = submit(org, involved=["my manager", "hr"])
    routing_round = pending(case)
    leader2.last_assigned_at = None  # would go first
    leader3.last_assigned_at = utcnow() - timedelta(days=1)
    db.session.commit()

    assert route_case(case.id, routing_round) == "assigned"
    assert db.session.get(Case, case.id).assignee_id == leader3.id


def test_a_rerouted_case_goes_to_someone_other_than_its_last_trust_leader(app, org):
    leader2, leader3 = org.staff["leader2"], org.staff["leader3"]
    only(org, "leader2", "leader3")
    case, _ = submit(org)
    assign(case, leader2)  # leader2 let its deadline pass: one open case, this one
    for _ in range(2):  # leader3 is busier, so only the breach keeps it from leader2
        case_for(org, leader3)
    request_reroute(case, "deadline breached")
    db.session.commit()

    assert route_case(case.id, case.routing_round) == "assigned"
    assert db.session.get(Case, case.id).assignee_id == leader3.id


def test_routing_decides_on_the_case_as_stored_not_as_this_session_last_saw_it(app, org):
    leader2, leader3 = org.staff["leader2"], org.staff["leader3"]
    only(org, "leader2", "leader3")
    case, _ = submit(org)
    assign(case, leader2)
    request_reroute(case, "deadline breached")
    db.session.commit()
    assert case.assignee_id == leader2.id  # what this session holds
    # Elsewhere, the case moved to leader3 before this job ran.
    db.session.execute(
        update(Case)
        .where(Case.id == case.id)
        .values(assignee_id=leader3.id)
        .execution_options(synchronize_session=False)
    )

    assert route_case(case.id, case.routing_round) == "assigned"
    # leader3 was the previous Trust Leader, so the case goes back to leader2.
    assert db.session.get(Case, case.id).assignee_id == leader2.id


def test_a_closed_case_is_not_routed_by_a_job_still_queued_for_it(app, org):
    case, _ = submit(org)
    routing_round = pending(case)
    case.status = "closed"
    db.session.commit()
    events_before = len(audit_events(case.id, "case.assigned"))

    assert route_case(case.id, routing_round) == "stale"

    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert (case.assignee_id, case.routing_round) == (None, routing_round)
    assert len(audit_events(case.id, "case.assigned")) == events_before


def test_a_decision_clears_only_its_own_rounds_outbox_entries(app, org):
    case, _ = submit(org)
    other, _ = submit(org)
    routing_round = pending(case)
    later = utcnow() + timedelta(hours=1)
    entries = {
        "this round": OutboxEntry(job="route_case", case_id=case.id, routing_round=routing_round),
        "an earlier round": OutboxEntry(
            job="route_case", case_id=case.id, routing_round=routing_round - 1
        ),
        "another case, same round": OutboxEntry(
            job="route_case", case_id=other.id, routing_round=routing_round
        ),
    }
    for entry in entries.values():
        entry.enqueued_at, entry.relay_after = to_hour(utcnow()), later
    db.session.add_all(entries.values())
    db.session.commit()

    assert route_case(case.id, routing_round) in ("assigned", "unassigned")

    db.session.expire_all()
    kept = {name: db.session.get(OutboxEntry, e.id).relay_after for name, e in entries.items()}
    assert kept == {
        "this round": None,
        "an earlier round": later,
        "another case, same round": later,
    }


def test_an_inactive_case_worker_is_listed_as_unroutable_for_that_reason(org):
    leader2 = org.staff["leader2"]
    assert leader2.id not in unroutable_staff()
    leader2.active = False
    db.session.commit()
    assert unroutable_staff()[leader2.id] == ["inactive"]


def test_a_fallback_the_same_as_the_case_language_is_passed_over_for_the_next():
    english = leader(2, languages=frozenset({"en"}))
    chosen, fallback = choose_with_fallback(
        case(language="de"), [english], TREE, TODAY, ("de", "en")
    )
    assert (chosen.id, fallback) == (2, "en")


def test_the_fallback_choice_still_counts_who_is_away_by_today():
    back = leader(2, languages=frozenset({"en"}), away_until=TODAY - timedelta(days=1))
    away = leader(3, languages=frozenset({"en"}), away_until=TODAY)
    chosen, fallback = choose_with_fallback(case(language="de"), [away, back], TREE, TODAY, ("en",))
    assert (chosen.id, fallback) == (2, "en")
