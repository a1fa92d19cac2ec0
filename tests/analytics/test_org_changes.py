"""The analytics across changes to the organisation: a unit renamed, moved or retired by an
import keeps its history, counted once, in the tree as it is now; cached months follow."""

from __future__ import annotations

import io

from service.demo import DEMO_ORG_CSV
from service.org import import_org
from tests.analytics.helpers import released_months, spread
from tests.cases.support import signed_in
from tests.factories import import_demo_org


def get(client, path: str, headers, **params):  # type: ignore[no-untyped-def]
    response = client.get(f"/api/v1/analytics/{path}", headers=headers, query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def reports_of(body, unit: int, month, remainder: bool = False) -> int | None:  # type: ignore[no-untyped-def]
    (cell,) = [
        c
        for c in body["cells"]
        if c["unit"] == unit
        and c["remainder"] is remainder
        and c["period"] == month.label
        and c["category"] == "all"
    ]
    return cell["reports"]


def whole_organisation(client, hr, month) -> int:  # type: ignore[no-untyped-def]
    body = get(client, "summary", hr, **{"from": month.start.isoformat()})
    return body["periods"][-1]["reports"]


def demo_file_moving(unit_id: str, new_parent: str) -> str:
    lines = []
    for line in DEMO_ORG_CSV.splitlines():
        cells = line.split(",")
        if cells[0] == unit_id:
            cells[2] = new_parent
        lines.append(",".join(cells))
    return "\n".join(lines) + "\n"


def test_a_renamed_unit_keeps_its_history_under_its_new_name(client, org, hr):
    (month,) = released_months(1)
    north = org.unit("Warehouse North")
    spread(north, month, 12)
    spread(org.unit("Warehouse South"), month, 9)
    before = get(client, "risk", hr, depth=2, unit=org.unit("Operations"), category="all")
    assert reports_of(before, north, month) == 12

    import_demo_org(HG_OPS_WN="Northern Distribution Centre")

    after = get(client, "risk", hr, depth=2, unit=org.unit("Operations"), category="all")
    assert reports_of(after, north, month) == 12  # the same unit, from the cached month
    (row,) = [u for u in after["units"] if u["unit"] == north and not u["remainder"]]
    assert row["name"] == "Northern Distribution Centre"
    assert row["external_id"] == "HG-OPS-WN" and row["retired"] is False


def test_a_moved_unit_takes_its_history_along_counted_once(client, org, hr, app):
    (month,) = released_months(1)
    # Enough in every unit and week that nothing is withheld, so every figure is comparable.
    for name, count in (
        ("Transport", 20),
        ("Warehouse North", 24),
        ("Warehouse South", 20),
        ("Call Centre", 22),
        ("Complaints Team", 20),
    ):
        spread(org.unit(name), month, count)
    total = whole_organisation(client, hr, month)
    assert total == 106
    before = get(client, "risk", hr, depth=1, category="all")
    assert reports_of(before, org.unit("Operations"), month) == 64
    assert reports_of(before, org.unit("Customer Service"), month) == 42

    # Transport moves from Operations to Customer Service.
    changes = import_org(io.StringIO(demo_file_moving("HG-OPS-TR", "HG-CS")))
    assert [c.unit_id for c in changes.of_kind("moved")] == ["HG-OPS-TR"]

    after = get(client, "risk", hr, depth=1, category="all")
    assert reports_of(after, org.unit("Operations"), month) == 44
    assert reports_of(after, org.unit("Customer Service"), month) == 62
    assert whole_organisation(client, hr, month) == total  # nothing lost, nothing doubled
    inside = get(client, "risk", hr, depth=2, unit=org.unit("Customer Service"), category="all")
    assert reports_of(inside, org.unit("Transport"), month) == 20


def test_a_retired_unit_keeps_its_history_in_the_analytics(client, org, hr):
    (month,) = released_months(1)
    transport = org.unit("Transport")
    for name, count in (("Transport", 20), ("Warehouse North", 24), ("Warehouse South", 20)):
        spread(org.unit(name), month, count)

    import_demo_org(without=("Transport",))

    body = get(client, "risk", hr, depth=2, unit=org.unit("Operations"), category="all")
    assert reports_of(body, transport, month) == 20
    (row,) = [u for u in body["units"] if u["unit"] == transport]
    assert row["retired"] is True and row["parent"] == org.unit("Operations")
    operations = get(
        client, "summary", hr, unit=org.unit("Operations"), **{"from": month.start.isoformat()}
    )
    assert operations["periods"][-1]["reports"] == 64  # still counted in the unit above
    alone = get(client, "summary", hr, unit=transport, **{"from": month.start.isoformat()})
    assert alone["periods"][-1]["reports"] == 20


def test_the_dashboard_and_its_export_name_retired_units_and_their_external_ids(client, org):
    (month,) = released_months(1)
    spread(org.unit("Transport"), month, 10)
    spread(org.unit("Warehouse North"), month, 12)
    import_demo_org(without=("Transport",))
    analyst = signed_in(client.application, "hr@demo.defuse")

    page = analyst.get("/analytics?depth=2").get_data(as_text=True)
    assert "Transport (retired)" in page

    export = analyst.get("/analytics/export.csv?depth=2&category=all").get_data(as_text=True)
    header, *rows = export.splitlines()
    assert header.split(",")[:3] == ["unit_id", "external_id", "unit"]
    assert any(row.startswith(f"{org.unit('Transport')},HG-OPS-TR,Transport,") for row in rows)
