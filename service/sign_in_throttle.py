"""Growing delays on one account's password after wrong guesses, instead of a lock.

A hard per-account limit let anyone lock a colleague out: ten wrong passwords from anywhere,
and the owner could not sign in for 15 minutes. Here only failures count, the first few cost
nothing, and each further failure makes the next attempt on that account wait twice as long,
never more than MAX_DELAY_SECONDS. A right password clears the count. Guessing from many
addresses is then slowed to one try per MAX_DELAY_SECONDS per account, while the owner, from
any browser, waits at most that long. (Per-client limits are Flask-Limiter's, in auth.py.)

Counters live in the rate limiter's storage (Redis, or memory), under keyed hashes of the
account: no email or address is stored. While that storage is unreachable they live in this
process's memory instead, so an outage never turns the delays off.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from flask import current_app
from limits.storage import MemoryStorage, Storage

from service.extensions import limiter
from service.privacy import keyed_hash

log = logging.getLogger(__name__)

FREE_FAILURES = 5
MAX_DELAY_SECONDS = 30
FAILURE_WINDOW_SECONDS = 15 * 60
# How often an account under attack is written to the audit log: when the delays start, then
# every this many failures.
REPORT_EVERY = 10
# While the shared storage is failing, how long to count in memory before trying it again.
RETRY_STORAGE_AFTER_SECONDS = 15

T = TypeVar("T")


class _MemoryFallback:
    """Per app: this process's counters while the shared storage is unreachable."""

    def __init__(self) -> None:
        self.storage = MemoryStorage()
        self.failed_at: float | None = None
        self.lock = threading.Lock()

    def should_try_shared(self) -> bool:
        failed_at = self.failed_at
        return failed_at is None or time.monotonic() - failed_at > RETRY_STORAGE_AFTER_SECONDS


def _fallback() -> _MemoryFallback:
    # Made on first use, never before a pre-forking server forks.
    extensions = current_app.extensions
    if "defuse.sign_in_fallback" not in extensions:
        extensions.setdefault("defuse.sign_in_fallback", _MemoryFallback())
    return extensions["defuse.sign_in_fallback"]


def _with_storage(operation: Callable[[Storage], T]) -> T:
    """Run operation on the limiter's storage or, while that is unreachable, on memory."""
    fallback = _fallback()
    if fallback.should_try_shared():
        try:
            result = operation(limiter.storage)
        except Exception as error:  # noqa: BLE001 - any storage failure: count in memory
            log.warning(
                "sign-in throttle storage unreachable (%s); counting in memory",
                type(error).__name__,
            )
            fallback.failed_at = time.monotonic()
        else:
            fallback.failed_at = None
            return result
    with fallback.lock:
        return operation(fallback.storage)


def _keys(email: str) -> tuple[str, str]:
    account = keyed_hash(email.strip().lower(), "sign-in-throttle")
    return f"defuse:sign-in:failures:{account}", f"defuse:sign-in:delay:{account}"


def _enabled() -> bool:
    return bool(current_app.config.get("RATELIMIT_ENABLED", True))


def seconds_to_wait(email: str) -> int:
    """0 if the account may be tried now, else how many seconds until it may."""
    if not _enabled():
        return 0
    _, delay_key = _keys(email)

    def wait(storage: Storage) -> int:
        if storage.get(delay_key) <= 0:
            return 0
        return max(1, round(storage.get_expiry(delay_key) - time.time()))

    return _with_storage(wait)


def delay_after(failures: int) -> int:
    """The wait after this many failures in a row: none at first, then doubling, capped."""
    if failures <= FREE_FAILURES:
        return 0
    return min(2 ** (failures - FREE_FAILURES), MAX_DELAY_SECONDS)


def record_failure(email: str) -> int:
    """Count a wrong password for the account; returns the failures so far in the window."""
    if not _enabled():
        return 0
    failures_key, delay_key = _keys(email)

    def count(storage: Storage) -> int:
        failures = storage.incr(failures_key, FAILURE_WINDOW_SECONDS)
        delay = delay_after(failures)
        if delay:
            storage.incr(delay_key, delay)
        return failures

    return _with_storage(count)


def under_attack(failures: int) -> bool:
    """Whether this failure count is one to tell admins about (not every single one)."""
    return failures == FREE_FAILURES + 1 or (
        failures > FREE_FAILURES + 1 and (failures - FREE_FAILURES - 1) % REPORT_EVERY == 0
    )


def record_success(email: str) -> None:
    if not _enabled():
        return

    def clear(storage: Storage) -> None:
        for key in _keys(email):
            storage.clear(key)

    _with_storage(clear)
