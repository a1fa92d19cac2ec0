"""/api/v1/cases: every cross-role and cross-case access refused, the contract kept, and bad
input answered with a 4xx in the JSON error shape, never a 500."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from service.cases.service import guide_for
from service.db import ApiToken, AuditEvent, Case, utcnow
from service.extensions import db
from service.intake.service import add_reporter_message
from tests.cases.support import assign, bearer, case_for, submit

API = "/api/v1/cases"


@pytest.fixture
def cases(org):  # type: ignore[no-untyped-def]
    """Two cases of leader, one of leader2, one unassigned."""
    mine = case_for(org, org.staff["leader"])
    mine_too = case_for(org, org.staff["leader"])
    theirs = case_for(org, org.staff["leader2"])
    nobodys = case_for(org, None)
    return {"mine": mine, "mine_too": mine_too, "theirs": theirs, "nobodys": nobodys}


def ids(response) -> list[int]:  # type: ignore[no-untyped-def]
    return [item["id"] for item in response.get_json()["cases"]]


def test_trust_leader_lists_only_their_own_cases(client, org, cases):
    response = client.get(API, headers=bearer(org.staff["leader"]))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert sorted(ids(response)) == sorted([cases["mine"].id, cases["mine_too"].id])
    assert body["total"] == 2 and body["page"] == 1
    # Asking for someone else's cases gives nothing, not theirs.
    other = client.get(
        f"{API}?assignee={org.staff['leader2'].id}", headers=bearer(org.staff["leader"])
    )
    assert other.get_json()["cases"] == []


def test_lead_lists_every_case_paged_and_filtered(client, org, cases):
    headers = bearer(org.staff["lead"])
    everything = client.get(API, headers=headers).get_json()
    assert everything["total"] == 4
    assert {c["id"] for c in everything["cases"]} == {c.id for c in cases.values()}

    first = client.get(f"{API}?per_page=3&page=1", headers=headers).get_json()
    second = client.get(f"{API}?per_page=3&page=2", headers=headers).get_json()
    assert len(first["cases"]) == 3 and len(second["cases"]) == 1
    assert first["total"] == second["total"] == 4 and first["pages"] == 2
    assert not {c["id"] for c in first["cases"]} & {c["id"] for c in second["cases"]}

    by_assignee = client.get(f"{API}?assignee={org.staff['leader2'].id}", headers=headers)
    assert ids(by_assignee) == [cases["theirs"].id]
    unassigned = client.get(f"{API}?assignee=none", headers=headers)
    assert ids(unassigned) == [cases["nobodys"].id]

    cases["mine"].status = "acknowledged"
    db.session.commit()
    acknowledged = client.get(f"{API}?status=acknowledged", headers=headers)
    assert ids(acknowledged) == [cases["mine"].id]
    assert len(ids(client.get(f"{API}?status=open", headers=headers))) == 4


def test_list_items_are_summaries(client, org, cases):
    item = client.get(API, headers=bearer(org.staff["lead"])).get_json()["cases"][0]
    assert {"id", "report_id", "status", "assignee", "risk"} <= set(item)
    assert set(item["risk"]) == {"score", "level"}
    assert "report" not in item and "contact" not in item


def test_read_a_case(client, org):
    case, _ = submit(org, contact="my personal number is on the form")
    assign(case, org.staff["leader"])
    response = client.get(f"{API}/{case.id}", headers=bearer(org.staff["leader"]))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["id"] == case.id and body["report_id"] == case.report_id
    assert body["status"] == "new" and body["assignee"] == org.staff["leader"].id
    assert set(body["risk"]) >= {"score", "level", "explanation"}
    assert body["risk"]["level"] == case.report.risk_level
    assert isinstance(body["risk"]["explanation"], dict)
    assert body["report"]["text"] == case.report.text
    assert body["contact"] == "my personal number is on the form"
    assert "receipt" not in json.dumps(body)
    event = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "case.viewed")
    ).scalar_one()
    assert (event.case_id, event.actor_id, event.detail["via"]) == (
        case.id,
        org.staff["leader"].id,
        "api",
    )


def test_lead_reads_without_the_contact(client, org):
    case, _ = submit(org, contact="my personal number is on the form")
    assign(case, org.staff["leader2"])
    body = client.get(f"{API}/{case.id}", headers=bearer(org.staff["lead"])).get_json()
    assert body["id"] == case.id and body["report"]["text"]
    assert "contact" not in body and "personal number" not in json.dumps(body)


WRITE_CALLS = (
    ("post", "/transition", {"status": "acknowledged"}),
    ("post", "/notes", {"body": "hello"}),
    ("post", "/messages", {"body": "hello"}),
    ("post", "/guide", {"step": "anything", "ticked": True}),
)
READ_CALLS = (
    ("get", "", None),
    ("get", "/notes", None),
    ("get", "/messages", None),
    ("get", "/guide", None),
)


def call(client, method, path, body, headers):  # type: ignore[no-untyped-def]
    return getattr(client, method)(path, json=body, headers=headers)


@pytest.mark.parametrize(("method", "suffix", "body"), READ_CALLS + WRITE_CALLS)
def test_another_trust_leaders_case_is_refused(client, org, cases, method, suffix, body):
    response = call(
        client, method, f"{API}/{cases['theirs'].id}{suffix}", body, bearer(org.staff["leader"])
    )
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    assert db.session.get(Case, cases["theirs"].id).status == "new"


@pytest.mark.parametrize("role", ["hr", "admin"])
@pytest.mark.parametrize(("method", "suffix", "body"), READ_CALLS + WRITE_CALLS)
def test_hr_and_admin_never_get_case_content(client, org, cases, role, method, suffix, body):
    headers = bearer(org.staff[role])
    assert client.get(API, headers=headers).status_code == 403
    response = call(client, method, f"{API}/{cases['mine'].id}{suffix}", body, headers)
    assert response.status_code == 403
    assert "text" not in response.get_data(as_text=True).lower().replace("content-type", "")


@pytest.mark.parametrize(("method", "suffix", "body"), WRITE_CALLS)
def test_lead_reads_but_does_not_work_someone_elses_case(client, org, cases, method, suffix, body):
    headers = bearer(org.staff["lead"])
    assert client.get(f"{API}/{cases['theirs'].id}", headers=headers).status_code == 200
    response = call(client, method, f"{API}/{cases['theirs'].id}{suffix}", body, headers)
    assert response.status_code == 403


@pytest.mark.parametrize(
    "header",
    [None, "Bearer dfs_not-a-real-token", "Basic dXNlcjpwYXNz", "Bearer ", "dfs_notbearer"],
)
def test_missing_or_bad_token_is_401(client, org, cases, header):
    headers = {"Authorization": header} if header else {}
    for path in (API, f"{API}/{cases['mine'].id}"):
        response = client.get(path, headers=headers)
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("who", [None, "hr", "admin"])
def test_refusal_comes_before_any_word_about_the_body(client, org, cases, who):
    """An invalid body or query from a caller who may not use the API at all is refused for
    who they are (401/403), not answered with the fields' rules."""
    headers = bearer(org.staff[who]) if who else {}
    expected = 403 if who else 401
    assert client.post(f"{API}/{cases['mine'].id}/notes", json={}, headers=headers).status_code == (
        expected
    )
    assert client.get(f"{API}?status=bogus", headers=headers).status_code == expected


def test_revoked_token_and_deactivated_account_are_401(client, org, cases):
    leader = org.staff["leader"]
    headers = bearer(leader)
    assert client.get(API, headers=headers).status_code == 200
    token = db.session.execute(select(ApiToken).where(ApiToken.user_id == leader.id)).scalar_one()
    token.revoked_at = utcnow()
    db.session.commit()
    assert client.get(API, headers=headers).status_code == 401

    headers = bearer(leader, "second")
    leader.active = False
    db.session.commit()
    assert client.get(API, headers=headers).status_code == 401


def test_session_cookie_does_not_open_the_api(app, org, cases):
    from tests.cases.support import signed_in

    browser = signed_in(app, "leader@demo.defuse")
    assert browser.get(f"{API}/{cases['mine'].id}").status_code == 401


def test_unknown_case_is_404(client, org, cases):
    response = client.get(f"{API}/987654", headers=bearer(org.staff["lead"]))
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_transition_workflow(client, org, cases):
    headers = bearer(org.staff["leader"])
    path = f"{API}/{cases['mine'].id}/transition"
    ok = client.post(path, json={"status": "acknowledged"}, headers=headers)
    assert ok.status_code == 200 and ok.get_json()["status"] == "acknowledged"

    invalid = client.post(path, json={"status": "new"}, headers=headers)
    assert invalid.status_code == 409
    assert "can move to" in invalid.get_json()["error"]["message"]

    no_outcome = client.post(
        path, json={"status": "closed", "resolution": "withdrawn"}, headers=headers
    )
    assert no_outcome.status_code == 422
    assert "outcome" in no_outcome.get_json()["error"]["fields"]

    closing = {"status": "closed", "resolution": "referred_formal", "outcome": "formal_grievance"}
    no_feedback = client.post(path, json=closing, headers=headers)
    assert no_feedback.status_code == 422
    assert "closing_message" in no_feedback.get_json()["error"]["fields"]

    closed = client.post(
        path,
        json={**closing, "closing_message": "HR will contact you about the formal process."},
        headers=headers,
    )
    assert closed.status_code == 200
    body = closed.get_json()
    assert (body["status"], body["outcome"], body["escalated"]) == (
        "closed",
        "formal_grievance",
        True,
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "status"),
        ({"status": "done"}, "status"),
        ({"status": 3}, "status"),
        ({"status": "closed", "outcome": "happy"}, "outcome"),
        ({"status": "acknowledged", "extra": 1}, "extra"),
    ],
)
def test_transition_validation_errors_name_the_field(client, org, cases, body, field):
    response = client.post(
        f"{API}/{cases['mine'].id}/transition", json=body, headers=bearer(org.staff["leader"])
    )
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid" and field in error["fields"]


@pytest.mark.parametrize(
    ("path", "kwargs"),
    [
        ("/transition", {"json": ["status"]}),
        ("/transition", {"json": "acknowledged"}),
        (
            "/transition",
            {"data": "status=acknowledged", "content_type": "application/x-www-form-urlencoded"},
        ),
        ("/transition", {"data": b"\xff\xfe", "content_type": "application/json"}),
        ("/transition", {"data": "{" * 100 + "}" * 100, "content_type": "application/json"}),
        ("/notes", {"json": {"body": 5}}),
        ("/notes", {"json": {"body": "x" * 6000}}),
        ("/messages", {"json": {"body": ""}}),
        ("/guide", {"json": {"step": "x", "ticked": "perhaps"}}),
        ("/guide", {"json": {"step": "no-such-step", "ticked": True}}),
    ],
)
def test_bad_bodies_are_4xx_never_500(client, org, cases, path, kwargs):
    response = client.post(
        f"{API}/{cases['mine'].id}{path}", headers=bearer(org.staff["leader"]), **kwargs
    )
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)
    assert set(response.get_json()["error"]) >= {"code", "message"}


@pytest.mark.parametrize(
    "query",
    [
        "status=finished",
        "per_page=1000",
        "page=0",
        "assignee=me",
        "level=huge",
        "category=noise",
        "page=abc",
    ],
)
def test_bad_list_queries_are_422(client, org, cases, query):
    response = client.get(f"{API}?{query}", headers=bearer(org.staff["lead"]))
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]


def test_notes_and_messages(client, org, cases):
    headers = bearer(org.staff["leader"])
    case = cases["mine"]
    note = client.post(
        f"{API}/{case.id}/notes", json={"body": "First call went well."}, headers=headers
    )
    assert note.status_code == 201 and note.get_json()["body"] == "First call went well."
    notes = client.get(f"{API}/{case.id}/notes", headers=headers).get_json()["notes"]
    assert [n["body"] for n in notes] == ["First call went well."]

    sent = client.post(
        f"{API}/{case.id}/messages",
        json={"body": "Shall we talk Monday?", "mark_in_conversation": True},
        headers=headers,
    )
    assert sent.status_code == 201 and sent.get_json()["from_reporter"] is False
    assert sent.get_json()["feedback"] is False
    add_reporter_message(db.session.get(Case, case.id), "Monday is fine.")
    thread = client.get(f"{API}/{case.id}/messages", headers=headers).get_json()["messages"]
    assert [(m["from_reporter"], m["body"]) for m in thread] == [
        (False, "Shall we talk Monday?"),
        (True, "Monday is fine."),
    ]
    assert client.get(f"{API}/{case.id}", headers=headers).get_json()["unread_messages"] == 0
    assert client.get(f"{API}/{case.id}", headers=headers).get_json()["status"] == (
        "in_conversation"
    )


def test_guide_progress(client, org, cases):
    headers = bearer(org.staff["leader"])
    case = cases["mine"]
    progress = client.get(f"{API}/{case.id}/guide", headers=headers).get_json()
    assert progress["available"] is True and progress["ticked"] == 0
    assert progress["total"] == len(guide_for(case).step_keys()) > 0
    key = progress["steps"][0]["key"]
    ticked = client.post(
        f"{API}/{case.id}/guide", json={"step": key, "ticked": True}, headers=headers
    ).get_json()
    assert ticked["ticked"] == 1 and ticked["steps"][0]["ticked_at"]
    again = client.post(
        f"{API}/{case.id}/guide", json={"step": key, "ticked": True}, headers=headers
    ).get_json()
    assert again["ticked"] == 1  # ticking twice is harmless
    unticked = client.post(
        f"{API}/{case.id}/guide", json={"step": key, "ticked": False}, headers=headers
    ).get_json()
    assert unticked["ticked"] == 0


def test_lead_reassigns_by_api(client, org, cases):
    headers = bearer(org.staff["lead"])
    case = cases["nobodys"]
    moved = client.put(
        f"{API}/{case.id}/assignee", json={"assignee": org.staff["leader3"].id}, headers=headers
    )
    assert moved.status_code == 200 and moved.get_json()["assignee"] == org.staff["leader3"].id
    refused = client.put(
        f"{API}/{case.id}/assignee", json={"assignee": org.staff["hr"].id}, headers=headers
    )
    assert refused.status_code == 422 and "assignee" in refused.get_json()["error"]["fields"]
    not_a_lead = client.put(
        f"{API}/{case.id}/assignee",
        json={"assignee": org.staff["leader"].id},
        headers=bearer(org.staff["leader3"]),
    )
    assert not_a_lead.status_code == 403


def test_openapi_documents_the_cases_api(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    for path in (
        "/api/v1/cases",
        "/api/v1/cases/{case_id}",
        "/api/v1/cases/{case_id}/transition",
        "/api/v1/cases/{case_id}/notes",
        "/api/v1/cases/{case_id}/messages",
        "/api/v1/cases/{case_id}/guide",
    ):
        assert path in spec["paths"], path
    case_schema = json.dumps(spec["components"]["schemas"])
    assert "receipt_hash" not in case_schema


@pytest.mark.parametrize("case_id", ["0", "2147483648", "99999999999999999999999"])
def test_out_of_range_ids_are_404(client, org, case_id):
    response = client.get(f"{API}/{case_id}", headers=bearer(org.staff["lead"]))
    assert response.status_code == 404
