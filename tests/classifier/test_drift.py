"""`defuse model drift`: monthly score and level distribution, calibration on closed cases,
and warnings beyond the stated bounds, also shown to admins."""

from __future__ import annotations

from datetime import date

import pytest

from service.db import utcnow
from service.drift import (
    CALIBRATION_GAP_BOUND,
    LEVEL_SHIFT_BOUND,
    MIN_REPORTS,
    drift_report,
)
from service.extensions import db
from tests.cases.support import signed_in, submit

TODAY = date(2026, 11, 20)


def _month(months_back: int) -> date:
    index = TODAY.year * 12 + TODAY.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 10)


def add_reports(
    org,  # type: ignore[no-untyped-def]
    month: date,
    count: int,
    *,
    high: int,
    score: float = 0.4,
    closed_escalated: int | None = None,
) -> None:
    """`count` reports submitted in `month`, `high` of them at level high; optionally all
    closed, `closed_escalated` of them escalated."""
    for index in range(count):
        case, _ = submit(org, text=f"A concern about the rota, number {index}, in some detail.")
        report = case.report
        report.submitted_on = month
        report.risk_level = "high" if index < high else "low"
        report.risk_score = 0.7 if index < high else score
        if closed_escalated is not None:
            case.status = "closed"
            case.closed_at = utcnow()
            case.escalated = index < closed_escalated
            case.outcome = "grievance" if case.escalated else "resolved_informally"
    db.session.commit()


def test_steady_months_raise_no_warning(app, org) -> None:  # type: ignore[no-untyped-def]
    for back in (3, 2, 1):
        add_reports(org, _month(back), MIN_REPORTS, high=4)
    report = drift_report(months=6, today=TODAY)
    assert [m.month for m in report.months] == ["2026-08", "2026-09", "2026-10"]
    assert [m.reports for m in report.months] == [MIN_REPORTS] * 3
    assert report.months[0].high_share == pytest.approx(4 / MIN_REPORTS)
    assert report.warnings == []


def test_a_jump_in_high_share_is_flagged_and_a_small_one_is_not(app, org) -> None:  # type: ignore[no-untyped-def]
    for back in (3, 2):
        add_reports(org, _month(back), MIN_REPORTS, high=4)  # 20% high
    # Just inside the bound: 20% + 15% = 35% (7 of 20) is not a warning.
    add_reports(org, _month(1), MIN_REPORTS, high=7)
    assert drift_report(months=6, today=TODAY).warnings == []
    # Past it: 8 more high reports in the month make 15 of 28, 54%.
    add_reports(org, _month(1), 8, high=8)
    warnings = drift_report(months=6, today=TODAY).warnings
    assert len(warnings) >= 1
    assert warnings[0].startswith("2026-10:") and "high or above" in warnings[0]
    assert f"±{LEVEL_SHIFT_BOUND:.0%}" in warnings[0]


def test_too_few_reports_say_nothing(app, org) -> None:  # type: ignore[no-untyped-def]
    for back in (3, 2):
        add_reports(org, _month(back), MIN_REPORTS, high=0)
    add_reports(org, _month(1), MIN_REPORTS - 1, high=MIN_REPORTS - 1)
    assert drift_report(months=6, today=TODAY).warnings == []


def test_calibration_gap_on_closed_cases(app, org) -> None:  # type: ignore[no-untyped-def]
    # Scored 0.4 (low) and 0.7 (high) on average 0.49; all escalated: gap -0.51.
    add_reports(org, _month(2), MIN_REPORTS, high=6, closed_escalated=MIN_REPORTS)
    report = drift_report(months=6, today=TODAY)
    assert report.labelled == MIN_REPORTS
    assert report.overall_calibration_gap == pytest.approx(0.49 - 1.0)
    assert any("all closed cases" in w for w in report.warnings)
    assert any(w.startswith("2026-09: closed cases") for w in report.warnings)
    assert f"±{CALIBRATION_GAP_BOUND:.2f}" in report.warnings[-1]


def test_calibrated_closed_cases_raise_no_warning(app, org) -> None:  # type: ignore[no-untyped-def]
    # Mean score (6 * 0.7 + 14 * 0.4) / 20 = 0.49; 10 of 20 escalated: gap -0.01.
    add_reports(org, _month(2), MIN_REPORTS, high=6, closed_escalated=10)
    report = drift_report(months=6, today=TODAY)
    assert report.overall_calibration_gap == pytest.approx(-0.01)
    assert report.warnings == []


def test_cli_prints_the_table_and_exits_1_on_a_warning(app, org) -> None:  # type: ignore[no-untyped-def]
    runner = app.test_cli_runner()
    calm = runner.invoke(args=["model", "drift"])
    assert calm.exit_code == 0, calm.output
    assert "no drift beyond the bounds" in calm.output
    add_reports(org, utcnow().date().replace(day=1), MIN_REPORTS, high=0, closed_escalated=20)
    drifted = runner.invoke(args=["model", "drift"])
    assert drifted.exit_code == 1
    assert "WARNING all closed cases" in drifted.output
    assert "calibration gap" in drifted.output


def test_admin_pages_show_the_drift_warning(app, org) -> None:  # type: ignore[no-untyped-def]
    admin = signed_in(app, "admin@demo.defuse")
    assert "has drifted" not in admin.get("/admin/users").get_data(as_text=True)
    add_reports(org, utcnow().date().replace(day=1), MIN_REPORTS, high=0, closed_escalated=20)
    page = admin.get("/admin/users").get_data(as_text=True)
    assert "The escalation model has drifted" in page
    assert "all closed cases" in page
