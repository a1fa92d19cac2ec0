"""A report as stored: scrubbed, encrypted text and coarse facts, nothing that identifies the
reporter (no address, user agent, cookie, or time finer than the day)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db.base import Base
from service.db.org import OrgUnit
from service.privacy.crypto import EncryptedText


class Report(Base):
    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    category: Mapped[str] = mapped_column(String(32), index=True)
    duration: Mapped[str | None] = mapped_column(String(16))
    raised_before: Mapped[bool | None] = mapped_column(Boolean)
    raised_with: Mapped[list[str]] = mapped_column(JSON, default=list)
    involved: Mapped[list[str]] = mapped_column(JSON, default=list)
    desired_outcome: Mapped[str | None] = mapped_column(String(32))
    urgency: Mapped[str | None] = mapped_column(String(16))
    # The language the report is scrubbed, scored and routed in: the one detected from the
    # text when the detector was sure and the form offers it, else the form's choice.
    language: Mapped[str] = mapped_column(String(8), default="en")
    form_language: Mapped[str | None] = mapped_column(String(8))
    # What the text reads as (any ISO 639-1 code, e.g. "ru"), or NULL when the detector was
    # unsure. Staff see it on the case; HR analytics never show it.
    detected_language: Mapped[str | None] = mapped_column(String(8))
    # Scrubbed account, encrypted; NULL once removed by retention.
    text: Mapped[str | None] = mapped_column(EncryptedText)
    # Which kinds of personal data were redacted and how many: {"name": 2}. Never the values.
    redactions: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    # Opt-in contact details, encrypted; NULL unless the reporter chose to give them.
    contact: Mapped[str | None] = mapped_column(EncryptedText)
    submitted_on: Mapped[date] = mapped_column(Date, index=True)
    # Keyed SHA-256 of the receipt code; the code itself is shown once and never stored.
    receipt_hash: Mapped[str] = mapped_column(String(64), unique=True)

    risk_score: Mapped[float] = mapped_column(Float, default=0.0)
    risk_level: Mapped[str] = mapped_column(String(16), default="low", index=True)
    # The explanation quotes matched words from the account, so it is encrypted like the text.
    risk_explanation_json: Mapped[str | None] = mapped_column("risk_explanation", EncryptedText)
    rule_pack_version: Mapped[str | None] = mapped_column(String(200))
    model_version: Mapped[str | None] = mapped_column(String(200))
    hotspot: Mapped[bool] = mapped_column(Boolean, default=False)
    text_removed_on: Mapped[date | None] = mapped_column(Date)

    org_unit: Mapped[OrgUnit] = relationship()

    @property
    def risk_explanation(self) -> dict[str, Any]:
        return json.loads(self.risk_explanation_json) if self.risk_explanation_json else {}

    @risk_explanation.setter
    def risk_explanation(self, value: dict[str, Any]) -> None:
        self.risk_explanation_json = json.dumps(value, sort_keys=True)
