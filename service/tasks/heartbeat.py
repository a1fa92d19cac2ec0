"""Worker heartbeats: each `defuse worker` notes in Redis, every few seconds while its work
loop runs, that it is alive. The readiness probe and the admin jobs page read the newest one,
so a fleet with no working worker shows up as degraded instead of quietly piling up jobs."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

from flask import current_app
from redis import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

HEARTBEATS_KEY = "defuse:worker:heartbeats"  # sorted set: worker -> unix time of its last beat
BEAT_EVERY_SECONDS = 5
FORGET_AFTER_SECONDS = 24 * 3600  # beats older than this are pruned


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def beat(connection: Redis, name: str, at: float | None = None) -> None:
    now = time.time() if at is None else at
    with connection.pipeline() as pipeline:
        pipeline.zadd(HEARTBEATS_KEY, {name: now})
        pipeline.zremrangebyscore(HEARTBEATS_KEY, "-inf", now - FORGET_AFTER_SECONDS)
        pipeline.expire(HEARTBEATS_KEY, FORGET_AFTER_SECONDS)
        pipeline.execute()


def seconds_since_last_beat(connection: Redis) -> float | None:
    """Age of the newest heartbeat of any worker; None if none was ever seen (or pruned)."""
    newest = connection.zrevrange(HEARTBEATS_KEY, 0, 0, withscores=True)
    if not newest:
        return None
    return max(0.0, time.time() - float(newest[0][1]))


def worker_status(connection: Redis) -> str:
    """'ok' when some worker beat within DEFUSE_WORKER_HEARTBEAT_TIMEOUT_SECONDS, else why not."""
    timeout = current_app.config["DEFUSE"].worker_heartbeat_timeout_seconds
    try:
        age = seconds_since_last_beat(connection)
    except RedisError:
        return "unknown (Redis unavailable)"
    if age is None:
        return "no heartbeat seen"
    if age > timeout:
        return f"no heartbeat for {int(age)} s"
    return "ok"


class Heartbeat(threading.Thread):
    """Beats while `working` is set: the worker clears it while it waits for Redis again."""

    def __init__(self, connection: Redis, name: str) -> None:
        super().__init__(name="defuse-heartbeat", daemon=True)
        self.connection = connection
        self.worker = name
        self.working = threading.Event()
        self._stopped = threading.Event()

    def run(self) -> None:
        while not self._stopped.is_set():
            if self.working.is_set():
                try:
                    beat(self.connection, self.worker)
                except RedisError as error:
                    log.debug("heartbeat not written: %s", type(error).__name__)
            self._stopped.wait(BEAT_EVERY_SECONDS)

    def stop(self) -> None:
        self._stopped.set()
