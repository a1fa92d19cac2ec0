"""The shipped rule packs and active model, through `defuse model evaluate`, on the frozen real
test split (source domains never trained or tuned on): the bar the product promises on real
accounts, with the form's answers as given and with them left blank. The synthetic holdout is
a secondary figure with a lower bar: its writing is unlike real reports."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from service.classifier.registry import active_version

MODELS = Path(__file__).resolve().parents[2] / "models"
SYNTHETIC_HOLDOUT = MODELS / "data" / "synthetic" / "holdout"


def figure(report: str, pattern: str) -> float:
    match = re.search(pattern, report)
    assert match, report
    return float(match.group(1))


def test_a_promoted_model_is_live() -> None:
    version = active_version(MODELS)
    assert version is not None
    assert (MODELS / "escalation" / version / "model.skops").is_file()


@pytest.mark.parametrize("answers", [[], ["--without-answers"]], ids=["as-given", "blank"])
def test_full_engine_ranks_and_flags_real_accounts(app, answers):  # type: ignore[no-untyped-def]
    result = app.test_cli_runner().invoke(args=["model", "evaluate", *answers])

    assert result.exit_code == 0, result.output
    assert "data: test.jsonl" in result.output
    assert figure(result.output, r"roc_auc=([0-9.]+)\s*$") >= 0.85
    assert figure(result.output, r"roc_auc_95ci=\[([0-9.]+),") >= 0.78
    assert figure(result.output, r"high_or_above: precision=[0-9.]+ recall=([0-9.]+)") >= 0.8
    assert figure(result.output, r"high_or_above: precision=([0-9.]+)") >= 0.7
    assert figure(result.output, r"critical: precision=([0-9.]+)") >= 0.8


def test_synthetic_holdout_is_ranked_better_than_chance(app):  # type: ignore[no-untyped-def]
    for name in ("part-a.jsonl", "part-b.jsonl"):
        data = str(SYNTHETIC_HOLDOUT / name)
        result = app.test_cli_runner().invoke(args=["model", "evaluate", "--data", data])
        assert result.exit_code == 0, result.output
        assert figure(result.output, r"roc_auc=([0-9.]+)\s*$") >= 0.65


def test_evaluate_names_a_malformed_file(app, tmp_path):  # type: ignore[no-untyped-def]
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"text": "fine", "escalated": true}\nnot json\n')

    result = app.test_cli_runner().invoke(args=["model", "evaluate", "--data", str(broken)])

    assert result.exit_code != 0
    assert "broken.jsonl" in result.output and "Traceback" not in result.output
