"""A Fernet token carries the moment it was made in the clear: ours carry the hour only."""

from __future__ import annotations

import base64
import time

from service.privacy.crypto import keyring


def token_time(token: str) -> int:
    return int.from_bytes(base64.urlsafe_b64decode(token)[1:9], "big")


def test_encrypted_text_dates_itself_to_the_hour_only(app):
    before = int(time.time())
    token = keyring.encrypt("an account")
    stamp = token_time(token)
    assert stamp % 3600 == 0
    assert before - 3600 < stamp <= before
    assert keyring.decrypt(token) == "an account"
