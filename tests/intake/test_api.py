"""POST /api/v1/reports and GET /api/v1/reports/status: the reporter's API contract."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select, text

from service.db import AuditEvent, Case, OutboxEntry, Report
from service.extensions import db
from tests.factories import report_payload


def counts() -> tuple[int, int, int]:
    return tuple(  # type: ignore[return-value]
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Report, Case, OutboxEntry)
    )


def test_org_units_lists_the_tree(client, org):
    body = client.get("/api/v1/org-units").get_json()
    by_name = {u["name"]: u for u in body["org_units"]}
    assert by_name["Harbourside Group"]["parent"] is None
    assert by_name["Call Centre"]["parent"] == by_name["Customer Service"]["id"]
    assert set(by_name["Payroll"]) >= {"id", "name", "parent"}


def test_submit_returns_receipt_and_stores_scrubbed_encrypted_report(client, org):
    payload = report_payload(
        org,
        text="My manager John Miller emails me at john.miller@example.com and rings "
        "07700 900123 at midnight about extra shifts.",
    )
    response = client.post("/api/v1/reports", json=payload)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert set(body) >= {"id", "receipt", "status"}
    assert len(body["receipt"].replace("-", "")) == 20

    report = db.session.get(Report, body["id"])
    assert "john.miller@example.com" not in report.text
    assert "07700 900123" not in report.text
    assert "Miller" not in report.text
    assert report.redactions.get("email") == 1
    assert report.redactions.get("phone") == 1
    # Stored encrypted and the receipt only as a hash.
    raw = db.session.execute(
        text("SELECT text, receipt_hash FROM reports WHERE id = :id"), {"id": report.id}
    ).one()
    assert raw.text.startswith("gAAAA") and "shifts" not in raw.text
    assert body["receipt"].replace("-", "") not in raw.receipt_hash
    assert len(raw.receipt_hash) == 64
    # Report, case and outbox entry written together; the case was routed in-process.
    case = db.session.execute(select(Case).where(Case.report_id == report.id)).scalar_one()
    assert case.status == "new"
    assert case.routing_state in ("assigned", "unassigned")
    assert counts() == (1, 1, 1)


def test_status_with_receipt_header(client, org):
    receipt = client.post("/api/v1/reports", json=report_payload(org)).get_json()["receipt"]
    response = client.get("/api/v1/reports/status", headers={"X-Receipt": receipt.lower()})
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "new"
    assert body["messages"] == []
    assert "risk" not in json.dumps(body)  # reporters never see scores


@pytest.mark.parametrize("receipt", ["", "not-a-code", "AAAA-AAAA-AAAA-AAAA-AAAA"])
def test_status_unknown_or_malformed_receipt_answers_the_same(client, org, receipt):
    response = client.get("/api/v1/reports/status", headers={"X-Receipt": receipt})
    assert response.status_code == 404
    assert response.get_json() == {
        "error": {"code": "not_found", "message": "No report matches that receipt code."}
    }


def test_reporter_can_write_a_message(client, org):
    receipt = client.post("/api/v1/reports", json=report_payload(org)).get_json()["receipt"]
    response = client.post(
        "/api/v1/reports/messages", json={"body": "Any news?"}, headers={"X-Receipt": receipt}
    )
    assert response.status_code == 201
    thread = client.get("/api/v1/reports/status", headers={"X-Receipt": receipt}).get_json()
    assert [m["body"] for m in thread["messages"]] == ["Any news?"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"category": "gossip"}, "category"),
        ({"text": "too short"}, "text"),
        ({"text": "x" * 5001}, "text"),
        ({"org_unit": "1"}, "org_unit"),
        ({"org_unit": 99999}, "org_unit"),
        ({"raised_before": "perhaps"}, "raised_before"),
        ({"involved": ["Bob from accounts"]}, "involved"),
        ({"involved": "my manager"}, "involved"),
        ({"desired_outcome": "revenge"}, "desired_outcome"),
        ({"urgency": 3}, "urgency"),
        ({"surprise": True}, "surprise"),
        ({"raised_before": False, "raised_with": ["hr"]}, "raised_with"),
    ],
)
def test_bad_fields_get_field_messages_and_write_nothing(client, org, changes, field):
    response = client.post("/api/v1/reports", json=report_payload(org, **changes))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid"
    assert field in error["fields"]
    assert counts() == (0, 0, 0)


def test_missing_required_fields(client, org):
    response = client.post("/api/v1/reports", json={})
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"org_unit", "category", "text"}


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"org_unit=1", "application/x-www-form-urlencoded", 415),
        (b'{"text": "\xff\xfe broken"}', "application/json", 400),
        (b"[" * 5000 + b"]" * 5000, "application/json", 400),
        (b"{not json", "application/json", 400),
        (b'"just a string"', "application/json", 422),
        (b"[1, 2]", "application/json", 422),
        (b"null", "application/json", 422),
    ],
)
def test_malformed_bodies_are_4xx_json(client, org, body, content_type, status):
    response = client.post("/api/v1/reports", data=body, content_type=content_type)
    assert response.status_code == status
    assert "error" in response.get_json()
    assert counts() == (0, 0, 0)


def test_oversize_body_is_413(client, org):
    payload = report_payload(org, text="x" * 100_000)
    response = client.post("/api/v1/reports", json=payload)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"
    assert counts() == (0, 0, 0)


def test_errors_never_echo_report_text(client, org):
    secret = "UNIQUE-CANARY-WORD-41"
    response = client.post(
        "/api/v1/reports", json=report_payload(org, text=secret, category="nope")
    )
    assert response.status_code == 422
    assert secret not in response.get_data(as_text=True)


def test_submission_is_audited_without_identifiers(client, org):
    client.post(
        "/api/v1/reports",
        json=report_payload(org),
        headers={"User-Agent": "CanaryAgent/9.9", "X-Forwarded-For": "203.0.113.77"},
        environ_base={"REMOTE_ADDR": "198.51.100.23"},
    )
    event = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "report.submitted")
    ).scalar_one()
    assert event.actor_kind == "reporter" and event.actor_id is None
    dumped = json.dumps(event.detail)
    assert "198.51.100.23" not in dumped and "CanaryAgent" not in dumped


def test_a_unit_becomes_a_hotspot_at_the_third_report_and_all_three_are_boosted(client, org):
    """DEFUSE_HOTSPOT_MIN_REPORTS defaults to 3 within DEFUSE_HOTSPOT_WINDOW_DAYS (30)."""

    def submit(unit: str) -> Report:
        response = client.post("/api/v1/reports", json=report_payload(org, org_unit=org.unit(unit)))
        assert response.status_code == 201
        return db.session.get(Report, response.get_json()["id"])

    first, second = submit("Payroll"), submit("Payroll")
    elsewhere = submit("Call Centre")
    assert not first.hotspot and not second.hotspot and not elsewhere.hotspot
    score_before = first.risk_score

    third = submit("Payroll")

    db.session.expire_all()
    assert third.hotspot and first.hotspot and second.hotspot
    assert first.risk_score > score_before
    assert first.risk_explanation["hotspot"]["applied"] is True
    assert not db.session.get(Report, elsewhere.id).hotspot


def test_every_reporter_answer_is_no_store(client, org):
    """A receipt, a status or a thread must never sit in a browser or proxy cache; errors too."""
    created = client.post("/api/v1/reports", json=report_payload(org))
    receipt = created.get_json()["receipt"]
    answers = {
        "submit": created,
        "submit refused": client.post("/api/v1/reports", json={"text": ""}),
        "status": client.get("/api/v1/reports/status", headers={"X-Receipt": receipt}),
        "status unknown": client.get("/api/v1/reports/status", headers={"X-Receipt": "x"}),
        "reply": client.post(
            "/api/v1/reports/messages", json={"body": "Any news?"}, headers={"X-Receipt": receipt}
        ),
    }
    assert [a.status_code for a in answers.values()] == [201, 422, 200, 404, 201]
    for name, answer in answers.items():
        assert answer.headers.get("Cache-Control") == "no-store", name
    # The header belongs to the reporter's API, not to every answer.
    assert "no-store" not in client.get("/api/v1/org-units").headers.get("Cache-Control", "")
