"""Test data for the analytics: rollup rows written directly (as the intake path would), and
API tokens for staff."""

from __future__ import annotations

from datetime import date, timedelta

from service.analytics import periods
from service.analytics.periods import Period
from service.auth import new_api_token
from service.db import AcknowledgementRollup, ResolutionRollup, RiskRollup, User, utcnow
from service.extensions import db


def released_months(count: int) -> list[Period]:
    """The last `count` complete months, oldest first."""
    month = periods.containing("month", periods.last_released_day(utcnow().date()))
    found = [month]
    while len(found) < count:
        found.insert(0, periods.preceding(found[0]))
    return found


def current_month() -> Period:
    return periods.containing("month", utcnow().date())


def add_reports(
    unit_id: int,
    day: date,
    count: int,
    category: str = "bullying",
    level: str = "low",
    score: float = 0.2,
    hotspots: int = 0,
) -> None:
    """Count `count` reports as the intake path does (one rollup row per day, unit, category
    and level, incremented)."""
    row = db.session.get(RiskRollup, (day, unit_id, category, level))
    if row is None:
        row = RiskRollup(
            day=day,
            org_unit_id=unit_id,
            category=category,
            level=level,
            reports=0,
            score_sum=0.0,
            hotspots=0,
        )
        db.session.add(row)
    row.reports += count
    row.score_sum += score * count
    row.hotspots += hotspots
    db.session.commit()


def add_resolutions(unit_id: int, day: date, category: str, resolution: str, count: int) -> None:
    db.session.add(
        ResolutionRollup(
            day=day, org_unit_id=unit_id, category=category, resolution=resolution, cases=count
        )
    )
    db.session.commit()


def add_acknowledgements(unit_id: int, day: date, category: str, hours: int, count: int) -> None:
    db.session.add(
        AcknowledgementRollup(
            day=day, org_unit_id=unit_id, category=category, hours=hours, cases=count
        )
    )
    db.session.commit()


def spread(unit_id: int, month: Period, count: int, category: str = "bullying", **kw) -> None:  # type: ignore[no-untyped-def]
    """`count` reports over the weeks of a month, one week after the other (Mondays first)."""
    days = [
        month.start + timedelta(days=7 * w + d) for d in range(5) for w in range(month.days // 7)
    ]
    per_day: dict[date, int] = {}
    for i in range(count):
        day = days[i % len(days)]
        per_day[day] = per_day.get(day, 0) + 1
    for day, n in per_day.items():
        add_reports(unit_id, day, n, category=category, **kw)


def token_for(user: User) -> dict[str, str]:
    token = new_api_token(user, label="test")
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}
