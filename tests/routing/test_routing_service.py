"""Routing against the database, in-process: assignment, guide, idempotence, deadlines,
notifications that never carry report text."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import func, select

from service.db import AuditEvent, Case, Notification, OutboxEntry, User, utcnow
from service.extensions import db
from service.notify import PAGE_KIND
from service.routing import service as routing
from service.routing.service import load_org_tree, request_reroute, route_case
from service.routing.sla import check_deadlines
from service.tasks.relay import relay_outbox
from tests.factories import import_demo_org, report_payload

SECRET_WORDS = "tangerine-umbrella-affair"


def submit(client, org, **changes) -> Case:
    response = client.post("/api/v1/reports", json=report_payload(org, **changes))
    assert response.status_code == 201
    report_id = response.get_json()["id"]
    return db.session.execute(select(Case).where(Case.report_id == report_id)).scalar_one()


def test_case_goes_to_an_eligible_leader_with_its_guide(client, org):
    case = submit(
        client,
        org,
        org_unit=org.unit("Payroll"),
        category="pay",
        text=f"My overtime is paid late every month, {SECRET_WORDS}.",
    )
    assert case.routing_state == "assigned"
    assignee = case.assignee
    # leader@ sits in Payroll itself: conflicted; the lead's and others' units are not.
    assert assignee.email != "leader@demo.defuse"
    assert not load_org_tree().in_line(assignee.org_unit_id, org.unit("Payroll"))
    assert case.guide_id and case.guide_version.startswith("pay@")
    note = db.session.execute(
        select(Notification).where(Notification.recipient_id == assignee.id)
    ).scalar_one()
    assert f"case {case.id}" in note.body and SECRET_WORDS not in note.body + note.subject
    assert note.body.endswith(f"/cases/{case.id}\n")


def test_running_a_routing_job_twice_assigns_once(client, org):
    case = submit(client, org)
    first_round = case.routing_round - 1
    assert route_case(case.id, first_round) == "stale"
    assert route_case(case.id, first_round) == "stale"
    assigned = db.session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.case_id == case.id, AuditEvent.action == "case.assigned")
    )
    assert assigned == 1


def test_two_jobs_for_one_round_at_the_same_moment_assign_once(app, client, org, monkeypatch):
    """A re-queued job and the original one running together (a worker killed, then both
    picked up): the second, started while the first is mid-decision, must find the round taken."""
    case = submit(client, org)
    request_reroute(case, "test")
    db.session.commit()
    case_id, this_round = case.id, case.routing_round
    second: dict[str, str] = {}

    def second_job() -> None:
        with app.app_context():
            second["outcome"] = route_case(case_id, this_round)

    real_load_candidates = routing.load_candidates
    racer = threading.Thread(target=second_job)

    def load_candidates_while_another_job_starts():  # type: ignore[no-untyped-def]
        if not racer.is_alive() and "outcome" not in second:
            racer.start()
            racer.join(timeout=1)  # it has to wait for this job's claim, so it cannot finish
        return real_load_candidates()

    monkeypatch.setattr(routing, "load_candidates", load_candidates_while_another_job_starts)

    first = route_case(case_id, this_round)
    racer.join(timeout=20)

    assert first == "assigned"
    assert second == {"outcome": "stale"}
    decisions = db.session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(
            AuditEvent.case_id == case_id,
            AuditEvent.action.in_(["case.assigned", "case.unassigned"]),
        )
    )
    assert decisions == 2  # the first routing at submission, and this round's: once


def test_nobody_eligible_goes_to_leads_unassigned_queue_with_the_reasons(app, client, org):
    app.config["DEFUSE"] = app.config["DEFUSE"].replace(routing_fallback_languages=())
    for user in db.session.execute(
        select(User).where(User.role.in_(["trust_leader", "lead"]))
    ).scalars():
        user.languages = ["en"]
    db.session.commit()
    # Written in Polish: the language is read from the text as well as the form.
    polish = "Ciągle dostajemy dodatkowe zmiany i nikt nie mówi, jak długo to potrwa."
    case = submit(client, org, language="pl", text=polish)
    assert case.report.language == "pl"
    assert case.routing_state == "unassigned" and case.assignee_id is None
    lead = org.staff["lead"]
    alerts = (
        db.session.execute(select(Notification).where(Notification.recipient_id == lead.id))
        .scalars()
        .all()
    )
    unassigned = [n for n in alerts if n.kind == "unassigned"]
    assert len(unassigned) == 1
    # The lead and the four Trust Leaders all lack Polish: the alert says so, with how many.
    assert "No eligible Trust Leader was found (language: 5)" in unassigned[0].body
    event = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "case.unassigned")
    ).scalar_one()
    assert event.detail["reasons"] == {"language": 5}


def test_critical_case_alerts_the_on_call_lead_at_once(client, org):
    case = submit(
        client,
        org,
        category="safety",
        urgency="urgent",
        text="He said he will hurt me after the shift and he has a knife in his locker.",
    )
    assert case.report.risk_level == "critical"
    assert case.ack_due_at - case.opened_at == timedelta(hours=4)
    pages = (
        db.session.execute(select(Notification).where(Notification.kind == PAGE_KIND))
        .scalars()
        .all()
    )
    # Without Redis (no jitter possible) the page goes at once, to the on-call lead only.
    assert [n.recipient.email for n in pages] == ["lead@demo.defuse"]
    assert pages[0].sent_at is not None and "critical" in pages[0].body


def test_deadline_warning_then_breach_reroutes_to_someone_else(client, org):
    case = submit(client, org)
    first = case.assignee_id
    sla = case.ack_due_at - case.opened_at

    case.ack_due_at = utcnow() + sla * 0.1  # inside the warning window
    db.session.commit()
    assert check_deadlines() == {"warned": 1, "breached": 0}
    assert check_deadlines() == {"warned": 0, "breached": 0}  # warned once only

    case.ack_due_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert check_deadlines()["breached"] == 1
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert case.breached_at is not None
    assert case.routing_state == "assigned" and case.assignee_id not in (None, first)
    lead_kinds = (
        db.session.execute(
            select(Notification.kind).where(Notification.recipient_id == org.staff["lead"].id)
        )
        .scalars()
        .all()
    )
    assert "breach" in lead_kinds


def test_acknowledged_case_is_not_breached(client, org):
    case = submit(client, org)
    case.status = "acknowledged"
    case.ack_due_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    assert check_deadlines() == {"warned": 0, "breached": 0}


def test_relay_runs_jobs_in_process_without_redis(client, org):
    case = submit(client, org)
    entry = db.session.execute(
        select(OutboxEntry).where(OutboxEntry.case_id == case.id)
    ).scalar_one()
    assert entry.enqueued_at is not None and entry.attempts == 1
    assert relay_outbox() == 0  # nothing left to hand over


def test_staff_in_a_retired_unit_get_no_case(client, org):
    # Every Trust Leader but leader2 (Product Design) sits in a unit the HR file drops; the
    # lead (Facilities) is away. Only leader2 can take a Call Centre case.
    import_demo_org(without=("Payroll", "Transport", "Complaints Team"))
    lead = db.session.get(User, org.staff["lead"].id)
    lead.away_until = utcnow().date() + timedelta(days=3)
    db.session.commit()
    assert routing.unroutable_staff() == {
        org.staff["leader"].id: ["retired org unit"],
        org.staff["leader3"].id: ["retired org unit"],
        org.staff["leader4"].id: ["retired org unit"],
        org.staff["lead"].id: ["away"],
    }
    for _ in range(3):
        case = submit(client, org, org_unit=org.unit("Call Centre"))
        assert case.assignee.email == "leader2@demo.defuse"


def test_reroute_request_queues_a_new_round_and_audits_its_reason(client, org):
    case = submit(client, org)
    request_reroute(case, "a lead asked")
    db.session.commit()
    entry = db.session.execute(
        select(OutboxEntry).where(
            OutboxEntry.case_id == case.id, OutboxEntry.routing_round == case.routing_round
        )
    ).scalar_one()
    assert entry.job == "route_case" and entry.enqueued_at is None
    assert case.routing_state == "pending"
    event = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "case.reroute_requested")
    ).scalar_one()
    assert event.case_id == case.id and event.detail == {"reason": "a lead asked"}
    # The queued round is the one a job would run: it routes the case again.
    assert route_case(case.id, case.routing_round) == "assigned"


def test_every_overdue_case_is_breached_once_by_the_system_and_every_lead_told(client, org):
    cases = [submit(client, org) for _ in range(2)]
    for case in cases:
        case.ack_due_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert check_deadlines()["breached"] == 2
    assert check_deadlines()["breached"] == 0  # a breached case is not breached again

    events = (
        db.session.execute(select(AuditEvent).where(AuditEvent.action == "case.deadline_breached"))
        .scalars()
        .all()
    )
    assert sorted(e.case_id for e in events) == sorted(c.id for c in cases)
    assert {e.actor_kind for e in events} == {"system"}
    lead = org.staff["lead"]
    breach_bodies = (
        db.session.execute(
            select(Notification.body).where(
                Notification.recipient_id == lead.id, Notification.kind == "breach"
            )
        )
        .scalars()
        .all()
    )
    assert sorted(body.split("\n")[0] for body in breach_bodies) == sorted(
        f"The acknowledge-by deadline has passed on case {case.id}." for case in cases
    )


def test_reasons_are_described_with_their_counts_in_order():
    assert routing.describe_reasons({}) == "no active Trust Leaders"
    assert (
        routing.describe_reasons({"language": 3, "at capacity": 1}) == "language: 3, at capacity: 1"
    )


def test_unroutable_staff_of_a_given_list_passes_over_people_who_take_no_cases(client, org):
    lead = db.session.get(User, org.staff["lead"].id)
    lead.away_until = utcnow().date() + timedelta(days=1)
    db.session.commit()
    hr, leader = org.staff["hr"], org.staff["leader"]
    assert routing.unroutable_staff([hr, lead, leader]) == {lead.id: ["away"]}


def test_stuck_check_hands_over_only_pending_rounds_past_their_time(
    client, org, monkeypatch, caplog
):
    """Five entries around the boundary of `relay_after`: only the pending, handed-over ones
    whose time has passed go back to the queue; a decided round loses its time."""
    now = utcnow().replace(microsecond=0)
    monkeypatch.setattr(routing, "utcnow", lambda: now)
    late_a, late_b, exactly_due, decided, never_handed_over = (
        submit(client, org) for _ in range(5)
    )

    def entry_of(case: Case) -> OutboxEntry:
        return db.session.execute(
            select(OutboxEntry).where(OutboxEntry.case_id == case.id)
        ).scalar_one()

    for case, relay_after in (
        (late_a, now - timedelta(seconds=1)),
        (late_b, now - timedelta(seconds=1)),
        (exactly_due, now),
        (decided, now - timedelta(seconds=1)),
        (never_handed_over, now - timedelta(seconds=1)),
    ):
        entry = entry_of(case)
        case.routing_round = entry.routing_round  # this entry's round is the current one
        case.routing_state = "pending"
        entry.relay_after = relay_after
    decided.routing_state = "assigned"
    entry_of(never_handed_over).enqueued_at = None
    db.session.commit()

    with caplog.at_level("WARNING", logger=routing.log.name):
        assert routing.requeue_stuck() == 2
    assert caplog.messages == ["re-queued 2 stuck routing jobs"]
    for case in (late_a, late_b):
        assert entry_of(case).enqueued_at is None and entry_of(case).relay_after is None
    assert entry_of(exactly_due).enqueued_at is not None
    assert entry_of(exactly_due).relay_after == now
    assert entry_of(decided).relay_after is None and entry_of(decided).enqueued_at is not None
    assert entry_of(never_handed_over).relay_after == now - timedelta(seconds=1)


def test_candidates_carry_the_levels_of_their_open_cases_only(org):
    from tests.cases.support import case_for

    leader = org.staff["leader"]
    case_for(org, leader, "high")
    case_for(org, leader, "low").status = "resolved"
    case_for(org, None, "critical")  # open, but nobody's
    db.session.commit()
    open_levels = {c.id: c.open_levels for c in routing.load_candidates()}
    assert open_levels[leader.id] == ("high",)
    assert open_levels[org.staff["leader2"].id] == ()


def test_a_job_for_a_case_that_no_longer_exists_is_missing(client, org):
    case = submit(client, org)
    assert route_case(case.id + 1000, 0) == "missing"
    assert route_case(case.id, case.routing_round - 1) == "stale"


def test_taking_a_round_moves_that_case_on_by_one_and_no_other(client, org):
    first, second = submit(client, org), submit(client, org)
    second.routing_round = first.routing_round
    db.session.commit()
    this_round = first.routing_round
    assert routing.take_routing_round(first.id, this_round) is True
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Case, first.id).routing_round == this_round + 1
    assert db.session.get(Case, second.id).routing_round == this_round
    assert routing.take_routing_round(first.id, this_round) is False  # already taken


def test_inactive_staff_are_no_candidates(org):
    leader = db.session.get(User, org.staff["leader"].id)
    leader.active = False
    db.session.commit()
    ids = {c.id for c in routing.load_candidates()}
    assert leader.id not in ids and org.staff["leader2"].id in ids
