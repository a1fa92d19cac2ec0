"""One-time submission keys: a report or reply sent twice with the same key is filed once.

A key is the hidden token of a confirmed form, or a client's `Idempotency-Key` header. Only a
keyed hash of it is stored, with an expiry to the hour, and (for a report) the receipt code
sealed with a key derived from the submission key itself: whoever sends the same key again
can be shown the same receipt, and nobody holding only the database can read it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base


class SubmissionKey(Base):
    __tablename__ = "submission_keys"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    # A keyed hash of what was sent with the key: the same key with a different body is refused.
    request_hash: Mapped[str | None] = mapped_column(String(64))
    # The report or message the key filed.
    result_id: Mapped[int] = mapped_column(Integer)
    sealed_receipt: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)
