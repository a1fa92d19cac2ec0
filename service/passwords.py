"""argon2id hashing for every staff secret we must check but never keep: passwords and
second-factor recovery codes. One hasher, so tests can swap in a cheap one in one place.

And the one strength rule for a new password, wherever it is set (admin page, CLI): at least
MIN_PASSWORD_LENGTH characters and a zxcvbn score of at least MIN_STRENGTH, so common and
guessable passwords (`password1234`, twelve spaces, the account's own email) are refused."""

from __future__ import annotations

from collections.abc import Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import gettext
from zxcvbn import zxcvbn

from service.i18n import N_

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


MIN_PASSWORD_LENGTH = 12
# zxcvbn's scale: 3 is "safely unguessable: moderate protection from an offline slow-hash
# attack" (under 10^10 guesses would not find it), which argon2id makes the case here.
MIN_STRENGTH = 3
# zxcvbn refuses longer input (its matching grows fast with length); the first 72 characters
# of a password that long decide its strength anyway.
_ZXCVBN_MAX = 72
# zxcvbn's warnings, in the English it gives them: listed here so the catalogues translate
# them. One it adds later is replaced by TOO_EASY rather than shown in English on a German page.
ZXCVBN_WARNINGS = frozenset(
    {
        N_("Straight rows of keys are easy to guess."),
        N_("Short keyboard patterns are easy to guess."),
        N_('Repeats like "aaa" are easy to guess.'),
        N_('Repeats like "abcabcabc" are only slightly harder to guess than "abc".'),
        N_('Sequences like "abc" or "6543" are easy to guess.'),
        N_("Recent years are easy to guess."),
        N_("Dates are often easy to guess."),
        N_("This is a top-10 common password."),
        N_("This is a top-100 common password."),
        N_("This is a very common password."),
        N_("This is similar to a commonly used password."),
        N_("A word by itself is easy to guess."),
        N_("Names and surnames by themselves are easy to guess."),
        N_("Common names and surnames are easy to guess."),
    }
)
TOO_EASY = N_("This password is too easy to guess.")


def password_problem(password: str, context: Iterable[str] = ()) -> str | None:
    """Why this password may not be set, as a sentence for the form; None if it may.
    `context` is what an attacker would try first (the account's email, its name)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return gettext("Use at least %(num)s characters.", num=MIN_PASSWORD_LENGTH)
    items = [item.lower() for item in context if item]
    parts = [part for item in items for part in item.replace("@", " ").replace(".", " ").split()]
    result = zxcvbn(password[:_ZXCVBN_MAX], user_inputs=[*items, *parts, "defuse"])
    if result["score"] >= MIN_STRENGTH:
        return None
    warning = result["feedback"].get("warning")
    warning = gettext(warning if warning in ZXCVBN_WARNINGS else TOO_EASY)
    return gettext(
        "%(warning)s Choose a longer password that is not a common one, for example four or "
        "more unrelated words.",
        warning=warning,
    )
