"""The combined score: rules + classifier, levels, forced levels, hotspots, explanations."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from service.classifier.load import load_model
from service.classifier.registry import active_model_dir
from service.engine.facts import ReportFacts
from service.engine.risk import (
    LevelThresholds,
    ModelPrediction,
    RiskEngine,
    RiskModel,
    ScoreTuning,
    logistic,
    logit,
)
from service.engine.rules import RuleSet

from .helpers import RULES_DIR, facts

MODELS_DIR = RULES_DIR.parent / "models"


@dataclass
class FakeModel:
    """A model with a fixed probability that 'knows' (has fitted weights for) some rules."""

    probability: float
    top_terms: list[tuple[str, float]] = field(default_factory=lambda: [("lawyer", 0.8)])
    version: str = "fake-1.0"
    calls: int = 0
    known_rules: dict[str, float] = field(default_factory=dict)
    seen_rules: list[list[str]] = field(default_factory=list)

    def predict(self, report: ReportFacts, fired_rules: Sequence[str] = ()) -> ModelPrediction:
        self.calls += 1
        self.seen_rules.append(list(fired_rules))
        known = {r: self.known_rules[r] for r in fired_rules if r in self.known_rules}
        return ModelPrediction(self.probability, list(self.top_terms), known)


@dataclass
class BatchModel(FakeModel):
    batches: list[int] = field(default_factory=list)

    def predict_many(
        self, reports: Sequence[ReportFacts], fired_rules: Sequence[Sequence[str]]
    ) -> list[ModelPrediction]:
        self.batches.append(len(reports))
        return [ModelPrediction(self.probability, []) for _ in reports]


NOISY_OFFICE = facts(
    "The open-plan office is so noisy in the afternoons that I can't concentrate. "
    "People take calls at their desks on speaker.",
    category="other",
    desired_outcome="be_heard",
    duration="weeks",
)


THREAT = facts(
    "My manager said that if I complain again I will be let go. I have spoken to a lawyer "
    "and will take this to a tribunal.",
    category="retaliation",
    desired_outcome="formal_action",
    duration="months",
)


def test_the_shipped_model_is_what_the_engine_scores_with(shipped_rules: RuleSet) -> None:
    """The real classifier (not the fake the other tests use) satisfies the protocol, and the
    engine's score follows its probability: an account it finds more alarming scores higher,
    and the assessment names the model version that made it."""
    model_dir = active_model_dir(MODELS_DIR)
    assert model_dir is not None, "no active model"
    model = load_model(model_dir)
    assert isinstance(model, RiskModel)
    engine = RiskEngine(shipped_rules, model)
    calm = engine.assess(NOISY_OFFICE)
    alarming = engine.assess(THREAT)
    assert calm.model_version == alarming.model_version == str(model.version)
    calm_p = model.predict(NOISY_OFFICE).probability
    alarming_p = model.predict(THREAT).probability
    assert 0 <= calm_p < alarming_p <= 1
    assert calm.score < alarming.score
    assert calm.explanation["base"]["source"] == "model"


class TestThresholds:
    def test_defaults_ascend(self) -> None:
        t = LevelThresholds()
        assert 0 < t.moderate < t.high < t.critical < 1

    @pytest.mark.parametrize(
        "values",
        [(0.6, 0.3, 0.9), (0.3, 0.3, 0.9), (0.0, 0.5, 0.9), (0.3, 0.6, 1.0), (math.nan, 0.6, 0.9)],
    )
    def test_invalid_thresholds_are_refused(self, values: tuple[float, float, float]) -> None:
        with pytest.raises(ValueError, match="thresholds"):
            LevelThresholds(*values)

    def test_level_for(self) -> None:
        t = LevelThresholds(0.3, 0.6, 0.9)
        assert [t.level_for(s) for s in (0.0, 0.29, 0.3, 0.6, 0.899, 0.9, 1.0)] == [
            "low",
            "low",
            "moderate",
            "high",
            "high",
            "critical",
            "critical",
        ]


def test_logistic_and_logit_are_safe_at_the_edges() -> None:
    assert logistic(10_000) == 1.0 and logistic(-10_000) == 0.0
    assert logistic(0) == 0.5
    assert math.isfinite(logit(0.0)) and math.isfinite(logit(1.0))
    assert logit(0.5) == 0.0
    assert logistic(logit(0.2)) == pytest.approx(0.2)


@pytest.mark.parametrize(
    "text",
    [
        "I want to hurt myself.",
        "I don't want to hurt myself, but some nights I think about it.",
        "He threatened to kill me in the car park.",
        "He punched me in the stockroom.",
    ],
)
def test_safety_forces_critical_whatever_the_model_says(shipped_rules: RuleSet, text: str) -> None:
    engine = RiskEngine(shipped_rules, FakeModel(0.01), LevelThresholds())
    assessment = engine.assess(facts(text, desired_outcome="be_heard"))
    assert assessment.level == "critical"
    assert assessment.score >= engine.thresholds.critical
    forced = assessment.explanation["forced_level"]
    assert forced["level"] == "critical" and forced["by"][0].startswith("safety-")
    assert assessment.explanation["raw_score"] < engine.thresholds.critical


def test_be_heard_noisy_office_is_low(shipped_rules: RuleSet) -> None:
    for model in (None, FakeModel(0.2)):
        assessment = RiskEngine(shipped_rules, model).assess(NOISY_OFFICE)
        assert assessment.level == "low", model
        ids = {rule["id"] for rule in assessment.explanation["rules"]}
        assert "calm-001" in ids
        assert all(rule["weight"] < 1.0 for rule in assessment.explanation["rules"])


def test_rules_alone_when_there_is_no_model(shipped_rules: RuleSet) -> None:
    engine = RiskEngine(shipped_rules, None)
    quiet = engine.assess(facts("Could we move the stand-up to ten?"))
    assert quiet.score == pytest.approx(ScoreTuning().prior, abs=1e-4)
    assert quiet.level == "low"
    assert quiet.model_version is None
    assert quiet.explanation["model"] is None
    assert quiet.explanation["base"]["source"] == "prior"
    loud = engine.assess(
        facts(
            "My manager has shouted at me for months. I have spoken to a solicitor and I'm "
            "thinking of resigning.",
            involved=["my manager"],
            duration="months",
        )
    )
    assert loud.level in ("high", "critical")
    assert loud.score > 0.6


def test_rules_the_model_knows_count_once_with_their_fitted_weight(
    shipped_rules: RuleSet,
) -> None:
    """A model trained with rule features already counts them in its probability: the engine
    must not add their hand-set weight again, and shows the fitted weight instead."""
    model = FakeModel(0.3, known_rules={"legal-001": 0.25})
    text = "I have spoken to a solicitor and he shouts at me."
    assessment = RiskEngine(shipped_rules, model).assess(facts(text))
    rules = {rule["id"]: rule for rule in assessment.explanation["rules"]}
    assert model.seen_rules == [sorted(rules)] or set(model.seen_rules[0]) == set(rules)
    assert rules["legal-001"]["weight"] == 0.25
    assert rules["legal-001"]["weight_source"] == "fitted"
    unknown = [rule for rule in rules.values() if rule["id"] != "legal-001"]
    assert unknown and all(rule["weight_source"] == "rule pack" for rule in unknown)
    hand_set = sum(rule["weight"] for rule in unknown)
    assert assessment.explanation["raw_score"] == pytest.approx(
        logistic(logit(0.3) + hand_set), abs=1e-4
    )


def test_score_combines_model_log_odds_and_rule_weights(shipped_rules: RuleSet) -> None:
    engine = RiskEngine(shipped_rules, FakeModel(0.3))
    assessment = engine.assess(facts("I have spoken to a solicitor."))
    total = sum(rule["weight"] for rule in assessment.explanation["rules"])
    assert total == pytest.approx(1.5)
    assert assessment.explanation["raw_score"] == pytest.approx(
        logistic(logit(0.3) + total), abs=1e-4
    )


def test_tuning_knobs(shipped_rules: RuleSet) -> None:
    text = facts("I have spoken to a solicitor.")
    ignore_rules = RiskEngine(shipped_rules, FakeModel(0.3), tuning=ScoreTuning(rule_weight=0))
    assert ignore_rules.assess(text).explanation["raw_score"] == pytest.approx(0.3, abs=1e-4)
    ignore_model = RiskEngine(shipped_rules, FakeModel(0.9), tuning=ScoreTuning(model_weight=0))
    assert ignore_model.assess(text).explanation["raw_score"] == pytest.approx(
        logistic(1.5), abs=1e-4
    )
    with pytest.raises(ValueError):
        ScoreTuning(prior=1.0)


def test_min_level_lifts_level_and_score(shipped_rules: RuleSet) -> None:
    engine = RiskEngine(shipped_rules, FakeModel(0.01))
    assessment = engine.assess(facts("I will take them to an employment tribunal."))
    assert assessment.level == "high"
    assert assessment.score == engine.thresholds.high
    assert assessment.explanation["forced_level"] == {"level": "high", "by": ["legal-002"]}


def test_a_forced_level_never_lowers_the_score(shipped_rules: RuleSet) -> None:
    engine = RiskEngine(shipped_rules, FakeModel(0.8))
    assessment = engine.assess(facts("I have filed a grievance."))  # forces moderate
    assert assessment.level == "high"
    assert assessment.explanation["forced_level"] is None
    assert assessment.score == assessment.explanation["raw_score"]


def test_hotspot_adds_the_boost_and_says_so(shipped_rules: RuleSet) -> None:
    report = facts("My manager keeps cancelling our one-to-ones.", involved=["my manager"])
    plain = RiskEngine(shipped_rules, None).assess(report)
    boosted = RiskEngine(shipped_rules, None).assess(report, hotspot=True)
    assert boosted.score == pytest.approx(plain.score + 0.1, abs=1e-4)
    assert boosted.explanation["hotspot"] == {"applied": True, "boost": 0.1}
    assert plain.explanation["hotspot"] == {"applied": False, "boost": 0.0}
    custom = RiskEngine(shipped_rules, None, hotspot_boost=0.25).assess(report, hotspot=True)
    assert custom.score == pytest.approx(plain.score + 0.25, abs=1e-4)
    with pytest.raises(ValueError):
        RiskEngine(shipped_rules, None, hotspot_boost=1.5)


def test_hotspot_boost_is_clipped_to_one(shipped_rules: RuleSet) -> None:
    engine = RiskEngine(shipped_rules, FakeModel(0.999))
    assert engine.assess(facts("x"), hotspot=True).score == 1.0


def test_explanation_is_complete_and_json_serialisable(shipped_rules: RuleSet) -> None:
    model = FakeModel(0.4, top_terms=[("tribunal", 0.3), ("solicitor", 1.2), ("lunch", -0.1)])
    assessment = RiskEngine(shipped_rules, model).assess(
        facts("I've spoken to a solicitor.", involved=["my manager"]), hotspot=True
    )
    explanation = json.loads(json.dumps(assessment.explanation))
    assert explanation == assessment.explanation
    rules = {rule["id"]: rule for rule in explanation["rules"]}
    assert rules["legal-001"] == {
        "id": "legal-001",
        "title": "Mentions a lawyer or legal adviser",
        "summary": "Mentions a lawyer or legal adviser",
        "weight": 1.5,
        "weight_source": "rule pack",
        "min_level": "moderate",
        "matched": ["solicitor"],
        "tags": ["signal.legal"],
    }
    assert rules["power-001"]["matched"] == ["involved: my manager"]
    assert explanation["model"]["top_terms"][0] == {"term": "solicitor", "weight": 1.2}
    assert explanation["model"]["version"] == "fake-1.0"
    assert assessment.rule_pack_version == shipped_rules.version
    assert explanation["rule_pack_version"] == shipped_rules.version
    assert assessment.model_version == explanation["model_version"] == "fake-1.0"
    assert explanation["score"] == assessment.score and explanation["level"] == assessment.level


def test_a_model_returning_nan_is_an_error(shipped_rules: RuleSet) -> None:
    with pytest.raises(ValueError, match="finite"):
        RiskEngine(shipped_rules, FakeModel(math.nan)).assess(facts("x"))


def test_assess_many_matches_assess(shipped_rules: RuleSet) -> None:
    reports = [facts("I want to hurt myself."), NOISY_OFFICE, facts("I spoke to a lawyer.")]
    engine = RiskEngine(shipped_rules, FakeModel(0.3))
    many = engine.assess_many(reports, hotspots=[False, True, False])
    single = [
        engine.assess(r, hotspot=h) for r, h in zip(reports, [False, True, False], strict=True)
    ]
    assert many == single
    assert [a.level for a in many][0] == "critical"
    with pytest.raises(ValueError):
        engine.assess_many(reports, hotspots=[True])


def test_assess_many_uses_batch_prediction(shipped_rules: RuleSet) -> None:
    model = BatchModel(0.3)
    results = RiskEngine(shipped_rules, model).assess_many([facts("a"), facts("b")])
    assert model.batches == [2] and model.calls == 0
    assert len(results) == 2


def test_a_hotspot_never_lifts_a_report_into_critical(shipped_rules: RuleSet) -> None:
    """Critical pages the on-call lead: a busy unit raises scores up to just below it."""
    thresholds = LevelThresholds(moderate=0.3, high=0.6, critical=0.9)
    engine = RiskEngine(shipped_rules, FakeModel(0.85), thresholds)
    near = engine.assess(facts("x"), hotspot=True)
    assert near.level == "high" and near.score == 0.8999
    below = RiskEngine(shipped_rules, FakeModel(0.75), thresholds).assess(facts("x"), hotspot=True)
    assert below.score == pytest.approx(0.85, abs=1e-4)  # the full boost where it stays below
    already = RiskEngine(shipped_rules, FakeModel(0.92), thresholds).assess(
        facts("x"), hotspot=True
    )
    assert already.level == "critical" and already.score == pytest.approx(1.0, abs=0.03)
    forced = engine.assess(facts("He threatened to kill me in the car park."), hotspot=True)
    assert forced.level == "critical"  # safety rules still force it
