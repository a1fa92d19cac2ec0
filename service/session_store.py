"""Sessions on Redis that survive a Redis outage.

Sessions live on Redis so that ending one deletes it. While Redis is unreachable they are kept
in owner-only files in the instance folder instead (as without Redis), so the sign-in and
report forms keep working rather than failing with a 500. Once Redis answers again it is the
only store read: sessions begun during the outage simply end (staff sign in again). A session
ended during the outage is noted in the files, so its copy on Redis opens nothing afterwards.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from cachelib.file import FileSystemCache
from flask import Flask
from flask_session.base import ServerSideSession
from flask_session.redis import RedisSessionInterface
from redis import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
ENDED_PREFIX = "ended:"
WARN_EVERY_SECONDS = 60  # an outage is logged now and then, not twice a request
_last_warning = 0.0


def _warn(what: str, error: RedisError) -> None:
    global _last_warning
    if time.monotonic() - _last_warning > WARN_EVERY_SECONDS:
        _last_warning = time.monotonic()
        log.warning("session store unreachable (%s); %s", type(error).__name__, what)


class RedisSessionsWithFallback(RedisSessionInterface):
    def __init__(self, app: Flask, client: Redis, fallback: FileSystemCache, **options: Any):
        super().__init__(app, client, **options)
        self.fallback = fallback
        self.lifetime = app.permanent_session_lifetime

    def _retrieve_session_data(self, store_id: str) -> dict | None:
        try:
            data = super()._retrieve_session_data(store_id)
        except RedisError as error:
            _warn("sessions are kept locally meanwhile", error)
            saved = self.fallback.get(store_id)
            return self.serializer.decode(saved) if saved else None
        if data is not None and self.fallback.has(ENDED_PREFIX + store_id):
            return None
        return data

    def _upsert_session(
        self, session_lifetime: timedelta, session: ServerSideSession, store_id: str
    ) -> None:
        try:
            super()._upsert_session(session_lifetime, session, store_id)
        except RedisError as error:
            _warn("sessions are kept locally meanwhile", error)
            timeout = int(session_lifetime.total_seconds())
            self.fallback.set(store_id, self.serializer.encode(session), timeout=timeout)

    def _delete_session(self, store_id: str) -> None:
        self.fallback.delete(store_id)
        try:
            super()._delete_session(store_id)
        except RedisError as error:
            _warn("a session ended locally", error)
            timeout = int(self.lifetime.total_seconds())
            self.fallback.set(ENDED_PREFIX + store_id, True, timeout=timeout)
