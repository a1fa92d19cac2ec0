"""The report form, preview, receipt and follow-up pages, as a browser without JavaScript
would use them (CSRF tokens included)."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from service.db import Report
from service.extensions import db


def csrf_token(client, path: str = "/") -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "form has no CSRF token"
    return match.group(1)


def receipt_code(page: str) -> str | None:
    """The code on a receipt page, its groups joined as the reporter would copy it."""
    match = re.search(r'id="receipt-code"[^>]*>(.*?)</p>', page, re.S)
    return re.sub(r"<[^>]+>", "", match.group(1)) if match else None


def form_data(client, org, **overrides):
    data = {
        "csrf_token": csrf_token(client),
        "org_unit": str(org.unit("Warehouse North")),
        "category": "bullying",
        "duration": "months",
        "raised_before": "yes",
        "raised_with": ["my manager"],
        "involved": ["my manager", "a peer"],
        "desired_outcome": "conversation",
        "urgency": "normal",
        "language": "en",
        "text": "Mrs Patel shouts at me daily. Call me on 07700 900123 or write to "
        "me@example.org. It has gone on for months.",
    }
    data.update(overrides)
    return data


def test_form_lists_org_units_and_categories_with_labels(client, org):
    page = client.get("/").get_data(as_text=True)
    assert "Warehouse North" in page
    for field in ("org_unit", "text", "duration", "contact"):
        assert f'<label for="{field}"' in page
    assert 'name="csrf_token"' in page
    # Works without JavaScript: the one script is the site's own enhancement file, nothing inline.
    import re

    assert re.findall(r"<script[^>]*>", page) == ['<script src="/static/js/defuse.js" defer>']


def test_preview_shows_redactions_then_submit_gives_receipt(client, org):
    data = form_data(client, org)
    preview = client.post("/preview", data=data)
    assert preview.status_code == 200
    page = preview.get_data(as_text=True)
    shown = page.split('id="scrubbed-account">')[1].split("</div>")[0]
    assert "07700 900123" not in shown and "me@example.org" not in shown and "Patel" not in shown
    assert shown.count('<mark class="redacted"') == 3
    assert db.session.scalar(select(func.count()).select_from(Report)) == 0  # nothing yet

    sent = client.post("/submit", data=data)
    assert sent.status_code == 303 and sent.headers["Location"] == "/receipt"
    receipt_page = client.get("/receipt")
    assert receipt_page.headers["Cache-Control"] == "no-store"
    code = receipt_code(receipt_page.get_data(as_text=True))
    assert code and re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){4}", code)
    report = db.session.execute(select(Report)).scalar_one()
    assert "Patel" not in report.text and "07700" not in report.text

    status = client.post(
        "/follow-up",
        data={"csrf_token": csrf_token(client, "/follow-up"), "receipt": code},
    )
    assert status.status_code == 200
    assert "Received" in status.get_data(as_text=True)


def test_invalid_form_shows_errors_beside_fields_and_keeps_input(client, org):
    data = form_data(client, org, text="short", category="")
    response = client.post("/preview", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="text-error"' in page and 'aria-invalid="true"' in page
    assert "short</textarea>" in page
    assert "error-summary" in page


def test_edit_returns_to_the_form_with_values(client, org):
    data = form_data(client, org)
    page = client.post("/edit", data=data).get_data(as_text=True)
    assert "It has gone on for months.</textarea>" in page
    assert 'value="bullying" checked' in page


def test_form_without_csrf_token_is_refused(client, org):
    data = form_data(client, org)
    del data["csrf_token"]
    response = client.post("/submit", data=data)
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Report)) == 0


def test_contact_is_kept_only_when_opted_in(client, org):
    client.post("/submit", data=form_data(client, org, contact="ring me on the desk line"))
    client.post(
        "/submit",
        data=form_data(client, org, contact="call me please", wants_contact="yes"),
    )
    contacts = [r.contact for r in db.session.execute(select(Report).order_by(Report.id)).scalars()]
    assert contacts == [None, "call me please"]


def test_unknown_receipt_on_follow_up_page(client, org):
    response = client.post(
        "/follow-up", data={"csrf_token": csrf_token(client, "/follow-up"), "receipt": "nope"}
    )
    assert response.status_code == 404
    assert "could not open a report" in response.get_data(as_text=True)
