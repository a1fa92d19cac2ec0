"""argon2id hashing for every staff secret we must check but never keep: passwords and
second-factor recovery codes. One hasher, so tests can swap in a cheap one in one place."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

hasher = PasswordHasher()  # argon2id with the library's current recommended parameters

# Stored instead of a password hash on accounts that sign in only with single sign-on: it is
# not an argon2 hash, so no password ever verifies against it.
NO_PASSWORD = "!sso-only"  # noqa: S105 - a marker, not a secret


def hash_secret(secret: str) -> str:
    return hasher.hash(secret)


def verify_secret(stored_hash: str, secret: str) -> bool:
    try:
        return hasher.verify(stored_hash, secret)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return hasher.check_needs_rehash(stored_hash)
