"""The queue and case pages as a browser without JavaScript uses them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from service.db import AuditEvent, Case, Message, User, utcnow
from service.extensions import db
from service.intake.service import add_reporter_message
from tests.cases.support import (
    ACCOUNT,
    assign,
    case_for,
    csrf_token,
    post_form,
    set_risk,
    signed_in,
    submit,
)


@pytest.fixture
def leader_client(app, org):  # type: ignore[no-untyped-def]
    return signed_in(app, "leader@demo.defuse")


def page_text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def assert_no_inline_code(html: str) -> None:
    assert "<script" not in html and 'style="' not in html and "<style" not in html


def test_queue_lists_own_cases_by_risk_without_reporter_words(app, org, leader_client):
    leader = org.staff["leader"]
    low, critical = case_for(org, leader), case_for(org, leader)
    other = case_for(org, org.staff["leader2"])
    set_risk(low, "low", 0.1)
    set_risk(critical, "critical", 0.95)
    add_reporter_message(low, "Are you there?")

    response = leader_client.get("/cases")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = page_text(response)
    links = re.findall(r'class="case-link">Case (\d+)<', html)
    assert links == [str(critical.id), str(low.id)]
    assert str(other.id) not in links
    assert "1 new" in html and "Critical" in html
    assert "lawyer" not in html and "shifts" not in html  # nothing of the account
    assert_no_inline_code(html)


def test_queue_filters(app, org, leader_client):
    leader = org.staff["leader"]
    pay = case_for(org, leader, category="pay")
    case_for(org, leader, category="workload")
    html = page_text(leader_client.get("/cases?category=pay"))
    assert re.findall(r'class="case-link">Case (\d+)<', html) == [str(pay.id)]
    assert page_text(leader_client.get("/cases?status=closed")).count("case-link") == 0
    # Nonsense filter values are ignored rather than failing.
    assert leader_client.get("/cases?level=extreme&page=-3&status=<x>").status_code == 200


def test_lead_queue_shows_unassigned_and_overdue(app, org):
    unassigned = case_for(org, None)
    overdue = case_for(org, org.staff["leader2"])
    overdue.ack_due_at = utcnow() - timedelta(hours=2)
    calm = case_for(org, org.staff["leader3"])
    db.session.commit()
    lead = signed_in(app, "lead@demo.defuse")
    html = page_text(lead.get("/cases"))
    ids = re.findall(r'class="case-link">Case (\d+)<', html)
    assert str(unassigned.id) in ids and str(overdue.id) in ids
    assert str(calm.id) not in ids
    assert "Unassigned" in html and "overdue by" in html
    everything = page_text(lead.get("/cases?scope=all"))
    assert str(calm.id) in re.findall(r'class="case-link">Case (\d+)<', everything)


def test_case_page_shows_the_case_to_its_trust_leader(app, org, leader_client):
    case, _ = submit(org, contact="call me on the staff line after 5")
    assign(case, org.staff["leader"])
    add_reporter_message(case, "I can talk on Tuesdays.")

    response = leader_client.get(f"/cases/{case.id}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = page_text(response)
    assert ACCOUNT.split(".")[0] in html
    assert "Why this risk level" in html
    assert "call me on the staff line after 5" in html  # the opt-in contact, assignee only
    assert "I can talk on Tuesdays." in html and ">New<" in html
    assert 'id="status-form"' in html and "Acknowledge" in html
    assert_no_inline_code(html)
    # Viewing is audited; the reporter's message is now read.
    viewed = (
        db.session.execute(select(AuditEvent).where(AuditEvent.action == "case.viewed"))
        .scalars()
        .all()
    )
    assert [(e.case_id, e.actor_id) for e in viewed] == [(case.id, org.staff["leader"].id)]
    message = db.session.execute(select(Message)).scalar_one()
    db.session.refresh(message)
    assert message.read_at is not None


def test_lead_reads_any_case_but_not_the_contact(app, org):
    case, _ = submit(org, contact="call me on the staff line after 5")
    assign(case, org.staff["leader2"])
    add_reporter_message(case, "hello?")
    lead = signed_in(app, "lead@demo.defuse")
    html = page_text(lead.get(f"/cases/{case.id}"))
    assert ACCOUNT.split(".")[0] in html
    assert "staff line" not in html
    assert 'id="status-form"' not in html and 'id="message-form"' not in html
    assert 'id="reassign-form"' in html
    message = db.session.execute(select(Message)).scalar_one()
    db.session.refresh(message)
    assert message.read_at is None  # only the assignee's view marks it read


@pytest.mark.parametrize("email", ["leader2@demo.defuse", "hr@demo.defuse", "admin@demo.defuse"])
def test_others_get_403_on_the_case_and_its_forms(app, org, email):
    case = case_for(org, org.staff["leader"])
    client = signed_in(app, email)
    assert client.get(f"/cases/{case.id}").status_code == 403
    token = csrf_token(client, "/login")
    for path, data in (
        ("status", {"status": "acknowledged"}),
        ("messages", {"body": "hi"}),
        ("notes", {"body": "hi"}),
        ("guide", {"shown": "x", "ticked": "x"}),
        ("assignee", {"assignee": str(org.staff["leader3"].id)}),
    ):
        data["csrf_token"] = token
        assert client.post(f"/cases/{case.id}/{path}", data=data).status_code == 403, path
    db.session.expire_all()
    assert db.session.get(Case, case.id).status == "new"
    assert db.session.get(Case, case.id).assignee_id == org.staff["leader"].id


def test_hr_and_admin_cannot_open_the_queue(app, org):
    for email in ("hr@demo.defuse", "admin@demo.defuse"):
        assert signed_in(app, email).get("/cases").status_code == 403


def test_signed_out_is_sent_to_sign_in(client, org):
    case = case_for(org, org.staff["leader"])
    response = client.get(f"/cases/{case.id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get("/cases/99999").status_code == 302


def test_unknown_case_is_404(leader_client):
    assert leader_client.get("/cases/99999").status_code == 404


def test_status_buttons_and_closing(app, org, leader_client):
    case = case_for(org, org.staff["leader"])
    path = f"/cases/{case.id}"
    response = post_form(leader_client, f"{path}/status", {"status": "acknowledged"}, page=path)
    assert response.status_code == 302
    html = page_text(leader_client.get(path))
    assert "is now: acknowledged" in html

    invalid = post_form(leader_client, f"{path}/status", {"status": "new"}, page=path)
    assert invalid.status_code == 409
    assert "It can move to" in page_text(invalid)

    missing = post_form(
        leader_client,
        f"{path}/status",
        {"status": "closed", "resolution": "resolved_informally", "outcome": ""},
        page=path,
    )
    assert missing.status_code == 422
    html = page_text(missing)
    assert 'id="outcome-error"' in html and 'aria-invalid="true"' in html

    answers = {
        "status": "closed",
        "resolution": "resolved_informally",
        "outcome": "resigned",
        "closing_message": "Thank you for telling us. We spoke to the team.",
    }
    asked = post_form(leader_client, f"{path}/status", answers, page=path)
    assert asked.status_code == 200 and 'id="confirm-form"' in page_text(asked)
    assert "resolved as <strong>resolved informally</strong>." in page_text(asked)
    db.session.expire_all()
    assert db.session.get(Case, case.id).status == "acknowledged"  # nothing happens unconfirmed
    closed = post_form(leader_client, f"{path}/status", {**answers, "confirm": "yes"}, page=path)
    assert closed.status_code == 302
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert (case.status, case.outcome, case.escalated) == ("closed", "resigned", True)
    html = page_text(leader_client.get(path))
    assert 'id="close-form"' not in html and "The reporter resigned" in html


def test_message_and_note_forms(app, org, leader_client):
    case = case_for(org, org.staff["leader"])
    path = f"/cases/{case.id}"
    sent = post_form(leader_client, f"{path}/messages", {"body": "When can we talk?"}, page=path)
    assert sent.status_code == 302
    noted = post_form(leader_client, f"{path}/notes", {"body": "Sounds serious."}, page=path)
    assert noted.status_code == 302
    html = page_text(leader_client.get(path))
    assert "When can we talk?" in html and "Sounds serious." in html
    db.session.expire_all()
    assert db.session.get(Case, case.id).status == "new"  # a message never moves the status

    empty = post_form(leader_client, f"{path}/messages", {"body": "   "}, page=path)
    assert empty.status_code == 422
    assert 'id="message-error"' in page_text(empty)


def test_guide_checklist_ticks_and_unticks(app, org, leader_client):
    from service.cases.service import guide_for

    case = case_for(org, org.staff["leader"])
    path = f"/cases/{case.id}"
    guide = guide_for(case)
    assert guide is not None, "the listening guides must load"
    keys = [step.key for section in guide.sections for step in section.steps]
    html = page_text(leader_client.get(path))
    assert html.count('name="ticked"') == len(keys)

    first, second = keys[0], keys[1]
    response = post_form(
        leader_client, f"{path}/guide", {"shown": keys, "ticked": [first, second]}, page=path
    )
    assert response.status_code == 302
    html = page_text(leader_client.get(path))
    assert f"2 of {len(keys)} steps done" in html

    # Unticking the first; a stale form that never showed the second as ticked leaves it.
    response = post_form(
        leader_client, f"{path}/guide", {"shown": keys, "was": [first], "ticked": []}, page=path
    )
    assert response.status_code == 302
    html = page_text(leader_client.get(path))
    assert f"1 of {len(keys)} steps done" in html
    actions = db.session.execute(
        select(AuditEvent.action, AuditEvent.detail)
        .where(AuditEvent.action.like("guide.%"))
        .order_by(AuditEvent.id)
    ).all()
    assert [(a, d["step"]) for a, d in actions] == [
        ("guide.step_ticked", first),
        ("guide.step_ticked", second),
        ("guide.step_unticked", first),
    ]

    unknown = post_form(
        leader_client,
        f"{path}/guide",
        {"shown": ["no-such-step"], "ticked": ["no-such-step"]},
        page=path,
    )
    assert unknown.status_code == 422


def test_lead_reassigns_and_conflicts_are_explained(app, org):
    lead = signed_in(app, "lead@demo.defuse")
    case = case_for(org, None, org_unit=org.unit("Complaints Team"))
    path = f"/cases/{case.id}"
    html = page_text(lead.get(path))
    assert "not eligible, conflict of interest" in html  # leader4 works in Complaints Team

    refused = post_form(
        lead, f"{path}/assignee", {"assignee": str(org.staff["leader4"].id)}, page=path
    )
    assert refused.status_code == 422
    assert "cannot take this case: conflict of interest" in page_text(refused)

    moved = post_form(
        lead, f"{path}/assignee", {"assignee": str(org.staff["leader"].id)}, page=path
    )
    assert moved.status_code == 302
    db.session.expire_all()
    assert db.session.get(Case, case.id).assignee_id == org.staff["leader"].id
    leader = signed_in(app, "leader@demo.defuse")
    assert leader.get(path).status_code == 200


def test_forms_need_csrf(app, org, leader_client):
    case = case_for(org, org.staff["leader"])
    response = leader_client.post(f"/cases/{case.id}/status", data={"status": "acknowledged"})
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(Case, case.id).status == "new"


def test_trust_leader_sets_their_own_availability(app, org, leader_client):
    later = (utcnow() + timedelta(days=10)).date()
    response = post_form(leader_client, "/cases/availability", {"away_until": later.isoformat()})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, org.staff["leader"].id).away_until == later
    assert "away until" in page_text(leader_client.get("/cases/availability"))

    past = post_form(leader_client, "/cases/availability", {"away_until": "2001-01-01"})
    assert past.status_code == 422 and 'id="away_until-error"' in page_text(past)
    nonsense = post_form(leader_client, "/cases/availability", {"away_until": "soon"})
    assert nonsense.status_code == 422

    cleared = post_form(leader_client, "/cases/availability", {"clear": "1"})
    assert cleared.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, org.staff["leader"].id).away_until is None


def test_a_case_whose_words_were_removed_still_opens(app, org, leader_client):
    from service.cases import service

    leader = org.staff["leader"]
    case = case_for(org, leader)
    service.transition(leader, case, "closed", resolution="withdrawn", outcome="withdrawn")
    case.report.text = None
    case.report.risk_explanation_json = None
    case.report.text_removed_on = utcnow().date()
    db.session.commit()
    response = leader_client.get(f"/cases/{case.id}")
    assert response.status_code == 200
    html = page_text(response)
    assert "were removed on" in html and "No explanation is stored" in html
    assert 'id="message-form"' not in html and 'id="close-form"' not in html


def test_a_new_case_offers_acknowledging_before_closing(app, org, leader_client):
    case = case_for(org, org.staff["leader"])
    html = page_text(leader_client.get(f"/cases/{case.id}"))
    assert "Acknowledge" in html and "Mark as withdrawn" in html
    assert 'id="close-form"' not in html
