"""How times and durations read on the staff pages, in the page's language. Stored times
are naive UTC."""

from __future__ import annotations

from datetime import datetime, timedelta

from babel.dates import format_datetime
from flask_babel import get_locale, gettext, ngettext


def _locale() -> str:
    return str(get_locale() or "en")


def when(moment: datetime | None) -> str:
    """'3 May 2025, 14:00 UTC' (in the page's language); an empty string for no time."""
    if moment is None:
        return ""
    return format_datetime(moment, "d MMM y, HH:mm", locale=_locale()) + " UTC"


def span(delta: timedelta) -> str:
    """A duration in the largest sensible unit: '45 min', '5 h', '3 days'."""
    seconds = abs(delta.total_seconds())
    if seconds < 3600:
        return gettext("%(num)d min", num=max(1, int(seconds // 60)))
    if seconds < 48 * 3600:
        return gettext("%(num)d h", num=int(seconds // 3600))
    days = int(seconds // 86400)
    return ngettext("%(num)d day", "%(num)d days", days)


def countdown(deadline: datetime | None, now: datetime) -> str:
    """'due in 5 h' or 'overdue by 2 days'; empty when there is no deadline."""
    if deadline is None:
        return ""
    if deadline >= now:
        return gettext("due in %(span)s", span=span(deadline - now))
    return gettext("overdue by %(span)s", span=span(now - deadline))


def age(opened_at: datetime | None, now: datetime) -> str:
    if opened_at is None:
        return ""
    if now - opened_at < timedelta(hours=1):
        return gettext("under 1 h")
    return span(now - opened_at)


def percent(value: float | None) -> str:
    return "" if value is None else f"{round(value * 100)}%"
