"""GET /api/v1/analytics/*: access, shape, figures, and attempts to break anonymity."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from service.analytics import periods
from service.db import OrgUnit
from service.extensions import db
from tests.analytics.helpers import (
    add_acknowledgements,
    add_reports,
    add_resolutions,
    current_month,
    released_months,
    spread,
    token_for,
)

K = 5


def get(client, path: str, headers, **params):  # type: ignore[no-untyped-def]
    response = client.get(f"/api/v1/analytics/{path}", headers=headers, query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def cells_by(body, **match):  # type: ignore[no-untyped-def]
    return [c for c in body["cells"] if all(c[k] == v for k, v in match.items())]


def one(body, **match):  # type: ignore[no-untyped-def]
    found = cells_by(body, **match)
    assert len(found) == 1, (match, found)
    return found[0]


# -- access ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["risk", "summary", "hotspots"])
def test_needs_a_token_of_an_analyst_or_admin(client, org, path):
    response = client.get(f"/api/v1/analytics/{path}")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"

    leader = client.get(f"/api/v1/analytics/{path}", headers=token_for(org.staff["leader"]))
    assert leader.status_code == 403
    assert leader.get_json()["error"]["code"] == "forbidden"

    for who in ("hr", "admin"):
        ok = client.get(f"/api/v1/analytics/{path}", headers=token_for(org.staff[who]))
        assert ok.status_code == 200, ok.get_json()


def test_invalid_filters_are_422_with_the_field(client, org, hr):
    bad = {"period": "fortnight", "depth": "-1", "unit": "0", "category": "gossip"}
    for name, value in bad.items():
        response = client.get("/api/v1/analytics/risk", headers=hr, query_string={name: value})
        assert response.status_code == 422, (name, response.get_json())
        body = response.get_json()["error"]
        assert body["code"] == "invalid"
    unknown = client.get("/api/v1/analytics/risk", headers=hr, query_string={"unit": 99999})
    assert unknown.status_code == 404
    assert unknown.get_json()["error"]["message"] == "Unknown org unit."
    backwards = client.get(
        "/api/v1/analytics/risk",
        headers=hr,
        query_string={"from": "2025-05-01", "to": "2025-04-01"},
    )
    assert backwards.status_code == 422
    assert "on or before" in backwards.get_json()["error"]["fields"]["from"][0]
    same_day = get(client, "risk", hr, **{"from": "2025-04-01", "to": "2025-04-01"})
    assert same_day["query"]["from"] is not None


# -- shape and figures ----------------------------------------------------------------------


def test_cells_have_figures_and_change_against_the_previous_period(client, org, hr):
    before, month = released_months(2)
    north = org.unit("Warehouse North")
    spread(north, before, 8, level="low", score=0.2)
    # Company in the unit's line and its category line, so that neither has a small hidden
    # remainder to protect; in the month, with high-or-critical reports and others alike, as
    # a neighbour whose reports were all low would be told by the shares around it (see the
    # test below).
    spread(org.unit("Warehouse South"), before, 9)
    spread(north, before, 9, category="pay")
    for level in ("low", "high"):
        spread(org.unit("Warehouse South"), month, 5, level=level)
        spread(north, month, 5, category="pay", level=level)
    spread(north, month, 6, level="low", score=0.3)
    spread(north, month, 6, level="high", score=0.7)
    add_resolutions(north, month.start, "bullying", "resolved_informally", 6)
    add_resolutions(north, month.start, "bullying", "referred_formal", 5)
    add_acknowledgements(north, month.start, "bullying", 3, 2)
    add_acknowledgements(north, month.start + timedelta(days=1), "bullying", 20, 3)
    add_acknowledgements(north, month.start + timedelta(days=2), "bullying", 60, 1)

    body = get(
        client,
        "risk",
        hr,
        depth=2,
        unit=org.unit("Operations"),
        category="bullying",
        **{"from": before.start.isoformat(), "to": month.end.isoformat()},
    )
    assert [p["label"] for p in body["periods"]] == [before.label, month.label]
    assert body["query"]["k"] == K
    cell = one(body, unit=north, period=month.label, category="bullying")
    assert cell["suppressed"] is False
    assert cell["reports"] == 12
    assert cell["mean_risk"] == 0.5
    assert cell["high_or_critical_share"] == 0.5
    assert cell["resolved_cases"] == 11
    assert cell["resolved_informally_share"] == 0.55
    assert cell["referred_formal_share"] == 0.45
    assert cell["median_hours_to_acknowledge"] == 24  # 3h, 3h, 20h, 20h, 20h, 60h -> (12, 24]
    # No high-or-critical report the month before: a share of 0 is never shown, so no change.
    assert cell["change"] == {"reports": 4, "mean_risk": 0.3, "high_or_critical_share": None}


def test_a_share_that_would_tell_a_neighbour_s_reports_were_all_low_is_withheld(client, org, hr):
    """6 of North's 12 bullying reports are high or critical, and so are 6 of Operations' 21
    (North's 12 and South's 9). Both shares shown would tell that none of South's 9 reports
    is high or critical: an attribute of each of them, which a share of 0 is never shown for.
    So North's share is withheld; its report count and mean risk stay. Give South 5 high
    reports (of 14) and both shares are shown."""
    other, month = released_months(2)  # both filled before either is first answered
    north, south = org.unit("Warehouse North"), org.unit("Warehouse South")
    for when in (other, month):
        spread(north, when, 6, level="low", score=0.3)
        spread(north, when, 6, level="high", score=0.7)
        spread(south, when, 9)
    spread(south, other, 5, level="high", score=0.7)
    span = {"from": other.start.isoformat(), "to": month.end.isoformat()}
    body = get(client, "risk", hr, depth=2, unit=org.unit("Operations"), category="all", **span)

    cell = one(body, unit=north, period=month.label)
    assert cell["reports"] == 12 and cell["mean_risk"] == 0.5
    assert cell["high_or_critical_share"] is None
    assert one(body, unit=south, period=month.label)["reports"] == 9
    assert one(body, unit=south, period=month.label)["high_or_critical_share"] is None

    assert one(body, unit=north, period=other.label)["high_or_critical_share"] == 0.5
    assert one(body, unit=south, period=other.label)["high_or_critical_share"] == 0.36


def test_an_only_child_with_reports_is_shown_its_empty_siblings_are_not(client, org, hr):
    """Empty cells are shown as suppressed, never as 0; that they are empty may follow from a
    total (nobody is exposed by an empty cell), so an only child with reports can be shown."""
    (month,) = released_months(1)
    spread(org.unit("Warehouse North"), month, 20)
    spread(org.unit("Call Centre"), month, 20)
    body = get(client, "risk", hr, depth=2, category="all")
    assert one(body, unit=org.unit("Warehouse North"), period=month.label)["reports"] == 20
    names = {u["name"] for u in body["units"]}
    assert "Warehouse South" not in names and "Transport" not in names
    whole = get(client, "risk", hr, depth=0, category="all")
    assert one(whole, unit=org.unit("Harbourside Group"), period=month.label)["reports"] == 40


def test_resolution_and_acknowledgement_need_k_cases_of_their_own(client, org, hr):
    (month,) = released_months(1)
    north = org.unit("Warehouse North")
    spread(north, month, 12)
    spread(north, month, 9, category="pay")
    spread(org.unit("Warehouse South"), month, 9)
    add_resolutions(north, month.start, "bullying", "referred_formal", 1)
    add_acknowledgements(north, month.start, "bullying", 5, 4)
    body = get(client, "risk", hr, depth=2, category="bullying")
    cell = one(body, unit=north, period=month.label)
    assert cell["reports"] == 12
    # One formal referral among 12 reports would single that case out: not shown.
    assert cell["resolved_cases"] is None and cell["referred_formal_share"] is None
    assert cell["median_hours_to_acknowledge"] is None


def test_only_complete_months_are_answered(client, org, hr):
    (month,) = released_months(1)
    running = current_month()
    north = org.unit("Warehouse North")
    spread(north, month, 10)
    add_reports(north, running.start, 50)
    body = get(
        client,
        "risk",
        hr,
        period="week",
        depth=0,
        **{"from": month.start.isoformat(), "to": (running.end + timedelta(days=30)).isoformat()},
    )
    assert body["periods"][-1]["end"] == month.end.isoformat()
    assert body["query"]["released_to"] == month.end.isoformat()
    assert all(
        p["label"] not in {w.label for w in map(periods.week, running.weeks())}
        for p in body["periods"]
    )
    before = get(client, "summary", hr)
    add_reports(north, running.start + timedelta(days=1), 1)  # a new report, dated today-ish
    assert get(client, "summary", hr) == before


def test_no_text_ids_or_exact_times_leave_the_api(client, org, hr):
    (month,) = released_months(1)
    spread(org.unit("Warehouse North"), month, 30, hotspots=1)
    allowed = {
        "query",
        "period",
        "from",
        "to",
        "released_to",
        "depth",
        "unit",
        "category",
        "k",
        "periods",
        "label",
        "start",
        "end",
        "units",
        "remainder",
        "name",
        "parent",
        "external_id",  # the unit's id in the organisation's HR file, about no report
        "retired",
        "categories",
        "cells",
        "suppressed",
        "reports",
        "mean_risk",
        "high_or_critical_share",
        "resolved_cases",
        "resolved_informally_share",
        "referred_formal_share",
        "median_hours_to_acknowledge",
        "change",
        "total",
        "hotspots",
        "headcount",
        "expected",
        "rate_per_100",
        "p_value",
        "q_value",
        "false_discovery_rate",
        # The headline: aggregates of the latest period, each behind the threshold.
        "headline",
        "reports_change",
        "high_or_critical_share_change",
        "median_hours_to_acknowledge_change",
        "median_days_to_feedback",
        "median_days_to_feedback_change",
        "overdue_cases",
        "overdue_cases_change",
    }

    def walk(value, found):  # type: ignore[no-untyped-def]
        if isinstance(value, dict):
            for key, item in value.items():
                found.add(key)
                walk(item, found)
        elif isinstance(value, list):
            for item in value:
                walk(item, found)
        elif isinstance(value, str) and len(value) == 10 and value[4] == "-":
            day = date.fromisoformat(value)
            assert day.weekday() in (0, 6), value  # only period boundaries: Mondays, Sundays
        return found

    for path in ("risk", "summary", "hotspots"):
        for period in periods.KINDS:
            keys = walk(get(client, path, hr, period=period, depth=2), set())
            assert keys <= allowed, keys - allowed


# -- anonymity: a small unit ----------------------------------------------------------------


def test_a_unit_with_four_reports_is_never_shown(client, org, hr):
    months = released_months(3)
    payroll, finance = org.unit("Payroll"), org.unit("Finance")
    for month in months:  # plenty elsewhere, so that the organisation's totals are shown
        spread(org.unit("Warehouse North"), month, 20)
        spread(org.unit("Call Centre"), month, 20, category="workload")
    add_reports(payroll, months[1].start + timedelta(days=2), 4)  # Finance's only reports

    queries = [
        {"depth": d, "period": p, **extra}
        for d in (0, 1, 2, 3)
        for p in periods.KINDS
        for extra in ({}, {"unit": finance}, {"unit": payroll}, {"category": "bullying"})
    ]
    small_cells = small_summaries = 0
    for params in queries:
        body = get(client, "risk", hr, **params)
        listed = {(u["unit"], u["remainder"]) for u in body["units"]}
        assert (payroll, False) not in listed or all(
            c["suppressed"] for c in cells_by(body, unit=payroll)
        ), params
        small = cells_by(body, unit=payroll) + cells_by(body, unit=finance)
        small_cells += len(small)
        for cell in small:
            assert cell["suppressed"], (params, cell)
        summary = get(client, "summary", hr, **{k: v for k, v in params.items() if k != "depth"})
        # The summary is of the unit asked for, and of the small units exactly when asked.
        assert summary["unit"] == params.get("unit", summary["unit"]), params
        assert (summary["unit"] in (payroll, finance)) == ("unit" in params), params
        if "unit" in params:
            small_summaries += 1
            assert summary["total"]["suppressed"], params
            assert summary["periods"] and all(p["suppressed"] for p in summary["periods"])
            assert all(c["suppressed"] for c in summary["categories"])
    # The checks above ran on something: the small units' cells and summaries were there.
    assert small_cells > 0
    assert small_summaries == sum("unit" in params for params in queries)
    # At depth 2, Payroll is not a row of its own: it rolls up into Finance, and Finance
    # (4 reports in all) is shown, suppressed, never as a number.
    body = get(client, "risk", hr, depth=2, category="all")
    assert (payroll, False) not in {(u["unit"], u["remainder"]) for u in body["units"]}
    assert all(c["suppressed"] for c in cells_by(body, unit=finance))


# -- anonymity: a hidden cell next to its row total ----------------------------------------


def test_a_hidden_cell_cannot_be_worked_out_from_its_row_total(client, org, hr):
    (month,) = released_months(1)
    north = org.unit("Warehouse North")
    spread(north, month, 10, category="bullying")
    spread(north, month, 7, category="pay")
    add_reports(north, month.start, 2, category="workload")
    body = get(client, "risk", hr, depth=2, unit=org.unit("Operations"))
    total = one(body, unit=north, category="all", period=month.label)
    assert total["reports"] == 19
    workload = one(body, unit=north, category="workload", period=month.label)
    assert workload["suppressed"]
    shown = [
        c
        for c in cells_by(body, unit=north, period=month.label)
        if c["category"] != "all" and not c["suppressed"]
    ]
    hidden_sum = total["reports"] - sum(c["reports"] for c in shown)
    assert hidden_sum >= K  # the 2 are hidden among at least k reports
    # ... and the same holds for every row and line in the answer.
    assert_lines_protected(body)


def assert_lines_protected(body) -> None:  # type: ignore[no-untyped-def]
    """In each row, period: 'all' minus the shown categories is 0 with nothing hidden, or >= k."""
    for unit in body["units"]:
        for period in body["periods"]:
            row = cells_by(
                body, unit=unit["unit"], remainder=unit["remainder"], period=period["label"]
            )
            total = [c for c in row if c["category"] == "all"]
            if not total or total[0]["suppressed"]:
                continue
            parts = [c for c in row if c["category"] != "all"]
            hidden = [c for c in parts if c["suppressed"]]
            rest = total[0]["reports"] - sum(c["reports"] for c in parts if not c["suppressed"])
            assert (not hidden and rest == 0) or rest >= K, (unit, period, rest)


# -- anonymity: differencing -----------------------------------------------------------------


def test_a_query_pair_differing_by_one_report_is_never_both_answered(client, org, hr):
    (month,) = released_months(1)
    operations, north = org.unit("Operations"), org.unit("Warehouse North")
    spread(north, month, 10)
    add_reports(operations, month.start, 1)  # one report about Operations itself
    spread(org.unit("Call Centre"), month, 30)

    whole = get(client, "risk", hr, depth=1, unit=operations, category="bullying")
    part = get(client, "risk", hr, depth=2, unit=north, category="bullying")
    a = one(whole, unit=operations, remainder=False, period=month.label)
    b = one(part, unit=north, period=month.label)
    assert a["suppressed"] or b["suppressed"]
    if not a["suppressed"] and not b["suppressed"]:
        pytest.fail("11 and 10 reports both shown: their difference is one report")


def test_no_two_answers_differ_by_fewer_than_k_reports(client, org, hr):
    """A differencing attacker: collect every figure from many overlapping queries and check
    that any two about nested groups of reports differ by 0 or at least k."""
    months = released_months(4)
    plan = {
        "Warehouse North": (9, "bullying"),
        "Warehouse South": (6, "bullying"),
        "Transport": (3, "pay"),
        "Operations": (1, "bullying"),
        "Call Centre": (12, "workload"),
        "Complaints Team": (4, "workload"),
        "Payroll": (2, "pay"),
        "Facilities": (7, "other"),
    }
    for m, month in enumerate(months):
        for name, (count, category) in plan.items():
            spread(org.unit(name), month, count + m, category=category)
            if m % 2:
                add_reports(org.unit(name), month.start + timedelta(days=8), 1, category="pay")
    figures = collect_figures(client, org, hr, months)
    released = [f for f in figures if f["reports"] is not None]
    assert len(released) > 20  # the attack has material to work with
    for inner in released:
        for outer in released:
            if inner is not outer and contains(outer, inner, org):
                difference = outer["reports"] - inner["reports"]
                assert difference == 0 or difference >= K, (inner, outer)


def collect_figures(client, org, hr, months):  # type: ignore[no-untyped-def]
    figures = []
    first, last = months[0].start.isoformat(), months[-1].end.isoformat()
    units = [None, *(u.id for u in db.session.execute(db.select(OrgUnit)).scalars())]
    for period in periods.KINDS:
        spans = {}
        for depth in (0, 1, 2):
            for unit in units:
                params = {"period": period, "depth": depth, "from": first, "to": last}
                if unit is not None:
                    params["unit"] = unit
                body = get(client, "risk", hr, **params)
                spans.update({p["label"]: (p["start"], p["end"]) for p in body["periods"]})
                for cell in body["cells"]:
                    if cell["remainder"]:
                        continue
                    figures.append(
                        {
                            "unit": cell["unit"],
                            "category": cell["category"],
                            "span": spans[cell["period"]],
                            "reports": cell["reports"],
                        }
                    )
                if depth == 0:
                    summary = get(client, "summary", hr, **params)
                    scope = summary["unit"] or org.unit("Harbourside Group")
                    span = (
                        (first, last)
                        if not body["periods"]
                        else (body["periods"][0]["start"], body["periods"][-1]["end"])
                    )
                    figures.append(
                        {
                            "unit": scope,
                            "category": "all",
                            "span": span,
                            "reports": summary["total"]["reports"],
                        }
                    )
                    for entry in summary["categories"]:
                        figures.append(
                            {
                                "unit": scope,
                                "category": entry["category"],
                                "span": span,
                                "reports": entry["reports"],
                            }
                        )
    return figures


def contains(outer, inner, org) -> bool:  # type: ignore[no-untyped-def]
    if outer["category"] != "all" and outer["category"] != inner["category"]:
        return False
    if not (outer["span"][0] <= inner["span"][0] and inner["span"][1] <= outer["span"][1]):
        return False
    unit = db.session.get(OrgUnit, inner["unit"])
    while unit is not None:
        if unit.id == outer["unit"]:
            return True
        unit = unit.parent
    return False


# -- summary and hotspots -------------------------------------------------------------------


def _shown_reports(body, unit_ids, period):  # type: ignore[no-untyped-def]
    """The shown report counts of one period for rows of these units (remainders included)."""
    return [
        c["reports"]
        for c in body["cells"]
        if c["unit"] in unit_ids and c["period"] == period and not c["suppressed"]
    ]


def test_a_finer_level_accounts_for_every_report_a_coarser_one_shows(client, org, hr):
    """In the second month Warehouse South has 3 reports: withheld, and North with it (else
    Operations minus North would give South away). Split into its warehouses, Operations'
    23 reports of that month would vanish at level 2; its own row stays instead."""
    first, second = released_months(2)
    north, south = org.unit("Warehouse North"), org.unit("Warehouse South")
    operations = org.unit("Operations")
    spread(north, first, 20)
    spread(south, first, 20)
    spread(north, second, 20)
    spread(south, second, 3)
    spread(org.unit("Call Centre"), first, 10)
    spread(org.unit("Call Centre"), second, 10)
    span = {"from": first.start.isoformat(), "to": second.end.isoformat(), "category": "all"}
    coarse = get(client, "risk", hr, depth=1, **span)
    fine = get(client, "risk", hr, depth=2, **span)
    assert one(coarse, unit=operations, period=second.label, remainder=False)["reports"] == 23
    for row in coarse["units"]:
        if row["depth"] != 1:
            continue
        subtree = {u.id for u in db.session.scalars(db.select(OrgUnit))}
        subtree = {
            unit_id
            for unit_id in subtree
            if unit_id == row["unit"] or _ancestor(unit_id, row["unit"])
        }
        for period in (first.label, second.label):
            wanted = _shown_reports(coarse, {row["unit"]}, period)
            if not wanted:
                continue
            (total,) = wanted
            own_row = [
                c["reports"]
                for c in fine["cells"]
                if c["unit"] == row["unit"] and not c["remainder"] and c["period"] == period
            ]
            finer = _shown_reports(fine, subtree - {row["unit"]}, period) + [
                c["reports"]
                for c in fine["cells"]
                if c["unit"] == row["unit"]
                and c["remainder"]
                and c["period"] == period
                and not c["suppressed"]
            ]
            assert own_row == [total] or sum(finer) == total, (row["name"], period)
    # The first month is split in full: North and South, each shown.
    assert one(fine, unit=north, period=first.label)["reports"] == 20
    assert one(fine, unit=south, period=first.label)["reports"] == 20
    # The second month: South withheld, North with it, Operations' own row shows the 23.
    assert one(fine, unit=south, period=second.label)["suppressed"] is True
    assert one(fine, unit=north, period=second.label)["suppressed"] is True
    row = one(fine, unit=operations, period=second.label, remainder=False)
    assert row["reports"] == 23
    names = [u["name"] for u in fine["units"]]
    assert names.index("Operations") < names.index("Warehouse North")


def _ancestor(unit_id: int, ancestor_id: int) -> bool:
    unit = db.session.get(OrgUnit, unit_id)
    while unit is not None and unit.parent_id is not None:
        if unit.parent_id == ancestor_id:
            return True
        unit = db.session.get(OrgUnit, unit.parent_id)
    return False


def test_summary_totals_only_from_shown_periods(client, org, hr):
    months = released_months(3)
    north, payroll = org.unit("Warehouse North"), org.unit("Payroll")
    for month in months:
        spread(north, month, 10)
    add_reports(north, months[0].start, 2, category="pay")
    spread(payroll, months[0], 6)
    add_reports(payroll, months[1].start, 2)  # a period hidden...
    spread(payroll, months[2], 6)
    body = get(client, "summary", hr, **{"from": months[0].start.isoformat()})
    assert [p["period"]["label"] for p in body["periods"]] == [m.label for m in months]
    assert body["total"]["reports"] == 46
    categories = {c["category"]: c for c in body["categories"]}
    assert categories["pay"]["suppressed"]
    assert categories["bullying"]["suppressed"]  # complement: else 46 - 44 = 2 pay reports

    body = get(client, "summary", hr, unit=payroll, **{"from": months[0].start.isoformat()})
    assert [p["reports"] for p in body["periods"]] == [6, None, 6]
    assert body["total"]["suppressed"]  # ...so the range total is not given either


def test_hotspots_are_judged_against_headcount_and_name_the_deepest_unit(client, org, hr):
    """Warehouse North (140 people) and Payroll (9) both get 12 reports in a month: far above
    expectation for Payroll, about what the organisation's rate gives North once its history
    is a year of 12 a month. The deepest surprising unit is named, with its expectation."""
    months = released_months(13)
    for month in months:
        spread(org.unit("Warehouse North"), month, 12)
    spread(org.unit("Payroll"), months[-1], 12)
    body = get(client, "hotspots", hr, **{"from": months[-1].start.isoformat()})
    assert body["false_discovery_rate"] == 0.05
    names = {(h["name"], h["period"]["label"]) for h in body["hotspots"]}
    assert names == {("Payroll", months[-1].label)}  # not Finance above it, not North
    spot = body["hotspots"][0]
    assert spot["reports"] == 12 and spot["headcount"] == 9
    assert 0 < spot["expected"] < 1
    # 12 reports in one month of about 30 days by 9 people: annualised, per 100 people.
    days = months[-1].end.toordinal() - months[-1].start.toordinal() + 1
    assert spot["rate_per_100"] == round(12 / 9 / days * 365.25 * 100, 1)
    assert spot["p_value"] <= spot["q_value"] <= 0.05
    assert set(spot) == {
        "unit",
        "name",
        "depth",
        "period",
        "reports",
        "headcount",
        "expected",
        "rate_per_100",
        "p_value",
        "q_value",
        "mean_risk",
        "high_or_critical_share",
    }


def test_a_hotspot_needs_its_reports_released(client, org, hr):
    """Four reports in Payroll are improbable for nine people, but a cell under k is never
    tested, so it is never listed."""
    (month,) = released_months(1)
    add_reports(org.unit("Payroll"), month.start, 4)
    spread(org.unit("Warehouse North"), month, 12)
    listed = {h["name"] for h in get(client, "hotspots", hr)["hotspots"]}
    assert listed  # 16 reports with no history: surprising at some level
    assert "Payroll" not in listed and "Finance" not in listed
