"""The outbox relay: moves committed outbox entries onto the RQ queue.

A report, its case and its outbox entry are committed together, so nothing is lost if Redis
is down at that moment: the entry waits, and the relay (run after each submission and every
few seconds by the worker's scheduler) hands it over once Redis is back. Without Redis
configured, the relay runs the job in-process instead.

A new case's entry waits a random delay first (DEFUSE_ROUTING_DELAY_MINUTES), so the moment
a case reaches a Trust Leader says little about the moment it was sent. Routing jobs leave no
record in Redis once done: their id names no case, their result is dropped (result_ttl=0), and
a job that failed for good is kept only briefly (the stuck-case re-queue routes it again).
"""

from __future__ import annotations

import logging
import random
from datetime import timedelta

from flask import current_app
from redis.exceptions import RedisError
from rq import Retry

from service.db import OutboxEntry, this_hour, utcnow
from service.extensions import db
from service.privacy import keyed_hash
from service.tasks.queue import ROUTING_QUEUE, get_queue, get_redis

log = logging.getLogger(__name__)

# Back-off between retries of a failed routing job, in seconds.
RETRY_INTERVALS = [5, 30, 120, 600]
# How long a routing job that failed for good stays in RQ's failed registry (the admin's
# failed-jobs page): short, as its record holds exact times; its case, still pending, is
# handed over again by the stuck-case re-queue.
ROUTING_FAILURE_TTL = 600
JOB_ID_PURPOSE = "routing-job"
# The delay must not be guessable from earlier draws (random's default generator could be).
_random = random.SystemRandom()


def routing_job_id(case_id: int, routing_round: int) -> str:
    """One job id per case and round, so enqueuing the same round twice replaces the job; a
    keyed hash, so the id (which RQ logs) names no case."""
    return "route_case-" + keyed_hash(f"{case_id}:{routing_round}", JOB_ID_PURPOSE)[:24]


def routing_delay() -> timedelta:
    """A random wait within DEFUSE_ROUTING_DELAY_MINUTES; none without Redis, where nothing
    would come back later to hand the entry over."""
    if get_redis() is None:
        return timedelta(0)
    low, high = current_app.config["DEFUSE"].routing_delay_minutes
    return timedelta(minutes=_random.uniform(low, high))


def new_case_entry(case_id: int) -> OutboxEntry:
    """The outbox entry of a new case's first routing round, waiting its random delay; the
    caller adds and commits it, and relays it at once only if `relay_after` is None."""
    delay = routing_delay()
    return OutboxEntry(
        job="route_case",
        case_id=case_id,
        routing_round=0,
        relay_after=utcnow() + delay if delay else None,
    )


def relay_outbox(limit: int = 500) -> int:
    """Hand pending outbox entries over; returns how many were handed over."""
    entries = (
        db.session.execute(
            db.select(OutboxEntry)
            .where(
                OutboxEntry.enqueued_at.is_(None),
                OutboxEntry.relay_after.is_(None) | (OutboxEntry.relay_after <= utcnow()),
            )
            .order_by(OutboxEntry.id)
            .limit(limit)
        )
        .scalars()
        .all()
    )
    if not entries:
        return 0
    pending = [(entry.id, entry.case_id, entry.routing_round) for entry in entries]
    db.session.rollback()  # don't hold a transaction open across Redis calls
    return hand_over(pending)


def hand_over(pending: list[tuple[int, int, int]]) -> int:
    """Enqueue (entry id, case id, round) routing jobs, or run them here without Redis, and
    mark each entry handed over; stops at the first Redis error. Returns how many went."""
    redis = get_redis()
    stuck_after = timedelta(seconds=current_app.config["DEFUSE"].routing_stuck_seconds)
    handed = 0
    for entry_id, case_id, routing_round in pending:
        if redis is None:
            from service.routing.service import route_case

            route_case(case_id, routing_round)
        else:
            try:
                get_queue(ROUTING_QUEUE, redis).enqueue(
                    "service.tasks.jobs.route_case_job",
                    case_id,
                    routing_round,
                    job_id=routing_job_id(case_id, routing_round),
                    retry=Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS),
                    result_ttl=0,
                    failure_ttl=ROUTING_FAILURE_TTL,
                )
            except RedisError as error:
                log.warning("outbox relay paused, Redis unavailable: %s", type(error).__name__)
                break
        db.session.execute(
            db.update(OutboxEntry)
            .where(OutboxEntry.id == entry_id)
            .values(
                enqueued_at=this_hour(),
                # In-process the round is decided already; queued, the stuck check starts.
                relay_after=None if redis is None else utcnow() + stuck_after,
                attempts=OutboxEntry.attempts + 1,
            )
        )
        db.session.commit()
        handed += 1
    return handed


def relay_outbox_soon(pending: list[tuple[int, int, int]] | None = None) -> None:
    """Right after a commit that wrote outbox entries: hand them over now, never failing the
    caller for it. A submission passes its own (entry id, case id, round), so it neither
    queries the outbox nor picks up what an outage left waiting (the scheduled relay's work);
    without `pending`, up to 20 waiting entries go."""
    try:
        if pending is None:
            relay_outbox(limit=20)
        else:
            hand_over(pending)
    except Exception:  # noqa: BLE001 - the periodic relay will retry; the report is safe
        db.session.rollback()
        log.exception("outbox relay after submit failed; the scheduler will retry")
