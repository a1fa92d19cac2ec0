"""The HR dashboard and its CSV export."""

from __future__ import annotations

import csv
import io

from tests.analytics.helpers import add_reports, released_months, spread
from tests.cases.support import sign_in


def seed(org) -> None:  # type: ignore[no-untyped-def]
    months = released_months(3)
    for month in months:
        spread(org.unit("Warehouse North"), month, 14)
        spread(org.unit("Warehouse South"), month, 9, category="safety")
        spread(org.unit("Call Centre"), month, 12, category="workload", hotspots=1)
    add_reports(org.unit("Payroll"), months[1].start, 3, category="pay")


def test_dashboard_is_for_analysts_and_admins(client, org):
    assert client.get("/analytics").status_code == 302  # to sign-in
    sign_in(client, "leader@demo.defuse")
    assert client.get("/analytics").status_code == 403


def test_dashboard_shows_charts_tables_and_suppressed_cells(client, org):
    seed(org)
    sign_in(client, "hr@demo.defuse")
    response = client.get("/analytics?depth=2&period=month")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert page.count("<svg") == 2
    assert '<title id="heatmap-title">' in page and '<desc id="heatmap-desc">' in page
    assert '<title id="trends-title">' in page and '<desc id="trends-desc">' in page
    assert "supp." in page and 'class="suppressed">suppressed</span>' in page
    assert "Warehouse North" in page and "Call Centre" in page
    assert '<th scope="row">Call Centre</th><td>' in page  # hotspot list
    # A strict Content-Security-Policy will come: no inline script or style anywhere.
    assert "<script" not in page and "style=" not in page and "<style" not in page
    # Payroll's 3 reports are never a number on the page.
    assert "Payroll" not in page.split('id="heatmap-heading"')[1].split("</section>")[0]


def test_bad_filters_fall_back_to_defaults_with_a_message(client, org):
    sign_in(client, "hr@demo.defuse")
    response = client.get("/analytics?period=fortnight&from=2025-13-40")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'role="alert"' in page and "period" in page


def test_csv_export_has_the_same_suppression(client, org):
    seed(org)
    sign_in(client, "hr@demo.defuse")
    response = client.get("/analytics/export.csv?depth=2&category=all")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert rows and set(rows[0]) >= {"unit", "category", "period", "reports"}
    body = client.get(
        "/api/v1/analytics/risk?depth=2&category=all",
        headers={"Authorization": f"Bearer {_token(org)}"},
    ).get_json()
    api = {(c["unit"], c["remainder"], c["period"]): c for c in body["cells"]}
    assert len(rows) == len(api)
    for row in rows:
        cell = api[(int(row["unit_id"]), row["remainder"] == "yes", row["period"])]
        if cell["suppressed"]:
            assert row["reports"] == "suppressed"
            assert row["mean_risk"] == ""
        else:
            assert int(row["reports"]) == cell["reports"] >= 5


def _token(org) -> str:  # type: ignore[no-untyped-def]
    from service.auth import new_api_token
    from service.extensions import db

    token = new_api_token(org.staff["hr"])
    db.session.commit()
    return token


def test_headlines_compare_the_latest_period_with_the_one_before(client, org):
    months = released_months(2)
    for count, month in zip((20, 26), months, strict=True):
        spread(org.unit("Warehouse North"), month, count, level="low", score=0.2)
        spread(org.unit("Warehouse South"), month, 10, level="high", score=0.7)
    sign_in(client, "hr@demo.defuse")
    page = client.get("/analytics").get_data(as_text=True)
    headlines = page.split('id="headlines"')[1].split("</ul>")[0]
    reports = headlines.split('id="headline-reports"')[1].split("</li>")[0]
    assert '<span class="figure">36</span>' in reports and "+6 on the month before" in reports
    high = headlines.split('id="headline-high"')[1].split("</li>")[0]
    assert "28%" in high  # 10 of 36
    # No case in either month: the case figures rest on fewer than k cases.
    feedback = headlines.split('id="headline-feedback"')[1].split("</li>")[0]
    assert "withheld" in feedback and "no comparison" in feedback
    overdue = headlines.split('id="headline-overdue"')[1].split("</li>")[0]
    assert "withheld" in overdue and "cases overdue now" in overdue
    acknowledge = headlines.split('id="headline-acknowledge"')[1].split("</li>")[0]
    assert "withheld" in acknowledge and "no comparison" in acknowledge


def test_the_heatmap_is_coloured_by_risk_and_labelled_with_counts(client, org):
    (month,) = released_months(1)
    spread(org.unit("Warehouse North"), month, 12, level="low", score=0.1)
    spread(org.unit("Call Centre"), month, 12, level="critical", score=0.9)
    sign_in(client, "hr@demo.defuse")
    page = client.get(f"/analytics?depth=2&category=all&from={month.start}").get_data(as_text=True)
    svg = page.split('id="heatmap-title"')[1].split("</svg>")[0]
    north = svg.split("Warehouse North, ")[1].split("</g>")[0]
    call = svg.split("Call Centre, ")[1].split("</g>")[0]
    assert 'class="heat-1"' in north and ">12</text>" in north
    assert 'class="heat-5"' in call and ">12</text>" in call


def test_most_cells_suppressed_suggests_a_coarser_view(client, org):
    (month,) = released_months(1)
    spread(org.unit("Warehouse North"), month, 12)
    sign_in(client, "hr@demo.defuse")
    weekly = client.get("/analytics?period=week&depth=2").get_data(as_text=True)
    assert 'id="coarsen-hint"' in weekly  # 12 reports over four or five weeks: mostly hidden
    monthly = client.get(
        "/analytics?period=month&depth=2&category=all&from=" + month.start.isoformat()
    )
    assert 'id="coarsen-hint"' not in monthly.get_data(as_text=True)


def test_from_after_to_says_so_in_words(client, org):
    sign_in(client, "hr@demo.defuse")
    response = client.get("/analytics?from=2026-05-01&to=2026-04-01")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "First day: The first day must be on or before the last day" in page
