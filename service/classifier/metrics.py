"""Scores shared by training (cross-validation, held-out files) and `defuse model evaluate`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score


@dataclass(frozen=True, slots=True)
class RankingScores:
    roc_auc: float  # nan when only one class is present
    pr_auc: float  # average precision; nan when there are no positives
    brier: float

    def as_dict(self) -> dict[str, float | None]:
        return {k: _finite_or_none(v) for k, v in asdict(self).items()}


@dataclass(frozen=True, slots=True)
class Confusion:
    """Counts for "escalated" predicted when the probability reaches `threshold`."""

    threshold: float
    true_positives: int
    false_positives: int
    false_negatives: int
    true_negatives: int

    @property
    def precision(self) -> float:
        flagged = self.true_positives + self.false_positives
        return self.true_positives / flagged if flagged else math.nan

    @property
    def recall(self) -> float:
        positives = self.true_positives + self.false_negatives
        return self.true_positives / positives if positives else math.nan

    def as_dict(self) -> dict[str, float | int | None]:
        return {
            **asdict(self),
            "precision": _finite_or_none(self.precision),
            "recall": _finite_or_none(self.recall),
        }


def ranking_scores(labels: Sequence[int], probabilities: Sequence[float]) -> RankingScores:
    y = np.asarray(labels, dtype=int)
    p = np.asarray(probabilities, dtype=float)
    both_classes = 0 < y.sum() < len(y)
    return RankingScores(
        roc_auc=float(roc_auc_score(y, p)) if both_classes else math.nan,
        pr_auc=float(average_precision_score(y, p)) if y.sum() > 0 else math.nan,
        brier=float(brier_score_loss(y, p)) if len(y) else math.nan,
    )


def confusion(labels: Sequence[int], flagged: Sequence[bool], threshold: float) -> Confusion:
    y = np.asarray(labels, dtype=bool)
    f = np.asarray(flagged, dtype=bool)
    return Confusion(
        threshold=threshold,
        true_positives=int(np.sum(y & f)),
        false_positives=int(np.sum(~y & f)),
        false_negatives=int(np.sum(y & ~f)),
        true_negatives=int(np.sum(~y & ~f)),
    )


def confusion_at(
    labels: Sequence[int], probabilities: Sequence[float], threshold: float
) -> Confusion:
    return confusion(labels, np.asarray(probabilities) >= threshold, threshold)


def _finite_or_none(value: float) -> float | None:
    """JSON has no NaN: undefined metrics are written as null."""
    return round(float(value), 4) if math.isfinite(value) else None


def describe_predictions(
    labels: Sequence[int],
    probabilities: Sequence[float],
    categories: Sequence[str],
    thresholds: dict[str, float],
) -> dict[str, object]:
    """Everything the model card and metadata report about one set of predictions."""
    y = np.asarray(labels, dtype=int)
    p = np.asarray(probabilities, dtype=float)
    cats = np.asarray(categories, dtype=object)
    per_category: dict[str, object] = {}
    for category in sorted(set(categories)):
        mask = cats == category
        per_category[category] = {
            "n": int(mask.sum()),
            "escalated": int(y[mask].sum()),
            "recall": {
                level: _finite_or_none(confusion_at(y[mask], p[mask], t).recall)
                for level, t in thresholds.items()
            },
        }
    return {
        "n": len(y),
        "escalated": int(y.sum()),
        **ranking_scores(y, p).as_dict(),
        "levels": {level: confusion_at(y, p, t).as_dict() for level, t in thresholds.items()},
        "per_category": per_category,
    }


def bootstrap_roc_auc_interval(
    labels: Sequence[int],
    scores: Sequence[float],
    *,
    resamples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of the ROC AUC (reports resampled with replacement;
    resamples holding one class only are skipped). (nan, nan) when the AUC is undefined."""
    y = np.asarray(labels, dtype=int)
    s = np.asarray(scores, dtype=float)
    if not 0 < y.sum() < len(y):
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(resamples):
        pick = rng.integers(0, len(y), len(y))
        if 0 < y[pick].sum() < len(pick):
            values.append(roc_auc_score(y[pick], s[pick]))
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


@dataclass(frozen=True, slots=True)
class PairedComparison:
    """Candidate minus active on the same reports, over paired bootstrap resamples."""

    metric: str
    active: float
    candidate: float
    difference_low: float  # 2.5th percentile of (candidate - active)
    difference_high: float  # 97.5th percentile
    share_worse: float  # share of resamples in which the candidate is worse

    @property
    def worse(self) -> bool:
        """The candidate loses in most resamples: it is more likely worse than not."""
        return self.share_worse > 0.5


def paired_bootstrap(
    labels: Sequence[int],
    metric: str,
    active: Sequence[float],
    candidate: Sequence[float],
    *,
    resamples: int = 2000,
    seed: int = 0,
) -> PairedComparison:
    """Compare two sets of per-report values on the same reports by resampling reports.

    `metric` is "roc_auc" (values are scores) or "recall" (values are 1/0 flags: flagged at
    high or above)."""
    y = np.asarray(labels, dtype=int)
    a = np.asarray(active, dtype=float)
    c = np.asarray(candidate, dtype=float)

    def measure(pick: np.ndarray, values: np.ndarray) -> float:
        if metric == "roc_auc":
            return float(roc_auc_score(y[pick], values[pick]))
        positives = y[pick] == 1
        return float(values[pick][positives].mean())

    every = np.arange(len(y))
    rng = np.random.default_rng(seed)
    differences = []
    for _ in range(resamples):
        pick = rng.integers(0, len(y), len(y))
        if 0 < y[pick].sum() < len(pick):
            differences.append(measure(pick, c) - measure(pick, a))
    diffs = np.asarray(differences)
    low, high = np.percentile(diffs, [2.5, 97.5])
    return PairedComparison(
        metric=metric,
        active=measure(every, a),
        candidate=measure(every, c),
        difference_low=float(low),
        difference_high=float(high),
        share_worse=float(np.mean(diffs < 0)),
    )
