"""Rollups kept by the real write path (intake, scoring, demo re-dating), read back by the
analytics."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from service.analytics.rollups import move_report_day
from service.db import Report, RiskRollup
from service.db.rollups import AnalyticsVersion
from service.extensions import db
from tests.analytics.helpers import released_months
from tests.factories import report_payload

TEXT = "My shift lead shouts at me in front of everyone and I dread coming in every single day."


def submit(client, org, unit: str, count: int, category: str) -> list[int]:  # type: ignore[no-untyped-def]
    ids = []
    for _ in range(count):
        response = client.post(
            "/api/v1/reports",
            json=report_payload(org, org_unit=org.unit(unit), category=category, text=TEXT),
        )
        assert response.status_code == 201, response.get_json()
        ids.append(response.get_json()["id"])
    return ids


def test_reports_submitted_through_intake_are_counted_and_answered(client, org, hr):
    (month,) = released_months(1)
    ids = submit(client, org, "Warehouse North", 12, "bullying")
    ids += submit(client, org, "Warehouse North", 6, "pay")
    ids += submit(client, org, "Warehouse South", 6, "bullying")
    for number, report_id in enumerate(ids):
        day = month.start + timedelta(days=number % month.days)
        move_report_day(db.session.get(Report, report_id), day)
    db.session.commit()

    # The rollups add up to the report rows, hotspot flags included.
    assert db.session.scalar(select(func.sum(RiskRollup.reports))) == len(ids)
    assert db.session.scalar(select(func.sum(RiskRollup.hotspots))) == db.session.scalar(
        select(func.count()).select_from(Report).where(Report.hotspot)
    )
    assert db.session.scalar(select(func.count()).select_from(AnalyticsVersion)) >= 1

    scores = db.session.scalars(select(Report.risk_score).where(Report.id.in_(ids[:12]))).all()
    body = client.get(
        "/api/v1/analytics/risk",
        headers=hr,
        query_string={"depth": 2, "unit": org.unit("Operations"), "category": "bullying"},
    ).get_json()
    cell = next(
        c
        for c in body["cells"]
        if c["unit"] == org.unit("Warehouse North") and c["period"] == month.label
    )
    assert cell["reports"] == 12
    assert cell["mean_risk"] == round(sum(scores) / len(scores), 2)


def test_a_rescore_moves_counts_between_levels_and_hotspot_flags(app, org):
    from service.analytics.rollups import count_new_report, count_rescore

    (month,) = released_months(1)
    report = Report(
        org_unit_id=org.unit("Payroll"),
        category="pay",
        raised_with=[],
        involved=[],
        language="en",
        text="x" * 30,
        redactions={},
        submitted_on=month.start,
        receipt_hash="f" * 64,
        risk_score=0.2,
        risk_level="low",
        hotspot=False,
    )
    db.session.add(report)
    db.session.flush()
    count_new_report(report)
    db.session.commit()
    report.risk_score, report.risk_level, report.hotspot = 0.7, "high", True
    count_rescore(report, "low", 0.2)
    db.session.commit()
    rows = {r.level: r for r in db.session.scalars(select(RiskRollup))}
    assert rows["low"].reports == 0 and rows["low"].hotspots == 0
    assert rows["high"].reports == 1 and rows["high"].hotspots == 1
    assert abs(rows["high"].score_sum - 0.7) < 1e-9
