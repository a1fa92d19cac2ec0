"""Which model is live, and the gate a retrained candidate must pass to go live."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from service.classifier.metrics import paired_bootstrap
from service.classifier.registry import (
    PromotionError,
    active_model_dir,
    active_version,
    compare_for_promotion,
    set_active,
)
from service.classifier.train import train_model
from tests.classifier.conftest import FAST_SETTINGS, corpus_lines, write_jsonl


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory, trained_dir: Path, rules) -> Path:  # type: ignore[no-untyped-def]
    """models/ with a good version 1 and a version 2 trained on shuffled labels (worse)."""
    models = tmp_path_factory.mktemp("registry")
    shutil.copytree(trained_dir, models / "escalation" / "1")
    noisy = corpus_lines(60, seed=21)
    for index, record in enumerate(noisy):
        record["escalated"] = index % 3 == 0  # unrelated to the wording
    write_jsonl(models / "noisy" / "train.jsonl", noisy)
    train_model(models / "noisy", models, rules, version="2", settings=FAST_SETTINGS)
    return models


def test_nothing_is_live_until_promoted(registry: Path) -> None:
    assert active_version(registry) is None
    assert active_model_dir(registry) is None


def test_a_missing_active_version_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "escalation").mkdir()
    set_active(tmp_path, "9")
    with pytest.raises(PromotionError, match="names 9, which is missing"):
        active_model_dir(tmp_path)


def test_first_promotion_goes_live_and_a_worse_candidate_is_refused(
    registry: Path, corpus_dirs: tuple[Path, Path], rules
) -> None:
    _, test_dir = corpus_dirs
    first = compare_for_promotion(registry, "1", rules, test_dir, resamples=300)
    assert first.accepted and first.active is None
    set_active(registry, "1")
    assert active_model_dir(registry) == registry / "escalation" / "1"

    worse = compare_for_promotion(registry, "2", rules, test_dir, resamples=300)
    assert not worse.accepted
    assert "roc_auc" in worse.reason and "worse in" in worse.reason
    auc = next(c for c in worse.comparisons if c.metric == "roc_auc")
    assert auc.candidate < auc.active and auc.share_worse > 0.5
    assert active_version(registry) == "1"  # the refusal changed nothing

    again = compare_for_promotion(registry, "1", rules, test_dir)
    assert not again.accepted and again.reason == "it is already active"


def test_an_equal_candidate_is_accepted(
    registry: Path, corpus_dirs: tuple[Path, Path], rules
) -> None:
    _, test_dir = corpus_dirs
    set_active(registry, "1")
    twin = registry / "escalation" / "3"
    if not twin.exists():
        shutil.copytree(registry / "escalation" / "1", twin)
    decision = compare_for_promotion(registry, "3", rules, test_dir, resamples=300)
    assert decision.accepted
    assert all(c.share_worse == 0 for c in decision.comparisons)


def test_promotion_needs_a_candidate_and_a_test_split(
    registry: Path, tmp_path: Path, rules
) -> None:
    with pytest.raises(PromotionError, match="no candidate"):
        compare_for_promotion(registry, "42", rules, tmp_path)
    with pytest.raises(PromotionError, match="frozen test split"):
        compare_for_promotion(registry, "1", rules, tmp_path / "empty")


def test_paired_bootstrap_counts_how_often_the_candidate_loses() -> None:
    labels = [1, 1, 1, 1, 0, 0, 0, 0] * 5
    good = [0.9, 0.8, 0.7, 0.6, 0.4, 0.3, 0.2, 0.1] * 5
    bad = [0.4, 0.8, 0.3, 0.6, 0.9, 0.3, 0.7, 0.1] * 5
    worse = paired_bootstrap(labels, "roc_auc", good, bad, resamples=400)
    assert worse.worse and worse.share_worse > 0.9 and worse.difference_high < 0
    better = paired_bootstrap(labels, "roc_auc", bad, good, resamples=400)
    assert not better.worse and better.difference_low > 0
    flags = [1, 1, 1, 0, 0, 0, 0, 0] * 5
    fewer = [1, 0, 1, 0, 0, 0, 0, 0] * 5
    recall = paired_bootstrap(labels, "recall", flags, fewer, resamples=400)
    assert recall.active == pytest.approx(0.75) and recall.candidate == pytest.approx(0.5)
    assert recall.worse


def test_cli_promote_refuses_with_its_reason(app, registry: Path, corpus_dirs, tmp_path) -> None:  # type: ignore[no-untyped-def]
    models = tmp_path / "models"
    shutil.copytree(registry / "escalation", models / "escalation")
    _, test_dir = corpus_dirs
    shutil.copytree(test_dir, models / "data" / "real" / "test")
    set_active(models, "1")
    settings = replace(app.config["DEFUSE"], models_dir=models)
    app.config["DEFUSE"] = settings
    runner = app.test_cli_runner()

    refused = runner.invoke(args=["model", "promote", "2"])
    assert refused.exit_code != 0
    assert "not promoted" in refused.output and "roc_auc" in refused.output
    assert active_version(models) == "1"

    accepted = runner.invoke(args=["model", "promote", "3"])
    assert accepted.exit_code == 0, accepted.output
    assert "promoted escalation/3" in accepted.output
    assert active_version(models) == "3"


def test_cli_train_adds_exported_labels_and_writes_a_candidate(app, corpus_dirs, tmp_path) -> None:  # type: ignore[no-untyped-def]
    train_dir, test_dir = corpus_dirs
    models = tmp_path / "models"
    shutil.copytree(train_dir, models / "data" / "real" / "train")
    shutil.copytree(test_dir, models / "data" / "real" / "test")
    exported = write_jsonl(tmp_path / "labels.jsonl", corpus_lines(12, seed=31))
    app.config["DEFUSE"] = replace(app.config["DEFUSE"], models_dir=models)

    result = app.test_cli_runner().invoke(args=["model", "train", "--add", str(exported)])

    assert result.exit_code == 0, result.output
    assert "wrote candidate" in result.output and "defuse model promote 1" in result.output
    meta = json.loads((models / "escalation" / "1" / "metadata.json").read_text())
    assert meta["training_data"]["n"] == 60 + 12
    assert any("added-0-labels.jsonl" in name for name in meta["training_data"]["files"])
    assert meta["metrics"]["test"]["n"] == 20
    assert active_version(models) is None  # a candidate, not live


def test_cli_evaluate_defaults_to_the_frozen_test_split(
    app, registry, corpus_dirs, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    models = tmp_path / "models"
    shutil.copytree(registry / "escalation", models / "escalation")
    _, test_dir = corpus_dirs
    shutil.copytree(test_dir, models / "data" / "real" / "test")
    set_active(models, "1")
    app.config["DEFUSE"] = replace(app.config["DEFUSE"], models_dir=models)
    app.extensions.pop("defuse.risk_engine", None)
    runner = app.test_cli_runner()

    given = runner.invoke(args=["model", "evaluate"])
    blank = runner.invoke(args=["model", "evaluate", "--without-answers"])

    assert given.exit_code == 0 and blank.exit_code == 0, given.output + blank.output
    assert "model: escalation/1" in given.output and "data: test.jsonl" in given.output
    assert "form answers: as given" in given.output and "form answers: removed" in blank.output
    assert given.output.splitlines()[-1].startswith("roc_auc=")
    assert given.output != blank.output
