"""The shipped rule packs and classifier artifact, through `defuse model evaluate`, on the
holdout files (never used in training; part-a is written in a terser, understated style):
the bar the product promises on reports it has not seen."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

HOLDOUT = Path(__file__).resolve().parents[2] / "models" / "data" / "synthetic" / "holdout"


def figure(report: str, pattern: str) -> float:
    match = re.search(pattern, report)
    assert match, report
    return float(match.group(1))


@pytest.mark.parametrize("name", ["part-a.jsonl", "part-b.jsonl"])
def test_full_engine_ranks_and_flags_unseen_reports(app, name):
    result = app.test_cli_runner().invoke(args=["model", "evaluate", "--data", str(HOLDOUT / name)])

    assert result.exit_code == 0, result.output
    assert figure(result.output, r"roc_auc=([0-9.]+)\s*$") >= 0.85
    assert figure(result.output, r"high_or_above: precision=[0-9.]+ recall=([0-9.]+)") >= 0.8


def test_evaluate_names_a_malformed_file(app, tmp_path):
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"text": "fine", "escalated": true}\nnot json\n')

    result = app.test_cli_runner().invoke(args=["model", "evaluate", "--data", str(broken)])

    assert result.exit_code != 0
    assert "broken.jsonl" in result.output and "Traceback" not in result.output
