"""Which trained model is live, and the gate a candidate must pass to become live.

`defuse model train` only ever writes a candidate (models/escalation/<n>/). The live one is
named in models/escalation/ACTIVE, which only `promote` writes, and only when the candidate
is no worse than the active model on the frozen test split: ROC AUC, and recall at high or
above, each compared by a paired bootstrap over the same reports. A higher version number
never makes a model live by itself.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from service.classifier.artifact import METADATA_FILE, MODEL_FILE, MODEL_NAME
from service.classifier.data import LabelledReport, read_labelled_dir
from service.classifier.load import load_model
from service.classifier.metrics import PairedComparison, paired_bootstrap
from service.classifier.model import EscalationModel
from service.engine.risk import LevelThresholds, RiskEngine
from service.engine.rules import RuleSet
from service.vocab import level_rank

ACTIVE_FILE = "ACTIVE"


class PromotionError(RuntimeError):
    """The candidate cannot be compared (missing, unreadable, no test split)."""


def active_version(models_dir: Path, name: str = MODEL_NAME) -> str | None:
    """The version named in models/<name>/ACTIVE, or None when nothing has been promoted."""
    try:
        version = (models_dir / name / ACTIVE_FILE).read_text("utf-8").strip()
    except FileNotFoundError:
        return None
    return version or None


def active_model_dir(models_dir: Path, name: str = MODEL_NAME) -> Path | None:
    """The live artifact's directory, or None (then the engine scores with rules only)."""
    version = active_version(models_dir, name)
    if version is None:
        return None
    path = models_dir / name / version
    if not ((path / MODEL_FILE).is_file() and (path / METADATA_FILE).is_file()):
        raise PromotionError(f"{models_dir / name / ACTIVE_FILE} names {version}, which is missing")
    return path


def set_active(models_dir: Path, version: str, name: str = MODEL_NAME) -> None:
    """Point ACTIVE at `version` atomically (a reader sees the old or the new name, never half)."""
    pointer = models_dir / name / ACTIVE_FILE
    temporary = pointer.with_suffix(".tmp")
    temporary.write_text(version + "\n", "utf-8")
    os.replace(temporary, pointer)


def model_thresholds(model: EscalationModel) -> LevelThresholds:
    """The level thresholds chosen for a model at training time (defaults if it has none)."""
    stored = model.metadata.get("level_thresholds")
    return LevelThresholds(**stored) if stored else LevelThresholds()


@dataclass(frozen=True, slots=True)
class PromotionDecision:
    candidate: str
    active: str | None
    comparisons: list[PairedComparison]
    accepted: bool
    reason: str


def compare_for_promotion(
    models_dir: Path,
    candidate_version: str,
    rules: RuleSet,
    test_dir: Path,
    *,
    resamples: int = 2000,
) -> PromotionDecision:
    """Score the frozen test split with the active model and the candidate (each with its own
    thresholds) and decide whether the candidate may go live."""
    root = models_dir / MODEL_NAME
    candidate_dir = root / candidate_version
    if not (candidate_dir / MODEL_FILE).is_file():
        raise PromotionError(f"no candidate at {candidate_dir}")
    try:
        reports = read_labelled_dir(test_dir)
    except ValueError as error:
        raise PromotionError(f"the frozen test split cannot be read: {error}") from None
    candidate = load_model(candidate_dir)
    current = active_version(models_dir)
    if current == candidate_version:
        return PromotionDecision(candidate_version, current, [], False, "it is already active")
    if current is None:
        return PromotionDecision(
            candidate_version, None, [], True, "no model is active yet; the candidate goes live"
        )
    active = load_model(root / current)
    labels = [int(r.escalated) for r in reports]
    active_scores, active_flags = _score(reports, active, rules)
    candidate_scores, candidate_flags = _score(reports, candidate, rules)
    comparisons = [
        paired_bootstrap(labels, "roc_auc", active_scores, candidate_scores, resamples=resamples),
        paired_bootstrap(labels, "recall", active_flags, candidate_flags, resamples=resamples),
    ]
    worse = [c for c in comparisons if c.worse]
    if worse:
        reason = "; ".join(
            f"{c.metric} {c.candidate:.4f} against {c.active:.4f}: worse in "
            f"{c.share_worse:.0%} of paired bootstrap resamples"
            for c in worse
        )
        return PromotionDecision(candidate_version, current, comparisons, False, reason)
    return PromotionDecision(
        candidate_version, current, comparisons, True, "no worse on ROC AUC or recall"
    )


def _score(
    reports: list[LabelledReport], model: EscalationModel, rules: RuleSet
) -> tuple[list[float], list[float]]:
    """Scores and high-or-above flags of the full engine with this model and its thresholds."""
    engine = RiskEngine(rules, model, model_thresholds(model), hotspot_boost=0.0)
    high = level_rank("high")
    scores, flags = [], []
    for report in reports:
        result = engine.assess(report.facts)
        scores.append(result.score)
        flags.append(1.0 if level_rank(result.level) >= high else 0.0)
    return scores, flags
