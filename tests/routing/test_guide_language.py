"""The guide's language, recorded on the case when routing assigns it: the report's language if
the leader speaks it and a guide exists in it, else the leader's first with a guide, else
English. It stays as recorded when the leader's languages change later; reassignment chooses
again for the new leader."""

from __future__ import annotations

from sqlalchemy import select

from service.cases import service as cases
from service.db import Case, User
from service.extensions import db
from service.guides import get_guides
from tests.cases.support import submit

GERMAN = "Mein Chef schreit mich jeden Tag vor dem ganzen Team an und niemand sagt etwas."


def _speaking(org, languages_of: dict[str, list[str]]) -> None:  # type: ignore[no-untyped-def]
    """Every Trust Leader and lead speaks English only, except those named."""
    for user in db.session.execute(
        select(User).where(User.role.in_(["trust_leader", "lead"]))
    ).scalars():
        user.languages = ["en"]
    for name, languages in languages_of.items():
        org.staff[name].languages = languages
    db.session.commit()


def _routed(org, **overrides) -> Case:  # type: ignore[no-untyped-def]
    case, _ = submit(org, **overrides)
    db.session.refresh(case)
    assert case.routing_state == "assigned"
    return case


def test_a_german_speaker_gets_a_german_report_with_the_german_guide(app, org):
    _speaking(org, {"leader3": ["en", "de"]})
    case = _routed(org, language="de", text=GERMAN)
    assert case.assignee_id == org.staff["leader3"].id
    assert case.guide_language == "de"
    german = get_guides().for_case(case.report.category, case.report.risk_level, "de")
    assert (case.guide_id, case.guide_version) == (german.guide_id, german.version)
    assert cases.guide_for(case).title == german.title


def test_a_leader_speaking_only_english_gets_english(app, org):
    _speaking(org, {})
    case = _routed(org, language="de", text=GERMAN)
    assert case.needs_language == "de"  # the fallback took it to an English speaker
    assert case.guide_language == "en"
    english = get_guides().for_case(case.report.category, case.report.risk_level)
    assert case.guide_version == english.version
    assert cases.guide_for(case).title == english.title


def test_an_english_report_stays_english_for_a_german_speaker(app, org):
    _speaking(org, {name: ["de", "en"] for name in ("leader", "leader2", "leader3", "leader4")})
    case = _routed(org)
    assert case.guide_language == "en"


def test_a_german_speaking_leader_gets_german_for_a_language_with_no_guide(app, org):
    # A Polish report and a leader who speaks Polish and German: no Polish guide, so German.
    _speaking(org, {"leader3": ["pl", "de", "en"]})
    polish = "Mój kierownik krzyczy na mnie codziennie przy całym zespole i nikt nie reaguje."
    case = _routed(org, language="pl", text=polish)
    assert case.assignee_id == org.staff["leader3"].id
    assert case.guide_language == "de"


def test_the_recorded_language_survives_a_change_of_the_leaders_languages(app, org):
    _speaking(org, {"leader3": ["en", "de"]})
    case = _routed(org, language="de", text=GERMAN)
    version = case.guide_version
    org.staff["leader3"].languages = ["en"]
    db.session.commit()
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert (case.guide_language, case.guide_version) == ("de", version)
    assert cases.guide_for(case).language == "de"


def test_reassignment_chooses_the_language_again(app, org):
    _speaking(org, {"leader3": ["en", "de"]})
    case = _routed(org, language="de", text=GERMAN)
    assert case.guide_language == "de"
    english_speaker = next(
        user
        for name, user in org.staff.items()
        if name.startswith("leader") and user.id != case.assignee_id
    )
    cases.reassign(org.staff["lead"], case, english_speaker.id, override_reason="Back-up.")
    assert case.assignee_id == english_speaker.id
    english = get_guides().for_case(case.report.category, case.report.risk_level)
    assert (case.guide_language, case.guide_version) == ("en", english.version)

    cases.reassign(org.staff["lead"], case, org.staff["leader3"].id)
    assert case.guide_language == "de"


def test_an_old_case_without_a_language_shows_english(app, org):
    _speaking(org, {"leader3": ["en", "de"]})
    case = _routed(org, language="de", text=GERMAN)
    case.guide_language = None  # as cases routed before languages were recorded
    db.session.commit()
    assert cases.guide_for(case).language == "en"
