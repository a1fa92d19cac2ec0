"""Receipt codes: what an anonymous reporter writes down to follow up on their report.

A code is 20 Crockford base32 characters (100 bits from ``secrets``) shown in five groups
of four, e.g. ``7KQ2-M9XD-4TRW-B8NC-3PHF``. Only a keyed hash of the normalised code is
stored, so a database dump alone does not let anyone open a reporter's follow-up page.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

# Crockford's alphabet: digits and upper-case letters without I, L, O and U.
CROCKFORD_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 20  # 20 characters x 5 bits = 100 bits of entropy
GROUP_SIZE = 4

# Read-alike letters Crockford decodes instead of rejecting, so a mis-copied code still works.
_READ_ALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_VALID = frozenset(CROCKFORD_ALPHABET)


def new_receipt_code() -> str:
    """A fresh 100-bit code in display form, e.g. '7KQ2-M9XD-4TRW-B8NC-3PHF'."""
    raw = "".join(secrets.choice(CROCKFORD_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + GROUP_SIZE] for i in range(0, CODE_LENGTH, GROUP_SIZE))


def normalise_receipt(code: str) -> str | None:
    """The 20-character canonical form of a code as typed, or None if it cannot be one.

    Case-insensitive; spaces and hyphens are ignored; O reads as 0, I and L as 1.
    """
    compact = "".join(code.split()).replace("-", "").upper().translate(_READ_ALIKES)
    if len(compact) != CODE_LENGTH or not _VALID.issuperset(compact):
        return None
    return compact


def format_receipt(code: str) -> str | None:
    """The display form (groups of four) of a code as typed, or None if it is not valid."""
    compact = normalise_receipt(code)
    if compact is None:
        return None
    return "-".join(compact[i : i + GROUP_SIZE] for i in range(0, CODE_LENGTH, GROUP_SIZE))


def hash_receipt(code: str, key: bytes) -> str:
    """Hex HMAC-SHA256 of the normalised code under ``key``: the value stored and looked up.

    Why not argon2: a slow password hash protects low-entropy secrets from guessing. A receipt
    is 100 random bits, so guessing is hopeless whatever the hash costs, and a fast keyed hash
    lets the follow-up page find the report with one indexed equality look-up. The key keeps
    a stolen table useless without the app's secret.

    Raises ValueError for a code that does not normalise (callers check with
    ``normalise_receipt`` first); the message does not repeat the code.
    """
    compact = normalise_receipt(code)
    if compact is None:
        raise ValueError("not a valid receipt code")
    return hmac.new(key, compact.encode("ascii"), hashlib.sha256).hexdigest()
