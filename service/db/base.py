"""Column helpers shared by the models. Times are naive datetimes in UTC, on every database."""

from __future__ import annotations

from datetime import UTC, datetime

from service.extensions import Base

__all__ = ["Base", "MAX_ID", "utcnow", "to_hour", "to_day", "this_hour"]

# Ids are 32-bit integers: a larger number from a URL or a form names nothing (and must never
# reach PostgreSQL, which fails on it).
MAX_ID = 2**31 - 1


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def to_hour(moment: datetime) -> datetime:
    """Coarsen a time to the hour: enough for response deadlines, too coarse to link a report
    to a person seen at a keyboard."""
    return moment.replace(minute=0, second=0, microsecond=0)


def to_day(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def this_hour() -> datetime:
    """The column default for times a reporter's action may cause."""
    return to_hour(utcnow())
