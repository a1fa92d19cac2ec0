"""Aggregates kept current on every write, so HR analytics never scan report rows.

Each row is a count for one day, org unit and category (and level, resolution or
acknowledgement bucket). They hold no text and no id of any report.

Database triggers (migration 0002) stamp `analytics_versions` with a fresh random value for the
week of every rollup row written, however it is written, so the analytics can cache what they
computed for a month and know when it is stale.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, Float, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base

ACTION_TEXT_MAX = 2000


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


class ReleasedMonth(Base):
    """A complete month's figures as first released, frozen: the analytics answer every later
    question about the month from here, never from the rollups again, so a late rescore (a
    hotspot, a rule change) or a re-dated report changes cases, not released figures.

    `figures` is an .npz file (numpy): `unit_ids`, `categories` and `values`, the additive
    features of each unit's own reports per category and week (see analytics/cube.py). No
    report id, text or time finer than the week."""

    __tablename__ = "analytics_released_months"

    month: Mapped[date] = mapped_column(Date, primary_key=True)  # its first Monday
    figures: Mapped[bytes] = mapped_column(LargeBinary)
    released_at: Mapped[datetime] = mapped_column(DateTime)  # to the hour
    # Random, set when frozen: what the analytics cache is keyed by (a restore changes it).
    stamp: Mapped[int] = mapped_column(BigInteger)


class ReleasedCells(Base):
    """Which figures of a released month may be shown (analytics/anonymity.py), worked out
    once and stored, so requests read the release instead of solving it again (seconds a
    month). Keyed by the month and its `layout`: a digest of everything the release depends
    on (the month's frozen stamp, the shape of the org tree, k and the rule's version), so an
    org import or a new k simply asks for a new row. `shown` is an .npz file of booleans."""

    __tablename__ = "analytics_released_cells"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    layout: Mapped[str] = mapped_column(String(64), primary_key=True)
    shown: Mapped[bytes] = mapped_column(LargeBinary)
    computed_at: Mapped[datetime] = mapped_column(DateTime)  # to the hour


class PublishedAction(Base):
    """An action leadership took on a theme staff raised, for the public "You said, we did"
    page. Written by a lead or admin; shown only once published. Never holds report text."""

    __tablename__ = "published_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    quarter: Mapped[date] = mapped_column(Date, index=True)  # the quarter's first Monday
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))  # a top-level unit
    category: Mapped[str | None] = mapped_column(String(32))  # the theme; None: in general
    text: Mapped[str] = mapped_column(String(ACTION_TEXT_MAX))
    written_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    written_at: Mapped[datetime] = mapped_column(DateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime | None] = mapped_column(DateTime)
