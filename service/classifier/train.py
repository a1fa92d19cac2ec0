"""Training the escalation classifier and writing a versioned, documented artifact.

The model: tf-idf word and char_wb n-grams plus one-hot structured fields, a
LogisticRegression whose C is chosen by stratified cross-validation (ROC AUC, with the
one-standard-error rule so that near-ties go to stronger regularisation), and sigmoid
calibration fitted on cross-validated scores (CalibratedClassifierCV, ensemble=False, so
there is one coefficient vector to explain predictions with).

Reported performance is nested: every outer fold of a repeated stratified k-fold re-runs
the whole procedure, C search and calibration included, on its training part only.
"""

from __future__ import annotations

import json
import platform
import shutil
import uuid
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
import skops
import skops.io
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, RepeatedStratifiedKFold, StratifiedKFold
from sklearn.pipeline import Pipeline

from service.classifier.artifact import (
    CALIBRATION_PLOT,
    CARD_FILE,
    METADATA_FILE,
    MODEL_FILE,
    MODEL_NAME,
    file_sha256,
    numbered_versions,
)
from service.classifier.card import CardInputs, render_calibration_plot, render_model_card
from service.classifier.data import (
    DataFileError,
    LabelledReport,
    files_sha256,
    labelled_files,
    labels,
    read_labelled_dir,
)
from service.classifier.features import FeatureConfig, build_feature_transformer, feature_frame
from service.classifier.metrics import RankingScores, describe_predictions, ranking_scores
from service.classifier.model import EscalationModel
from service.engine.facts import ReportFacts
from service.engine.risk import LevelThresholds


@dataclass(frozen=True, slots=True)
class TrainSettings:
    cv_folds: int = 5
    cv_repeats: int = 5
    c_grid: tuple[float, ...] = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)
    random_state: int = 0
    features: FeatureConfig = field(default_factory=FeatureConfig)


@dataclass(frozen=True, slots=True)
class FittedPipeline:
    pipeline: Pipeline
    c: float
    search_roc_auc: float  # mean inner-CV ROC AUC at the chosen C (optimistic; for the record)


@dataclass(frozen=True, slots=True)
class CrossValidation:
    n_splits: int
    n_repeats: int
    fold_scores: list[RankingScores]
    chosen_c: list[float]
    # Out-of-fold probability of every report from the first repetition: each report is
    # predicted once, by a model that never saw it.
    oof_probabilities: np.ndarray

    def summary(self) -> dict[str, object]:
        def spread(metric: str) -> dict[str, float]:
            values = np.array([getattr(s, metric) for s in self.fold_scores], dtype=float)
            values = values[np.isfinite(values)]
            return {"mean": round(float(values.mean()), 4), "std": round(float(values.std()), 4)}

        return {
            "scheme": f"nested, {self.n_repeats}x repeated stratified {self.n_splits}-fold",
            "folds": len(self.fold_scores),
            "roc_auc": spread("roc_auc"),
            "pr_auc": spread("pr_auc"),
            "brier": spread("brier"),
            "chosen_c": sorted(set(self.chosen_c)),
        }


def train_model(
    train_dir: Path,
    out_root: Path,
    version: str | None = None,
    holdout_dir: Path | None = None,
    level_thresholds: dict[str, float] | None = None,
    *,
    settings: TrainSettings | None = None,
) -> Path:
    """Train on `train_dir/*.jsonl`, write models/escalation/<version>/, return that directory.

    `out_root` is the models/ directory. `version` defaults to the next integer. Held-out
    files are only scored, never trained on. `level_thresholds` (moderate/high/critical
    probabilities) default to the engine's LevelThresholds.
    """
    settings = settings or TrainSettings()
    thresholds = asdict(LevelThresholds(**(level_thresholds or {})))
    train_files = labelled_files(train_dir)
    reports = read_labelled_dir(train_dir)
    holdout = _read_holdout(train_dir, holdout_dir)
    y = np.array(labels(reports), dtype=int)
    facts = [r.facts for r in reports]
    _check_trainable(y, settings)

    model_root = out_root / MODEL_NAME
    version = version or str((numbered_versions(model_root) or [0])[-1] + 1)
    final_dir = model_root / version
    if final_dir.exists():
        raise FileExistsError(f"{final_dir} already exists; versions are never overwritten")

    cv = cross_validate(facts, y, settings)
    fitted = fit_pipeline(facts, y, settings)
    categories = [f.category for f in facts]
    cv_metrics = {
        **cv.summary(),
        "out_of_fold": describe_predictions(y, cv.oof_probabilities, categories, thresholds),
        "leave_one_file_out": leave_one_file_out(reports, settings),
    }
    holdout_metrics = None
    holdout_probabilities = None
    if holdout:
        holdout_y = labels(holdout)
        holdout_probabilities = predict_probabilities(fitted.pipeline, [r.facts for r in holdout])
        holdout_metrics = describe_predictions(
            holdout_y, holdout_probabilities, [r.facts.category for r in holdout], thresholds
        )
        holdout_metrics["files"] = sorted({r.file_name for r in holdout})
        holdout_metrics["per_file"] = _per_file_scores(holdout, holdout_probabilities)
        holdout_metrics["texts_also_in_training"] = _shared_texts(reports, holdout)

    model_version = f"{MODEL_NAME}/{version}"
    model_root.mkdir(parents=True, exist_ok=True)
    work_dir = model_root / f".tmp-{version}-{uuid.uuid4().hex[:8]}"
    work_dir.mkdir()
    try:
        skops.io.dump(fitted.pipeline, work_dir / MODEL_FILE, compression=zipfile.ZIP_DEFLATED)
        metadata = {
            "name": MODEL_NAME,
            "version": version,
            "model_version": model_version,
            "created": datetime.now(UTC).date().isoformat(),
            "sklearn_version": sklearn.__version__,
            "skops_version": skops.__version__,
            "numpy_version": np.__version__,
            "python_version": platform.python_version(),
            "model_sha256": file_sha256(work_dir / MODEL_FILE),
            "training_data": {
                "files": [p.name for p in train_files],
                "sha256": files_sha256(train_files),
                "sha256_method": "SHA-256 of the files' bytes concatenated in file-name order",
                "n": len(reports),
                "escalated": int(y.sum()),
            },
            "features": settings.features.as_dict(),
            "classifier": {
                "estimator": "LogisticRegression (lbfgs, L2)",
                "C": fitted.c,
                "c_grid": list(settings.c_grid),
                "c_selected_by": (
                    f"stratified {cv.n_splits}-fold CV, ROC AUC, one-standard-error rule "
                    "(smallest C within one SE of the best)"
                ),
                "calibration": "sigmoid, CalibratedClassifierCV(ensemble=False)",
                "random_state": settings.random_state,
            },
            "level_thresholds": thresholds,
            "metrics": {"cv": cv_metrics, "holdout": holdout_metrics},
        }
        (work_dir / METADATA_FILE).write_text(json.dumps(metadata, indent=2) + "\n", "utf-8")
        render_calibration_plot(
            work_dir / CALIBRATION_PLOT,
            cv=(y, cv.oof_probabilities),
            holdout=None if not holdout else (labels(holdout), holdout_probabilities),
        )
        explainer = EscalationModel(fitted.pipeline, model_version, metadata)
        card = render_model_card(
            CardInputs(
                metadata=metadata,
                reports=reports,
                oof_probabilities=cv.oof_probabilities,
                model=explainer,
                train_file_counts=_line_counts(reports),
            )
        )
        (work_dir / CARD_FILE).write_text(card, "utf-8")
        work_dir.rename(final_dir)
    except BaseException:
        shutil.rmtree(work_dir, ignore_errors=True)
        raise
    return final_dir


def fit_pipeline(
    facts: Sequence[ReportFacts], y: np.ndarray, settings: TrainSettings
) -> FittedPipeline:
    """Vectorise, choose C by CV, fit the calibrated classifier; one fitted Pipeline."""
    features = build_feature_transformer(settings.features)
    x = features.fit_transform(feature_frame(facts))
    folds = _n_splits(y, settings)
    search = GridSearchCV(
        _logistic_regression(),
        {"C": list(settings.c_grid)},
        scoring="roc_auc",
        cv=StratifiedKFold(folds, shuffle=True, random_state=settings.random_state),
        refit=False,  # the final fit is the calibrated one below
    )
    search.fit(x, y)
    chosen = one_standard_error_rule(search.cv_results_)
    c = float(search.cv_results_["params"][chosen]["C"])
    search_roc_auc = float(search.cv_results_["mean_test_score"][chosen])
    classifier = CalibratedClassifierCV(
        _logistic_regression(c),
        method="sigmoid",
        cv=StratifiedKFold(folds, shuffle=True, random_state=settings.random_state),
        ensemble=False,
    )
    classifier.fit(x, y)
    _plain_vocabularies(features)
    pipeline = Pipeline([("features", features), ("classifier", classifier)])
    return FittedPipeline(pipeline=pipeline, c=c, search_roc_auc=search_roc_auc)


def _plain_vocabularies(features: Any) -> None:
    """Vectorisers keep their vocabulary as {term: numpy.int64}; skops then writes every one of
    those ~30,000 integers as its own array, which made loading take seconds and tens of MB.
    Plain ints are stored as one JSON object and mean the same to scikit-learn."""
    for _, transformer, _ in features.transformers_:
        vocabulary = getattr(transformer, "vocabulary_", None)
        if vocabulary is not None:
            transformer.vocabulary_ = {term: int(index) for term, index in vocabulary.items()}


def one_standard_error_rule(cv_results: Mapping[str, Any]) -> int:
    """Index of the smallest C whose mean ROC AUC is within one standard error of the best.

    The CV curve over C is usually flat at the top; among near-equal settings the most
    regularised one transfers best to text written by other people.
    """
    means = np.asarray(cv_results["mean_test_score"], dtype=float)
    stds = np.asarray(cv_results["std_test_score"], dtype=float)
    n_splits = sum(
        1 for key in cv_results if key.startswith("split") and key.endswith("_test_score")
    )
    best = int(np.nanargmax(means))
    floor = means[best] - stds[best] / np.sqrt(max(n_splits, 1))
    within = [i for i, mean in enumerate(means) if mean >= floor]
    return min(within, key=lambda i: cv_results["params"][i]["C"])


def cross_validate(
    facts: Sequence[ReportFacts], y: np.ndarray, settings: TrainSettings
) -> CrossValidation:
    n_splits = _n_splits(y, settings)
    splitter = RepeatedStratifiedKFold(
        n_splits=n_splits, n_repeats=settings.cv_repeats, random_state=settings.random_state
    )
    scores: list[RankingScores] = []
    chosen: list[float] = []
    oof = np.full(len(y), np.nan)
    for fold, (train_index, test_index) in enumerate(splitter.split(np.zeros(len(y)), y)):
        fitted = fit_pipeline([facts[i] for i in train_index], y[train_index], settings)
        probabilities = predict_probabilities(fitted.pipeline, [facts[i] for i in test_index])
        scores.append(ranking_scores(y[test_index], probabilities))
        chosen.append(fitted.c)
        if fold < n_splits:  # the first repetition
            oof[test_index] = probabilities
    return CrossValidation(n_splits, settings.cv_repeats, scores, chosen, oof)


def leave_one_file_out(
    reports: Sequence[LabelledReport], settings: TrainSettings
) -> list[dict[str, object]]:
    """Train on all files but one, score that one: how well it transfers to another author.

    Files too small or one-sided to train or score on are skipped.
    """
    files = sorted({r.file_name for r in reports})
    results: list[dict[str, object]] = []
    for held_out in files if len(files) > 1 else []:
        train = [r for r in reports if r.file_name != held_out]
        test = [r for r in reports if r.file_name == held_out]
        y_train = np.array(labels(train), dtype=int)
        y_test = labels(test)
        if min(y_train.sum(), len(y_train) - y_train.sum()) < 4 or len(set(y_test)) < 2:
            continue
        fitted = fit_pipeline([r.facts for r in train], y_train, settings)
        probabilities = predict_probabilities(fitted.pipeline, [r.facts for r in test])
        results.append(
            {
                "held_out_file": held_out,
                "n": len(test),
                "escalated": int(sum(y_test)),
                "categories": sorted({r.facts.category for r in test}),
                **ranking_scores(y_test, probabilities).as_dict(),
            }
        )
    return results


def predict_probabilities(pipeline: Pipeline, facts: Sequence[ReportFacts]) -> np.ndarray:
    """Batch probabilities straight from the pipeline (training and evaluation use)."""
    return pipeline.predict_proba(feature_frame(facts))[:, 1]


def _logistic_regression(c: float = 1.0) -> LogisticRegression:
    return LogisticRegression(C=c, max_iter=2000)


def _n_splits(y: np.ndarray, settings: TrainSettings) -> int:
    minority = int(min(y.sum(), len(y) - y.sum()))
    return max(2, min(settings.cv_folds, minority))


def _check_trainable(y: np.ndarray, settings: TrainSettings) -> None:
    minority = int(min(y.sum(), len(y) - y.sum()))
    # Nested CV needs each class in every inner fold of every outer fold.
    if minority < 4:
        raise DataFileError(
            "need at least 4 escalated and 4 not-escalated reports to train; "
            f"the smaller class has {minority}"
        )
    if settings.cv_repeats < 1 or settings.cv_folds < 2:
        raise ValueError("cv_repeats must be >= 1 and cv_folds >= 2")


def _read_holdout(train_dir: Path, holdout_dir: Path | None) -> list[LabelledReport]:
    if holdout_dir is None or not labelled_files(holdout_dir):
        return []
    if holdout_dir.resolve() == train_dir.resolve():
        raise ValueError("the held-out directory must not be the training directory")
    return read_labelled_dir(holdout_dir)


def _per_file_scores(
    reports: Sequence[LabelledReport], probabilities: np.ndarray
) -> list[dict[str, object]]:
    results: list[dict[str, object]] = []
    for name in sorted({r.file_name for r in reports}):
        rows = [i for i, r in enumerate(reports) if r.file_name == name]
        y = [int(reports[i].escalated) for i in rows]
        scores = ranking_scores(y, probabilities[rows])
        results.append({"file": name, "n": len(rows), "escalated": sum(y), **scores.as_dict()})
    return results


def _shared_texts(train: Sequence[LabelledReport], holdout: Sequence[LabelledReport]) -> int:
    """How many held-out texts also occur verbatim in training (would flatter the scores)."""
    seen = {" ".join(r.facts.text.lower().split()) for r in train}
    return sum(" ".join(r.facts.text.lower().split()) in seen for r in holdout)


def _line_counts(reports: Sequence[LabelledReport]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for report in reports:
        counts[report.file_name] = counts.get(report.file_name, 0) + 1
    return counts
