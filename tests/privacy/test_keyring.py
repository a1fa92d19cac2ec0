"""Encryption at rest and the app-bound helpers: the keyring encrypts under its first key and
decrypts under any, rotation moves a token to the first key, the encrypted column keeps NULL
as NULL, and the app's scrubber is built from the staff directory once."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from cryptography.fernet import Fernet, InvalidToken

from service.db import DirectoryName
from service.extensions import db
from service.privacy import forget_scrubber, get_scrubber, keyed_hash, purpose_key
from service.privacy.crypto import EncryptedText, Keyring, KeyringNotConfigured, new_key

TEXT = "Grüße — the account, in more than ASCII"


def test_a_keyring_without_keys_refuses_to_work():
    ring = Keyring()
    assert ring.keys == ()
    with pytest.raises(KeyringNotConfigured, match="^encryption keys are not configured$"):
        ring.encrypt(TEXT)
    with pytest.raises(KeyringNotConfigured, match="^at least one encryption key is required$"):
        ring.configure([])


def test_the_first_key_encrypts_and_every_key_decrypts():
    old, new = new_key(), new_key()
    ring = Keyring()
    ring.configure([new, old])
    assert ring.keys == (new, old) and ring.primary_key == new
    token = ring.encrypt(TEXT)
    assert TEXT not in token and ring.decrypt(token) == TEXT
    assert Fernet(new.encode()).decrypt(token.encode()).decode() == TEXT
    with pytest.raises(InvalidToken):
        Fernet(old.encode()).decrypt(token.encode())
    under_old = Fernet(old.encode()).encrypt(TEXT.encode()).decode()
    assert ring.decrypt(under_old) == TEXT


def test_rotation_moves_a_token_to_the_first_key():
    old, new = new_key(), new_key()
    before = Keyring()
    before.configure([old])
    token = before.encrypt(TEXT)
    ring = Keyring()
    ring.configure([new, old])
    assert ring.is_current(token) is False
    rotated = ring.rotate(token)
    assert isinstance(rotated, str) and rotated != token
    assert ring.is_current(rotated) is True
    assert Fernet(new.encode()).decrypt(rotated.encode()).decode() == TEXT
    assert ring.is_current(ring.encrypt(TEXT)) is True


def test_new_keys_are_fernet_keys_and_never_repeat():
    keys = {new_key() for _ in range(20)}
    assert len(keys) == 20
    for key in keys:
        assert isinstance(key, str) and len(base64.urlsafe_b64decode(key)) == 32
        Fernet(key.encode())


def test_the_encrypted_column_keeps_null_and_stores_only_tokens(app):
    column = EncryptedText()
    assert column.process_bind_param(None, None) is None
    assert column.process_result_value(None, None) is None
    stored = column.process_bind_param(TEXT, None)
    assert TEXT not in stored
    assert column.process_result_value(stored, None) == TEXT
    assert column.process_result_value(column.process_bind_param(42, None), None) == "42"


def test_keyed_hashes_are_hmac_under_a_key_per_purpose(app):
    raw = app.config["DEFUSE_HASH_KEY"]
    expected_key = hmac.new(raw, b"receipt", hashlib.sha256).digest()
    assert purpose_key("receipt") == expected_key
    assert (
        keyed_hash("value", "receipt")
        == hmac.new(expected_key, b"value", hashlib.sha256).hexdigest()
    )
    assert keyed_hash("value", "receipt") != keyed_hash("value", "api-token")
    assert keyed_hash("value", "receipt") != keyed_hash("other", "receipt")


def test_the_apps_scrubber_comes_from_the_directory_once_until_forgotten(app):
    # Names made of ordinary words: only the directory makes them names.
    forget_scrubber()
    db.session.add_all([DirectoryName(first="Rose", last="Summer"), DirectoryName(first="Hope")])
    db.session.commit()
    scrubber = get_scrubber()
    assert get_scrubber() is scrubber  # built once
    assert scrubber.scrub("Rose Summer said so").text == "[name] said so"
    assert scrubber.scrub("Hope was there too").text == "[name] was there too"
    assert scrubber.scrub("badge EMP-4821 on it").text == "badge [staff id] on it"
    db.session.add(DirectoryName(first="Faith"))
    db.session.commit()
    assert get_scrubber().scrub("Faith was there").text == "Faith was there"  # not rebuilt yet
    forget_scrubber()
    rebuilt = get_scrubber()
    assert rebuilt is not scrubber
    assert rebuilt.scrub("Faith was there").text == "[name] was there"
