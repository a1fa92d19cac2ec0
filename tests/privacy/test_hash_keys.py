"""Receipt codes and API tokens are hashed under different keys, both derived from the hash
key, so a hash made for one can never match one made for the other (and a stolen table of
one is no dictionary for the other)."""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy import select

from service.auth import TOKEN_PURPOSE, new_api_token
from service.db import ApiToken, Report
from service.extensions import db
from service.intake.service import RECEIPT_PURPOSE, receipt_hash
from service.privacy import keyed_hash, purpose_key
from service.privacy.receipts import new_receipt_code, normalise_receipt
from tests.cases.support import submit


def _hmac(key: bytes, value: str) -> str:
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def test_receipt_and_token_keys_differ_and_neither_is_the_raw_key(app):
    raw = app.config["DEFUSE_HASH_KEY"]
    receipt_key, token_key = purpose_key(RECEIPT_PURPOSE), purpose_key(TOKEN_PURPOSE)
    assert RECEIPT_PURPOSE != TOKEN_PURPOSE
    assert len({receipt_key, token_key, raw}) == 3


def test_one_string_hashes_differently_as_receipt_and_as_token(app):
    raw = app.config["DEFUSE_HASH_KEY"]
    for _ in range(5):
        code = new_receipt_code()
        compact = normalise_receipt(code)
        assert compact is not None
        as_receipt = receipt_hash(code)
        as_token = {keyed_hash(code, TOKEN_PURPOSE), keyed_hash(compact, TOKEN_PURPOSE)}
        assert as_receipt not in as_token
        assert as_receipt not in {_hmac(raw, code), _hmac(raw, compact)}


def test_stored_hashes_are_each_under_their_own_key(app, org):
    case, receipt = submit(org)
    token = new_api_token(org.staff["hr"], "test")
    db.session.commit()
    stored_receipt = db.session.scalar(
        select(Report.receipt_hash).where(Report.id == case.report_id)
    )
    stored_token = db.session.scalar(select(ApiToken.token_hash).order_by(ApiToken.id.desc()))
    compact = normalise_receipt(receipt)
    # Each is what its own purpose gives ...
    assert stored_receipt == receipt_hash(receipt)
    assert stored_token == keyed_hash(token, TOKEN_PURPOSE)
    # ... and not what the other purpose's key (or the bare hash key) would give.
    assert stored_receipt != keyed_hash(compact, TOKEN_PURPOSE)
    assert stored_token != _hmac(purpose_key(RECEIPT_PURPOSE), token)
    assert stored_token != _hmac(app.config["DEFUSE_HASH_KEY"], token)
