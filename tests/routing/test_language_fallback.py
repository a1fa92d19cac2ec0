"""No eligible Trust Leader: the leads learn why; a report in a language no eligible Trust
Leader speaks goes to a speaker of a fallback language and is marked as needing a speaker;
a lead can reassign when one is found, or assign anyway with a reason (never past a conflict
of interest)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from service.cases import service as cases
from service.cases.service import WorkflowError
from service.db import AuditEvent, Case, Note, Notification, User
from service.extensions import db
from service.routing import choose_with_fallback, exclusion_counts
from tests.cases.support import case_for, submit
from tests.routing.test_choose import TODAY, TREE, case, leader

# --- the pure choice ------------------------------------------------------------------------

# Language is read from the text, so a Polish case needs Polish words.
POLISH = "Mój kierownik krzyczy na mnie codziennie przy całym zespole i nikt nie reaguje."


def test_a_speaker_of_the_language_wins_over_the_fallback():
    german = leader(1, languages=frozenset({"de"}))
    english = leader(2, languages=frozenset({"en"}))
    chosen, fallback = choose_with_fallback(
        case(language="de"), [english, german], TREE, TODAY, ("en",)
    )
    assert (chosen.id, fallback) == (1, None)


def test_no_speaker_routes_to_the_first_fallback_language_spoken():
    french = leader(1, languages=frozenset({"fr"}))
    english = leader(2, languages=frozenset({"en"}))
    pool = [english, french]
    chosen, fallback = choose_with_fallback(case(language="de"), pool, TREE, TODAY, ("fr", "en"))
    assert (chosen.id, fallback) == (1, "fr")
    chosen, fallback = choose_with_fallback(case(language="de"), pool, TREE, TODAY, ("pl", "en"))
    assert (chosen.id, fallback) == (2, "en")


def test_the_fallback_never_overrides_a_conflict_or_any_other_reason():
    conflicted = leader(1, unit=3, languages=frozenset({"en"}))  # in the reported unit
    full = leader(2, languages=frozenset({"en"}), capacity=1, open_levels=("low",))
    chosen, fallback = choose_with_fallback(
        case(language="de"), [conflicted, full], TREE, TODAY, ("en",)
    )
    assert (chosen, fallback) == (None, None)
    counts = exclusion_counts(case(language="de"), [conflicted, full], TREE, TODAY)
    assert counts == {"language": 2}  # the language is what rules them out first
    counts = exclusion_counts(case(language="en"), [conflicted, full], TREE, TODAY)
    assert counts == {"at capacity": 1, "conflict of interest: line of management": 1}


def test_no_fallback_configured_leaves_it_unassigned():
    english = leader(2, languages=frozenset({"en"}))
    assert choose_with_fallback(case(language="de"), [english], TREE, TODAY, ()) == (None, None)


# --- against the database -------------------------------------------------------------------


def _only_english(org) -> None:  # type: ignore[no-untyped-def]
    for user in db.session.execute(
        select(User).where(User.role.in_(["trust_leader", "lead"]))
    ).scalars():
        user.languages = ["en"]
    db.session.commit()


def _notifications(kind: str) -> list[Notification]:
    return list(db.session.execute(select(Notification).where(Notification.kind == kind)).scalars())


def test_german_report_goes_to_an_english_speaker_and_the_leads_are_told(app, org):
    _only_english(org)
    case_, _ = submit(org, language="de", text="Mein Chef schreit mich jeden Tag an.")
    db.session.refresh(case_)
    assert case_.routing_state == "assigned" and case_.assignee_id is not None
    assert case_.needs_language == "de"
    alerts = _notifications("needs_language")
    assert [n.recipient.role for n in alerts] == ["lead"]
    assert "No eligible Trust Leader speaks German" in alerts[0].body
    assert "schreit" not in alerts[0].body  # never report text
    event = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "case.assigned")
    ).scalar_one()
    assert event.detail["fallback_language"] == "en"


def test_a_speaker_of_the_report_language_is_chosen_without_a_flag(app, org):
    _only_english(org)
    org.staff["leader3"].languages = ["en", "de"]
    db.session.commit()
    case_, _ = submit(org, language="de", text="Mein Chef schreit mich jeden Tag an.")
    db.session.refresh(case_)
    assert case_.assignee_id == org.staff["leader3"].id and case_.needs_language is None
    assert _notifications("needs_language") == []


def test_lead_reassigns_to_a_speaker_when_one_is_found(app, org):
    _only_english(org)
    case_, _ = submit(org, language="de", text="Mein Chef schreit mich jeden Tag an.")
    db.session.refresh(case_)
    speaker = next(
        u for k, u in org.staff.items() if k.startswith("leader") and u.id != case_.assignee_id
    )
    speaker.languages = ["de"]
    db.session.commit()
    cases.reassign(org.staff["lead"], case_, speaker.id)
    assert case_.assignee_id == speaker.id and case_.needs_language is None


def test_lead_assigns_anyway_with_a_reason_kept_as_a_note(app, org):
    _only_english(org)
    case_ = case_for(org, None, language="pl", text=POLISH)
    leader2 = org.staff["leader2"]
    with pytest.raises(WorkflowError) as missing:
        cases.reassign(org.staff["lead"], case_, leader2.id)
    assert missing.value.field == "reason" and "language" in missing.value.message
    assert case_.assignee_id is None

    cases.reassign(org.staff["lead"], case_, leader2.id, override_reason="Alex reads Polish well.")
    assert case_.assignee_id == leader2.id
    assert case_.needs_language == "pl"  # still waiting for a real speaker
    event = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "case.reassigned")
    ).scalar_one()
    assert event.detail["override"] == "language"
    note = db.session.get(Note, event.detail["note_id"])
    assert "Alex reads Polish well." in note.body and "not eligible (language)" in note.body
    assert "Polish well" not in str(event.detail)  # the reason is in the encrypted note only


def test_a_conflict_of_interest_cannot_be_overridden(app, org):
    # leader@ works in Payroll: a Payroll report is in their own line of management.
    case_ = case_for(org, None, org_unit=org.unit("Payroll"), category="pay")
    with pytest.raises(WorkflowError) as refused:
        cases.reassign(
            org.staff["lead"], case_, org.staff["leader"].id, override_reason="No one else."
        )
    assert refused.value.field == "assignee" and "conflict of interest" in refused.value.message
    db.session.rollback()
    assert db.session.get(Case, case_.id).assignee_id is None


def test_the_page_tells_the_lead_no_one_is_eligible_and_takes_a_reason(app, org):
    from tests.cases.support import post_form, signed_in

    app.config["DEFUSE"] = app.config["DEFUSE"].replace(routing_fallback_languages=())
    _only_english(org)
    case_, _ = submit(org, language="pl", text=POLISH)
    db.session.refresh(case_)
    assert case_.assignee_id is None
    lead = signed_in(app, "lead@demo.defuse")
    path = f"/cases/{case_.id}"
    html = lead.get(path).get_data(as_text=True)
    assert 'id="no-one-eligible"' in html and "Language:" in html

    leader2 = org.staff["leader2"]
    refused = post_form(lead, f"{path}/assignee", {"assignee": str(leader2.id)}, page=path)
    assert refused.status_code == 422
    assert 'id="override_reason-error"' in refused.get_data(as_text=True)
    done = post_form(
        lead,
        f"{path}/assignee",
        {"assignee": str(leader2.id), "override_reason": "Alex reads Polish."},
        page=path,
    )
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Case, case_.id).assignee_id == leader2.id
    assert "Needs a speaker of Polski (Polish)" in lead.get(path).get_data(as_text=True)


def test_api_reassign_takes_a_reason(app, client, org):
    from tests.cases.support import bearer

    _only_english(org)
    case_ = case_for(org, None, language="pl", text=POLISH)
    headers = bearer(org.staff["lead"])
    path = f"/api/v1/cases/{case_.id}/assignee"
    leader2 = org.staff["leader2"].id
    refused = client.put(path, json={"assignee": leader2}, headers=headers)
    assert refused.status_code == 422 and "reason" in refused.get_json()["error"]["fields"]
    done = client.put(path, json={"assignee": leader2, "reason": "Reads Polish."}, headers=headers)
    assert done.status_code == 200
    assert done.get_json()["assignee"] == leader2 and done.get_json()["needs_language"] == "pl"
