"""Privacy: PII scrubbing, receipt codes, encryption at rest, anonymous rate-limit keys.

The functions here bind the pure modules to the running app (its keys and staff directory).
"""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app

_SCRUBBER_KEY = "defuse.scrubber"


def get_scrubber():  # type: ignore[no-untyped-def]
    """The app's Scrubber, built from the staff directory once and rebuilt after an import."""
    from service.db import DirectoryName
    from service.extensions import db
    from service.privacy.scrub import Scrubber

    scrubber = current_app.extensions.get(_SCRUBBER_KEY)
    if scrubber is None:
        names = db.session.execute(db.select(DirectoryName.first, DirectoryName.last)).all()
        full_names = [f"{first} {last}" if last else first for first, last in names]
        scrubber = Scrubber(
            staff_names=full_names,
            staff_id_patterns=current_app.config["DEFUSE"].staff_id_patterns,
        )
        current_app.extensions[_SCRUBBER_KEY] = scrubber
    return scrubber


def forget_scrubber() -> None:
    """Call after the staff directory changes."""
    current_app.extensions.pop(_SCRUBBER_KEY, None)


def purpose_key(purpose: str) -> bytes:
    """A key per purpose (receipt, api-token, ...) derived from the app's hash key, so a hash
    made for one purpose never matches one made for another."""
    return hmac.new(
        current_app.config["DEFUSE_HASH_KEY"], purpose.encode(), hashlib.sha256
    ).digest()


def keyed_hash(value: str, purpose: str) -> str:
    """Hex HMAC-SHA256 of value under the purpose's key."""
    return hmac.new(purpose_key(purpose), value.encode(), hashlib.sha256).hexdigest()
