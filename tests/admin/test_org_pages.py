"""Admin > Organisation: the unit tree, and editing a unit (name, parent, headcount, HR flag,
retirement) through CSRF-protected forms that keep the tree whole and are audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from service.db import AuditEvent, OrgUnit
from service.extensions import db
from tests.cases.support import post_form, signed_in


@pytest.fixture
def admin(app, org):  # type: ignore[no-untyped-def]
    return signed_in(app, "admin@demo.defuse")


def page(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def unit(unit_id: int) -> OrgUnit:
    db.session.expire_all()
    found = db.session.get(OrgUnit, unit_id)
    assert found is not None
    return found


def form(unit_id: int, **changes: object) -> dict[str, object]:
    current = unit(unit_id)
    values: dict[str, object] = {
        "name": current.name,
        "parent_id": str(current.parent_id or ""),
        "headcount": "" if current.headcount is None else str(current.headcount),
    }
    if current.is_hr:
        values["is_hr"] = "1"
    if current.retired:
        values["retired"] = "1"
    values.update(changes)
    return {k: v for k, v in values.items() if v is not None}


def save(admin, unit_id: int, **changes: object):  # type: ignore[no-untyped-def]
    return post_form(admin, f"/admin/org/{unit_id}", form(unit_id, **changes))


def last_event(action: str) -> AuditEvent:
    return (
        db.session.execute(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
        .scalars()
        .all()[-1]
    )


def test_the_tree_lists_every_unit_parents_first_with_its_hr_id(admin, org):
    html = page(admin.get("/admin/org"))
    assert 'href="/admin/org"' in html and "15 active units." in html
    table = html.split('id="org-units"')[1]
    order = [table.index(name) for name in ("Harbourside Group", "Customer Service", "Call Centre")]
    assert order == sorted(order)  # siblings by name, children right after their parent
    assert "<code>HG-CS-CC</code>" in table and "<td>90</td>" in table


def test_rename_headcount_and_hr_flag_are_saved_and_audited(admin, org):
    payroll = org.unit("Payroll")
    path = unit(payroll).path
    response = save(admin, payroll, name="Payroll and Pensions", headcount="11", is_hr="1")
    assert response.status_code == 302
    saved = unit(payroll)
    assert (saved.name, saved.headcount, saved.is_hr, saved.path) == (
        "Payroll and Pensions",
        11,
        True,
        path,
    )
    event = last_event("org_unit.updated")
    assert event.actor_id == org.staff["admin"].id
    assert event.detail == {
        "org_unit": payroll,
        "external_id": "HG-FIN-PAY",
        "fields": ["headcount", "is_hr", "name"],
    }
    assert "Payroll and Pensions saved." in page(admin.get(f"/admin/org/{payroll}"))


def test_a_move_recomputes_the_paths_of_the_unit_and_everything_below_it(admin, org):
    customer_service, operations = org.unit("Customer Service"), org.unit("Operations")
    response = save(admin, customer_service, parent_id=str(operations))
    assert response.status_code == 302
    root = org.unit("Harbourside Group")
    moved, call_centre = unit(customer_service), unit(org.unit("Call Centre"))
    assert moved.path == f"/{root}/{operations}/{customer_service}/" and moved.depth == 2
    assert call_centre.path == f"{moved.path}{call_centre.id}/" and call_centre.depth == 3
    assert last_event("org_unit.updated").detail["fields"] == ["parent_id"]


def test_a_move_under_its_own_sub_unit_is_refused_on_the_field(admin, org):
    operations = org.unit("Operations")
    before = unit(operations).parent_id
    for parent, message in (
        (org.unit("Warehouse North"), "Warehouse North is inside this unit"),
        (operations, "A unit cannot be its own parent."),
        (999_999, "Choose a unit from the list."),
    ):
        response = save(admin, operations, parent_id=str(parent))
        assert response.status_code == 422
        html = page(response)
        assert 'id="parent_id-error"' in html and message in html
        assert unit(operations).parent_id == before
    # The form does not offer the unit's own subtree in the first place.
    options = page(admin.get(f"/admin/org/{operations}")).split('id="parent_id"')[1]
    options = options.split("</select>")[0]
    assert "Warehouse North" not in options and "Finance" in options


def test_retiring_a_unit_with_active_sub_units_is_refused(admin, org):
    response = save(admin, org.unit("Finance"), retired="1")
    assert response.status_code == 422
    html = page(response)
    assert 'id="retired-error"' in html
    assert "1 active unit sits below this one: move or retire it first." in html
    assert not unit(org.unit("Finance")).retired


def test_retiring_a_leaf_stops_reports_and_names_its_stranded_staff(admin, client, org):
    payroll = org.unit("Payroll")  # leader@ works there
    response = save(admin, payroll, retired="1")
    assert response.status_code == 302
    assert unit(payroll).retired
    flashed = page(admin.get(f"/admin/org/{payroll}"))
    assert "1 Trust Leader or lead works in it" in flashed and "leader@demo.defuse" in flashed
    assert "Payroll" not in page(client.get("/"))
    assert "retired" in last_event("org_unit.updated").detail["fields"]
    # ... and back.
    assert save(admin, payroll, retired=None).status_code == 302
    assert not unit(payroll).retired
    assert "Payroll" in page(client.get("/"))


def test_a_unit_cannot_be_reactivated_under_a_retired_parent(admin, org):
    finance, payroll = org.unit("Finance"), org.unit("Payroll")
    assert save(admin, payroll, retired="1").status_code == 302
    assert save(admin, finance, retired="1").status_code == 302
    response = save(admin, payroll, retired=None)
    assert response.status_code == 422
    assert "Finance is retired: choose an active unit." in page(response)
    assert unit(payroll).retired


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"headcount": "-1"}, "headcount"),
        ({"headcount": "lots"}, "headcount"),
        ({"name": "   "}, "name"),
        ({"name": "n" * 201}, "name"),
        ({"parent_id": "abc"}, "parent_id"),
    ],
)
def test_invalid_fields_are_refused_beside_the_field(admin, org, changes, field):
    payroll = org.unit("Payroll")
    response = save(admin, payroll, **changes)
    assert response.status_code == 422
    assert f'id="{field}-error"' in page(response)
    assert unit(payroll).name == "Payroll"


def test_the_form_needs_its_csrf_token(admin, org):
    payroll = org.unit("Payroll")
    response = admin.post(f"/admin/org/{payroll}", data=form(payroll, name="Forged"))
    assert response.status_code == 400
    assert unit(payroll).name == "Payroll"


def test_unknown_units_are_404(admin, org):
    for unit_id in (999_999, 2**40):
        assert admin.get(f"/admin/org/{unit_id}").status_code == 404


def test_org_refusals_are_in_the_readers_language(admin, org):
    from service.i18n import LANGUAGE_COOKIE

    finance, payroll = org.unit("Finance"), org.unit("Payroll")
    admin.set_cookie(LANGUAGE_COOKIE, "fr")
    response = save(admin, finance, parent_id=str(payroll))
    assert response.status_code == 422
    assert "Payroll se trouve dans cette unité" in page(response)
    assert "would make a cycle" not in page(response)
