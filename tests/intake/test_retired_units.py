"""A retired unit is no longer offered to reporters, and a report about one is refused on
its field, by the form and the API alike, without writing anything."""

from __future__ import annotations

from sqlalchemy import func, select

from service.db import Case, Report
from service.extensions import db
from tests.factories import import_demo_org, report_payload
from tests.intake.test_form import form_data


def stored() -> tuple[int, int]:
    return tuple(  # type: ignore[return-value]
        db.session.scalar(select(func.count()).select_from(model)) for model in (Report, Case)
    )


def test_a_retired_unit_is_not_offered(client, org):
    import_demo_org(without=("Transport",))
    page = client.get("/").get_data(as_text=True)
    assert "Transport" not in page and "Warehouse North" in page
    listed = {u["name"] for u in client.get("/api/v1/org-units").get_json()["org_units"]}
    assert "Transport" not in listed and "Warehouse North" in listed


def test_the_api_refuses_a_report_about_a_retired_unit_on_its_field(client, org):
    import_demo_org(without=("Transport",))
    response = client.post(
        "/api/v1/reports", json=report_payload(org, org_unit=org.unit("Transport"))
    )
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["fields"]["org_unit"] == [
        "Where it is happening: this org unit has been retired; choose another from the list."
    ]
    assert stored() == (0, 0)


def test_the_form_refuses_a_retired_unit_left_open_in_a_browser(client, org):
    data = form_data(client, org, org_unit=str(org.unit("Transport")))  # chosen while active
    import_demo_org(without=("Transport",))
    for step in ("/preview", "/submit"):
        response = client.post(step, data=data)
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        assert 'id="org_unit-error"' in page and "has been retired" in page
    assert stored() == (0, 0)


def test_an_unknown_unit_is_still_its_own_message(client, org):
    response = client.post("/api/v1/reports", json=report_payload(org, org_unit=999_999))
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]["org_unit"] == [
        "Where it is happening: unknown org unit."
    ]
