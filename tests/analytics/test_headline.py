"""The headline of /summary and the dashboard: the latest period against the one before, with
the median times to acknowledge and to feedback and the cases overdue now, each from at least
k cases and only where the period's reports are shown."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from service.analytics import query
from service.db import utcnow
from service.extensions import db
from tests.analytics.helpers import released_months, spread
from tests.analytics.test_api import get
from tests.cases.support import submit

K = 5


def _cases(org, month, count: int, *, feedback_after_days: int | None = None):  # type: ignore[no-untyped-def]
    """`count` cases opened on the month's second day: given feedback after that many days
    (not overdue), or still new and past their acknowledge-by deadline (overdue now)."""
    opened = datetime.combine(month.start + timedelta(days=1), time(9))
    made = []
    for _ in range(count):
        case, _ = submit(org)
        case.opened_at = opened
        case.ack_due_at = opened + timedelta(days=1)
        case.feedback_due_at = opened + timedelta(days=90)
        if feedback_after_days is None:
            case.status = "new"
        else:
            case.status = "acknowledged"
            case.acknowledged_at = opened + timedelta(hours=2)
            case.feedback_given_at = opened + timedelta(days=feedback_after_days)
        made.append(case)
    db.session.commit()
    return made


def test_the_headline_has_case_figures_behind_the_threshold(client, org, hr, app):
    before, month = released_months(2)
    for when in (before, month):
        spread(org.unit("Warehouse North"), when, 20)
        spread(org.unit("Call Centre"), when, 20)
    _cases(org, before, K, feedback_after_days=1)
    _cases(org, before, K)
    for days in (2, 4, 6, 8, 10):
        _cases(org, month, 1, feedback_after_days=days)
    overdue = _cases(org, month, K)
    assert utcnow() > overdue[0].ack_due_at

    headline = get(client, "summary", hr)["headline"]
    assert headline["period"]["label"] == month.label
    assert headline["reports"] == 40 and headline["reports_change"] == 0
    assert headline["median_days_to_feedback"] == 6.0
    assert headline["median_days_to_feedback_change"] == 5.0
    assert headline["overdue_cases"] == K and headline["overdue_cases_change"] == 0

    # One overdue case acknowledged: k - 1 overdue is withheld, and so is its change (once the
    # minute the case figures are kept for has passed).
    overdue[0].status = "acknowledged"
    overdue[0].acknowledged_at = overdue[0].opened_at + timedelta(days=3)
    db.session.commit()
    assert get(client, "summary", hr)["headline"]["overdue_cases"] == K
    app.extensions.pop(query.CASE_FIGURES_KEY)
    headline = get(client, "summary", hr)["headline"]
    assert headline["overdue_cases"] is None and headline["overdue_cases_change"] is None
    # Feedback still rests on k cases in each period.
    assert headline["median_days_to_feedback"] == 6.0


def test_k_minus_1_cases_with_feedback_show_no_median(client, org, hr, app):
    (month,) = released_months(1)
    spread(org.unit("Warehouse North"), month, 20)
    _cases(org, month, K - 1, feedback_after_days=3)
    headline = get(client, "summary", hr)["headline"]
    assert headline["median_days_to_feedback"] is None
    _cases(org, month, 1, feedback_after_days=3)
    app.extensions.pop(query.CASE_FIGURES_KEY)
    assert get(client, "summary", hr)["headline"]["median_days_to_feedback"] == 3.0


def test_case_figures_are_withheld_where_the_period_s_reports_are(client, org, hr):
    """Four reports in the month (under k): their cases' figures are not shown either, however
    many cases there are."""
    (month,) = released_months(1)
    spread(org.unit("Warehouse North"), month, 4)
    _cases(org, month, K, feedback_after_days=3)
    _cases(org, month, K)
    headline = get(client, "summary", hr)["headline"]
    assert headline["reports"] is None
    assert headline["median_days_to_feedback"] is None and headline["overdue_cases"] is None
