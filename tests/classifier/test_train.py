from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pytest
import sklearn
import skops

from service.classifier.data import DataFileError
from service.classifier.train import Candidate, choose, choose_thresholds, train_model
from tests.classifier.conftest import FAST_SETTINGS, corpus_lines, write_jsonl


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
    assert len(vocabularies) == 4  # words, characters, answers, rules
    assert all(type(index) is int for vocabulary in vocabularies for index in vocabulary.values())


def test_metadata_records_versions_hashes_features_and_metrics(
    trained_dir: Path, corpus_dirs: tuple[Path, Path], rules
) -> None:
    meta = _metadata(trained_dir)
    assert meta["name"] == "escalation"
    assert meta["version"] == "1"
    assert meta["model_version"] == "escalation/1"
    assert date.fromisoformat(meta["created"])
    assert meta["sklearn_version"] == sklearn.__version__
    assert meta["skops_version"] == skops.__version__
    assert meta["rule_pack_version"] == rules.version
    model_bytes = (trained_dir / "model.skops").read_bytes()
    assert meta["model_sha256"] == hashlib.sha256(model_bytes).hexdigest()

    train_dir, _ = corpus_dirs
    expected_data_hash = hashlib.sha256(
        b"".join(p.read_bytes() for p in sorted(train_dir.glob("*.jsonl")))
    ).hexdigest()
    data = meta["training_data"]
    assert data["sha256"] == expected_data_hash
    assert data["files"] == ["train/part-a.jsonl", "train/part-b.jsonl"]
    assert (data["n"], data["source_domains"], data["synthetic_added"]) == (60, 6, False)

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
    assert meta["features"]["block_weights"] == {
        "words": 1.0,
        "chars": 1.0,
        "fields": 0.3,
        "rules": 1.0,
    }
    assert meta["classifier"]["C"] in FAST_SETTINGS.c_grid
    assert len(meta["classifier"]["grid"]) == len(FAST_SETTINGS.c_grid)

    thresholds = meta["level_thresholds"]
    assert 0 < thresholds["moderate"] < thresholds["high"] < thresholds["critical"] < 1
    validation = meta["metrics"]["validation"]
    assert validation["n"] == 60
    assert 0.5 < validation["roc_auc"] <= 1.0
    low, high = validation["roc_auc_95ci"]
    assert low <= validation["roc_auc"] <= high
    # The high threshold was chosen to catch the target share of escalated reports out of fold.
    assert validation["levels"]["high"]["recall"] >= FAST_SETTINGS.high_recall_target
    test = meta["metrics"]["test"]
    assert (test["n"], test["answers"]) == (20, "as given")
    assert meta["metrics"]["test_without_answers"]["answers"] == "removed"
    assert meta["metrics"]["synthetic_holdout"] is None
    assert set(test["high_or_above"]) >= {"precision", "recall", "true_positives"}
    # Fitted rule weights are recorded for every rule that fired in training.
    assert meta["rule_weights"]
    assert set(meta["rule_weights"]) <= {rule.id for rule in rules.rules}


def test_model_card_reports_data_metrics_rules_and_failures(trained_dir: Path) -> None:
    card = (trained_dir / "MODEL_CARD.md").read_text()
    for heading in (
        "## What it is for",
        "## Training data",
        "## How well it does",
        "## Levels",
        "## What each rule is worth",
        "## Where it fails",
        "## Limitations and ethics",
    ):
        assert heading in card
    assert "(../../data/real/DATA_CARD.md)" in card
    assert "![calibration plot](calibration.png)" in card
    assert "**frozen real test split**, answers removed | 20 (" in card
    assert "critical ones a week" in card
    assert "| `safety-001` |" in card
    # Excerpts are capped: no full training text is quoted.
    longest_text = max(corpus_lines(30, seed=1), key=lambda r: len(str(r["text"])))["text"]
    assert str(longest_text) not in card


def test_version_defaults_to_next_integer_and_is_never_overwritten(
    tmp_path: Path, corpus_dirs: tuple[Path, Path], rules
) -> None:
    train_dir, _ = corpus_dirs
    (tmp_path / "escalation" / "7").mkdir(parents=True)
    (tmp_path / "escalation" / "draft").mkdir()
    made = train_model(train_dir, tmp_path, rules, settings=FAST_SETTINGS)
    assert made == tmp_path / "escalation" / "8"
    assert _metadata(made)["metrics"]["test"] is None
    assert (
        "| **frozen real test split**, answers as given | not present"
        in (made / "MODEL_CARD.md").read_text()
    )
    # Training writes a candidate only: nothing is made live.
    assert not (tmp_path / "escalation" / "ACTIVE").exists()
    with pytest.raises(FileExistsError):
        train_model(train_dir, tmp_path, rules, version="8", settings=FAST_SETTINGS)


def test_refuses_test_split_that_is_the_training_directory(
    tmp_path: Path, corpus_dirs: tuple[Path, Path], rules
) -> None:
    train_dir, _ = corpus_dirs
    with pytest.raises(ValueError, match="training directory"):
        train_model(train_dir, tmp_path, rules, test_dir=train_dir, settings=FAST_SETTINGS)
    assert not (tmp_path / "escalation").exists()


def test_refuses_corpus_with_too_few_of_a_class(tmp_path: Path, rules) -> None:
    records = corpus_lines(20, seed=5)
    for record in records:
        record["escalated"] = False
    records[0]["escalated"] = True
    write_jsonl(tmp_path / "train" / "only.jsonl", records)
    with pytest.raises(DataFileError, match="at least 4"):
        train_model(tmp_path / "train", tmp_path / "models", rules, settings=FAST_SETTINGS)


def test_refuses_corpus_from_a_single_source(tmp_path: Path, rules) -> None:
    records = corpus_lines(20, seed=5)
    for record in records:
        record["source"] = "https://one.example/page"
    write_jsonl(tmp_path / "train" / "one.jsonl", records)
    with pytest.raises(DataFileError, match="2 sources"):
        train_model(tmp_path / "train", tmp_path / "models", rules, settings=FAST_SETTINGS)


def test_synthetic_corpus_is_kept_only_when_it_helps(tmp_path: Path, corpus_dirs, rules) -> None:
    """Synthetic reports whose labels contradict the real ones hurt grouped CV: left out."""
    train_dir, _ = corpus_dirs
    misleading = corpus_lines(40, seed=9)
    for record in misleading:
        record["escalated"] = not record["escalated"]
        record.pop("source")
    write_jsonl(tmp_path / "synthetic" / "part.jsonl", misleading)
    settings = replace(FAST_SETTINGS, synthetic_grid=(False, True))
    made = train_model(
        train_dir,
        tmp_path / "models",
        rules,
        synthetic_dir=tmp_path / "synthetic",
        settings=settings,
    )
    meta = _metadata(made)
    grid = meta["classifier"]["grid"]
    assert {point["synthetic"] for point in grid} == {False, True}
    best_with = max(p["roc_auc"] for p in grid if p["synthetic"])
    best_without = max(p["roc_auc"] for p in grid if not p["synthetic"])
    assert best_with < best_without
    assert meta["training_data"]["synthetic_added"] is False


def test_choose_prefers_simpler_models_among_near_ties() -> None:
    grid = [
        Candidate(c=10.0, fields_weight=0.3, rules_weight=1.0, synthetic=True, roc_auc=0.851),
        Candidate(c=10.0, fields_weight=0.3, rules_weight=1.0, synthetic=False, roc_auc=0.850),
        Candidate(c=1.0, fields_weight=0.3, rules_weight=1.0, synthetic=False, roc_auc=0.8495),
        Candidate(c=0.3, fields_weight=0.3, rules_weight=1.0, synthetic=False, roc_auc=0.840),
    ]
    assert choose(grid) == grid[2]  # within 0.002 of the best, no synthetic, smallest C
    grid[0] = replace(grid[0], roc_auc=0.86)
    assert choose(grid) == grid[0]  # a clear win keeps the synthetic corpus


def test_thresholds_meet_their_recall_and_precision_targets() -> None:
    rng = np.random.default_rng(0)
    y = np.array([1] * 60 + [0] * 40)
    p = np.clip(np.where(y == 1, rng.normal(0.7, 0.15, 100), rng.normal(0.35, 0.15, 100)), 0, 1)
    thresholds = choose_thresholds(y, p, FAST_SETTINGS)
    assert (p[y == 1] >= thresholds.high).mean() >= FAST_SETTINGS.high_recall_target
    assert (p[y == 1] >= thresholds.moderate).mean() >= FAST_SETTINGS.moderate_recall_target
    # One step above the chosen high threshold no longer reaches the target: it is the highest.
    above = thresholds.high + 0.01
    assert (p[y == 1] >= above).mean() < FAST_SETTINGS.high_recall_target + 0.02
    assert thresholds.critical >= FAST_SETTINGS.critical_floor
