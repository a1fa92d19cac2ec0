"""Liveness and readiness probes."""

from __future__ import annotations

from flask import Blueprint, jsonify
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from service.extensions import db, talisman
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
    """The database and (when configured) Redis answer."""
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
    return jsonify({"status": "ready" if ready else "unavailable", "checks": checks}), (
        200 if ready else 503
    )
