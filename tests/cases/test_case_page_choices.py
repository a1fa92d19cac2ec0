"""The case page leaves every change to the Trust Leader: no silent status change, a
confirmation for withdrawing and closing (without JavaScript), ticks kept whichever button is
pressed, the confirmation in view, and an explanation in plain words with the detail behind
a toggle."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from service.cases import service
from service.db import AuditEvent, Case, GuideTick, ResolutionRollup
from service.extensions import db
from tests.cases.support import bearer, case_for, post_form, signed_in


@pytest.fixture
def leader_client(app, org):  # type: ignore[no-untyped-def]
    return signed_in(app, "leader@demo.defuse")


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def status_of(case_id: int) -> str:
    db.session.expire_all()
    return db.session.get(Case, case_id).status


def test_a_message_moves_the_status_only_when_asked(org, leader, leader_client):
    case = case_for(org, leader)
    path = f"/cases/{case.id}"
    html = text(leader_client.get(path))
    assert 'name="mark_in_conversation"' in html  # offered, not done

    sent = post_form(leader_client, f"{path}/messages", {"message_body": "Hello."}, page=path)
    assert sent.status_code == 302 and status_of(case.id) == "new"
    sent = post_form(
        leader_client,
        f"{path}/messages",
        {"message_body": "When can we talk?", "mark_in_conversation": "yes"},
        page=path,
    )
    assert sent.status_code == 302 and status_of(case.id) == "in_conversation"
    changes = db.session.execute(
        select(AuditEvent.detail).where(AuditEvent.action == "case.status_changed")
    ).scalars()
    assert [(d["from_status"], d["to_status"]) for d in changes] == [
        ("new", "acknowledged"),
        ("acknowledged", "in_conversation"),
    ]


def test_a_feedback_message_shows_on_the_case(org, leader, leader_client):
    case = case_for(org, leader)
    path = f"/cases/{case.id}"
    post_form(
        leader_client,
        f"{path}/messages",
        {"message_body": "We have spoken to your team lead.", "feedback": "yes"},
        page=path,
    )
    html = text(leader_client.get(path))
    assert 'class="badge feedback"' in html
    assert re.search(r'id="feedback-status">Given \d', html)


def test_withdrawing_asks_first_and_a_lead_can_undo_it(app, org, leader, leader_client):
    case = case_for(org, leader)
    service.transition(leader, case, "acknowledged")
    service.transition(leader, case, "in_conversation")
    path = f"/cases/{case.id}"

    asked = post_form(leader_client, f"{path}/status", {"status": "withdrawn"}, page=path)
    assert asked.status_code == 200 and 'id="confirm-form"' in text(asked)
    assert status_of(case.id) == "in_conversation"
    done = post_form(
        leader_client, f"{path}/status", {"status": "withdrawn", "confirm": "yes"}, page=path
    )
    assert done.status_code == 302 and status_of(case.id) == "withdrawn"

    # The Trust Leader cannot undo it; a lead can, back to where it was.
    assert post_form(leader_client, f"{path}/reopen", {}, page=path).status_code == 403
    lead = signed_in(app, "lead@demo.defuse")
    assert "Undo the withdrawal" in text(lead.get(path))
    undone = post_form(lead, f"{path}/reopen", {}, page=path)
    assert undone.status_code == 302 and status_of(case.id) == "in_conversation"
    assert "withdrawal is undone" in text(lead.get(path))
    counted = db.session.execute(
        select(ResolutionRollup.cases).where(ResolutionRollup.resolution == "withdrawn")
    ).scalar_one()
    assert counted == 0


def test_a_closed_case_cannot_be_reopened(app, org, leader):
    case = case_for(org, leader)
    service.transition(leader, case, "withdrawn")
    service.transition(leader, case, "closed", outcome="withdrawn")
    with pytest.raises(service.WorkflowError):
        service.undo_withdrawal(org.staff["lead"], case)


def test_closing_without_feedback_is_refused_on_the_page(org, leader, leader_client):
    case = case_for(org, leader)
    service.transition(leader, case, "acknowledged")
    path = f"/cases/{case.id}"
    refused = post_form(
        leader_client,
        f"{path}/status",
        {"status": "closed", "resolution": "resolved_informally", "outcome": "resolved"},
        page=path,
    )
    assert refused.status_code == 422
    assert 'id="closing_message-error"' in text(refused)
    assert status_of(case.id) == "acknowledged"


def test_unsaved_ticks_survive_adding_a_note(org, leader, leader_client):
    case = case_for(org, leader)
    path = f"/cases/{case.id}"
    keys = re.findall(r'name="shown" value="([^"]+)"', text(leader_client.get(path)))
    assert len(keys) >= 2
    noted = post_form(
        leader_client,
        f"{path}/notes",
        {"shown": keys, "ticked": [keys[0]], "note_body": "Called them."},
        page=path,
    )
    assert noted.status_code == 302
    ticks = db.session.execute(
        select(GuideTick.step_key).where(GuideTick.case_id == case.id)
    ).scalars()
    assert list(ticks) == [keys[0]]
    html = text(leader_client.get(path))
    assert "Called them." in html and "Checklist saved too (1 change)" in html


def test_the_confirmation_is_shown_at_the_top_not_past_an_anchor(org, leader, leader_client):
    case = case_for(org, leader)
    path = f"/cases/{case.id}"
    for action, data in (
        ("notes", {"note_body": "A note."}),
        ("messages", {"message_body": "A message."}),
        ("guide", {}),
        ("status", {"status": "acknowledged"}),
    ):
        response = post_form(leader_client, f"{path}/{action}", data, page=path)
        assert response.status_code == 302, action
        assert "#" not in response.headers["Location"], action


def test_the_explanation_reads_in_plain_words_with_details_behind_a_toggle(
    org, leader, leader_client
):
    text_ = "My manager told me I will lose my job if I complain again. I only want to talk."
    case = case_for(org, leader, text=text_, desired_outcome="conversation")
    html = text(leader_client.get(f"/cases/{case.id}"))
    section = html[html.index('id="risk-heading"') : html.index('id="messages-heading"')]
    plain, details = section.split('<details id="risk-details">')
    reasons = plain[plain.index('id="plain-reasons"') :]
    calming = reasons[reasons.index('id="plain-calming"') :]
    assert "Mentions a threat to their job" in reasons.split('id="plain-calming"')[0]
    assert "Would like an informal conversation" in calming
    assert "power-003" not in plain and "calm-006" not in plain and "#" not in plain
    assert "power-003" in details and "calm-006" in details and "Rules 9-packs#" in details


def test_the_explanation_falls_back_to_the_title_for_older_scores():
    view = service.explanation_view({"rules": [{"id": "x-001", "title": "An old rule"}]})
    assert view.rules[0].summary == "An old rule"
    view = service.explanation_view(
        {"rules": [{"id": "x-001", "title": "An old rule", "summary": "Says it plainly"}]}
    )
    assert view.rules[0].summary == "Says it plainly"


def test_the_feedback_deadline_is_extended_from_the_page(org, leader, leader_client):
    case = case_for(org, leader)
    path = f"/cases/{case.id}"
    assert 'id="extend-form"' in text(leader_client.get(path))
    bad = post_form(
        leader_client,
        f"{path}/feedback-deadline",
        {"until": "soon", "reason": "Waiting for HR."},
        page=path,
    )
    assert bad.status_code == 422 and 'id="until-error"' in text(bad)
    until = (case.opened_at + timedelta(days=120)).date()
    no_reason = post_form(
        leader_client, f"{path}/feedback-deadline", {"until": until.isoformat()}, page=path
    )
    assert no_reason.status_code == 422 and 'id="reason-error"' in text(no_reason)
    ok = post_form(
        leader_client,
        f"{path}/feedback-deadline",
        {"until": until.isoformat(), "reason": "Waiting for HR."},
        page=path,
    )
    assert ok.status_code == 302
    db.session.expire_all()
    assert db.session.get(Case, case.id).feedback_due_at.date() == until


def test_api_extension_and_undoing_a_withdrawal(client, org, leader):
    case = case_for(org, leader)
    path = f"/api/v1/cases/{case.id}"
    headers = bearer(leader)
    until = (case.opened_at + timedelta(days=200)).date()
    too_far = client.post(
        f"{path}/feedback-deadline",
        json={"until": until.isoformat(), "reason": "Investigation."},
        headers=headers,
    )
    assert too_far.status_code == 422 and "until" in too_far.get_json()["error"]["fields"]
    ok = client.post(
        f"{path}/feedback-deadline",
        json={"until": (until - timedelta(days=30)).isoformat(), "reason": "Investigation."},
        headers=headers,
    )
    assert ok.status_code == 200

    withdrawn = client.post(f"{path}/transition", json={"status": "withdrawn"}, headers=headers)
    assert withdrawn.status_code == 200
    assert client.delete(f"{path}/withdrawal", headers=headers).status_code == 403
    undone = client.delete(f"{path}/withdrawal", headers=bearer(org.staff["lead"]))
    assert undone.status_code == 200 and undone.get_json()["status"] == "new"
    again = client.delete(f"{path}/withdrawal", headers=bearer(org.staff["lead"], "again"))
    assert again.status_code == 409
