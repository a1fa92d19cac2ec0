"""At most one report or reply per intent: a resend with the same submission key files nothing.

The key is the one-time token of a confirmed form or a client's `Idempotency-Key` header. The
database keeps only a keyed hash of it (and of what was sent with it), an expiry to the hour,
the id of what it filed and, for a report, the receipt code sealed with a key derived from the
submission key: only someone who sends the key again can be shown that receipt again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app

from service.db import SubmissionKey, to_hour, utcnow
from service.extensions import db
from service.privacy import keyed_hash, purpose_key

KEY_PURPOSE = "submission-key"
REQUEST_PURPOSE = "submission-request"
SEAL_PURPOSE = "submission-seal"


class KeyReused(ValueError):
    """The key was already used for a different request."""


@dataclass(frozen=True)
class Earlier:
    result_id: int
    receipt: str | None  # the receipt the key's report was given, for a report


def _key_hash(scope: str, key: str) -> str:
    return keyed_hash(f"{scope}\x00{key}", KEY_PURPOSE)


def _request_hash(payload: Any) -> str:
    return keyed_hash(json.dumps(payload, sort_keys=True, default=str), REQUEST_PURPOSE)


def _seal(key: str) -> Fernet:
    derived = hmac.new(purpose_key(SEAL_PURPOSE), key.encode(), hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(derived))


def earlier(scope: str, key: str, payload: Any = None) -> Earlier | None:
    """What this key already filed, if it is still remembered; raises KeyReused when the key
    came with a different payload (only checked when a payload is given)."""
    row = db.session.get(SubmissionKey, _key_hash(scope, key))
    if row is None or row.expires_at <= utcnow():
        return None
    if payload is not None and row.request_hash != _request_hash(payload):
        raise KeyReused("This key was already used for a different request.")
    receipt = None
    if row.sealed_receipt:
        try:
            receipt = _seal(key).decrypt(row.sealed_receipt.encode()).decode()
        except InvalidToken:  # the hash key changed since: the receipt cannot be recovered
            receipt = None
    return Earlier(result_id=row.result_id, receipt=receipt)


def remember(
    scope: str, key: str, result_id: int, payload: Any = None, receipt: str | None = None
) -> None:
    """Record the key in the caller's transaction, so the key and what it filed are committed
    together; a concurrent second use fails on the primary key. Forgets expired keys."""
    now = utcnow()
    db.session.execute(db.delete(SubmissionKey).where(SubmissionKey.expires_at <= now))
    hours = current_app.config["DEFUSE"].submission_key_hours
    db.session.add(
        SubmissionKey(
            key_hash=_key_hash(scope, key),
            request_hash=_request_hash(payload) if payload is not None else None,
            result_id=result_id,
            sealed_receipt=_seal(key).encrypt(receipt.encode()).decode() if receipt else None,
            expires_at=to_hour(now) + timedelta(hours=hours),
        )
    )
    db.session.flush()
