"""How times and durations read on the staff pages, in the page's language. Stored times
are naive UTC."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from babel.dates import format_date, format_time
from babel.numbers import format_decimal, format_percent
from flask_babel import get_locale, gettext, ngettext


def _locale() -> str:
    # The English pages are written in British English ("organisation"), and so are their
    # dates: "3 May 2025", not "May 3, 2025".
    code = str(get_locale() or "en")
    return "en_GB" if code == "en" else code


def when(moment: datetime | None) -> str:
    """'3 May 2025, 14:00 UTC', '3. Mai 2025, 14:00 UTC', '3 mai 2025, 14:00 UTC': the day as
    the page's language writes it; an empty string for no time."""
    if moment is None:
        return ""
    # A 24-hour clock in every language: the times are UTC and read beside deadlines.
    return f"{day(moment.date())}, {format_time(moment, 'HH:mm', locale=_locale())} UTC"


def day(value: date | None) -> str:
    """'3 May 2025', '3. Mai 2025', '3 mai 2025'; an empty string for no date."""
    return "" if value is None else format_date(value, "long", locale=_locale())


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
    """'43%' in English, '43 %' in German and French."""
    return "" if value is None else format_percent(value, locale=_locale())


def number(value: float | None, pattern: str = "0.00") -> str:
    """A score or weight with the page language's decimal sign: '0.43', '0,43'."""
    return "" if value is None else format_decimal(value, pattern, locale=_locale())


def signed(value: float | None, pattern: str = "+0.0;-0.0") -> str:
    """A weight with its sign: '+1.5', '-0,25'."""
    return number(value, pattern)


def removed(counts: dict[str, int]) -> str:
    """What was taken out of an account before it was stored: '1 name, 2 email addresses'."""
    return ", ".join(_removed(kind, num) for kind, num in counts.items())


def _removed(kind: str, num: int) -> str:
    """How many identifiers of a kind (service.privacy.scrub.KINDS); an unknown kind is shown
    as it is."""
    forms = {
        "name": lambda: ngettext("%(num)d name", "%(num)d names", num),
        "email": lambda: ngettext("%(num)d email address", "%(num)d email addresses", num),
        "phone": lambda: ngettext("%(num)d phone number", "%(num)d phone numbers", num),
        "url": lambda: ngettext("%(num)d web address", "%(num)d web addresses", num),
        "staff id": lambda: ngettext("%(num)d staff number", "%(num)d staff numbers", num),
        "address": lambda: ngettext("%(num)d postal address", "%(num)d postal addresses", num),
        "handle": lambda: ngettext(
            "%(num)d social media handle", "%(num)d social media handles", num
        ),
        "id number": lambda: ngettext("%(num)d ID number", "%(num)d ID numbers", num),
        "birth date": lambda: ngettext("%(num)d date of birth", "%(num)d dates of birth", num),
        "plate": lambda: ngettext("%(num)d number plate", "%(num)d number plates", num),
    }
    return forms[kind]() if kind in forms else f"{num} {kind}"
