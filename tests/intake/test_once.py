"""One report per intent: post-redirect-get, the confirmed form's one-time token and the API's
Idempotency-Key, for reports and for the reporter's replies."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import func, select, text

from service.db import Message, Report, SubmissionKey
from service.extensions import db
from tests.factories import report_payload
from tests.intake.test_form import csrf_token, form_data, receipt_code


def _reports() -> int:
    return db.session.scalar(select(func.count()).select_from(Report)) or 0


def _messages() -> int:
    return db.session.scalar(select(func.count()).select_from(Message)) or 0


def _confirmed_form(client, org) -> dict:  # type: ignore[type-arg]
    """The Send form of the preview page, exactly as the browser would post it."""
    page = client.post("/preview", data=form_data(client, org)).get_data(as_text=True)
    send = page.split('action="/submit"')[1].split("</form>")[0]
    data: dict = {}  # type: ignore[type-arg]
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', send):
        data.setdefault(name, []).append(value)
    assert data.get("submission_token"), "the Send form carries no one-time token"
    return data


def test_submit_redirects_and_the_receipt_is_shown_once(client, org):
    sent = client.post("/submit", data=_confirmed_form(client, org))
    assert sent.status_code == 303
    assert sent.headers["Location"] == "/receipt"
    first = client.get("/receipt").get_data(as_text=True)
    code = receipt_code(first)
    assert code and re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){4}", code)
    # A reload shows no code and files nothing.
    again = client.get("/receipt")
    assert again.status_code == 200
    page = again.get_data(as_text=True)
    assert receipt_code(page) is None and code not in page and 'id="receipt-gone"' in page
    assert _reports() == 1


def test_the_same_confirmed_form_sent_twice_files_one_report(client, org):
    form = _confirmed_form(client, org)
    assert client.post("/submit", data=form).status_code == 303
    code = receipt_code(client.get("/receipt").get_data(as_text=True))
    # Back and Send again (or a double click): nothing new, the same receipt.
    assert client.post("/submit", data=form).status_code == 303
    page = client.get("/receipt").get_data(as_text=True)
    assert _reports() == 1
    assert receipt_code(page) == code
    assert 'id="already-sent"' in page


def test_a_new_preview_is_a_new_token(client, org):
    client.post("/submit", data=_confirmed_form(client, org))
    client.post("/submit", data=_confirmed_form(client, org))
    assert _reports() == 2


def test_only_a_keyed_hash_of_the_token_is_stored_with_an_hourly_expiry(client, org):
    form = _confirmed_form(client, org)
    client.post("/submit", data=form)
    code = receipt_code(client.get("/receipt").get_data(as_text=True))
    token = form["submission_token"][0]
    row = db.session.execute(select(SubmissionKey)).scalar_one()
    assert token not in row.key_hash and len(row.key_hash) == 64
    raw = db.session.execute(text("SELECT sealed_receipt FROM submission_keys")).scalar_one()
    assert code not in raw and code.replace("-", "") not in raw
    assert (row.expires_at.minute, row.expires_at.second, row.expires_at.microsecond) == (0, 0, 0)


def test_an_expired_token_no_longer_holds_a_resend_back(client, org):
    form = _confirmed_form(client, org)
    client.post("/submit", data=form)
    row = db.session.execute(select(SubmissionKey)).scalar_one()
    row.expires_at = row.expires_at.replace(year=2000)
    db.session.commit()
    client.post("/submit", data=form)
    assert _reports() == 2


def _api_report(client, org, key: str | None, **overrides):  # type: ignore[no-untyped-def]
    headers = {"Idempotency-Key": key} if key else {}
    return client.post("/api/v1/reports", json=report_payload(org, **overrides), headers=headers)


def test_api_idempotency_key_files_once_and_answers_the_same(client, org):
    key = str(uuid.uuid4())
    first = _api_report(client, org, key)
    second = _api_report(client, org, key)
    assert first.status_code == second.status_code == 201
    assert second.get_json() == first.get_json()
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert _reports() == 1
    # Without a key, or with another key, each post is a report.
    _api_report(client, org, None)
    _api_report(client, org, str(uuid.uuid4()))
    assert _reports() == 3


def test_api_idempotency_key_reused_for_another_report_is_refused(client, org):
    key = str(uuid.uuid4())
    _api_report(client, org, key)
    other = _api_report(client, org, key, category="pay")
    assert other.status_code == 409
    assert "Idempotency-Key" in other.get_json()["error"]["message"]
    assert _reports() == 1


def test_api_idempotency_key_must_look_random(client, org):
    response = _api_report(client, org, "short")
    assert response.status_code == 422
    assert "Idempotency-Key" in response.get_json()["error"]["fields"]
    assert _reports() == 0
    assert _api_report(client, org, "k" * 16).status_code == 201  # the shortest allowed


def _receipt(client, org) -> str:
    return client.post("/api/v1/reports", json=report_payload(org)).get_json()["receipt"]


def _reply_send_form(client, receipt: str) -> dict[str, str]:
    page = client.post(
        "/follow-up/reply/preview",
        data={"csrf_token": csrf_token(client, "/follow-up"), "receipt": receipt, "body": "Yes."},
    ).get_data(as_text=True)
    send = page.split('action="/follow-up/reply"')[1].split("</form>")[0]
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', send))


def test_a_reply_redirects_and_a_resend_posts_nothing(client, org):
    receipt = _receipt(client, org)
    form = _reply_send_form(client, receipt)
    sent = client.post("/follow-up/reply", data=form)
    assert sent.status_code == 303 and sent.headers["Location"] == "/follow-up/thread"
    thread = client.get("/follow-up/thread").get_data(as_text=True)
    assert "Your message was sent." in thread and "Yes." in thread
    assert client.post("/follow-up/reply", data=form).status_code == 303
    assert "already sent" in client.get("/follow-up/thread").get_data(as_text=True)
    assert _messages() == 1
    # A reload of the thread asks for the code again rather than keeping it in the session.
    reload = client.get("/follow-up/thread")
    assert reload.status_code == 303 and reload.headers["Location"] == "/follow-up"


def test_api_reply_with_idempotency_key_posts_once(client, org):
    receipt = _receipt(client, org)
    headers = {"X-Receipt": receipt, "Idempotency-Key": str(uuid.uuid4())}
    first = client.post("/api/v1/reports/messages", json={"body": "Friday?"}, headers=headers)
    second = client.post("/api/v1/reports/messages", json={"body": "Friday?"}, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert _messages() == 1
    other = client.post("/api/v1/reports/messages", json={"body": "Monday?"}, headers=headers)
    assert other.status_code == 409 and _messages() == 1
