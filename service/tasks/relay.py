"""The outbox relay: moves committed outbox entries onto the RQ queue.

A report, its case and its outbox entry are committed together, so nothing is lost if Redis
is down at that moment: the entry waits, and the relay (run after each submission and every
few seconds by the worker's scheduler) hands it over once Redis is back. Without Redis
configured, the relay runs the job in-process instead.
"""

from __future__ import annotations

import logging

from redis.exceptions import RedisError
from rq import Retry

from service.db import OutboxEntry, utcnow
from service.extensions import db
from service.tasks.queue import ROUTING_QUEUE, get_queue, get_redis

log = logging.getLogger(__name__)

# Back-off between retries of a failed routing job, in seconds.
RETRY_INTERVALS = [5, 30, 120, 600]


def routing_job_id(case_id: int, routing_round: int) -> str:
    """One job id per case and round: enqueuing the same round twice is harmless."""
    return f"route_case-{case_id}-{routing_round}"


def relay_outbox(limit: int = 500) -> int:
    """Hand pending outbox entries over; returns how many were handed over."""
    entries = (
        db.session.execute(
            db.select(OutboxEntry)
            .where(OutboxEntry.enqueued_at.is_(None))
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
                    result_ttl=3600,
                    failure_ttl=7 * 24 * 3600,
                )
            except RedisError as error:
                log.warning("outbox relay paused, Redis unavailable: %s", type(error).__name__)
                break
        db.session.execute(
            db.update(OutboxEntry)
            .where(OutboxEntry.id == entry_id)
            .values(enqueued_at=utcnow(), attempts=OutboxEntry.attempts + 1)
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
