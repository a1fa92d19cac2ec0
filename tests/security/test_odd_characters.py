"""Odd characters and numbers never give a 5xx or a half-written record: unpaired surrogates
and NULs anywhere in a request, ids too large for the database, and text that shows nothing.
Each answer is a 4xx naming the field. Runs on SQLite and, in CI, on PostgreSQL (which is the
one that fails on NULs and large ids without these checks)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from service.db import ApiToken, AuditEvent, Case, Message, Note, Report, User
from service.extensions import db
from service.input_guard import has_visible_text, unstorable
from tests.cases.support import ACCOUNT, assign, bearer, csrf_token, signed_in, submit
from tests.factories import report_payload

SURROGATE = "\ud800"
INVISIBLE = ["\u200b\u200b\u200b", "\u200d\ufeff\u2060", "\x01\x02\x03", "\u3164", "\u00ad\u200e"]


def counts() -> tuple[int, ...]:
    db.session.rollback()
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Report, Case, Message, Note, User)
    )


def form_body(client, path: str, page: str, fields: dict[str, str]) -> dict:  # type: ignore[no-untyped-def]
    """A form post whose values may hold surrogates (encoded as a browser never could)."""
    pairs = {"csrf_token": csrf_token(client, page), **fields}
    return {
        "data": urlencode(pairs, encoding="utf-8", errors="surrogatepass"),
        "content_type": "application/x-www-form-urlencoded",
    }


# --- the rules themselves, both sides ---------------------------------------------------------


@pytest.mark.parametrize("text", ["a\x00b", "x" + SURROGATE, "\udfff", "\ud83d"])
def test_unstorable_characters_are_found(text):
    assert unstorable(text)


@pytest.mark.parametrize("text", ["plain", "tab\tand\nnewline", "emoji \U0001f600", "ümlaut"])
def test_ordinary_text_is_storable(text):
    assert not unstorable(text)


@pytest.mark.parametrize("text", INVISIBLE + [" \t\n", ""])
def test_text_that_shows_nothing(text):
    assert not has_visible_text(text)


@pytest.mark.parametrize("text", ["a", "\u200b.\u200b", "\u0301e", "\u4e2d", "\U0001f600"])
def test_text_that_shows_something(text):
    assert has_visible_text(text)


# --- the reporter's side ----------------------------------------------------------------------


@pytest.mark.parametrize("field", ["text", "contact", "language", "category"])
def test_api_report_with_a_surrogate_is_422_on_its_field(client, org, field):
    before = counts()
    payload = report_payload(org, **{field: ACCOUNT + SURROGATE})
    response = client.post("/api/v1/reports", json=payload)
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert field in response.get_json()["error"]["fields"]
    assert counts() == before


def test_api_report_with_a_surrogate_in_a_key_is_422(client, org):
    payload = {**report_payload(org), "te" + SURROGATE: "x"}
    response = client.post("/api/v1/reports", json=payload)
    assert response.status_code == 422
    assert "te?" in response.get_json()["error"]["fields"]


@pytest.mark.parametrize("text", INVISIBLE)
def test_report_text_of_only_invisible_characters_is_refused(client, org, text):
    before = counts()
    response = client.post("/api/v1/reports", json=report_payload(org, text=text * 10))
    assert response.status_code == 422
    assert "visible text" in " ".join(response.get_json()["error"]["fields"]["text"])
    contact = client.post("/api/v1/reports", json=report_payload(org, contact=text))
    assert contact.status_code == 422 and "contact" in contact.get_json()["error"]["fields"]
    assert counts() == before


def test_report_with_invisible_characters_around_words_is_accepted(client, org):
    response = client.post(
        "/api/v1/reports", json=report_payload(org, text="\u200b" + ACCOUNT + "\u200d")
    )
    assert response.status_code == 201


@pytest.mark.parametrize("path", ["/preview", "/submit"])
def test_report_form_with_a_nul_is_422(client, org, path):
    before = counts()
    fields = {
        "org_unit": str(org.unit("Call Centre")),
        "category": "workload",
        "text": ACCOUNT + "\x00",
    }
    response = client.post(path, **form_body(client, path, "/", fields))
    assert response.status_code == 422
    assert "text" in response.get_data(as_text=True)
    assert counts() == before


@pytest.mark.parametrize("body", ["Thanks" + SURROGATE, "Thanks\x00", "\u200b\u200b"])
def test_reporter_message_over_the_api(client, org, body):
    _, receipt = submit(org)
    before = counts()
    response = client.post(
        "/api/v1/reports/messages", json={"body": body}, headers={"X-Receipt": receipt}
    )
    assert response.status_code == 422
    assert "body" in response.get_json()["error"]["fields"]
    assert counts() == before


def test_reporter_reply_form_with_a_nul(client, org):
    _, receipt = submit(org)
    before = counts()
    fields = {"receipt": receipt, "body": "Friday\x00works"}
    response = client.post("/follow-up/reply", **form_body(client, "/", "/follow-up", fields))
    assert response.status_code == 422
    assert counts() == before


# --- staff --------------------------------------------------------------------------------------


@pytest.fixture
def leader_case(app, org):  # type: ignore[no-untyped-def]
    case, _ = submit(org)
    assign(case, org.staff["leader"])
    return case.id


@pytest.mark.parametrize("kind", ["notes", "messages"])
@pytest.mark.parametrize("body", ["Called" + SURROGATE, "Called\x00back", "\u200b\ufeff"])
def test_staff_notes_and_messages_over_the_api(app, org, leader_case, kind, body):
    headers = bearer(org.staff["leader"])
    before = counts()
    response = app.test_client().post(
        f"/api/v1/cases/{leader_case}/{kind}", json={"body": body}, headers=headers
    )
    assert response.status_code == 422
    assert "body" in response.get_json()["error"]["fields"]
    assert counts() == before


@pytest.mark.parametrize("kind", ["notes", "messages"])
def test_staff_note_and_message_forms(app, org, leader_case, kind):
    client = signed_in(app, "leader@demo.defuse")
    page = f"/cases/{leader_case}"
    before = counts()
    for body in ("a\x00b", "\u200b\u200b"):
        response = client.post(f"{page}/{kind}", **form_body(client, page, page, {"body": body}))
        assert response.status_code == 422
    assert counts() == before


@pytest.mark.parametrize("step", ["step" + SURROGATE, "step\x00", "\u200b"])
def test_guide_step_over_the_api(app, org, leader_case, step):
    response = app.test_client().post(
        f"/api/v1/cases/{leader_case}/guide",
        json={"step": step, "ticked": True},
        headers=bearer(org.staff["leader"]),
    )
    assert response.status_code == 422
    assert "step" in response.get_json()["error"]["fields"]


def test_guide_step_form_with_a_nul(app, org, leader_case):
    client = signed_in(app, "leader@demo.defuse")
    page = f"/cases/{leader_case}"
    fields = {"shown": "open\x00", "ticked": "open\x00"}
    response = client.post(f"{page}/guide", **form_body(client, page, page, fields))
    assert response.status_code == 422
    assert "shown" in response.get_data(as_text=True)


def test_assignee_out_of_range_over_the_api(app, org, leader_case):
    response = app.test_client().put(
        f"/api/v1/cases/{leader_case}/assignee",
        json={"assignee": 99999999999},
        headers=bearer(org.staff["lead"]),
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]["assignee"] == ["Must be a valid id."]


def test_sign_in_email_with_a_nul(client, org):
    fields = {"email": "leader@demo.defuse\x00", "password": "whatever"}
    response = client.post("/login", **form_body(client, "/login", "/login", fields))
    assert response.status_code == 422
    assert "email" in response.get_data(as_text=True)


# --- admin --------------------------------------------------------------------------------------


@pytest.fixture
def admin(app, org):  # type: ignore[no-untyped-def]
    return signed_in(app, "admin@demo.defuse")


def profile(org, **changes: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    user = org.staff["leader4"]
    return {
        "name": user.name,
        "role": user.role,
        "org_unit_id": str(user.org_unit_id),
        "languages": "en",
        "capacity": "8",
        "active": "1",
        **changes,
    }


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("org_unit_id", "99999999999", "Choose an org unit from the list."),
        ("org_unit_id", "2147483648", "Choose an org unit from the list."),
        ("name", "Kim\x00", "cannot be stored"),
        ("name", "\u200b\u200b", "visible text"),
        ("capacity", "99999999999", "Must be 0 to"),
    ],
)
def test_user_edit_refuses_with_a_field_message(admin, org, field, value, message):
    user_id = org.staff["leader4"].id
    page = f"/admin/users/{user_id}"
    before = db.session.get(User, user_id).name
    response = admin.post(page, **form_body(admin, page, page, profile(org, **{field: value})))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user_id).name == before


def test_user_edit_accepts_the_largest_id_boundary_as_an_ordinary_unknown(admin, org):
    """2**31 - 1 fits the column: it is looked up (and found to be no unit), not refused."""
    page = f"/admin/users/{org.staff['leader4'].id}"
    response = admin.post(
        page, **form_body(admin, page, page, profile(org, org_unit_id="2147483647"))
    )
    assert response.status_code == 422
    assert "no org unit with id 2147483647" in response.get_data(as_text=True)


def test_new_user_name_with_a_nul(admin, org):
    fields = {
        "email": "kim@demo.defuse",
        "name": "Kim\x00",
        "password": "Quiet-Harbour-Lantern-42",
        "role": "hr_analyst",
        "languages": "en",
    }
    before = counts()
    response = admin.post(
        "/admin/users/new", **form_body(admin, "/admin/users/new", "/admin/users/new", fields)
    )
    assert response.status_code == 422
    assert counts() == before


@pytest.mark.parametrize("label", ["ci\x00", "\u200b\u200b"])
def test_token_label(admin, org, label):
    user_id = org.staff["leader4"].id
    page = f"/admin/users/{user_id}"
    response = admin.post(f"{page}/tokens", **form_body(admin, page, page, {"label": label}))
    assert response.status_code == 422
    assert "label" in response.get_data(as_text=True)
    db.session.rollback()
    assert not db.session.scalar(select(func.count()).select_from(ApiToken))


@pytest.mark.parametrize("args", ["action=case.viewed%00", "case_id=1%00", "action=%ED%A0%80"])
def test_audit_filter(admin, org, args):
    response = admin.get(f"/admin/audit?{args}")
    assert response.status_code in (200, 422)
    if "%00" in args:
        assert response.status_code == 422


def test_unit_parent_out_of_range(admin, org):
    unit_id = org.unit("Warehouse South")
    page = f"/admin/org/{unit_id}"
    fields = {"name": "Warehouse South", "parent_id": "99999999999"}
    response = admin.post(page, **form_body(admin, page, page, fields))
    assert response.status_code == 422
    assert "Choose a unit from the list." in response.get_data(as_text=True)


def test_the_guard_writes_no_audit_event(admin, org):
    db.session.rollback()
    before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    user_id = org.staff["leader4"].id
    page = f"/admin/users/{user_id}"
    admin.post(f"{page}/tokens", **form_body(admin, page, page, {"label": "x\x00"}))
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == before
