"""Periods and figures as the dashboard and "You said, we did" show them, in the page's
language. A period is named by its label, not by its first day, which may lie in the month
or year before (periods are whole ISO weeks)."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from flask import g

from service.analytics import display, periods
from service.i18n import LANGUAGE_COOKIE


@pytest.fixture
def page(app):  # type: ignore[no-untyped-def]
    @contextmanager
    def in_language(code: str):  # type: ignore[no-untyped-def]
        headers = {"Cookie": f"{LANGUAGE_COOKIE}={code}"}
        with app.test_request_context("/you-said-we-did", headers=headers):
            g.pop("_flask_babel", None)  # the tests share one app context, and its cached locale
            yield

    return in_language


def test_a_quarter_starting_in_december_is_named_by_its_year(page):
    first = periods.quarter(2025, 1)
    assert first.start.year == 2024  # Monday 30 December 2024
    with page("en"):
        assert display.period_name(first) == "1st quarter 2025"
        assert display.period_name(first, short=True) == "Q1 2025"
        assert display.period_name(periods.quarter(2025, 4)) == "4th quarter 2025"
    with page("de"):
        assert display.period_name(first) == "1. Quartal 2025"
    with page("pl"):
        assert display.period_name(first) == "I kwartał 2025"


def test_a_month_starting_in_the_month_before_is_named_by_its_own_month(page):
    march = periods.month(2025, 3)
    assert march.start.month == 3  # Monday 3 March
    october = periods.month(2025, 10)
    assert october.start.month == 9  # Monday 29 September: its Thursday is 2 October
    with page("fr"):
        assert display.period_name(march) == "mars 2025"
        assert display.period_name(october, short=True) == "oct. 2025"
    with page("de"):
        assert display.period_name(october) == "Oktober 2025"
        assert display.period_days(march) == "3. März – 30. März"


def test_weeks_keep_their_iso_number(page):
    week = periods.week(periods.week_start(periods.quarter(2025, 1).start))
    assert week.label == "2025-W01"
    with page("de"):
        assert display.period_name(week) == "Woche 1, 2025"
        assert display.period_name(week, short=True) == "2025-W01"


def test_numbers_follow_the_locale(page):
    with page("de"):
        assert display.count(1234) == "1.234"
        assert display.share(0.284) == "28\u00a0%"
        assert display.change(-3) == "-3" and display.change(0) == "+0"
        assert display.points_on("quarter", 0.05) == "+5 Prozentpunkte gegenüber dem Vorquartal"
        assert display.risk(0.2) == "0,20"
    with page("en"):
        assert display.count(1234) == "1,234"
        assert display.share(0.285) == "28%"  # rounds half to even, as Babel does
        assert display.change_on("week", 6) == "+6 on the week before"
