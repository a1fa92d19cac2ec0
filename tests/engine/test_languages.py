"""Rules in every offered language: per-language word lists, text folding (accents, German
umlauts and compounds, French and Italian elision), per-language examples, and the shipped
packs scoring non-English reports through the real engine and the active model."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.engine.errors import RulePackError
from service.engine.rules import load_rule_set
from service.engine.text import normalise, tokenize

from .helpers import PACK_HEADER, facts, fires, matched, write_pack

PER_LANGUAGE_RULE = """\
  - id: test-001
    title: A test rule
    description: Used by the engine tests.
    status: stable
    weight: 1.0
    {min_level}
    condition:
      words:
        en: [threaten to fire]
        de: [kündigung angedroht, drohung, mobbing*]
        fr: [envie d'en finir, menacé de me licencier]
      {except_}
    examples:
      match:
        en: [He threatened to fire me., They threatened to fire us.]
        de: [Mir wurde die Kündigung angedroht., Das ist eine Drohung.]
        fr: [J'ai envie d'en finir., Il m'a menacé de me licencier.]
      no_match:
        en: [Nothing here., Still nothing.]
        de: [Nichts hier., Immer noch nichts.]
        fr: {fr_no_match}
"""


def _pack(tmp_path: Path, min_level: str = "", except_: str = "", fr_no_match: str = ""):
    body = PACK_HEADER + PER_LANGUAGE_RULE.format(
        min_level=min_level,
        except_=except_,
        fr_no_match=fr_no_match or "[Rien ici., Toujours rien.]",
    )
    write_pack(tmp_path / "rules", body)
    return load_rule_set(tmp_path / "rules")


def test_each_language_list_reads_only_reports_in_that_language(tmp_path):
    rules = _pack(tmp_path)
    assert fires(rules, "Mir wurde die Kündigung angedroht.", language="de")
    assert not fires(rules, "Mir wurde die Kündigung angedroht.", language="fr")
    assert not fires(rules, "He threatened to fire me.", language="de")
    assert fires(rules, "He threatened to fire me.", language="en")
    # A language the rule has no list for never fires it.
    assert not fires(rules, "Mir wurde die Kündigung angedroht.", language="pl")


def test_umlauts_typed_either_way_and_accents_dropped_still_match(tmp_path):
    rules = _pack(tmp_path)
    assert fires(rules, "Mir wurde die Kuendigung angedroht.", language="de")
    assert fires(rules, "Il m'a menace de me licencier.", language="fr")
    assert fires(rules, "IL M’A MENACÉ DE ME LICENCIER", language="fr")
    assert normalise("Straße Über", "de") == "strasse ueber"
    assert normalise("Łódź naïve", "pl") == "lodz naive"


def test_french_elision_reads_the_same_with_either_apostrophe(tmp_path):
    rules = _pack(tmp_path)
    assert fires(rules, "J’ai envie d’en finir.", language="fr")
    assert tokenize(normalise("j'ai l'impression", "fr"), "fr") == ["j", "ai", "l", "impression"]
    # English keeps its contractions whole, and so does "aujourd'hui".
    assert tokenize(normalise("don't", "en"), "en") == ["don't"]
    assert tokenize(normalise("aujourd'hui", "fr"), "fr") == ["aujourd'hui"]


def test_german_compounds_match_on_their_last_part(tmp_path):
    rules = _pack(tmp_path)
    assert matched(rules, "Das war eine Kündigungsdrohung.", language="de") == [
        "kuendigungsdrohung"
    ]
    assert fires(rules, "Seit Monaten Dauermobbing im Lager.", language="de")
    # The head must be a real part (three letters or more): "Androhung" is no compound of it.
    assert not fires(rules, "Eine Androhung.", language="de")
    # Only compounding languages split: a French list never matches inside a word.
    assert not fires(rules, "Il m'a menacé de me licencierX.", language="fr")


def test_an_except_cancels_only_in_its_own_language(tmp_path):
    rules = _pack(
        tmp_path,
        except_="except:\n        fr: [envie d'en finir avec]",
        fr_no_match="[J'ai envie d'en finir avec ce dossier., Rien ici.]",
    )
    assert not fires(rules, "J'ai envie d'en finir avec ce dossier.", language="fr")
    assert fires(rules, "J'ai envie d'en finir.", language="fr")


def test_a_language_without_its_own_examples_is_refused(tmp_path):
    body = PACK_HEADER + PER_LANGUAGE_RULE.format(
        min_level="", except_="", fr_no_match="[Rien ici.]"
    )
    write_pack(tmp_path / "rules", body)
    with pytest.raises(RulePackError, match="needs at least 2 examples in 'fr', has 1"):
        load_rule_set(tmp_path / "rules")


def test_a_critical_rule_needs_five_match_examples_per_language(tmp_path):
    with pytest.raises(RulePackError, match=r"at least 5 examples in 'de' \(the rule forces"):
        _pack(tmp_path, min_level="min_level: critical")


def test_an_unknown_language_key_is_refused(tmp_path):
    body = PACK_HEADER + PER_LANGUAGE_RULE.replace("fr: [envie", "xx: [envie").format(
        min_level="", except_="", fr_no_match="[Rien ici., Toujours rien.]"
    )
    write_pack(tmp_path / "rules", body)
    with pytest.raises(RulePackError, match="words.xx"):
        load_rule_set(tmp_path / "rules")


def test_negation_is_read_in_the_report_language(tmp_path):
    rules = _pack(tmp_path)
    assert not fires(rules, "Man hat mir nie die Kündigung angedroht.", language="de")
    assert not fires(rules, "Il ne m'a jamais menacé de me licencier.", language="fr")
    # A German clause word ends the reach of the cue.
    assert fires(
        rules, "Ich war nicht krank, aber mir wurde die Kündigung angedroht.", language="de"
    )


SAFETY_RULES = ("safety-001", "safety-002", "safety-003", "safety-004")


@pytest.mark.parametrize("language", ["en", "de", "fr", "es", "nl", "pl", "it", "pt"])
def test_every_offered_language_has_safety_rules_with_five_examples(shipped_rules, language):
    for rule_id in SAFETY_RULES:
        rule = shipped_rules.rule(rule_id)
        assert rule.min_level == "critical"
        in_language = [e for e in rule.match_examples if e.facts.language == language]
        assert len(in_language) >= 5, (rule_id, language)
        no_match = [e for e in rule.no_match_examples if e.facts.language == language]
        assert len(no_match) >= 2, (rule_id, language)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("de", "Ich will nicht mehr leben."),
        ("fr", "J'ai envie d'en finir."),
        ("es", "No quiero seguir viviendo."),
        ("nl", "Ik wil niet meer leven."),
        ("pl", "Nie chcę już żyć."),
        ("it", "Non voglio più vivere."),
        ("pt", "Não quero mais viver."),
        ("pt", "Nao quero mais viver."),
    ],
)
def test_idiomatic_self_harm_disclosures_force_critical(risk_engine, language, text):
    assessment = risk_engine.assess(facts(text, language=language))
    assert assessment.level == "critical"
    assert "safety-001" in [rule["id"] for rule in assessment.explanation["rules"]]


@pytest.fixture(scope="module")
def risk_engine():
    from service import create_app
    from service.scoring import get_risk_engine

    app = create_app()
    with app.app_context():
        yield get_risk_engine()


def test_the_german_dismissal_threat_scores_moderate_or_above(risk_engine):
    text = "Mein Vorgesetzter hat gedroht, mich zu entlassen, wenn ich mich noch einmal beschwere"
    assessment = risk_engine.assess(facts(text, category="management", language="de"))
    assert assessment.level in ("moderate", "high", "critical")
    assert "power-003" in [rule["id"] for rule in assessment.explanation["rules"]]
    # The English classifier did not read it: the score says it rests on the rules.
    assert assessment.explanation["signals"]["reduced"] is True
    assert assessment.explanation["base"]["source"] == "prior"


def test_the_french_sexual_comments_and_dismissal_threat_score_moderate_or_above(risk_engine):
    text = (
        "Mon responsable me fait des commentaires sexuels sur mon corps et il m'a menacé "
        "de me licencier si j'en parle."
    )
    assessment = risk_engine.assess(facts(text, category="harassment", language="fr"))
    fired = [rule["id"] for rule in assessment.explanation["rules"]]
    assert {"power-003", "protected-003"} <= set(fired)
    assert assessment.level in ("moderate", "high", "critical")


def test_an_english_report_is_still_scored_by_the_classifier(risk_engine):
    text = "My manager threatened to dismiss me if I complain again"
    assessment = risk_engine.assess(facts(text, category="management", language="en"))
    assert assessment.explanation["base"]["source"] == "model"
    assert assessment.explanation["signals"]["reduced"] is False
