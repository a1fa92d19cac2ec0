"""Routing against the database: load the case and the candidates, choose, record.

Every decision bumps the case's routing_round, and a job carries the round it was created
for, so a job that runs twice (a retry, a re-queue after a killed worker, a duplicate
enqueue) finds the round moved on and does nothing: a case is assigned exactly once per round.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import current_app

from service.audit import record
from service.db import Case, OrgUnit, OutboxEntry, Report, User, to_hour, utcnow
from service.db.cases import OPEN_STATUSES
from service.db.people import CASE_WORKER_ROLES
from service.extensions import db
from service.notify import leads, notify
from service.routing.choose import (
    Candidate,
    CaseToRoute,
    OrgTree,
    choose_with_fallback,
    exclusion_counts,
    standing_exclusions,
)
from service.vocab import LANGUAGE_NAMES

log = logging.getLogger(__name__)


def load_org_tree() -> OrgTree:
    rows = db.session.execute(
        db.select(OrgUnit.id, OrgUnit.parent_id, OrgUnit.is_hr, OrgUnit.retired_at)
    ).all()
    return OrgTree(
        parent_of={row.id: row.parent_id for row in rows},
        hr_units=frozenset(row.id for row in rows if row.is_hr),
        retired_units=frozenset(row.id for row in rows if row.retired_at is not None),
    )


def _candidate(user: User, open_levels: tuple[str, ...] = ()) -> Candidate:
    return Candidate(
        id=user.id,
        org_unit_id=user.org_unit_id,
        categories=frozenset(user.categories or ()),
        languages=frozenset(user.languages or ()),
        capacity=user.capacity,
        open_levels=open_levels,
        active=user.active,
        away_until=user.away_until,
        last_assigned_at=user.last_assigned_at,
    )


def load_candidates() -> list[Candidate]:
    open_levels: dict[int, list[str]] = {}
    rows = db.session.execute(
        db.select(Case.assignee_id, Report.risk_level)
        .join(Case.report)
        .where(Case.assignee_id.is_not(None), Case.status.in_(OPEN_STATUSES))
    ).all()
    for assignee_id, level in rows:
        open_levels.setdefault(assignee_id, []).append(level)
    users = db.session.execute(
        db.select(User).where(User.role.in_(CASE_WORKER_ROLES), User.active.is_(True))
    ).scalars()
    return [_candidate(user, tuple(open_levels.get(user.id, ()))) for user in users]


def unroutable_staff(users: list[User] | None = None) -> dict[int, list[str]]:
    """Trust Leaders and leads (of `users`, or all of them) who can be routed no case at
    all, by id, with every reason: what the admin pages warn about."""
    if users is None:
        users = list(
            db.session.execute(db.select(User).where(User.role.in_(CASE_WORKER_ROLES))).scalars()
        )
    tree = load_org_tree()
    today = utcnow().date()
    found = {}
    for user in users:
        if user.role not in CASE_WORKER_ROLES:
            continue
        reasons = standing_exclusions(_candidate(user), tree, today)
        if reasons:
            found[user.id] = reasons
    return found


def describe_reasons(reasons: dict[str, int]) -> str:
    """'language: 3, at capacity: 1', or 'no Trust Leaders' when there was no one at all."""
    if not reasons:
        return "no active Trust Leaders"
    return ", ".join(f"{reason}: {count}" for reason, count in reasons.items())


def take_routing_round(case_id: int, routing_round: int, *conditions: Any) -> bool:
    """Move the case on from `routing_round` in one conditional UPDATE; False if someone
    (another job, a lead reassigning) already did, or `conditions` do not hold. Whoever takes
    the round decides the assignment, so a duplicate job or a racing lead changes nothing.
    On PostgreSQL the UPDATE waits on the row lock and then sees the round moved; on SQLite it
    takes the write lock (a SELECT there holds no snapshot, so a read-then-write check would
    let two writers both pass). The caller commits, or rolls back on False."""
    taken = db.session.execute(
        db.update(Case)
        .where(Case.id == case_id, Case.routing_round == routing_round, *conditions)
        .values(routing_round=routing_round + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    return bool(taken)


def route_case(case_id: int, routing_round: int) -> str:
    """Assign the case to a Trust Leader, or put it in the leads' unassigned queue.
    Returns what happened: assigned | unassigned | stale | missing."""
    if not take_routing_round(case_id, routing_round, Case.status.in_(OPEN_STATUSES)):
        db.session.rollback()
        return "stale" if db.session.get(Case, case_id) is not None else "missing"
    case = db.session.get(Case, case_id, populate_existing=True)
    assert case is not None  # the UPDATE above just matched it
    _round_decided(case_id, routing_round)

    report = case.report
    previous = case.assignee_id
    route = CaseToRoute(
        case_id=case.id,
        org_unit_id=report.org_unit_id,
        category=report.category,
        language=report.language,
        level=report.risk_level,
        involved=tuple(report.involved or ()),
        previous_assignee_id=previous,
    )
    candidates, tree, today = load_candidates(), load_org_tree(), utcnow().date()
    chosen, fallback = choose_with_fallback(
        route, candidates, tree, today, current_app.config["DEFUSE"].routing_fallback_languages
    )
    # Routing follows a submission automatically: its times go to the hour like the case's.
    now = to_hour(utcnow())
    if chosen is None:
        reasons = exclusion_counts(route, candidates, tree, today)
        case.assignee_id = None
        case.routing_state = "unassigned"
        attach_guide(case, None)
        record(
            "case.unassigned",
            case_id=case.id,
            actor_kind="system",
            to_the_hour=True,
            round=routing_round,
            reasons=reasons,
        )
        headline = "No eligible Trust Leader was found (" + describe_reasons(reasons) + ")"
        for lead in leads():
            notify(lead, "unassigned", case.id, headline)
        outcome = "unassigned"
    else:
        assignee = db.session.get(User, chosen.id)
        assert assignee is not None
        case.assignee_id = assignee.id
        case.routing_state = "assigned"
        case.assigned_at = now
        case.needs_language = report.language if fallback else None
        assignee.last_assigned_at = now
        attach_guide(case, assignee)
        record(
            "case.assigned",
            case_id=case.id,
            actor_kind="system",
            to_the_hour=True,
            assignee_id=assignee.id,
            round=routing_round,
            **({"fallback_language": fallback} if fallback else {}),
        )
        notify(assignee, "assigned", case.id, "A new case has been assigned to you")
        if fallback:
            wanted = LANGUAGE_NAMES.get(report.language, report.language)
            spoken = LANGUAGE_NAMES.get(fallback, fallback)
            for lead in leads():
                notify(
                    lead,
                    "needs_language",
                    case.id,
                    f"No eligible Trust Leader speaks {wanted}, so one who speaks {spoken} "
                    f"was assigned (reassign it when a {wanted} speaker is free)",
                )
        outcome = "assigned"
    db.session.commit()
    # No case id: this line carries a time a reporter caused.
    log.info("a case was routed: %s", outcome)
    return outcome


def attach_guide(case: Case, assignee: User | None) -> None:
    """Record the guide the case is worked from: its id, and the version in the language chosen
    for the assignee (the report's if they speak it, else theirs, else English). Raises like
    `get_guides` when the guide library cannot be loaded."""
    from service.guides.app import get_guides

    library = get_guides()
    language = library.language_for(case.report.language, assignee.languages if assignee else ())
    guide = library.for_case(case.report.category, case.report.risk_level, language)
    case.guide_id = guide.guide_id
    case.guide_version = guide.version
    case.guide_language = guide.language


def request_reroute(case: Case, reason: str) -> None:
    """Queue a new routing round (after a breach or a lead's request); the caller commits."""
    db.session.add(OutboxEntry(job="route_case", case_id=case.id, routing_round=case.routing_round))
    case.routing_state = "pending"
    record("case.reroute_requested", case_id=case.id, reason=reason)


def _round_decided(case_id: int, routing_round: int) -> None:
    """The round's outbox entries are done: drop the one exact time they held."""
    db.session.execute(
        db.update(OutboxEntry)
        .where(OutboxEntry.case_id == case_id, OutboxEntry.routing_round == routing_round)
        .values(relay_after=None)
        .execution_options(synchronize_session=False)
    )


def requeue_stuck() -> int:
    """Cases still pending a while after their job was handed to the queue (a worker killed
    mid-job, a lost queue) get their outbox entry handed over again. The hand-over time is
    kept to the hour only, so "a while" is counted from `relay_after`, which the relay sets
    to DEFUSE_ROUTING_STUCK_SECONDS after hand-over (or this check does, for an entry that
    has none); entries whose round was decided lose it."""
    stuck_after = timedelta(seconds=current_app.config["DEFUSE"].routing_stuck_seconds)
    now = utcnow()
    rows = db.session.execute(
        db.select(OutboxEntry, Case.routing_state, Case.routing_round)
        .join(Case, Case.id == OutboxEntry.case_id)
        .where(
            OutboxEntry.enqueued_at.is_not(None),
            OutboxEntry.relay_after.is_not(None) | (Case.routing_state == "pending"),
        )
    ).all()
    requeued = 0
    for entry, state, current_round in rows:
        if state != "pending" or current_round != entry.routing_round:
            entry.relay_after = None
        elif entry.relay_after is None:
            entry.relay_after = now + stuck_after
        elif entry.relay_after < now:
            entry.enqueued_at = entry.relay_after = None
            requeued += 1
    db.session.commit()
    if requeued:
        log.warning("re-queued %d stuck routing jobs", requeued)
    return requeued
