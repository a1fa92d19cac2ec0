"""The analytics calendar: ISO weeks, and months and quarters made of whole ISO weeks.

Every period is a run of whole ISO weeks (Monday to Sunday), so the periods nest exactly:
a week lies in one month, a month in one quarter. A week belongs to the month that holds its
Thursday (the ISO rule for which year a week belongs to, applied to months), so "2025-03" is
the weeks from Monday 3 March to Sunday 30 March 2025. Nesting is what lets the anonymity rule
treat a month as the exact sum of its weeks and a quarter as the exact sum of its months; with
calendar months a week straddling two months would be a sliver that differencing could expose.

Only complete months are ever released: the month that is still running (and every week in
it) is withheld, so counts already answered never change when a new report arrives.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

KINDS: tuple[str, ...] = ("week", "month", "quarter")
WEEK = timedelta(days=7)


@dataclass(frozen=True, order=True)
class Period:
    start: date  # a Monday
    end: date  # a Sunday, inclusive
    kind: str
    label: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def weeks(self) -> list[date]:
        """The Mondays of the weeks in this period."""
        return [self.start + WEEK * i for i in range(self.days // 7)]


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _month_of_week(monday: date) -> tuple[int, int]:
    thursday = monday + timedelta(days=3)
    return thursday.year, thursday.month


def _first_monday_of_month(year: int, month: int) -> date:
    first = date(year, month, 1)
    thursday = first + timedelta(days=(3 - first.weekday()) % 7)
    return thursday - timedelta(days=3)


def _next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def week(monday: date) -> Period:
    monday = week_start(monday)
    iso = (monday + timedelta(days=3)).isocalendar()
    return Period(monday, monday + timedelta(days=6), "week", f"{iso.year}-W{iso.week:02d}")


def month(year: int, month_number: int) -> Period:
    start = _first_monday_of_month(year, month_number)
    end = _first_monday_of_month(*_next_month(year, month_number)) - timedelta(days=1)
    return Period(start, end, "month", f"{year}-{month_number:02d}")


def quarter(year: int, number: int) -> Period:
    first = month(year, 3 * number - 2)
    last = month(year, 3 * number)
    return Period(first.start, last.end, "quarter", f"{year}-Q{number}")


def containing(kind: str, day: date) -> Period:
    """The period of the given kind that holds the day."""
    monday = week_start(day)
    if kind == "week":
        return week(monday)
    year, month_number = _month_of_week(monday)
    if kind == "month":
        return month(year, month_number)
    if kind == "quarter":
        return quarter(year, (month_number - 1) // 3 + 1)
    raise ValueError(f"unknown period kind {kind!r}")


def following(period: Period) -> Period:
    return containing(period.kind, period.end + timedelta(days=1))


def preceding(period: Period) -> Period:
    return containing(period.kind, period.start - timedelta(days=1))


def months_of(period: Period) -> list[Period]:
    """The months a period lies in (one for a week or month, three for a quarter)."""
    found: list[Period] = []
    current = containing("month", period.start)
    while current.start <= period.end:
        found.append(current)
        current = following(current)
    return found


def between(kind: str, first_day: date, last_day: date) -> list[Period]:
    """Whole periods covering [first_day, last_day], the range snapped outward."""
    periods: list[Period] = []
    current = containing(kind, first_day)
    while current.start <= last_day:
        periods.append(current)
        current = following(current)
    return periods


def last_released_day(today: date) -> date:
    """The Sunday that ends the last complete month before today."""
    return containing("month", today).start - timedelta(days=1)
