"""Liveness and readiness probes."""

from __future__ import annotations

from flask import Blueprint, jsonify
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from service.extensions import db, talisman
from service.tasks.heartbeat import worker_status
from service.tasks.queue import get_redis

bp = Blueprint("health", __name__)

# The probes answer over plain HTTP on the internal port (the container health check, a load
# balancer); in production everything else is redirected to HTTPS.
plain_http_allowed = talisman(force_https=False)


@bp.get("/healthz")
@plain_http_allowed
def healthz():  # type: ignore[no-untyped-def]
    """The process is up."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
@plain_http_allowed
def readyz():  # type: ignore[no-untyped-def]
    """The database and (when configured) Redis answer: 200 "ready", or 503 "unavailable".
    With no worker heartbeat for a while it is still 200 (this process can take reports,
    which wait in the outbox) but "degraded", with the worker check saying why."""
    checks: dict[str, str] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except SQLAlchemyError:
        db.session.rollback()
        checks["database"] = "unavailable"
    redis = get_redis()
    if redis is None:
        checks["redis"] = "not configured (jobs run in-process)"
    else:
        try:
            redis.ping()
            checks["redis"] = "ok"
        except RedisError:
            checks["redis"] = "unavailable"
    ready = all(v == "ok" or v.startswith("not configured") for v in checks.values())
    status = "ready" if ready else "unavailable"
    if ready and redis is not None:
        checks["worker"] = worker_status(redis)
        if checks["worker"] != "ok":
            status = "degraded"
    return jsonify({"status": status, "checks": checks}), (200 if ready else 503)


@bp.get("/healthz/worker")
@plain_http_allowed
def healthz_worker():  # type: ignore[no-untyped-def]
    """For monitoring: 200 while some worker beats, 503 when none has for the configured time
    (or Redis cannot be asked). Without Redis there is no worker to miss: 200."""
    redis = get_redis()
    if redis is None:
        return jsonify({"status": "ok", "worker": "not needed (jobs run in-process)"})
    status = worker_status(redis)
    return jsonify({"status": "ok" if status == "ok" else "degraded", "worker": status}), (
        200 if status == "ok" else 503
    )
