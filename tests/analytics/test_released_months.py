"""Released months never move: a month is frozen the first time it is answered, and a later
report, rescore or rule change moves cases, not released figures."""

from __future__ import annotations

from sqlalchemy import func, select

from service.db import ReleasedMonth
from service.extensions import db
from tests.analytics.helpers import add_reports, released_months, spread
from tests.analytics.test_api import get, one


def test_a_released_month_is_served_as_first_answered(client, org, hr):
    (month,) = released_months(1)
    north, south = org.unit("Warehouse North"), org.unit("Warehouse South")
    spread(north, month, 12, level="low", score=0.2)
    spread(south, month, 12, level="low", score=0.2)
    first = get(client, "risk", hr, depth=2, category="all", unit=org.unit("Operations"))
    cell = one(first, unit=north, period=month.label)
    assert cell["reports"] == 12 and cell["mean_risk"] == 0.2
    assert db.session.scalar(select(func.count()).select_from(ReleasedMonth)) >= 1

    # A hotspot rescore of the month's reports, and a report re-dated into it, afterwards:
    add_reports(north, month.start, 12, level="high", score=0.9)
    add_reports(south, month.start, 1)
    client.application.extensions.pop("defuse.analytics_cubes", None)  # a fresh worker too
    again = get(client, "risk", hr, depth=2, category="all", unit=org.unit("Operations"))
    assert again["cells"] == first["cells"]
    summary = get(client, "summary", hr, unit=org.unit("Operations"))
    assert summary["periods"][-1]["reports"] == 24


def test_the_first_answer_reads_the_rollups(client, org, hr):
    """The freeze is not a stale cache: what the month holds when first asked is answered."""
    (month,) = released_months(1)
    north = org.unit("Warehouse North")
    spread(north, month, 12)
    add_reports(north, month.start, 7, level="high", score=0.8)
    body = get(client, "risk", hr, depth=2, category="all", unit=org.unit("Operations"))
    assert one(body, unit=north, period=month.label)["reports"] == 19
