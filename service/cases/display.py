"""How times and durations read on the staff pages. Stored times are naive UTC."""

from __future__ import annotations

from datetime import datetime, timedelta


def when(moment: datetime | None) -> str:
    """'3 May 2025, 14:00 UTC'; an empty string for no time."""
    if moment is None:
        return ""
    return f"{moment.day} {moment:%b %Y, %H:%M} UTC"


def span(delta: timedelta) -> str:
    """A duration in the largest sensible unit: '45 min', '5 h', '3 days'."""
    seconds = abs(delta.total_seconds())
    if seconds < 3600:
        minutes = max(1, int(seconds // 60))
        return f"{minutes} min"
    if seconds < 48 * 3600:
        return f"{int(seconds // 3600)} h"
    days = int(seconds // 86400)
    return f"{days} days"


def countdown(deadline: datetime | None, now: datetime) -> str:
    """'due in 5 h' or 'overdue by 2 days'; empty when there is no deadline."""
    if deadline is None:
        return ""
    if deadline >= now:
        return f"due in {span(deadline - now)}"
    return f"overdue by {span(now - deadline)}"


def age(opened_at: datetime | None, now: datetime) -> str:
    if opened_at is None:
        return ""
    if now - opened_at < timedelta(hours=1):
        return "under 1 h"
    return span(now - opened_at)


def percent(value: float | None) -> str:
    return "" if value is None else f"{round(value * 100)}%"
