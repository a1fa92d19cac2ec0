"""The report's language read from its text: chosen for scrubbing, scoring and routing when
the detector is sure, recorded beside the form's choice."""

from __future__ import annotations

from sqlalchemy import select

from service.db import Case, Report
from service.engine.language import MIN_WORDS, choose_language, detect
from service.extensions import db
from tests.factories import report_payload

GERMAN_THREAT = (
    "Mein Vorgesetzter hat gedroht, mich zu entlassen, wenn ich mich noch einmal beschwere"
)


def test_a_german_text_chosen_as_english_is_treated_as_german():
    choice = choose_language(GERMAN_THREAT, "en")
    assert (choice.language, choice.form_language, choice.detected) == ("de", "en", "de")
    assert choice.overridden and choice.confidence >= 0.6


def test_a_text_in_the_chosen_language_keeps_it():
    choice = choose_language("Mon responsable me crie dessus devant toute l'équipe.", "fr")
    assert (choice.language, choice.detected, choice.overridden) == ("fr", "fr", False)


def test_a_short_text_keeps_the_form_choice():
    words = ["Er", "schreit", "ständig"]
    assert len(words) == MIN_WORDS - 1
    assert choose_language(" ".join(words), "fr").language == "fr"
    assert detect(" ".join(words)) == (None, 0.0)
    # One word more and the text is read.
    assert detect("Er schreit mich ständig an")[0] == "de"


def test_a_language_that_is_not_offered_is_recorded_but_routing_keeps_the_form_choice():
    choice = choose_language("Мой начальник кричит на меня каждый день при всех.", "pl")
    assert (choice.language, choice.detected) == ("pl", "ru")


def test_an_unknown_form_choice_falls_back_to_english():
    assert choose_language("ok", "xx").language == "en"


def test_intake_stores_the_detected_language_and_scores_by_it(client, org):
    payload = report_payload(org, text=GERMAN_THREAT, language="en", category="management")
    response = client.post("/api/v1/reports", json=payload)
    assert response.status_code == 201, response.get_json()
    report = db.session.get(Report, response.get_json()["id"])
    assert (report.language, report.form_language, report.detected_language) == ("de", "en", "de")
    # Scored in German: the German term list of the job-threat rule fired.
    fired = [rule["id"] for rule in report.risk_explanation["rules"]]
    assert "power-003" in fired
    assert report.risk_level in ("moderate", "high", "critical")
    # Routing reads the case's language from the report.
    case = db.session.execute(select(Case).where(Case.report_id == report.id)).scalar_one()
    assert case.report.language == "de"


def test_an_english_report_is_unchanged(client, org):
    text = "My manager shouts at me in front of the whole team every single week."
    response = client.post("/api/v1/reports", json=report_payload(org, text=text))
    report = db.session.get(Report, response.get_json()["id"])
    assert (report.language, report.form_language, report.detected_language) == ("en", "en", "en")
