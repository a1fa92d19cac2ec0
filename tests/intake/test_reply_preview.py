"""A reporter's reply is previewed as the Trust Leader will read it before it is sent, like
the report itself: no JavaScript, CSRF-protected, nothing stored until "Send message"."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from service.db import Message
from service.extensions import db
from tests.cases.support import submit
from tests.intake.test_form import csrf_token

REPLY = "Thanks. Mrs Patel did it again, ring me on 07700 900123 after six."


def _message_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Message))


def _shown(page: str) -> str:
    return page.split('id="scrubbed-reply">')[1].split("</div>")[0]


def _hidden(page: str, name: str) -> str:
    match = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', page)
    assert match, f"no hidden {name}"
    return match.group(1)


def test_status_page_offers_a_preview_not_a_blind_send(client, org):
    _, receipt = submit(org)
    page = client.post(
        "/follow-up", data={"csrf_token": csrf_token(client, "/follow-up"), "receipt": receipt}
    ).get_data(as_text=True)
    reply_form = page.split('action="/follow-up/reply/preview"')[1].split("</form>")[0]
    assert "Preview message" in reply_form
    assert "<script>" not in page  # nothing inline; the form works without the enhancement file


def test_preview_marks_redactions_and_stores_nothing(client, org):
    _, receipt = submit(org)
    response = client.post(
        "/follow-up/reply/preview",
        data={"csrf_token": csrf_token(client, "/follow-up"), "receipt": receipt, "body": REPLY},
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    shown = _shown(page)
    assert "Patel" not in shown and "07700" not in shown
    assert shown.count('<mark class="redacted"') == 2
    assert "Mrs " in shown and "after six." in shown
    assert "We removed 1 name, 1 phone" in page
    assert _message_count() == 0
    # Send and Edit both carry the draft and the receipt back.
    assert _hidden(page, "body") == REPLY
    assert _hidden(page, "receipt") == receipt


def test_send_from_the_preview_stores_what_was_shown(client, org):
    case, receipt = submit(org)
    token = csrf_token(client, "/follow-up")
    preview = client.post(
        "/follow-up/reply/preview", data={"csrf_token": token, "receipt": receipt, "body": REPLY}
    ).get_data(as_text=True)
    shown = re.sub(r"<[^>]+>", "", _shown(preview))
    sent = client.post(
        "/follow-up/reply", data={"csrf_token": token, "receipt": receipt, "body": REPLY}
    )
    assert sent.status_code == 303
    stored = db.session.execute(select(Message).where(Message.case_id == case.id)).scalar_one()
    assert stored.body == shown


def test_edit_returns_the_draft_to_the_box(client, org):
    _, receipt = submit(org)
    page = client.post(
        "/follow-up",
        data={"csrf_token": csrf_token(client, "/follow-up"), "receipt": receipt, "body": REPLY},
    ).get_data(as_text=True)
    assert f">{REPLY}</textarea>" in page
    assert _message_count() == 0


def test_preview_needs_the_csrf_token(client, org):
    _, receipt = submit(org)
    response = client.post("/follow-up/reply/preview", data={"receipt": receipt, "body": REPLY})
    assert response.status_code == 400


def test_preview_of_an_empty_reply_shows_the_error_and_keeps_the_box(client, org):
    _, receipt = submit(org)
    response = client.post(
        "/follow-up/reply/preview",
        data={"csrf_token": csrf_token(client, "/follow-up"), "receipt": receipt, "body": "  "},
    )
    assert response.status_code == 422
    assert 'id="body-error"' in response.get_data(as_text=True)


def test_preview_with_an_unknown_receipt_is_not_found(client, org):
    response = client.post(
        "/follow-up/reply/preview",
        data={"csrf_token": csrf_token(client, "/follow-up"), "receipt": "nope", "body": REPLY},
    )
    assert response.status_code == 404
