"""Crisis signposting: a report that mentions self-harm or a threat to life shows where to get
help at once, on the receipt and at every follow-up, never the score; the lead on call is paged
as soon as it is stored."""

from __future__ import annotations

import pytest
from markupsafe import escape
from sqlalchemy import select

from service.config import DEFAULT_CRISIS_MESSAGE, Settings
from service.db import Notification, Report, User
from service.extensions import db
from service.intake import service
from service.notify import PAGE_KIND
from service.people import create_user
from tests.conftest import make_app
from tests.factories import report_payload, seed_org
from tests.intake.test_form import csrf_token, form_data, receipt_code

SELF_HARM = "Since this started I have had thoughts of ending my life and I cannot sleep."
THREAT = "He told me he will threaten to kill me if I tell anyone about the missing stock."
CRISIS = "A report mentions a risk to someone's life"
MILD = "We keep being asked to cover extra shifts and nobody says for how long."


def _send(client, org, text: str) -> str:  # type: ignore[no-untyped-def]
    client.post("/submit", data=form_data(client, org, text=text))
    return client.get("/receipt").get_data(as_text=True)


def _status(client, code: str) -> str:  # type: ignore[no-untyped-def]
    return client.post(
        "/follow-up", data={"csrf_token": csrf_token(client, "/follow-up"), "receipt": code}
    ).get_data(as_text=True)


@pytest.mark.parametrize("text", [SELF_HARM, THREAT])
def test_a_risk_to_life_shows_crisis_support_on_receipt_and_follow_up(client, org, text):
    receipt = _send(client, org, text)
    assert 'id="crisis-support"' in receipt and str(escape(DEFAULT_CRISIS_MESSAGE)) in receipt
    assert "within a few days" not in receipt
    report = db.session.execute(select(Report)).scalar_one()
    assert report.risk_level == "critical"
    status = _status(client, receipt_code(receipt))
    assert 'id="crisis-support"' in status
    for page in (receipt, status):
        # Neither the score nor the level is ever shown to the reporter.
        assert f"{report.risk_score}" not in page and "critical" not in page.lower()


def test_a_mild_report_shows_no_crisis_message(client, org):
    receipt = _send(client, org, MILD)
    assert 'id="crisis-support"' not in receipt and "within a few days" in receipt
    assert 'id="crisis-support"' not in _status(client, receipt_code(receipt))


def test_the_message_is_configurable(settings):
    message = "Call 112 or the Samaritans on 116 123, any time."
    assert Settings.from_env({"DEFUSE_CRISIS_MESSAGE": message}).crisis_message == message
    assert Settings.from_env({"DEFUSE_CRISIS_MESSAGE": "  "}).crisis_message == (
        DEFAULT_CRISIS_MESSAGE
    )
    app = make_app(settings.replace(crisis_message=message))
    with app.app_context():
        org = seed_org()
        client = app.test_client()
        assert message in _send(client, org, SELF_HARM)


def test_the_default_names_emergency_services_and_a_helpline():
    assert "emergency" in DEFAULT_CRISIS_MESSAGE and "crisis helpline" in DEFAULT_CRISIS_MESSAGE
    assert not any(char.isdigit() for char in DEFAULT_CRISIS_MESSAGE)  # no country's numbers


def test_the_lead_on_call_is_paged_as_soon_as_it_is_stored(client, org, monkeypatch):
    # No routing runs (a queue that is down or behind): the page must not wait for it.
    monkeypatch.setattr("service.intake.service.relay_outbox_soon", lambda jobs: None)
    create_user(
        email="oncall@demo.defuse",
        role="lead",
        password=None,
        on_call=True,
        org_unit_id=org.unit("Payroll"),
    )
    create_user(
        email="off@demo.defuse", role="lead", password=None, org_unit_id=org.unit("Payroll")
    )
    on_call = db.session.execute(select(User.id).where(User.on_call.is_(True))).scalars().all()
    assert len(on_call) >= 1
    client.post("/api/v1/reports", json=report_payload(org, text=MILD))
    # (A mild report may still page as critical, if the model scores it so: not as a crisis.)
    assert not [n for n in db.session.execute(select(Notification)).scalars() if CRISIS in n.body]
    client.post("/api/v1/reports", json=report_payload(org, text=SELF_HARM))
    pages = [n for n in db.session.execute(select(Notification)).scalars() if CRISIS in n.body]
    assert sorted((n.recipient_id, n.kind) for n in pages) == [
        (i, PAGE_KIND) for i in sorted(on_call)
    ]
    assert pages[0].body.startswith(CRISIS)
    assert "sleep" not in pages[0].body and "sleep" not in pages[0].subject


def test_needs_crisis_support_reads_the_tag_not_the_level(app):
    report = Report(risk_level="critical")
    report.risk_explanation = {"rules": [{"id": "safety-004", "tags": ["safety.weapon"]}]}
    assert not service.needs_crisis_support(report)
    report.risk_explanation = {"rules": [{"id": "x", "tags": ["safety", "signpost.crisis"]}]}
    assert service.needs_crisis_support(report)
