"""The app-bound privacy helpers, the edges.

Keys that must not identify anyone: the per-client rate-limit key is a keyed hash of the
address under a key derived from SECRET_KEY for the UTC day, so it is stable all that day,
changes at UTC midnight whatever the server's own time zone, never contains the address,
and is the same for every release (keys stored in Redis survive a restart or upgrade).

The app's scrubber knows each directory name as it was imported: a last name is a name on
its own too, a name imported without a last name gets nothing added to it, and staff ids
follow the configured patterns. A Fernet token is dated to its hour only; a malformed receipt
code is refused without being repeated."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta, timezone

import pytest
from cryptography.fernet import Fernet

from service.db import DirectoryName
from service.extensions import db
from service.privacy import crypto, forget_scrubber, get_scrubber, ratelimit
from service.privacy.crypto import keyring
from service.privacy.ratelimit import anonymous_client_key, client_key_for
from service.privacy.receipts import hash_receipt
from tests.conftest import make_app

SECRET = b"test-secret-key"
ADDRESS = "198.51.100.23"


def reference_key(address: str, secret: bytes, day: str) -> str:
    """The derivation, spelled out: HMAC-SHA256(HMAC-SHA256(secret, 'ratelimit:' + day),
    address), first 32 hex digits."""
    daily = hmac.new(secret, b"ratelimit:" + day.encode(), hashlib.sha256).digest()
    return hmac.new(daily, address.encode(), hashlib.sha256).hexdigest()[:32]


@pytest.mark.parametrize(
    ("address", "day"),
    [(ADDRESS, "2026-03-01"), ("2001:db8::7", "2026-12-31"), ("unknown", "2027-01-01")],
)
def test_the_client_key_is_the_documented_keyed_hash(address: str, day: str) -> None:
    key = client_key_for(address, SECRET, day)
    assert key == reference_key(address, SECRET, day)
    assert len(key) == 32 and int(key, 16) >= 0
    assert address not in key


def test_the_client_key_changes_with_the_day_the_address_and_the_secret() -> None:
    key = client_key_for(ADDRESS, SECRET, "2026-03-01")
    assert client_key_for(ADDRESS, SECRET, "2026-03-01") == key
    assert client_key_for(ADDRESS, SECRET, "2026-03-02") != key
    assert client_key_for("198.51.100.24", SECRET, "2026-03-01") != key
    assert client_key_for(ADDRESS, b"another-secret", "2026-03-01") != key


def _clock(moment: datetime, local_offset_hours: int) -> type[datetime]:
    """datetime as seen on a server whose own zone is UTC+offset, stopped at `moment`."""

    class Clock(datetime):
        @classmethod
        def now(cls, tz=None):  # type: ignore[no-untyped-def,override]
            if tz is None:
                local = timezone(timedelta(hours=local_offset_hours))
                return moment.astimezone(local).replace(tzinfo=None)
            return moment.astimezone(tz)

    return Clock


def _request_key(app, monkeypatch, moment: datetime, offset: int, address: str | None) -> str:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(ratelimit, "datetime", _clock(moment, offset))
    with app.test_request_context(environ_overrides={"REMOTE_ADDR": address}):
        return anonymous_client_key()


@pytest.mark.parametrize(
    ("moment", "offset", "utc_day"),
    [
        (datetime(2026, 3, 1, 0, 0, 0, tzinfo=UTC), -5, "2026-03-01"),  # local: 28 Feb
        (datetime(2026, 3, 1, 23, 59, 59, tzinfo=UTC), +5, "2026-03-01"),  # local: 2 Mar
        (datetime(2026, 12, 31, 12, 0, tzinfo=UTC), 0, "2026-12-31"),
    ],
)
def test_a_requests_key_uses_its_address_the_secret_key_and_the_utc_day(
    app, monkeypatch, moment: datetime, offset: int, utc_day: str
) -> None:
    secret = app.config["SECRET_KEY"].encode()
    key = _request_key(app, monkeypatch, moment, offset, ADDRESS)
    assert key == reference_key(ADDRESS, secret, utc_day)


def test_a_request_without_an_address_is_keyed_as_unknown(app, monkeypatch) -> None:
    moment = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    secret = app.config["SECRET_KEY"].encode()
    assert _request_key(app, monkeypatch, moment, 0, None) == reference_key(
        "unknown", secret, "2026-03-01"
    )


def test_a_clients_key_lasts_the_whole_utc_day_and_changes_at_midnight(app, monkeypatch) -> None:
    day = datetime(2026, 3, 1, tzinfo=UTC)
    moments = [day, day + timedelta(minutes=1), day + timedelta(hours=23, minutes=59, seconds=59)]
    keys = {_request_key(app, monkeypatch, moment, 0, ADDRESS) for moment in moments}
    assert len(keys) == 1
    assert _request_key(app, monkeypatch, day + timedelta(days=1), 0, ADDRESS) not in keys


@pytest.mark.parametrize(
    ("text", "scrubbed"),
    [
        ("then zubrowski shouted at me", "then [name] shouted at me"),  # a last name alone
        ("Priya Zubrowski shouted", "[name] shouted"),
        # "Hope" has no last name: the word after it is not taken for one.
        ("I told Hope none of them knew", "I told [name] none of them knew"),
    ],
)
def test_the_apps_scrubber_knows_each_directory_name_as_imported(
    app, text: str, scrubbed: str
) -> None:
    forget_scrubber()
    db.session.add_all(
        [DirectoryName(first="Priya", last="Zubrowski"), DirectoryName(first="Hope")]
    )
    db.session.commit()
    assert get_scrubber().scrub(text).text == scrubbed


def test_the_apps_scrubber_uses_the_configured_staff_id_patterns(settings) -> None:
    custom = make_app(settings.replace(staff_id_patterns=(r"\bBADGE#\d{3}\b",)))
    with custom.app_context():
        forget_scrubber()
        scrubber = get_scrubber()
        assert scrubber.scrub("badge BADGE#123 on it").text == "badge [staff id] on it"


@pytest.mark.parametrize("now", [1_800_000_000.0, 1_800_003_599.9, 1_800_001_234.5])
def test_a_token_is_dated_to_the_start_of_its_hour(app, monkeypatch, now: float) -> None:
    monkeypatch.setattr(crypto.time, "time", lambda: now)
    token = keyring.encrypt("the account")
    assert Fernet(keyring.primary_key.encode()).extract_timestamp(token.encode()) == 1_800_000_000


@pytest.mark.parametrize("code", ["", "not-a-code", "AAAA-BBBB"])
def test_hashing_a_malformed_receipt_says_so_without_repeating_it(code: str) -> None:
    with pytest.raises(ValueError) as caught:
        hash_receipt(code, b"key")
    assert str(caught.value) == "not a valid receipt code"
