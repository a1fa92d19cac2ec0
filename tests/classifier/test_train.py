from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import pytest
import sklearn
import skops

from service.classifier.data import DataFileError
from service.classifier.train import one_standard_error_rule, train_model
from tests.classifier.conftest import FAST_SETTINGS, THRESHOLDS, corpus_lines, write_jsonl


def _metadata(model_dir: Path) -> dict:
    return json.loads((model_dir / "metadata.json").read_text())


def test_writes_versioned_artifact_with_all_files(trained_dir: Path) -> None:
    assert trained_dir.name == "1"
    assert trained_dir.parent.name == "escalation"
    names = sorted(p.name for p in trained_dir.iterdir())
    assert names == ["MODEL_CARD.md", "calibration.png", "metadata.json", "model.skops"]
    assert (trained_dir / "calibration.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [p for p in trained_dir.parent.iterdir() if p.name.startswith(".tmp")]


def test_vocabularies_are_stored_as_plain_integers(trained_dir: Path) -> None:
    # numpy integers would each become an array in the skops file: seconds to load, and MBs.
    from service.classifier.load import load_model

    features = load_model(trained_dir).pipeline.named_steps["features"]
    vocabularies = [
        t.vocabulary_ for _, t, _ in features.transformers_ if hasattr(t, "vocabulary_")
    ]
    assert len(vocabularies) == 3
    assert all(type(index) is int for vocabulary in vocabularies for index in vocabulary.values())


def test_metadata_records_versions_hashes_features_and_metrics(
    trained_dir: Path, corpus_dirs: tuple[Path, Path]
) -> None:
    meta = _metadata(trained_dir)
    assert meta["name"] == "escalation"
    assert meta["version"] == "1"
    assert meta["model_version"] == "escalation/1"
    assert date.fromisoformat(meta["created"])
    assert meta["sklearn_version"] == sklearn.__version__
    assert meta["skops_version"] == skops.__version__
    model_bytes = (trained_dir / "model.skops").read_bytes()
    assert meta["model_sha256"] == hashlib.sha256(model_bytes).hexdigest()

    train_dir, _ = corpus_dirs
    expected_data_hash = hashlib.sha256(
        b"".join(p.read_bytes() for p in sorted(train_dir.glob("*.jsonl")))
    ).hexdigest()
    assert meta["training_data"]["sha256"] == expected_data_hash
    assert meta["training_data"]["files"] == ["part-a.jsonl", "part-b.jsonl"]
    assert meta["training_data"]["n"] == 60

    assert meta["features"]["fields"] == [
        "category",
        "duration",
        "raised_before",
        "raised_with",
        "involved",
        "desired_outcome",
        "urgency",
    ]
    assert meta["features"]["text"]["chars"]["analyzer"] == "char_wb"
    assert meta["features"]["block_weights"]["fields"] == 0.3
    assert meta["classifier"]["C"] in FAST_SETTINGS.c_grid
    assert meta["level_thresholds"] == THRESHOLDS

    cv = meta["metrics"]["cv"]
    assert 0.5 < cv["roc_auc"]["mean"] <= 1.0
    assert 0.0 <= cv["brier"]["mean"] < 0.25
    assert set(cv["out_of_fold"]["levels"]) == {"moderate", "high", "critical"}
    assert cv["out_of_fold"]["levels"]["high"]["threshold"] == 0.5
    assert set(cv["out_of_fold"]["per_category"]) == {"bullying", "workload", "harassment"}
    cross_file = cv["leave_one_file_out"]
    assert [r["held_out_file"] for r in cross_file] == ["part-a.jsonl", "part-b.jsonl"]
    assert all(r["n"] == 30 and 0.0 <= r["roc_auc"] <= 1.0 for r in cross_file)
    holdout = meta["metrics"]["holdout"]
    assert holdout["files"] == ["other-style.jsonl"]
    assert holdout["n"] == 20
    assert [r["file"] for r in holdout["per_file"]] == ["other-style.jsonl"]
    assert holdout["per_file"][0]["roc_auc"] == holdout["roc_auc"]
    assert 0.0 <= holdout["roc_auc"] <= 1.0


def test_model_card_reports_data_metrics_and_failures(trained_dir: Path) -> None:
    card = (trained_dir / "MODEL_CARD.md").read_text()
    for heading in (
        "## What it is for",
        "## Training data",
        "## How well it does (cross-validated)",
        "### Across files (leave one file out)",
        "### Confusion matrix at each level threshold",
        "### Recall of escalated reports per category",
        "## Held-out files",
        "## Where it fails",
        "## Limitations and ethics",
    ):
        assert heading in card
    assert "(../../data/DATA_CARD.md)" in card
    assert "![calibration plot](calibration.png)" in card
    assert "| ROC AUC |" in card
    assert "| critical | 0.8 |" in card
    # Excerpts are capped: no full training text is quoted.
    longest_text = max(corpus_lines(30, seed=1), key=lambda r: len(str(r["text"])))["text"]
    assert str(longest_text) not in card


def test_version_defaults_to_next_integer_and_is_never_overwritten(
    tmp_path: Path, corpus_dirs: tuple[Path, Path]
) -> None:
    train_dir, _ = corpus_dirs
    (tmp_path / "escalation" / "7").mkdir(parents=True)
    (tmp_path / "escalation" / "draft").mkdir()
    made = train_model(train_dir, tmp_path, settings=FAST_SETTINGS)
    assert made == tmp_path / "escalation" / "8"
    assert _metadata(made)["metrics"]["holdout"] is None
    assert "No held-out files" in (made / "MODEL_CARD.md").read_text()
    with pytest.raises(FileExistsError):
        train_model(train_dir, tmp_path, version="8", settings=FAST_SETTINGS)


def test_refuses_holdout_that_is_the_training_directory(
    tmp_path: Path, corpus_dirs: tuple[Path, Path]
) -> None:
    train_dir, _ = corpus_dirs
    with pytest.raises(ValueError, match="held-out"):
        train_model(train_dir, tmp_path, holdout_dir=train_dir, settings=FAST_SETTINGS)
    assert not (tmp_path / "escalation").exists()


def test_refuses_corpus_with_too_few_of_a_class(tmp_path: Path) -> None:
    records = corpus_lines(20, seed=5)
    for record in records:
        record["escalated"] = False
    records[0]["escalated"] = True
    write_jsonl(tmp_path / "train" / "only.jsonl", records)
    with pytest.raises(DataFileError, match="at least 4"):
        train_model(tmp_path / "train", tmp_path / "models", settings=FAST_SETTINGS)


def test_refuses_invalid_level_thresholds(tmp_path: Path, corpus_dirs: tuple[Path, Path]) -> None:
    train_dir, _ = corpus_dirs
    with pytest.raises(ValueError, match="ascend"):
        train_model(
            train_dir,
            tmp_path,
            level_thresholds={"moderate": 0.7, "high": 0.5, "critical": 0.9},
            settings=FAST_SETTINGS,
        )


def test_one_standard_error_rule_prefers_the_smallest_near_best_c() -> None:
    results = {
        "params": [{"C": 0.1}, {"C": 1.0}, {"C": 10.0}, {"C": 100.0}],
        "mean_test_score": [0.90, 0.955, 0.96, 0.962],
        "std_test_score": [0.02, 0.02, 0.02, 0.02],
        **{f"split{i}_test_score": [0.0] * 4 for i in range(4)},
    }
    # Best 0.962, one SE = 0.02 / sqrt(4) = 0.01: C=1 (0.955) is within, C=0.1 is not.
    assert one_standard_error_rule(results) == 1
    results["std_test_score"] = [0.0] * 4
    assert one_standard_error_rule(results) == 3
