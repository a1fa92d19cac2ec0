"""Loading a trained escalation model, refusing artifacts that cannot be trusted.

Checks, in order: metadata.json is readable; model.skops has the SHA-256 recorded at
training time (tampered or corrupted files are refused); the installed scikit-learn has
the same major.minor version the model was trained with (fitted estimators are not
portable across minor versions); the file holds only allow-listed types (skops' trusted
types, never "trust everything"); and the object is the pipeline the explainer expects.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import sklearn
import skops.io
from sklearn.pipeline import Pipeline
from skops.io.exceptions import UntrustedTypesFoundException

from service.classifier.artifact import (
    METADATA_FILE,
    MODEL_FILE,
    MODEL_NAME,
    major_minor,
)
from service.classifier.model import EscalationModel

# Types skops does not trust by default that an escalation pipeline legitimately contains.
# Anything else in a model file (functions, arbitrary classes) makes loading fail.
ALLOWED_TYPES: frozenset[str] = frozenset(
    {
        "sklearn.calibration._CalibratedClassifier",
        "sklearn.calibration._SigmoidCalibration",
        "sklearn.model_selection._split.StratifiedKFold",
    }
)


class ModelArtifactError(RuntimeError):
    """A model artifact is missing, altered, built for another scikit-learn, or unexpected."""


def load_model(path: Path) -> EscalationModel:
    """Load models/<name>/<version>/ (the directory holding model.skops and metadata.json)."""
    metadata = _read_metadata(path)
    model_file = path / MODEL_FILE
    try:
        payload = model_file.read_bytes()  # hash and load the same bytes
    except OSError as error:
        raise ModelArtifactError(f"{model_file}: cannot read ({error.strerror})") from None
    expected = metadata.get("model_sha256")
    actual = hashlib.sha256(payload).hexdigest()
    if actual != expected:
        raise ModelArtifactError(
            f"{model_file}: SHA-256 {actual} does not match metadata ({expected}); "
            "the file was altered or corrupted; retrain or restore it"
        )
    _check_sklearn_version(metadata, path)
    try:
        # skops refuses, before building anything, a file holding a type outside the list.
        pipeline = skops.io.loads(payload, trusted=sorted(ALLOWED_TYPES))
    except UntrustedTypesFoundException as error:
        raise ModelArtifactError(
            f"{model_file}: contains types outside the allow-list ({error})"
        ) from None
    if not isinstance(pipeline, Pipeline):
        raise ModelArtifactError(f"{model_file}: expected a scikit-learn Pipeline")
    version = str(metadata.get("model_version") or f"{MODEL_NAME}/{path.name}")
    try:
        return EscalationModel(pipeline, version, metadata)
    except (TypeError, KeyError, AttributeError, IndexError) as error:
        raise ModelArtifactError(f"{model_file}: not an escalation pipeline ({error})") from None


def _read_metadata(path: Path) -> dict:
    metadata_file = path / METADATA_FILE
    try:
        metadata = json.loads(metadata_file.read_text("utf-8"))
    except FileNotFoundError:
        raise ModelArtifactError(
            f"{metadata_file}: missing; is {path} a model directory?"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelArtifactError(f"{metadata_file}: unreadable ({error})") from None
    if not isinstance(metadata, dict):
        raise ModelArtifactError(f"{metadata_file}: expected a JSON object")
    return metadata


def _check_sklearn_version(metadata: dict, path: Path) -> None:
    trained_with = str(metadata.get("sklearn_version", ""))
    try:
        trained = major_minor(trained_with)
    except ValueError:
        raise ModelArtifactError(f"{path}: metadata has no valid sklearn_version") from None
    installed = major_minor(sklearn.__version__)
    if trained != installed:
        raise ModelArtifactError(
            f"{path}: trained with scikit-learn {trained_with}, but {sklearn.__version__} is "
            "installed; fitted models are only loaded by the same major.minor version. "
            "Retrain with `defuse model train` or install the matching scikit-learn."
        )
