from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from service.classifier.data import DataFileError
from service.classifier.evaluate import evaluate_file, format_report
from service.engine.facts import ReportFacts

SECRET = "Ms Example from accounts keeps shouting"


def _by_keyword(facts: ReportFacts) -> tuple[float, str]:
    """Stand-in engine: 'tribunal' is critical, 'grievance' high, anything else low."""
    if "tribunal" in facts.text:
        return 0.95, "critical"
    if "grievance" in facts.text:
        return 0.7, "high"
    return 0.1, "low"


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_scores_a_file_with_unknown_fields(tmp_path: Path) -> None:
    records = [
        {"text": "going to a tribunal", "category": "bullying", "escalated": True, "reviewer": "x"},
        {"text": "filing a grievance", "escalated": True, "source": {"batch": 3}},
        {"text": "filing a grievance soon", "category": "pay", "escalated": False},
        {"text": "just wanted to talk", "category": "pay", "escalated": False, "score": 0.2},
        {"text": "fine really", "category": "other", "escalated": False, "involved": "a peer"},
    ]
    path = _write(tmp_path / "unseen.jsonl", [json.dumps(r) for r in records] + [""])
    result = evaluate_file(path, _by_keyword)
    assert (result.n, result.positives) == (5, 2)
    assert result.roc_auc == pytest.approx(5.5 / 6)  # one tie between a positive and a negative
    assert result.high_or_above.precision == pytest.approx(2 / 3)
    assert result.high_or_above.recall == 1.0
    assert result.critical.precision == 1.0
    assert result.critical.recall == 0.5

    report = format_report(result)
    lines = report.splitlines()
    assert lines[-1] == "roc_auc=0.9167"
    assert "n=5" in lines and "positives=2" in lines
    assert any(line.startswith("pr_auc=") for line in lines)
    assert any(line.startswith("brier=") for line in lines)
    assert any(line.startswith("high_or_above: precision=0.6667 recall=1.0000") for line in lines)
    assert any(line.startswith("critical: precision=1.0000 recall=0.5000") for line in lines)


def test_one_class_file_reports_nan_auc_on_the_last_line(tmp_path: Path) -> None:
    path = _write(tmp_path / "calm.jsonl", [json.dumps({"text": "ok", "escalated": False})] * 3)
    report = format_report(evaluate_file(path, _by_keyword))
    assert report.splitlines()[-1] == "roc_auc=nan"


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ('{"text": "' + SECRET + '", "escalated": tru', "not valid JSON"),
        ('["' + SECRET + '", true]', "expected a JSON object"),
        ('{"text": "' + SECRET + '"}', "'escalated' must be true or false"),
        ('{"text": "' + SECRET + '", "escalated": "yes"}', "'escalated' must be true or false"),
        ('{"text": "", "escalated": true}', "'text' must be a non-empty string"),
        ('{"text": "' + SECRET + '", "escalated": true, "involved": [1]}', "'involved'"),
    ],
)
def test_malformed_line_names_its_number_without_echoing_text(
    tmp_path: Path, bad_line: str, message: str
) -> None:
    good = json.dumps({"text": "fine", "escalated": False})
    path = _write(tmp_path / "broken.jsonl", [good, "", bad_line, good])
    with pytest.raises(DataFileError) as caught:
        evaluate_file(path, _by_keyword)
    text = str(caught.value)
    assert "broken.jsonl line 3" in text
    assert message in text
    assert "Example" not in text and "shouting" not in text


def test_unknown_level_from_assess_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.jsonl", [json.dumps({"text": "hi", "escalated": True})])
    with pytest.raises(ValueError, match="unknown level"):
        evaluate_file(path, lambda facts: (0.5, "severe"))


def test_last_line_format_is_four_decimals(tmp_path: Path) -> None:
    records = [
        {"text": f"grievance {i}" if i % 2 else f"calm {i}", "escalated": i % 3 == 0}
        for i in range(9)
    ]
    path = _write(tmp_path / "mixed.jsonl", [json.dumps(r) for r in records])
    last = format_report(evaluate_file(path, _by_keyword)).splitlines()[-1]
    assert re.fullmatch(r"roc_auc=\d\.\d{4}", last)


def _by_answers(facts: ReportFacts) -> tuple[float, str]:
    """Stand-in engine that only reads the form: formal action is high, anything else low."""
    return (0.8, "high") if facts.desired_outcome == "formal_action" else (0.2, "low")


def test_without_answers_scores_the_text_as_if_the_form_were_blank(tmp_path: Path) -> None:
    records = [
        {"text": "a", "escalated": True, "desired_outcome": "formal_action", "urgency": "urgent"},
        {"text": "b", "escalated": True, "desired_outcome": "formal_action"},
        {"text": "c", "escalated": False, "desired_outcome": "be_heard", "duration": "days"},
    ]
    path = _write(tmp_path / "answers.jsonl", [json.dumps(r) for r in records])
    given = evaluate_file(path, _by_answers, resamples=200)
    assert given.roc_auc == 1.0 and given.high_or_above.recall == 1.0
    assert given.answers == "as given"
    blank = evaluate_file(path, _by_answers, strip_answers=True, resamples=200)
    assert blank.roc_auc == 0.5 and blank.high_or_above.recall == 0.0
    assert "form answers: removed" in format_report(blank)


def test_report_has_a_bootstrap_interval_around_the_auc(tmp_path: Path) -> None:
    records = [
        {
            "text": ("tribunal" if i % 4 == 0 else "grievance" if i % 4 == 1 else "calm"),
            "escalated": i % 4 != 3 and i % 5 != 0,
        }
        for i in range(40)
    ]
    path = _write(tmp_path / "many.jsonl", [json.dumps(r) for r in records])
    result = evaluate_file(path, _by_keyword, resamples=500)
    assert result.roc_auc_low < result.roc_auc < result.roc_auc_high
    assert result.roc_auc_low >= 0.0 and result.roc_auc_high <= 1.0
    line = next(x for x in format_report(result).splitlines() if x.startswith("roc_auc_95ci="))
    assert line == (
        f"roc_auc_95ci=[{result.roc_auc_low:.4f}, {result.roc_auc_high:.4f}] (bootstrap)"
    )
    assert json.loads(json.dumps(result.as_dict()))["roc_auc_95ci"] == [
        round(result.roc_auc_low, 4),
        round(result.roc_auc_high, 4),
    ]
