"""RQ jobs. Each is thin: it opens an app context and calls the code that does the work."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])
_app: Flask | None = None


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


@job
def route_case_job(case_id: int, routing_round: int) -> str:
    from service.routing.service import route_case

    return route_case(case_id, routing_round)


@job
def relay_outbox_job() -> int:
    from service.tasks.relay import relay_outbox

    return relay_outbox()


@job
def requeue_stuck_job() -> int:
    from service.routing.service import requeue_stuck

    return requeue_stuck()


@job
def check_deadlines_job() -> dict[str, int]:
    from service.routing.sla import check_deadlines

    return check_deadlines()


@job
def check_feedback_deadlines_job() -> dict[str, int]:
    from service.routing.sla import check_feedback_deadlines

    return check_feedback_deadlines()


@job
def retention_job() -> int:
    from service.retention import purge_expired

    return purge_expired(dry_run=False).cases
