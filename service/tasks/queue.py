"""The Redis connection and RQ queues, or their absence.

With DEFUSE_REDIS_URL unset (the embedded default) there is no queue: the outbox relay runs
jobs in-process right after the request that created them has committed.
"""

from __future__ import annotations

from flask import Flask, current_app
from redis import Redis
from rq import Queue

ROUTING_QUEUE = "routing"
MAINTENANCE_QUEUE = "maintenance"
NOTIFY_QUEUE = "notify"
QUEUE_NAMES = (ROUTING_QUEUE, NOTIFY_QUEUE, MAINTENANCE_QUEUE)  # in priority order

_EXTENSION_KEY = "defuse.redis"


def init_app(app: Flask) -> None:
    url = app.config["DEFUSE"].redis_url
    # Short timeouts: a Redis outage must cost a request milliseconds, not a hang.
    app.extensions[_EXTENSION_KEY] = (
        Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2) if url else None
    )


def get_redis(app: Flask | None = None) -> Redis | None:
    return (app or current_app).extensions[_EXTENSION_KEY]


def get_queue(name: str, connection: Redis | None = None) -> Queue:
    connection = connection or get_redis()
    if connection is None:
        raise RuntimeError("no Redis configured (DEFUSE_REDIS_URL is unset)")
    return Queue(name, connection=connection)
