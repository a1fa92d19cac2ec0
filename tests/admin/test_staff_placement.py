"""Trust Leaders and leads need the org unit they work in, on the CLI and the admin pages, and
the admin pages name every case worker routing can give no case, and why."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from service.db import User
from service.extensions import db
from tests.cases.support import post_form, signed_in
from tests.factories import import_demo_org

NEW_LEADER = {
    "email": "robin@demo.defuse",
    "password": "a long enough password",
    "name": "Robin",
    "role": "trust_leader",
    "languages": ["en"],
    "categories": ["bullying"],
    "capacity": "5",
}


@pytest.fixture
def admin(app, org):  # type: ignore[no-untyped-def]
    return signed_in(app, "admin@demo.defuse")


def page(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def account(email: str) -> User | None:
    db.session.expire_all()
    return db.session.execute(select(User).where(User.email == email)).scalar_one_or_none()


def profile(user: User, **changes: object) -> dict[str, object]:
    form: dict[str, object] = {
        "name": user.name,
        "role": user.role,
        "org_unit_id": str(user.org_unit_id or ""),
        "languages": list(user.languages),
        "categories": list(user.categories),
        "capacity": str(user.capacity),
        "active": "1" if user.active else "",
    }
    form.update(changes)
    return form


@pytest.mark.parametrize("role", ["trust_leader", "lead"])
def test_a_case_worker_cannot_be_created_without_an_org_unit(admin, org, role):
    response = post_form(admin, "/admin/users/new", {**NEW_LEADER, "role": role})
    assert response.status_code == 422
    html = page(response)
    assert 'id="org_unit_id-error"' in html and "needs the org unit they work in" in html
    assert account("robin@demo.defuse") is None


def test_other_roles_need_no_org_unit(admin, org):
    response = post_form(admin, "/admin/users/new", {**NEW_LEADER, "role": "hr_analyst"})
    assert response.status_code == 302
    assert account("robin@demo.defuse").org_unit_id is None


def test_a_retired_unit_is_not_offered_nor_accepted_for_a_new_account(admin, org):
    import_demo_org(without=("Transport",))
    form_page = page(admin.get("/admin/users/new"))
    assert "Transport" not in form_page and "Payroll" in form_page
    response = post_form(
        admin, "/admin/users/new", {**NEW_LEADER, "org_unit_id": str(org.unit("Transport"))}
    )
    assert response.status_code == 422
    assert "Transport is retired: choose the unit they work in now." in page(response)
    assert account("robin@demo.defuse") is None


def test_editing_a_trust_leader_without_an_org_unit_requires_one(admin, org):
    leader = account("leader@demo.defuse")
    leader.org_unit_id = None  # as accounts made before units were required may be
    db.session.commit()
    refused = post_form(admin, f"/admin/users/{leader.id}", profile(leader, name="Sam R."))
    assert refused.status_code == 422 and 'id="org_unit_id-error"' in page(refused)
    assert account("leader@demo.defuse").name != "Sam R."

    saved = post_form(
        admin,
        f"/admin/users/{leader.id}",
        profile(leader, name="Sam R.", org_unit_id=str(org.unit("Payroll"))),
    )
    assert saved.status_code == 302
    assert account("leader@demo.defuse").org_unit_id == org.unit("Payroll")


def test_a_leader_whose_unit_was_retired_is_warned_about_and_can_still_be_edited(admin, org):
    import_demo_org(without=("Payroll",))
    leader = account("leader@demo.defuse")
    html = page(admin.get(f"/admin/users/{leader.id}"))
    assert "Routing cannot give this account any case: retired org unit." in html
    assert "Payroll (retired)</option>" in html  # shown where they are, not silently changed
    kept = post_form(admin, f"/admin/users/{leader.id}", profile(leader, capacity="4"))
    assert kept.status_code == 302
    assert account("leader@demo.defuse").capacity == 4
    moved = post_form(
        admin, f"/admin/users/{leader.id}", profile(leader, org_unit_id=str(org.unit("Finance")))
    )
    assert moved.status_code == 302
    assert "cannot give this account" not in page(admin.get(f"/admin/users/{leader.id}"))


def test_the_accounts_page_names_everyone_routing_cannot_reach_and_why(admin, org):
    def change(email: str, **values: object) -> None:
        user = account(email)
        for name, value in values.items():
            setattr(user, name, value)
        db.session.commit()

    change("leader@demo.defuse", capacity=0, languages=[])
    change("leader2@demo.defuse", categories=[])
    change("leader3@demo.defuse", active=False)
    change("lead@demo.defuse", org_unit_id=None)
    import_demo_org(without=("Complaints Team",))  # leader4's unit

    html = page(admin.get("/admin/users"))
    warning = html.split('id="unroutable"')[1].split("</section>")[0]
    assert "5 Trust Leaders or leads cannot be given any case" in warning
    for email, reasons in (
        ("leader@demo.defuse", "no languages, capacity 0"),
        ("leader2@demo.defuse", "no categories"),
        ("leader3@demo.defuse", "inactive"),
        ("leader4@demo.defuse", "retired org unit"),
        ("lead@demo.defuse", "no org unit"),
    ):
        assert f"{email}</a>: {reasons}</li>" in warning, email
    assert "hr@demo.defuse" not in warning and "admin@demo.defuse" not in warning


def test_no_warning_when_everyone_can_be_routed(admin, org):
    assert 'id="unroutable"' not in page(admin.get("/admin/users"))


# --- defuse users create ---------------------------------------------------------------------


def create(app, *args: str):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(
        args=["users", "create", *args, "--password", "a long enough password"]
    )


def test_the_cli_places_a_trust_leader_by_the_unit_id_of_the_hr_file(app, org):
    result = create(app, "robin@demo.defuse", "--role", "trust_leader", "--org-unit", "HG-FIN-PAY")
    assert result.exit_code == 0, result.output
    assert account("robin@demo.defuse").org_unit_id == org.unit("Payroll")


def test_the_cli_refuses_a_trust_leader_without_a_unit_or_with_an_unknown_one(app, org):
    missing = create(app, "robin@demo.defuse", "--role", "trust_leader")
    assert missing.exit_code == 1 and "needs the org unit they work in" in missing.output
    unknown = create(app, "robin@demo.defuse", "--role", "lead", "--org-unit", "NOPE")
    assert unknown.exit_code == 1 and "no org unit has unit_id 'NOPE'" in unknown.output
    assert account("robin@demo.defuse") is None
    analyst = create(app, "robin@demo.defuse", "--role", "hr_analyst")
    assert analyst.exit_code == 0, analyst.output
