"""The case page and the cases API show the guide in the language recorded on the case, with
its id, version and language; cases from before languages were recorded show English."""

from __future__ import annotations

from html import escape

from service.db import Case
from service.extensions import db
from service.guides import get_guides
from tests.cases.support import bearer, signed_in
from tests.routing.test_guide_language import GERMAN, _routed, _speaking

API = "/api/v1/cases"


def _german_case(org) -> Case:  # type: ignore[no-untyped-def]
    _speaking(org, {"leader3": ["en", "de"]})
    case = _routed(org, language="de", text=GERMAN)
    assert case.assignee_id == org.staff["leader3"].id and case.guide_language == "de"
    return case


def _guides(case: Case):  # type: ignore[no-untyped-def]
    library = get_guides()
    category, level = case.report.category, case.report.risk_level
    return library.for_case(category, level, "de"), library.for_case(category, level)


def test_the_case_page_shows_the_german_guide_marked_as_german(app, org):
    case = _german_case(org)
    german, english = _guides(case)
    html = signed_in(app, "leader3@demo.defuse").get(f"/cases/{case.id}").get_data(as_text=True)
    assert 'aria-labelledby="guide-heading" lang="de"' in html
    assert escape(german.title) in html and escape(english.title) not in html
    assert escape(german.steps().__next__().text) in html
    assert "<legend>Zuwenden</legend>" in html and "<legend>Attending</legend>" not in html
    assert f"({german.version}, Deutsch (German))" in html


def test_the_api_gives_the_guide_language_and_german_steps(client, org):
    case = _german_case(org)
    german, _english = _guides(case)
    headers = bearer(org.staff["leader3"])
    body = client.get(f"{API}/{case.id}", headers=headers).get_json()
    assert (body["guide_id"], body["guide_version"], body["guide_language"]) == (
        german.guide_id,
        german.version,
        "de",
    )
    listed = client.get(API, headers=headers).get_json()["cases"]
    assert [item["guide_language"] for item in listed if item["id"] == case.id] == ["de"]

    progress = client.get(f"{API}/{case.id}/guide", headers=headers).get_json()
    assert (progress["language"], progress["version"], progress["title"]) == (
        "de",
        german.version,
        german.title,
    )
    assert [step["text"] for step in progress["steps"]] == [s.text for s in german.steps()]
    assert progress["steps"][0]["section"] == "Zuwenden"
    # the keys are the English ones, so ticking works the same in every language
    key = progress["steps"][0]["key"]
    ticked = client.post(
        f"{API}/{case.id}/guide", json={"step": key, "ticked": True}, headers=headers
    )
    assert ticked.status_code == 200 and ticked.get_json()["ticked"] == 1


def test_an_old_case_without_a_language_shows_english_everywhere(app, client, org):
    case = _german_case(org)
    case.guide_language = None  # as routed before languages were recorded
    db.session.commit()
    _german, english = _guides(case)
    headers = bearer(org.staff["leader3"])
    assert client.get(f"{API}/{case.id}", headers=headers).get_json()["guide_language"] == "en"
    assert client.get(f"{API}/{case.id}/guide", headers=headers).get_json()["language"] == "en"
    html = signed_in(app, "leader3@demo.defuse").get(f"/cases/{case.id}").get_data(as_text=True)
    assert 'aria-labelledby="guide-heading" lang="en"' in html
    assert escape(english.title) in html and "<legend>Attending</legend>" in html


def test_a_case_nobody_can_take_gets_the_english_guide(app, client, org):
    from tests.cases.support import submit

    app.config["DEFUSE"] = app.config["DEFUSE"].replace(routing_fallback_languages=())
    _speaking(org, {})  # nobody speaks German, and there is no fallback
    case, _ = submit(org, language="de", text=GERMAN)
    db.session.refresh(case)
    assert case.routing_state == "unassigned" and case.guide_language == "en"
    body = client.get(f"{API}/{case.id}", headers=bearer(org.staff["lead"])).get_json()
    assert body["guide_language"] == "en"
