"""The Redis connection and RQ queues, or their absence.

With DEFUSE_REDIS_URL unset (the embedded default) there is no queue: the outbox relay runs
jobs in-process right after the request that created them has committed.

Every Redis client of the service (queue, relay, sessions, rate limits, sign-in throttle,
scheduler, worker) is made by `connect()`: short timeouts, no client-side retries, and a
pause after a failure, so that a Redis that is down, or that accepts connections and never
answers, costs a request at most one short timeout. Nothing is lost meanwhile: reports and
their outbox entries are in the database, and the relay hands them over once Redis is back.
"""

from __future__ import annotations

import threading
import time
from typing import Any, ClassVar

from flask import Flask, current_app
from redis import Redis
from redis.backoff import NoBackoff
from redis.connection import Connection, SSLConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry
from rq import Queue

ROUTING_QUEUE = "routing"
MAINTENANCE_QUEUE = "maintenance"
NOTIFY_QUEUE = "notify"
QUEUE_NAMES = (ROUTING_QUEUE, NOTIFY_QUEUE, MAINTENANCE_QUEUE)  # in priority order

# A healthy Redis answers in a millisecond; these bound what an unhealthy one can cost.
CONNECT_TIMEOUT_SECONDS = 0.5
SOCKET_TIMEOUT_SECONDS = 0.5
# After a connect or a read fails, connects to that server fail at once for this long, so a
# request that needs Redis several times (rate limit, session, enqueue) waits only once.
PAUSE_AFTER_FAILURE_SECONDS = 3.0

_EXTENSION_KEY = "defuse.redis"


class _FailFast:
    """Connection mixin: remembers, per server and process, when Redis last failed."""

    _failed_at: ClassVar[dict[tuple[str, int], float]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()
    host: str
    port: int

    @classmethod
    def _mark(cls, server: tuple[str, int], failed: bool) -> None:
        with cls._lock:
            if failed:
                cls._failed_at[server] = time.monotonic()
            else:
                cls._failed_at.pop(server, None)

    def _connect(self):  # type: ignore[no-untyped-def]
        server = (self.host, self.port)
        failed_at = self._failed_at.get(server)
        if failed_at is not None and time.monotonic() - failed_at < PAUSE_AFTER_FAILURE_SECONDS:
            raise RedisConnectionError("Redis failed a moment ago; not trying again yet")
        try:
            return super()._connect()  # type: ignore[misc]
        except OSError:
            self._mark(server, failed=True)
            raise

    def read_response(self, *args: Any, **kwargs: Any) -> Any:
        server = (self.host, self.port)
        try:
            response = super().read_response(*args, **kwargs)  # type: ignore[misc]
        except (RedisConnectionError, RedisTimeoutError):
            self._mark(server, failed=True)
            raise
        if server in self._failed_at:
            self._mark(server, failed=False)
        return response


class FailFastConnection(_FailFast, Connection):
    pass


class FailFastSSLConnection(_FailFast, SSLConnection):
    pass


def client_options(url: str, socket_timeout: float | None = SOCKET_TIMEOUT_SECONDS) -> dict:
    """Keyword arguments for redis.from_url (and the rate limiter's storage options)."""
    return {
        "socket_connect_timeout": CONNECT_TIMEOUT_SECONDS,
        "socket_timeout": socket_timeout,
        # redis-py retries three times with back-off by default: 20 s and more per command
        # against a stalled server. Callers decide what to do instead (the outbox waits).
        "retry": Retry(NoBackoff(), 0),
        "connection_class": (
            FailFastSSLConnection if url.startswith("rediss://") else FailFastConnection
        ),
    }


def connect(url: str, socket_timeout: float | None = SOCKET_TIMEOUT_SECONDS) -> Redis:
    return Redis.from_url(url, **client_options(url, socket_timeout))


def init_app(app: Flask) -> None:
    url = app.config["DEFUSE"].redis_url
    app.extensions[_EXTENSION_KEY] = connect(url) if url else None


def get_redis(app: Flask | None = None) -> Redis | None:
    return (app or current_app).extensions[_EXTENSION_KEY]


def get_queue(name: str, connection: Redis | None = None) -> Queue:
    connection = connection or get_redis()
    if connection is None:
        raise RuntimeError("no Redis configured (DEFUSE_REDIS_URL is unset)")
    return Queue(name, connection=connection)
