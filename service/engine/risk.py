"""One explained risk score per report, from the rule packs and the classifier.

How the score is made (every knob is in ScoreTuning, LevelThresholds or `hotspot_boost`):

0. Languages. The classifier reads words, so it only scores text in a language it was trained
   on (the model's `languages`, English for every model so far). For any other language the
   report is scored as if there were no model: the prior plus every fired rule's hand-set
   weight, with rules that read that language. The explanation says so under `signals`, and
   the case page shows that the score rests on fewer signals.
1. With a model: the classifier's calibrated probability p of escalation. The model was
   trained with the fired rules as features (escalation/3 on), so p already counts every rule
   it knows, each with the weight fitted on labelled reports (shown in the explanation as
   `weight`, `weight_source: "fitted"`). Base log-odds: ``model_weight * logit(p)``, with p
   clipped to [1e-4, 1 - 1e-4]. Without a model: ``logit(prior)`` (prior 0.1 by default).
2. Rules the model does not know (a rule written after it was trained, or every rule when
   there is no model) add their hand-set YAML `weight` as a log-odds nudge
   (`weight_source: "rule pack"`): weight 1.0 multiplies the odds by e, -0.7 roughly halves
   them. Their sum, times ``rule_weight``, is added together with ``intercept``.
3. ``raw_score = logistic(intercept + base + rule_weight * sum(hand-set weights))``.
4. Hotspot. When the report's org unit has improbably many reports for its headcount and its
   own history (the hotspot model, service/engine/hotspots.py; the caller decides and passes
   ``hotspot=True``), ``hotspot_boost`` is added to the score, which is then clipped to [0, 1]
   and kept below the critical threshold (a busy unit never pages the on-call lead by itself).
5. Level. The highest of: the level the score reaches under LevelThresholds (chosen on
   validation data at training time and stored with the model), and every ``min_level``
   forced by a fired rule (safety rules force "critical"). When a rule forces a level above
   what the score reached, the score is raised to that level's threshold, so that sorting by
   score and sorting by level agree; ``raw_score`` keeps the unforced figure.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

from service.engine.conditions import report_language
from service.engine.facts import ReportFacts
from service.engine.rules import RuleHit, RuleSet
from service.vocab import level_rank

PROBABILITY_CLIP = 1e-4
MAX_MODEL_TERMS = 8
_DECIMALS = 4


@dataclass(frozen=True, slots=True)
class ModelPrediction:
    """The classifier's probability of escalation, its strongest terms (term, contribution), and
    the fitted weight of each fired rule the model knows (already inside `probability`)."""

    probability: float
    top_terms: list[tuple[str, float]] = field(default_factory=list)
    rule_weights: dict[str, float] = field(default_factory=dict)


@runtime_checkable
class RiskModel(Protocol):
    """What the engine needs from a classifier (implemented in service/classifier/)."""

    version: str

    def predict(self, facts: ReportFacts, fired_rules: Sequence[str] = ()) -> ModelPrediction: ...


def model_languages(model: RiskModel) -> frozenset[str]:
    """The languages a model may score; a model that does not say was trained on English."""
    return frozenset(getattr(model, "languages", None) or {"en"})


@dataclass(frozen=True, slots=True)
class LevelThresholds:
    """Lowest score of each level; below `moderate` is low. Must ascend strictly within (0, 1)."""

    moderate: float = 0.3
    high: float = 0.6
    critical: float = 0.97  # reached mostly through forced levels (safety rules)

    def __post_init__(self) -> None:
        values = (self.moderate, self.high, self.critical)
        if not all(isinstance(v, int | float) and math.isfinite(v) for v in values):
            raise ValueError("level thresholds must be finite numbers")
        if not 0 < self.moderate < self.high < self.critical < 1:
            raise ValueError(
                "level thresholds must ascend within (0, 1): 0 < moderate < high < critical < 1"
            )

    def level_for(self, score: float) -> str:
        if score >= self.critical:
            return "critical"
        if score >= self.high:
            return "high"
        if score >= self.moderate:
            return "moderate"
        return "low"

    def floor_of(self, level: str) -> float:
        """The lowest score that reaches `level`."""
        return {"low": 0.0, "moderate": self.moderate, "high": self.high}.get(level, self.critical)


@dataclass(frozen=True, slots=True)
class ScoreTuning:
    """The combination's knobs, in one place (see the module docstring)."""

    prior: float = 0.1  # probability of escalation assumed when there is no model
    intercept: float = 0.0
    model_weight: float = 1.0
    rule_weight: float = 1.0

    def __post_init__(self) -> None:
        if not all(
            math.isfinite(v)
            for v in (self.prior, self.intercept, self.model_weight, self.rule_weight)
        ):
            raise ValueError("score tuning values must be finite")
        if not 0 < self.prior < 1:
            raise ValueError("prior must be a probability strictly between 0 and 1")


@dataclass(frozen=True, slots=True)
class RiskAssessment:
    score: float
    level: str
    explanation: dict[str, Any]  # JSON-serialisable; see RiskEngine.assess
    rule_pack_version: str
    model_version: str | None


def logit(probability: float) -> float:
    p = min(max(probability, PROBABILITY_CLIP), 1 - PROBABILITY_CLIP)
    return math.log(p / (1 - p))


def logistic(log_odds: float) -> float:
    # Written this way round for each sign so that math.exp never overflows.
    if log_odds >= 0:
        return 1 / (1 + math.exp(-log_odds))
    odds = math.exp(log_odds)
    return odds / (1 + odds)


class RiskEngine:
    """Scores reports with the rules and, when given, the classifier (see module docstring)."""

    def __init__(
        self,
        rules: RuleSet,
        model: RiskModel | None,
        thresholds: LevelThresholds | None = None,
        hotspot_boost: float = 0.1,
        *,
        tuning: ScoreTuning | None = None,
    ) -> None:
        if not (isinstance(hotspot_boost, int | float) and 0 <= hotspot_boost <= 1):
            raise ValueError("hotspot_boost must be a number between 0 and 1")
        self.rules = rules
        self.model = model
        self.thresholds = thresholds or LevelThresholds()
        self.hotspot_boost = float(hotspot_boost)
        self.tuning = tuning or ScoreTuning()

    def _with_hotspot(self, raw_score: float) -> float:
        """A hotspot raises the score by `hotspot_boost`, but never into critical: critical
        pages the on-call lead, and a busy unit is an aggregate signal, not one person's
        emergency (a safety rule or the report's own score still reaches it)."""
        boosted = min(1.0, raw_score + self.hotspot_boost)
        if raw_score < self.thresholds.critical:
            boosted = min(boosted, _stays_below(self.thresholds.critical))
        return max(boosted, raw_score)

    @property
    def model_version(self) -> str | None:
        return None if self.model is None else str(self.model.version)

    def model_reads(self, facts: ReportFacts) -> bool:
        """Whether the classifier may score this report: it reads the report's language."""
        return self.model is not None and report_language(facts) in model_languages(self.model)

    def assess(self, facts: ReportFacts, hotspot: bool = False) -> RiskAssessment:
        hits = self.rules.evaluate(facts)
        prediction = (
            self.model.predict(facts, [hit.rule_id for hit in hits])
            if self.model is not None and self.model_reads(facts)
            else None
        )
        return self._combine(hits, prediction, hotspot, facts)

    def assess_many(
        self, reports: Sequence[ReportFacts], hotspots: Sequence[bool] | None = None
    ) -> list[RiskAssessment]:
        """Assess several reports; uses the model's `predict_many` when it has one (faster)."""
        if hotspots is not None and len(hotspots) != len(reports):
            raise ValueError("hotspots must have one flag per report")
        flags = list(hotspots) if hotspots is not None else [False] * len(reports)
        all_hits = [self.rules.evaluate(facts) for facts in reports]
        fired = [[hit.rule_id for hit in hits] for hits in all_hits]
        predictions: list[ModelPrediction | None] = [None] * len(reports)
        readable = [i for i, facts in enumerate(reports) if self.model_reads(facts)]
        if self.model is not None and readable:
            chosen = [reports[i] for i in readable]
            chosen_fired = [fired[i] for i in readable]
            if hasattr(self.model, "predict_many"):
                found = list(self.model.predict_many(chosen, chosen_fired))
            else:
                found = [
                    self.model.predict(f, r) for f, r in zip(chosen, chosen_fired, strict=True)
                ]
            for i, prediction in zip(readable, found, strict=True):
                predictions[i] = prediction
        return [
            self._combine(hits, prediction, flag, facts)
            for hits, prediction, flag, facts in zip(
                all_hits, predictions, flags, reports, strict=True
            )
        ]

    def _combine(
        self,
        hits: list[RuleHit],
        prediction: ModelPrediction | None,
        hotspot: bool,
        facts: ReportFacts | None = None,
    ) -> RiskAssessment:
        tuning = self.tuning
        if prediction is not None:
            base_source, base_probability = "model", float(prediction.probability)
            if not math.isfinite(base_probability):
                raise ValueError("the model returned a probability that is not a finite number")
            base_log_odds = tuning.model_weight * logit(base_probability)
        else:
            base_source, base_probability = "prior", tuning.prior
            base_log_odds = logit(tuning.prior)
        fitted = prediction.rule_weights if prediction is not None else {}
        hand_set_total = sum(hit.weight for hit in hits if hit.rule_id not in fitted)
        log_odds = tuning.intercept + base_log_odds + tuning.rule_weight * hand_set_total
        raw_score = logistic(log_odds)

        score = self._with_hotspot(raw_score) if hotspot else raw_score
        # Rounded before the level is read, so the stored score and level never disagree.
        score = _round(score)
        score_level = self.thresholds.level_for(score)
        forcing = [hit for hit in hits if hit.min_level is not None]
        forced_level = max((str(hit.min_level) for hit in forcing), key=level_rank, default=None)
        level = score_level
        forced = None
        if forced_level is not None and level_rank(forced_level) > level_rank(score_level):
            level = forced_level
            score = max(score, self.thresholds.floor_of(forced_level))
            forced = {
                "level": forced_level,
                "by": [hit.rule_id for hit in forcing if hit.min_level == forced_level],
            }

        explanation = {
            "score": score,
            "level": level,
            "raw_score": _round(raw_score),
            "log_odds": _round(log_odds),
            "base": {
                "source": base_source,
                "probability": _round(base_probability),
                "log_odds": _round(logit(base_probability)),
            },
            "rules": [
                {
                    "id": hit.rule_id,
                    "title": hit.title,
                    "summary": hit.summary or hit.title,
                    "weight": fitted.get(hit.rule_id, hit.weight),
                    "weight_source": "fitted" if hit.rule_id in fitted else "rule pack",
                    "min_level": hit.min_level,
                    "matched": list(hit.matched),
                    "tags": list(hit.tags),
                }
                for hit in hits
            ],
            "rule_weight_total": _round(sum(fitted.get(hit.rule_id, hit.weight) for hit in hits)),
            "model": _model_part(prediction, self.model_version),
            "hotspot": {"applied": bool(hotspot), "boost": self.hotspot_boost if hotspot else 0.0},
            "forced_level": forced,
            "thresholds": asdict(self.thresholds),
            "tuning": asdict(tuning),
            "rule_pack_version": self.rules.version,
            "model_version": self.model_version,
            "signals": self._signals(facts, prediction),
        }
        return RiskAssessment(
            score=score,
            level=level,
            explanation=explanation,
            rule_pack_version=self.rules.version,
            model_version=self.model_version,
        )

    def _signals(
        self, facts: ReportFacts | None, prediction: ModelPrediction | None
    ) -> dict[str, Any]:
        """What the score rests on: "full" (rules and classifier), or "rules only", with why."""
        language = report_language(facts) if facts is not None else None
        if prediction is not None:
            return {"basis": "rules and classifier", "reduced": False, "language": language}
        if self.model is None:
            why = "no classifier is active"
        else:
            why = f"the classifier was not trained on '{language}'"
        return {"basis": "rules only", "reduced": True, "why": why, "language": language}


def _stays_below(limit: float) -> float:
    """The highest stored (rounded) score still below `limit`."""
    return math.floor(limit * 10**_DECIMALS - 1) / 10**_DECIMALS


def _model_part(prediction: ModelPrediction | None, version: str | None) -> dict[str, Any] | None:
    if prediction is None:
        return None
    terms = sorted(prediction.top_terms, key=lambda item: abs(item[1]), reverse=True)
    return {
        "version": version,
        "probability": _round(float(prediction.probability)),
        "top_terms": [
            {"term": str(term), "weight": _round(float(weight))}
            for term, weight in terms[:MAX_MODEL_TERMS]
            if math.isfinite(float(weight))
        ],
    }


def _round(value: float) -> float:
    return round(float(value), _DECIMALS)


__all__ = [
    "LevelThresholds",
    "ModelPrediction",
    "RiskAssessment",
    "RiskEngine",
    "RiskModel",
    "ScoreTuning",
    "logistic",
    "logit",
]
