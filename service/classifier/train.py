"""Training the escalation model and writing a versioned, documented candidate artifact.

The model is one calibrated logistic regression over four blocks of features (see
features.py): word and character tf-idf of the text, the form's answers, and the rules that
fired. Rule hits being features is how the rules and the text are combined: each rule's
weight is learnt from labelled reports, not set by hand, and is written into the artifact.

Everything is chosen on the real-grounded training split (models/data/real/train), by
cross-validation grouped by source domain, so no web site's accounts are both fitted and
scored in one fold:
- C, the block weights of the answers and of the rules, and whether the synthetic corpus is
  added to the training folds (it is kept only if it helps on real text);
- the level thresholds, from the out-of-fold probabilities (high or above catches a stated
  share of escalated reports; critical needs a stated precision).
The frozen test split (models/data/real/test) is only scored, for the model card and for
`defuse model promote`; nothing is tuned on it.

Training writes a candidate: models/escalation/<n>/. It goes live only through
`defuse model promote` (service/classifier/registry.py).
"""

from __future__ import annotations

import json
import platform
import random
import shutil
import uuid
import zipfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
import sklearn
import skops
import skops.io
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold
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
from service.classifier.evaluate import EvaluationResult, evaluate_reports, without_answers
from service.classifier.features import (
    FIELDS,
    RULES,
    FeatureConfig,
    build_feature_transformer,
    feature_frame,
)
from service.classifier.metrics import bootstrap_roc_auc_interval, confusion_at, ranking_scores
from service.classifier.model import EscalationModel
from service.engine.facts import ReportFacts
from service.engine.risk import LevelThresholds, RiskEngine
from service.engine.rules import RuleSet


@dataclass(frozen=True, slots=True)
class TrainSettings:
    cv_folds: int = 5
    c_grid: tuple[float, ...] = (1.0, 3.0, 10.0)
    fields_weight_grid: tuple[float, ...] = (0.1, 0.3)
    rules_weight_grid: tuple[float, ...] = (0.1, 0.25, 0.5)
    # Try training with the synthetic corpus added, and without; keep what scores better.
    synthetic_grid: tuple[bool, ...] = (False, True)
    # Share of synthetic reports whose form answers are dropped before training: in the
    # synthetic corpus the answers nearly encode the label (formal_action was escalated in
    # 147 of 152 reports), while real reporters often leave them blank.
    synthetic_answer_dropout: float = 0.7
    # Levels: high or above must catch this share of escalated reports out of fold, moderate
    # or above this larger share; critical (besides the safety rules) needs this precision.
    high_recall_target: float = 0.85
    moderate_recall_target: float = 0.95
    critical_precision_target: float = 0.9
    critical_floor: float = 0.9
    bootstrap_resamples: int = 2000
    random_state: int = 0
    features: FeatureConfig = field(default_factory=FeatureConfig)


@dataclass(frozen=True, slots=True)
class Candidate:
    """One point of the grid and its grouped cross-validated ROC AUC on real reports."""

    c: float
    fields_weight: float
    rules_weight: float
    synthetic: bool
    roc_auc: float


@dataclass(slots=True)
class _Corpus:
    """Reports with what training needs of them, aligned by index."""

    reports: list[LabelledReport]
    facts: list[ReportFacts]
    fired: list[list[str]]
    y: np.ndarray
    groups: list[str]

    @classmethod
    def of(cls, reports: Sequence[LabelledReport], rules: RuleSet) -> _Corpus:
        facts = [r.facts for r in reports]
        return cls(
            reports=list(reports),
            facts=facts,
            fired=[[hit.rule_id for hit in rules.evaluate(f)] for f in facts],
            y=np.array(labels(reports), dtype=int),
            groups=[r.group for r in reports],
        )

    def take(self, index: Sequence[int]) -> _Corpus:
        return _Corpus(
            reports=[self.reports[i] for i in index],
            facts=[self.facts[i] for i in index],
            fired=[self.fired[i] for i in index],
            y=self.y[list(index)],
            groups=[self.groups[i] for i in index],
        )

    def plus(self, other: _Corpus) -> _Corpus:
        return _Corpus(
            reports=self.reports + other.reports,
            facts=self.facts + other.facts,
            fired=self.fired + other.fired,
            y=np.concatenate([self.y, other.y]),
            groups=self.groups + other.groups,
        )

    def frame(self) -> np.ndarray:
        return feature_frame(self.facts, self.fired)


def train_model(
    train_dir: Path,
    out_root: Path,
    rules: RuleSet,
    *,
    synthetic_dir: Path | None = None,
    test_dir: Path | None = None,
    synthetic_holdout_dir: Path | None = None,
    version: str | None = None,
    settings: TrainSettings | None = None,
) -> Path:
    """Train on `train_dir/*.jsonl` (plus, if it helps, `synthetic_dir`), write the candidate
    models/escalation/<version>/ and return that directory. `test_dir` and
    `synthetic_holdout_dir` are only scored, never trained or tuned on."""
    settings = settings or TrainSettings()
    for other in (synthetic_dir, test_dir, synthetic_holdout_dir):
        if other is not None and other.resolve() == train_dir.resolve():
            raise ValueError(f"{other} must not be the training directory")
    real = _Corpus.of(read_labelled_dir(train_dir), rules)
    _check_trainable(real.y, set(real.groups), settings)
    synthetic = None
    if synthetic_dir is not None and labelled_files(synthetic_dir):
        synthetic = _Corpus.of(_drop_answers(read_labelled_dir(synthetic_dir), settings), rules)

    model_root = out_root / MODEL_NAME
    version = version or str((numbered_versions(model_root) or [0])[-1] + 1)
    final_dir = model_root / version
    if final_dir.exists():
        raise FileExistsError(f"{final_dir} already exists; versions are never overwritten")

    folds = _grouped_folds(real, settings)
    grid = search_grid(real, synthetic, folds, settings)
    best = choose(grid)
    features = replace(
        settings.features, fields_weight=best.fields_weight, rules_weight=best.rules_weight
    )
    oof = out_of_fold(real, synthetic if best.synthetic else None, folds, best.c, features)
    thresholds = choose_thresholds(real.y, oof, settings)

    training = real.plus(synthetic) if best.synthetic and synthetic else real
    calibration_folds = _grouped_splits(training, settings.cv_folds, settings.random_state)
    pipeline = fit_pipeline(training, best.c, features, calibration_folds)
    _plain_vocabularies(pipeline.named_steps["features"])
    model_version = f"{MODEL_NAME}/{version}"
    provisional = {"level_thresholds": asdict(thresholds)}
    model = EscalationModel(pipeline, model_version, provisional)
    engine = RiskEngine(rules, model, thresholds, hotspot_boost=0.0)

    validation = _validation_metrics(real, oof, thresholds, settings)
    evaluations = _scored_sets(engine, test_dir, synthetic_holdout_dir, settings)
    train_files = labelled_files(train_dir)
    metadata: dict[str, Any] = {
        "name": MODEL_NAME,
        "version": version,
        "model_version": model_version,
        "created": datetime.now(UTC).date().isoformat(),
        "sklearn_version": sklearn.__version__,
        "skops_version": skops.__version__,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "rule_pack_version": rules.version,
        "training_data": {
            "files": [str(p.relative_to(train_dir.parent)) for p in train_files],
            "sha256": files_sha256(train_files),
            "sha256_method": "SHA-256 of the files' bytes concatenated in file-name order",
            "n": len(real.y),
            "escalated": int(real.y.sum()),
            "source_domains": len(set(real.groups)),
            "synthetic_added": bool(best.synthetic and synthetic),
            "synthetic_n": len(synthetic.y) if synthetic and best.synthetic else 0,
            "synthetic_answer_dropout": settings.synthetic_answer_dropout,
            # The engine scores other languages with the rules alone (see RiskEngine.assess).
            "languages": sorted({r.facts.language for r in training.reports}),
        },
        "features": features.as_dict(),
        "classifier": {
            "estimator": "LogisticRegression (lbfgs, L2)",
            "C": best.c,
            "selected_by": (
                f"grouped {len(folds)}-fold cross-validation on the real training split "
                "(StratifiedGroupKFold by source domain), ROC AUC over the grid below"
            ),
            "grid": [asdict(point) for point in grid],
            "calibration": "sigmoid, CalibratedClassifierCV(ensemble=False), grouped folds",
            "random_state": settings.random_state,
        },
        "level_thresholds": asdict(thresholds),
        "thresholds_chosen_by": (
            f"out-of-fold probabilities on the real training split: high or above catches "
            f"{settings.high_recall_target:.0%} of escalated reports, moderate or above "
            f"{settings.moderate_recall_target:.0%}; critical needs precision "
            f"{settings.critical_precision_target:.0%} (and at least {settings.critical_floor})"
        ),
        "rule_weights": dict(sorted(model.rule_weights.items())),
        "metrics": {"validation": validation, **evaluations},
    }

    model_root.mkdir(parents=True, exist_ok=True)
    work_dir = model_root / f".tmp-{version}-{uuid.uuid4().hex[:8]}"
    work_dir.mkdir()
    try:
        skops.io.dump(pipeline, work_dir / MODEL_FILE, compression=zipfile.ZIP_DEFLATED)
        metadata["model_sha256"] = file_sha256(work_dir / MODEL_FILE)
        (work_dir / METADATA_FILE).write_text(json.dumps(metadata, indent=2) + "\n", "utf-8")
        render_calibration_plot(work_dir / CALIBRATION_PLOT, validation=(real.y, oof))
        card = render_model_card(
            CardInputs(metadata=metadata, reports=real.reports, oof=oof, model=model, rules=rules)
        )
        (work_dir / CARD_FILE).write_text(card, "utf-8")
        work_dir.rename(final_dir)
    except BaseException:
        shutil.rmtree(work_dir, ignore_errors=True)
        raise
    return final_dir


# --- model selection ------------------------------------------------------------------------


def search_grid(
    real: _Corpus,
    synthetic: _Corpus | None,
    folds: list[tuple[np.ndarray, np.ndarray]],
    settings: TrainSettings,
) -> list[Candidate]:
    """Grouped-CV ROC AUC of every grid point. The vectorisers are fitted once per fold (and
    synthetic choice); block weights only scale columns, so they are applied to the matrix."""
    results: list[Candidate] = []
    synthetic_choices = [s for s in settings.synthetic_grid if not s or synthetic is not None]
    for use_synthetic in synthetic_choices:
        scores: dict[tuple[float, float, float], np.ndarray] = {}
        for train_index, test_index in folds:
            train = real.take(train_index)
            if use_synthetic and synthetic is not None:
                train = train.plus(synthetic)
            test = real.take(test_index)
            transformer = build_feature_transformer(
                replace(settings.features, fields_weight=1.0, rules_weight=1.0)
            )
            x_train = transformer.fit_transform(train.frame())
            x_test = transformer.transform(test.frame())
            for fields_weight, rules_weight in product(
                settings.fields_weight_grid, settings.rules_weight_grid
            ):
                scale = _block_scale(transformer, fields_weight, rules_weight)
                for c in settings.c_grid:
                    classifier = _logistic_regression(c).fit(x_train @ scale, train.y)
                    decision = classifier.decision_function(x_test @ scale)
                    key = (c, fields_weight, rules_weight)
                    oof = scores.setdefault(key, np.zeros(len(real.y)))
                    oof[test_index] = decision
        for (c, fields_weight, rules_weight), decision in scores.items():
            auc = float(roc_auc_score(real.y, _per_fold_rank(decision, folds)))
            results.append(Candidate(c, fields_weight, rules_weight, use_synthetic, round(auc, 4)))
    return results


def choose(grid: Sequence[Candidate]) -> Candidate:
    """The best ROC AUC; among near-ties (within 0.002), the simpler model: without the
    synthetic corpus, then the smallest C (strongest regularisation transfers best)."""
    top = max(point.roc_auc for point in grid)
    near = [point for point in grid if point.roc_auc >= top - 0.002]
    return min(near, key=lambda p: (p.synthetic, p.c, -p.roc_auc))


def out_of_fold(
    real: _Corpus,
    synthetic: _Corpus | None,
    folds: list[tuple[np.ndarray, np.ndarray]],
    c: float,
    features: FeatureConfig,
) -> np.ndarray:
    """Calibrated probability of every real training report from a model that never saw its
    source domain (calibration fitted inside each training part too)."""
    oof = np.full(len(real.y), np.nan)
    for train_index, test_index in folds:
        train = real.take(train_index)
        if synthetic is not None:
            train = train.plus(synthetic)
        # Calibration inside each training part, on 3 grouped folds of it.
        inner = _grouped_splits(train, 3, random_state=0)
        pipeline = fit_pipeline(train, c, features, inner)
        test = real.take(test_index)
        oof[test_index] = pipeline.predict_proba(test.frame())[:, 1]
    return oof


def choose_thresholds(
    y: np.ndarray, probabilities: np.ndarray, settings: TrainSettings
) -> LevelThresholds:
    """Level thresholds from out-of-fold probabilities (see TrainSettings)."""
    high = _threshold_for_recall(y, probabilities, settings.high_recall_target)
    moderate = min(_threshold_for_recall(y, probabilities, settings.moderate_recall_target), high)
    critical = 0.99
    for candidate in np.unique(probabilities):
        if candidate < settings.critical_floor:
            continue
        flagged = probabilities >= candidate
        if flagged.sum() >= 3 and y[flagged].mean() >= settings.critical_precision_target:
            critical = float(candidate)
            break
    # Thresholds must ascend strictly inside (0, 1); round down so the chosen reports qualify.
    high = min(max(_floor(high), 0.02), 0.97)
    moderate = min(max(_floor(moderate), 0.01), high - 0.01)
    critical = max(min(_floor(critical), 0.99), high + 0.01)
    return LevelThresholds(moderate=moderate, high=high, critical=critical)


def _threshold_for_recall(y: np.ndarray, probabilities: np.ndarray, target: float) -> float:
    """The highest threshold at which at least `target` of the escalated reports reach it."""
    positives = np.sort(probabilities[y == 1])[::-1]
    needed = max(1, int(np.ceil(target * len(positives))))
    return float(positives[needed - 1])


def _floor(value: float) -> float:
    return float(np.floor(value * 1000) / 1000)


# --- fitting --------------------------------------------------------------------------------


def fit_pipeline(
    corpus: _Corpus,
    c: float,
    features: FeatureConfig,
    calibration_folds: list[tuple[np.ndarray, np.ndarray]],
) -> Pipeline:
    transformer = build_feature_transformer(features)
    x = transformer.fit_transform(corpus.frame())
    classifier = CalibratedClassifierCV(
        _logistic_regression(c), method="sigmoid", cv=calibration_folds, ensemble=False
    )
    classifier.fit(x, corpus.y)
    return Pipeline([("features", transformer), ("classifier", classifier)])


def predict_probabilities(
    pipeline: Pipeline,
    facts: Sequence[ReportFacts],
    fired_rules: Sequence[Sequence[str]] | None = None,
) -> np.ndarray:
    """Batch probabilities straight from the pipeline (used to check the fast explainer)."""
    return pipeline.predict_proba(feature_frame(facts, fired_rules))[:, 1]


def _grouped_splits(
    corpus: _Corpus, n_splits: int, random_state: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified folds that keep each group (source domain) whole."""
    splits = max(2, min(n_splits, len(set(corpus.groups))))
    splitter = StratifiedGroupKFold(splits, shuffle=True, random_state=random_state)
    return list(splitter.split(np.zeros(len(corpus.y)), corpus.y, corpus.groups))


def _grouped_folds(corpus: _Corpus, settings: TrainSettings) -> list[tuple[np.ndarray, np.ndarray]]:
    """The cross-validation folds every choice is scored on; each must hold both classes."""
    folds = _grouped_splits(corpus, settings.cv_folds, settings.random_state)
    for _, test_index in folds:
        if len(set(corpus.y[test_index])) < 2:
            raise DataFileError(
                "a cross-validation fold holds one class only; add reports from more sources"
            )
    return folds


def _block_scale(transformer: Any, fields_weight: float, rules_weight: float) -> sp.spmatrix:
    blocks = transformer.output_indices_
    weights = np.ones(blocks[RULES].stop, dtype=np.float32)
    weights[blocks[FIELDS]] = fields_weight  # the text blocks keep weight 1
    weights[blocks[RULES]] = rules_weight
    return sp.diags(weights)


def _per_fold_rank(decision: np.ndarray, folds: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Decision values are on each fold model's own scale; pooling them for one AUC is fair
    after turning each fold's values into within-fold ranks in [0, 1]."""
    ranked = np.empty_like(decision)
    for _, test_index in folds:
        values = decision[test_index]
        ranked[test_index] = (np.argsort(np.argsort(values)) + 0.5) / len(values)
    return ranked


def _plain_vocabularies(features: Any) -> None:
    """Vectorisers keep their vocabulary as {term: numpy.int64}; skops then writes every one of
    those ~30,000 integers as its own array, which made loading take seconds and tens of MB.
    Plain ints are stored as one JSON object and mean the same to scikit-learn."""
    for _, transformer, _ in features.transformers_:
        vocabulary = getattr(transformer, "vocabulary_", None)
        if vocabulary is not None:
            transformer.vocabulary_ = {term: int(index) for term, index in vocabulary.items()}


def _logistic_regression(c: float = 1.0) -> LogisticRegression:
    return LogisticRegression(C=c, max_iter=3000)


def _drop_answers(
    reports: Sequence[LabelledReport], settings: TrainSettings
) -> list[LabelledReport]:
    rng = random.Random(settings.random_state)  # noqa: S311 - a reproducible sample, not a secret
    return [
        replace(r, facts=without_answers(r.facts))
        if rng.random() < settings.synthetic_answer_dropout
        else r
        for r in reports
    ]


def _check_trainable(y: np.ndarray, groups: set[str], settings: TrainSettings) -> None:
    minority = int(min(y.sum(), len(y) - y.sum()))
    if minority < 4:
        raise DataFileError(
            "need at least 4 escalated and 4 not-escalated reports to train; "
            f"the smaller class has {minority}"
        )
    if len(groups) < 2:
        raise DataFileError("need reports from at least 2 sources to cross-validate by source")
    if settings.cv_folds < 2:
        raise ValueError("cv_folds must be >= 2")


# --- figures --------------------------------------------------------------------------------


def _validation_metrics(
    real: _Corpus, oof: np.ndarray, thresholds: LevelThresholds, settings: TrainSettings
) -> dict[str, Any]:
    """Out-of-fold figures on the real training split (the data the thresholds were chosen on:
    optimistic for the levels, which is why the test split is reported beside them)."""
    low, high = bootstrap_roc_auc_interval(real.y, oof, resamples=settings.bootstrap_resamples)
    return {
        "n": len(real.y),
        "escalated": int(real.y.sum()),
        **ranking_scores(real.y, oof).as_dict(),
        "roc_auc_95ci": [round(low, 4), round(high, 4)],
        "levels": {
            level: confusion_at(real.y, oof, value).as_dict()
            for level, value in asdict(thresholds).items()
        },
    }


def _scored_sets(
    engine: RiskEngine,
    test_dir: Path | None,
    synthetic_holdout_dir: Path | None,
    settings: TrainSettings,
) -> dict[str, Any]:
    """The frozen test split with and without the form answers, and the synthetic holdout,
    each scored by the full engine as `defuse model evaluate` does."""
    scored: dict[str, Any] = {}
    sets: list[tuple[str, Path | None, bool]] = [
        ("test", test_dir, False),
        ("test_without_answers", test_dir, True),
        ("synthetic_holdout", synthetic_holdout_dir, False),
    ]
    for name, directory, strip in sets:
        if directory is None or not labelled_files(directory):
            scored[name] = None
            continue
        reports = read_labelled_dir(directory)
        result: EvaluationResult = evaluate_reports(
            reports,
            engine,
            name=str(directory.name),
            strip_answers=strip,
            resamples=settings.bootstrap_resamples,
        )
        scored[name] = {**result.as_dict(), "sha256": files_sha256(labelled_files(directory))}
    return scored
