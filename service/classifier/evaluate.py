"""`defuse model evaluate`: how well the full engine ranks and flags labelled reports.

`assess` is whatever scores a report in production (rules + classifier), returning its
(score, level); this module only reads the reports and computes the figures. The last line
of a report is always `roc_auc=<value>` so scripts can read it with `tail -n 1`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from service.classifier.data import LabelledReport, read_labelled_file
from service.classifier.metrics import (
    Confusion,
    bootstrap_roc_auc_interval,
    confusion,
    ranking_scores,
)
from service.engine.facts import ReportFacts
from service.engine.risk import RiskEngine
from service.vocab import LEVELS, level_rank

Assess = Callable[[ReportFacts], tuple[float, str]]


@dataclass(frozen=True, slots=True)
class EvaluationResult:
    source: str  # file or set name
    n: int
    positives: int
    roc_auc: float  # nan when the file has only one class
    roc_auc_low: float  # bootstrap 95% interval
    roc_auc_high: float
    pr_auc: float
    brier: float
    high_or_above: Confusion  # "escalated" predicted when the level is high or critical
    critical: Confusion
    answers: str  # "as given" or "removed"

    def as_dict(self) -> dict[str, Any]:
        def finite(value: float) -> float | None:
            return round(value, 4) if math.isfinite(value) else None

        return {
            "n": self.n,
            "escalated": self.positives,
            "answers": self.answers,
            "roc_auc": finite(self.roc_auc),
            "roc_auc_95ci": [finite(self.roc_auc_low), finite(self.roc_auc_high)],
            "pr_auc": finite(self.pr_auc),
            "brier": finite(self.brier),
            # Levels, not a probability threshold, decide these: no threshold to record.
            "high_or_above": _counts(self.high_or_above),
            "critical": _counts(self.critical),
        }


def _counts(counts: Confusion) -> dict[str, Any]:
    return {key: value for key, value in counts.as_dict().items() if key != "threshold"}


def without_answers(facts: ReportFacts) -> ReportFacts:
    """The report as if the form's optional answers had been left blank (category stays)."""
    return replace(
        facts,
        duration=None,
        raised_before=None,
        raised_with=(),
        involved=(),
        desired_outcome=None,
        urgency=None,
    )


def engine_assess(engine: RiskEngine) -> Assess:
    def assess(facts: ReportFacts) -> tuple[float, str]:
        result = engine.assess(facts)
        return result.score, result.level

    return assess


def evaluate_file(
    path: Path, assess: Assess | RiskEngine, *, strip_answers: bool = False, resamples: int = 2000
) -> EvaluationResult:
    """Score every report in a labelled JSONL file (unknown fields ignored)."""
    return evaluate_reports(
        read_labelled_file(path),
        assess,
        name=path.name,
        strip_answers=strip_answers,
        resamples=resamples,
    )


def evaluate_reports(
    reports: Sequence[LabelledReport],
    assess: Assess | RiskEngine,
    *,
    name: str,
    strip_answers: bool = False,
    resamples: int = 2000,
) -> EvaluationResult:
    if isinstance(assess, RiskEngine):
        assess = engine_assess(assess)
    labels = [int(r.escalated) for r in reports]
    scores: list[float] = []
    levels: list[str] = []
    for report in reports:
        facts = without_answers(report.facts) if strip_answers else report.facts
        score, level = assess(facts)
        if level not in LEVELS:
            raise ValueError(f"{report.source}: assess returned an unknown level {level!r}")
        if not (isinstance(score, int | float) and 0.0 <= score <= 1.0):
            raise ValueError(f"{report.source}: assess returned a score outside [0, 1]")
        scores.append(float(score))
        levels.append(level)
    ranking = ranking_scores(labels, scores)
    low, high_ci = bootstrap_roc_auc_interval(labels, scores, resamples=resamples)
    high = level_rank("high")
    return EvaluationResult(
        source=name,
        n=len(reports),
        positives=sum(labels),
        roc_auc=ranking.roc_auc,
        roc_auc_low=low,
        roc_auc_high=high_ci,
        pr_auc=ranking.pr_auc,
        brier=ranking.brier,
        high_or_above=confusion(labels, [level_rank(lv) >= high for lv in levels], math.nan),
        critical=confusion(labels, [lv == "critical" for lv in levels], math.nan),
        answers="removed" if strip_answers else "as given",
    )


def format_report(result: EvaluationResult) -> str:
    """Human-readable figures; the last line is exactly `roc_auc=<value to 4 decimals>`."""
    lines = [
        f"data: {result.source}",
        f"form answers: {result.answers}",
        f"n={result.n}",
        f"positives={result.positives}",
        f"pr_auc={_fmt(result.pr_auc)}",
        f"brier={_fmt(result.brier)}",
        _level_line("high_or_above", result.high_or_above),
        _level_line("critical", result.critical),
        f"roc_auc_95ci=[{_fmt(result.roc_auc_low)}, {_fmt(result.roc_auc_high)}] (bootstrap)",
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


# Marks the per-language section of a model card, so it can be rewritten in place.
LANGUAGE_SECTION_START = "<!-- per-language evaluation: start -->"
LANGUAGE_SECTION_END = "<!-- per-language evaluation: end -->"


def evaluate_languages(directory: Path, engine: RiskEngine) -> dict[str, EvaluationResult]:
    """Each held-out file models/data/languages/<code>.jsonl scored with the full engine."""
    return {path.stem: evaluate_file(path, engine) for path in sorted(directory.glob("*.jsonl"))}


def language_section(results: Mapping[str, EvaluationResult], engine: RiskEngine) -> str:
    """The model card's per-language section (markdown, between the section markers)."""
    lines = [
        LANGUAGE_SECTION_START,
        "## Reports in other languages",
        "",
        "The classifier reads English only. A report in another language is scored with the rules "
        "alone (their hand-set weights and the prior), and the case page says the score rests on "
        "fewer signals. Figures on held-out reports written for this purpose "
        "(`models/data/languages/`, see its data card; evaluation only, nothing was fitted on "
        "them), with the full engine and rule set "
        f"`{engine.rules.version}`:",
        "",
        "| language | n (escalated) | scored by | ROC AUC [95% bootstrap] | high or above: "
        "precision / recall | critical: precision / recall |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for language, result in results.items():
        reads = engine.model is not None and engine.model_reads(
            ReportFacts(text="", category="other", language=language)
        )
        high, critical = result.high_or_above, result.critical
        lines.append(
            f"| {language} | {result.n} ({result.positives}) | "
            f"{'rules and classifier' if reads else 'rules only'} | "
            f"{_fmt(result.roc_auc)} [{_fmt(result.roc_auc_low)}, {_fmt(result.roc_auc_high)}] | "
            f"{_fmt(high.precision)} / {_fmt(high.recall)} | "
            f"{_fmt(critical.precision)} / {_fmt(critical.recall)} |"
        )
    lines += [
        "",
        "The sets are small (40 reports each) and were written by the team that wrote the "
        "rules, so these figures are optimistic: read the intervals, not the point values.",
        LANGUAGE_SECTION_END,
    ]
    return "\n".join(lines) + "\n"


def replace_language_section(card: str, section: str) -> str:
    """The card with its per-language section replaced, or appended when it has none."""
    start, end = card.find(LANGUAGE_SECTION_START), card.find(LANGUAGE_SECTION_END)
    if start != -1 and end > start:
        return card[:start] + section + card[end + len(LANGUAGE_SECTION_END) + 1 :]
    return card.rstrip("\n") + "\n\n" + section
