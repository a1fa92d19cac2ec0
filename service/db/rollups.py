"""Aggregates kept current on every write, so HR analytics never scan report rows.

Each row is a count for one day, org unit and category (and level, resolution or
acknowledgement bucket). They hold no text and no id of any report.

Database triggers (migration 0002) stamp `analytics_versions` with a fresh random value for the
week of every rollup row written, however it is written, so the analytics can cache what they
computed for a month and know when it is stale.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Date, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base


class RiskRollup(Base):
    __tablename__ = "risk_rollups"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), primary_key=True)
    category: Mapped[str] = mapped_column(String(32), primary_key=True)
    level: Mapped[str] = mapped_column(String(16), primary_key=True)
    reports: Mapped[int] = mapped_column(Integer, default=0)
    score_sum: Mapped[float] = mapped_column(Float, default=0.0)
    # Reports the risk engine marked as part of a hotspot (several reports about one unit).
    hotspots: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ResolutionRollup(Base):
    """How cases were resolved, counted on the day their report was submitted."""

    __tablename__ = "resolution_rollups"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), primary_key=True)
    category: Mapped[str] = mapped_column(String(32), primary_key=True)
    resolution: Mapped[str] = mapped_column(String(32), primary_key=True)
    cases: Mapped[int] = mapped_column(Integer, default=0)


class AcknowledgementRollup(Base):
    """Hours from opening to acknowledgement, bucketed by whole hour, for medians."""

    __tablename__ = "acknowledgement_rollups"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), primary_key=True)
    category: Mapped[str] = mapped_column(String(32), primary_key=True)
    hours: Mapped[int] = mapped_column(Integer, primary_key=True)
    cases: Mapped[int] = mapped_column(Integer, default=0)


class AnalyticsVersion(Base):
    """A random stamp per ISO week (its Monday), replaced by a trigger whenever a rollup row of
    that week changes. Holds no data, only "this week's figures changed"."""

    __tablename__ = "analytics_versions"

    week: Mapped[date] = mapped_column(Date, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
