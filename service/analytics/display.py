"""How periods and figures read on the HR dashboard and the "You said, we did" pages, in the
page's language: month and quarter names from Babel's CLDR data, numbers with the locale's
separators. The API and the CSV keep the plain labels ("2025-03", "2025-Q1") and numbers."""

from __future__ import annotations

from datetime import date
from typing import Any

from babel.dates import format_skeleton
from flask_babel import format_decimal, format_percent, get_locale, gettext

from service.analytics.periods import Period
from service.i18n import N_

# Period kinds as the filter names them.
KIND_NAMES = {"week": N_("Weekly"), "month": N_("Monthly"), "quarter": N_("Quarterly")}
# A headline's change on the period before, one sentence per kind (languages decline them).
CHANGE_ON = {
    "week": N_("%(change)s on the week before"),
    "month": N_("%(change)s on the month before"),
    "quarter": N_("%(change)s on the quarter before"),
}
POINTS_ON = {
    "week": N_("%(change)s points on the week before"),
    "month": N_("%(change)s points on the month before"),
    "quarter": N_("%(change)s points on the quarter before"),
}


def _locale() -> str:
    return str(get_locale() or "en")


def period_name(period: Period | str, short: bool = False) -> str:
    """A period (or its label, as the API gives it) as a person reads it: 'March 2025' or
    'Mar 2025' for "2025-03", '1st quarter 2025' or 'Q1 2025' for "2025-Q1", 'week 12,
    2025' or "2025-W12" itself for "2025-W12"."""
    label = period if isinstance(period, str) else period.label
    year, _, rest = label.partition("-")
    if rest.startswith("W"):
        if short:
            return label
        return gettext("week %(week)s, %(year)s", week=int(rest[1:]), year=year)
    if rest.startswith("Q"):
        first_month = date(int(year), 3 * int(rest[1:]) - 2, 1)
        return format_skeleton("yQQQ" if short else "yQQQQ", first_month, locale=_locale())
    return format_skeleton(
        "yMMM" if short else "yMMMM", date(int(year), int(rest), 1), locale=_locale()
    )


def period_days(period: Period) -> str:
    """Its first and last day: '3 Mar – 30 Mar'."""
    first = format_skeleton("MMMd", period.start, locale=_locale())
    last = format_skeleton("MMMd", period.end, locale=_locale())
    return f"{first} – {last}"


def day(value: date) -> str:
    """'30 Mar 2025'."""
    return format_skeleton("yMMMd", value, locale=_locale())


def kind_name(kind: str) -> str:
    return gettext(KIND_NAMES.get(kind, kind))


def count(value: int) -> str:
    return format_decimal(value)


def share(value: float) -> str:
    """A share of 0 to 1 as a whole percentage: '42 %' in French, '42%' in English."""
    return format_percent(value)


def change(value: int) -> str:
    """A signed difference: '+3', '-2', '+0'."""
    return format_decimal(value, format="+#,##0;-#,##0")


def points(value: float) -> str:
    """A change of share in whole percentage points, signed."""
    return change(round(value * 100))


def change_on(kind: str, value: int) -> str:
    """'+6 on the month before'."""
    return gettext(CHANGE_ON[kind], change=change(value))


def points_on(kind: str, value: float) -> str:
    """'-3 points on the month before', for a share's change."""
    return gettext(POINTS_ON[kind], change=points(value))


def risk(value: float) -> str:
    return format_decimal(value, format="0.00")


def template_helpers() -> dict[str, Any]:
    return {
        "period_name": period_name,
        "period_days": period_days,
        "day": day,
        "kind_name": kind_name,
        "count": count,
        "share": share,
        "change": change,
        "change_on": change_on,
        "points_on": points_on,
        "risk": risk,
    }
