"""RQ jobs. Each is thin: it opens an app context and calls the code that does the work.

The scheduled ones run at most once per interval however many schedulers enqueue them (each
worker runs one, and a scheduler may briefly outlive its worker): a run first takes a Redis
lock (SET NX PX) that lasts most of the interval, and a run that finds it taken does nothing.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])
_app: Flask | None = None
SCHEDULE_LOCK_PREFIX = "defuse:schedule:lock:"
# A run's lock lasts this share of the interval: long enough that a second scheduler's copy
# of the same run finds it, short enough that the next run (a little early or late) does not.
LOCK_SHARE_OF_INTERVAL = 0.9


def bind_app(app: Flask) -> None:
    """The worker binds its app once at start-up; jobs then run inside its context."""
    global _app
    _app = app


def job(func: F) -> F:
    @wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        global _app
        if _app is None:
            from service import create_app

            _app = create_app()
        with _app.app_context():
            return func(*args, **kwargs)

    return run  # type: ignore[return-value]


def scheduled(every_seconds: int) -> Callable[[F], F]:
    """A job the schedule runs every `every_seconds`; inside `@job` (it needs the app)."""

    def decorate(func: F) -> F:
        @wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            from service.tasks.queue import get_redis

            redis = get_redis()
            if redis is not None:
                lock_ms = int(every_seconds * 1000 * LOCK_SHARE_OF_INTERVAL)
                key = SCHEDULE_LOCK_PREFIX + func.__name__
                if not redis.set(key, os.getpid(), nx=True, px=lock_ms):
                    log.info("%s skipped: another scheduler's run holds its lock", func.__name__)
                    return None
            return func(*args, **kwargs)

        run.every_seconds = every_seconds  # type: ignore[attr-defined]
        return run  # type: ignore[return-value]

    return decorate


@job
def route_case_job(case_id: int, routing_round: int) -> str:
    from service.routing.service import route_case

    return route_case(case_id, routing_round)


@job
@scheduled(every_seconds=5)
def relay_outbox_job() -> int:
    from service.tasks.relay import relay_outbox

    return relay_outbox()


@job
@scheduled(every_seconds=15)  # pages whose jitter passed; the digest when due
def send_notifications_job() -> dict[str, int]:
    from service.notify import send_notifications

    return send_notifications()


@job
@scheduled(every_seconds=10)
def requeue_stuck_job() -> int:
    from service.routing.service import requeue_stuck

    return requeue_stuck()


@job
@scheduled(every_seconds=60)
def check_deadlines_job() -> dict[str, int]:
    from service.routing.sla import check_deadlines

    return check_deadlines()


@job
@scheduled(every_seconds=15 * 60)
def check_feedback_deadlines_job() -> dict[str, int]:
    from service.routing.sla import check_feedback_deadlines

    return check_feedback_deadlines()


@job
@scheduled(every_seconds=6 * 3600)
def retention_job() -> int:
    from service.retention import purge_expired

    return purge_expired(dry_run=False).cases


@job
@scheduled(every_seconds=3600)
def release_months_job() -> int:
    """Work out the release of each newly complete month (and again after an org import
    changed the tree) before anyone asks, so no request waits seconds for it."""
    from service.analytics.query import release_recent_months

    return release_recent_months()
