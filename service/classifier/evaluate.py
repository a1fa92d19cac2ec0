"""`defuse model evaluate --data FILE`: how well the full engine ranks a labelled file.

`assess` is whatever scores a report in production (rules + classifier), returning its
(score, level); this module only reads the file and computes the figures. The last line of
the report is always `roc_auc=<value>` so scripts can read it with `tail -n 1`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from service.classifier.data import read_labelled_file
from service.classifier.metrics import Confusion, confusion, ranking_scores
from service.engine.facts import ReportFacts
from service.vocab import LEVELS, level_rank

Assess = Callable[[ReportFacts], tuple[float, str]]


@dataclass(frozen=True, slots=True)
class EvaluationResult:
    source: str  # file name
    n: int
    positives: int
    roc_auc: float  # nan when the file has only one class
    pr_auc: float
    brier: float
    high_or_above: Confusion  # "escalated" predicted when the level is high or critical
    critical: Confusion


def evaluate_file(path: Path, assess: Assess) -> EvaluationResult:
    """Score every report in a labelled JSONL file (unknown fields ignored) with `assess`."""
    reports = read_labelled_file(path)
    labels = [int(r.escalated) for r in reports]
    scores: list[float] = []
    levels: list[str] = []
    for report in reports:
        score, level = assess(report.facts)
        if level not in LEVELS:
            raise ValueError(f"{report.source}: assess returned an unknown level {level!r}")
        if not (isinstance(score, int | float) and 0.0 <= score <= 1.0):
            raise ValueError(f"{report.source}: assess returned a score outside [0, 1]")
        scores.append(float(score))
        levels.append(level)
    ranking = ranking_scores(labels, scores)
    high = level_rank("high")
    return EvaluationResult(
        source=path.name,
        n=len(reports),
        positives=sum(labels),
        roc_auc=ranking.roc_auc,
        pr_auc=ranking.pr_auc,
        brier=ranking.brier,
        high_or_above=confusion(labels, [level_rank(lv) >= high for lv in levels], math.nan),
        critical=confusion(labels, [lv == "critical" for lv in levels], math.nan),
    )


def format_report(result: EvaluationResult) -> str:
    """Human-readable figures; the last line is exactly `roc_auc=<value to 4 decimals>`."""
    lines = [
        f"data: {result.source}",
        f"n={result.n}",
        f"positives={result.positives}",
        f"pr_auc={_fmt(result.pr_auc)}",
        f"brier={_fmt(result.brier)}",
        _level_line("high_or_above", result.high_or_above),
        _level_line("critical", result.critical),
    ]
    if math.isnan(result.roc_auc):
        lines.append("note: ROC AUC is undefined when the file holds only one class")
    lines.append(f"roc_auc={_fmt(result.roc_auc)}")
    return "\n".join(lines)


def _level_line(name: str, counts: Confusion) -> str:
    return (
        f"{name}: precision={_fmt(counts.precision)} recall={_fmt(counts.recall)} "
        f"(flagged={counts.true_positives + counts.false_positives}, "
        f"true_positives={counts.true_positives})"
    )


def _fmt(value: float) -> str:
    return "nan" if math.isnan(value) else f"{value:.4f}"
