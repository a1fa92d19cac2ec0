"""Encryption at rest for every free text (accounts, notes, messages, contact details).

Fernet (AES-128-CBC + HMAC-SHA256) from the cryptography library, through a MultiFernet so
that several keys can be live at once: the first encrypts, all decrypt. That is what lets
`defuse keys rotate` re-encrypt rows in the background without downtime.

A Fernet token carries the moment it was made, in the clear: ours carry the hour only, as a
report's text encrypted at submission would otherwise date the submission to the second.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator


class KeyringNotConfigured(RuntimeError):
    pass


class Keyring:
    """The process-wide set of Fernet keys; configured once by create_app."""

    def __init__(self) -> None:
        self._fernet: MultiFernet | None = None
        self._keys: tuple[str, ...] = ()

    def configure(self, keys: Sequence[str]) -> None:
        if not keys:
            raise KeyringNotConfigured("at least one encryption key is required")
        self._keys = tuple(keys)
        self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])

    @property
    def keys(self) -> tuple[str, ...]:
        return self._keys

    @property
    def primary_key(self) -> str:
        return self._keys[0]

    @property
    def fernet(self) -> MultiFernet:
        if self._fernet is None:
            raise KeyringNotConfigured("encryption keys are not configured")
        return self._fernet

    def encrypt(self, plaintext: str) -> str:
        this_hour = int(time.time()) // 3600 * 3600
        return self.fernet.encrypt_at_time(plaintext.encode("utf-8"), this_hour).decode("ascii")

    def decrypt(self, token: str) -> str:
        return self.fernet.decrypt(token.encode("ascii")).decode("utf-8")

    def rotate(self, token: str) -> str:
        """Re-encrypt a token under the primary key (no-op cost if it already is)."""
        return self.fernet.rotate(token.encode("ascii")).decode("ascii")

    def is_current(self, token: str) -> bool:
        try:
            Fernet(self.primary_key.encode()).decrypt(token.encode("ascii"))
        except InvalidToken:
            return False
        return True


keyring = Keyring()


def new_key() -> str:
    return Fernet.generate_key().decode("ascii")


class EncryptedText(TypeDecorator[str]):
    """A text column stored as a Fernet token; None stays NULL."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        if value is None:
            return None
        return keyring.encrypt(str(value))

    def process_result_value(self, value: Any, dialect: Any) -> str | None:
        if value is None:
            return None
        return keyring.decrypt(value)
