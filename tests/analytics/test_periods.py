"""The analytics calendar: whole ISO weeks, nested months and quarters."""

from __future__ import annotations

from datetime import date, timedelta

from service.analytics import periods


def test_months_are_whole_iso_weeks_holding_their_thursdays():
    march = periods.month(2025, 3)
    assert (march.start, march.end) == (date(2025, 3, 3), date(2025, 3, 30))
    assert march.label == "2025-03"
    assert march.start.weekday() == 0 and march.end.weekday() == 6
    # 2024-12-30 (a Monday) has its Thursday on 2025-01-02: January 2025.
    assert periods.containing("month", date(2024, 12, 31)).label == "2025-01"
    assert periods.containing("week", date(2024, 12, 31)).label == "2025-W01"


def test_periods_nest_and_tile_the_calendar():
    day = date(2023, 1, 1)
    months = periods.between("month", day, date(2026, 12, 31))
    for before, after in zip(months, months[1:], strict=False):
        assert after.start == before.end + timedelta(days=1)
    for quarter in periods.between("quarter", day, date(2026, 12, 31)):
        inside = periods.months_of(quarter)
        assert len(inside) == 3
        assert inside[0].start == quarter.start and inside[-1].end == quarter.end
    for week in periods.between("week", day, date(2024, 12, 31)):
        assert periods.containing("month", week.start) == periods.containing("month", week.end)


def test_ranges_snap_outward_and_only_complete_months_are_released():
    found = periods.between("month", date(2025, 3, 15), date(2025, 4, 2))
    assert [p.label for p in found] == ["2025-03", "2025-04"]
    released = periods.last_released_day(date(2025, 4, 10))
    assert released == date(2025, 3, 30)
    assert periods.last_released_day(date(2025, 3, 31)) == date(2025, 3, 30)
