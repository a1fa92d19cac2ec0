"""Rate-limit keys that do not identify anyone.

Flask-Limiter needs a per-client key. The client address is only ever used as the input of a
keyed hash whose key changes every UTC day, so the limiter's storage (memory or Redis) holds
no address, and yesterday's keys cannot be linked to today's.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

from flask import current_app, request


def _daily_key(secret: bytes, day: str) -> bytes:
    return hmac.new(secret, b"ratelimit:" + day.encode(), hashlib.sha256).digest()


def client_key_for(address: str, secret: bytes, day: str) -> str:
    return hmac.new(_daily_key(secret, day), address.encode(), hashlib.sha256).hexdigest()[:32]


def anonymous_client_key() -> str:
    # remote_addr is already the real client when ProxyFix is configured in front of us.
    address = request.remote_addr or "unknown"
    secret = current_app.config["SECRET_KEY"].encode()
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    return client_key_for(address, secret, day)
