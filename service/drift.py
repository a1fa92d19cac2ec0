"""Is the live model still scoring the way it was trained to? `defuse model drift`.

By month of submission: how many reports, their mean score and the share at each level; and,
for reports whose case has since closed with an outcome, the mean score beside the share
that really escalated (calibration). The outcome label, score and level of a case survive
retention (service/retention.py), so calibration can be checked long after the text is gone.

A warning is raised when, with enough reports to say so:
- a month's share at high or above moves more than LEVEL_SHIFT_BOUND from the average of the
  months before it, or its mean score more than SCORE_SHIFT_BOUND;
- the labelled cases of a month, or of all months together, show a gap between mean score
  and observed escalation rate larger than CALIBRATION_GAP_BOUND.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from service.db import Case, Report, utcnow
from service.extensions import db
from service.vocab import LEVELS, level_rank

LEVEL_SHIFT_BOUND = 0.15  # absolute change in the share at high or above
SCORE_SHIFT_BOUND = 0.10  # absolute change in the mean score
CALIBRATION_GAP_BOUND = 0.15  # |mean score - observed escalation rate|
MIN_REPORTS = 20  # fewer reports in a month than this say nothing either way
MIN_BASELINE_MONTHS = 2


@dataclass(slots=True)
class MonthFigures:
    month: str  # "2026-11"
    reports: int = 0
    score_total: float = 0.0
    levels: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LEVELS, 0))
    labelled: int = 0
    labelled_score_total: float = 0.0
    escalated: int = 0

    @property
    def mean_score(self) -> float:
        return self.score_total / self.reports if self.reports else 0.0

    @property
    def high_share(self) -> float:
        high = sum(n for level, n in self.levels.items() if level_rank(level) >= level_rank("high"))
        return high / self.reports if self.reports else 0.0

    @property
    def calibration_gap(self) -> float | None:
        if not self.labelled:
            return None
        return self.labelled_score_total / self.labelled - self.escalated / self.labelled


@dataclass(frozen=True, slots=True)
class DriftReport:
    months: list[MonthFigures]
    overall_calibration_gap: float | None
    labelled: int
    warnings: list[str]


def drift_report(months: int = 12, today: date | None = None) -> DriftReport:
    today = today or utcnow().date()
    first = _month_start(today, months - 1)
    rows = db.session.execute(
        db.select(
            Report.submitted_on, Report.risk_score, Report.risk_level, Case.status, Case.escalated
        )
        .join(Case, Case.report_id == Report.id)
        .where(Report.submitted_on >= first)
    ).all()
    by_month: dict[str, MonthFigures] = {}
    for submitted_on, score, level, status, escalated in rows:
        key = submitted_on.strftime("%Y-%m")
        figures = by_month.setdefault(key, MonthFigures(key))
        figures.reports += 1
        figures.score_total += float(score or 0.0)
        figures.levels[level] = figures.levels.get(level, 0) + 1
        if status == "closed" and escalated is not None:
            figures.labelled += 1
            figures.labelled_score_total += float(score or 0.0)
            figures.escalated += int(bool(escalated))
    ordered = [by_month[key] for key in sorted(by_month)]
    labelled = sum(m.labelled for m in ordered)
    overall_gap = (
        sum(m.labelled_score_total for m in ordered) / labelled
        - sum(m.escalated for m in ordered) / labelled
        if labelled
        else None
    )
    return DriftReport(ordered, overall_gap, labelled, _warnings(ordered, overall_gap, labelled))


def _warnings(months: list[MonthFigures], overall_gap: float | None, labelled: int) -> list[str]:
    warnings: list[str] = []
    history: list[MonthFigures] = []
    for month in months:
        baseline = [m for m in history if m.reports >= MIN_REPORTS]
        if month.reports >= MIN_REPORTS and len(baseline) >= MIN_BASELINE_MONTHS:
            share = sum(m.high_share for m in baseline) / len(baseline)
            score = sum(m.mean_score for m in baseline) / len(baseline)
            if abs(month.high_share - share) > LEVEL_SHIFT_BOUND:
                warnings.append(
                    f"{month.month}: {month.high_share:.0%} of reports at high or above, "
                    f"against {share:.0%} in the months before (bound ±{LEVEL_SHIFT_BOUND:.0%})"
                )
            if abs(month.mean_score - score) > SCORE_SHIFT_BOUND:
                warnings.append(
                    f"{month.month}: mean score {month.mean_score:.2f}, against {score:.2f} in "
                    f"the months before (bound ±{SCORE_SHIFT_BOUND:.2f})"
                )
        gap = month.calibration_gap
        if month.labelled >= MIN_REPORTS and gap is not None and abs(gap) > CALIBRATION_GAP_BOUND:
            warnings.append(
                f"{month.month}: closed cases scored {gap:+.2f} away from how often they "
                f"escalated (bound ±{CALIBRATION_GAP_BOUND:.2f})"
            )
        history.append(month)
    if (
        labelled >= MIN_REPORTS
        and overall_gap is not None
        and abs(overall_gap) > CALIBRATION_GAP_BOUND
    ):
        warnings.append(
            f"all closed cases: mean score {overall_gap:+.2f} away from the observed "
            f"escalation rate (bound ±{CALIBRATION_GAP_BOUND:.2f}); retrain with "
            "`defuse model export-labels` and `defuse model train --add`"
        )
    return warnings


def format_drift(report: DriftReport) -> str:
    lines = [
        "month    reports  mean score  "
        + "  ".join(f"{lv:>8}" for lv in LEVELS)
        + "  labelled  escalated  calibration gap"
    ]
    for m in report.months:
        shares = "  ".join(f"{m.levels.get(lv, 0) / m.reports:8.0%}" for lv in LEVELS)
        gap = "" if m.calibration_gap is None else f"{m.calibration_gap:+.2f}"
        lines.append(
            f"{m.month}  {m.reports:7d}  {m.mean_score:10.2f}  {shares}  {m.labelled:8d}  "
            f"{m.escalated:9d}  {gap}"
        )
    if report.overall_calibration_gap is not None:
        lines.append(
            f"closed cases: {report.labelled}, calibration gap "
            f"{report.overall_calibration_gap:+.2f}"
        )
    lines += [f"WARNING {w}" for w in report.warnings] or ["no drift beyond the bounds"]
    return "\n".join(lines)


def _month_start(today: date, months_back: int) -> date:
    index = today.year * 12 + today.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


__all__ = ["DriftReport", "MonthFigures", "drift_report", "format_drift"]
