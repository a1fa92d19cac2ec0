from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import sklearn
import skops.io
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from service.classifier.artifact import file_sha256
from service.classifier.data import read_labelled_dir
from service.classifier.load import ModelArtifactError, latest_model_dir, load_model
from service.classifier.train import predict_probabilities
from service.engine.facts import ReportFacts
from service.engine.risk import ModelPrediction, RiskModel


@pytest.fixture
def artifact_copy(trained_dir: Path, tmp_path: Path) -> Path:
    """A writable copy of the trained artifact, for tests that damage it."""
    return Path(shutil.copytree(trained_dir, tmp_path / "escalation" / "1"))


def _edit_metadata(model_dir: Path, **changes: object) -> None:
    path = model_dir / "metadata.json"
    metadata = json.loads(path.read_text())
    metadata.update(changes)
    path.write_text(json.dumps(metadata))


ESCALATING = ReportFacts(
    text="My manager shouts at me. I have spoken to a solicitor about an employment tribunal "
    "and I am on sick leave.",
    category="bullying",
    duration="months",
    raised_before=True,
    raised_with=("hr",),
    involved=("my manager",),
    desired_outcome="formal_action",
)
CALM = ReportFacts(
    text="We disagree about how the weekly meetings are run; a quiet conversation would help.",
    category="workload",
    duration="days",
    raised_before=False,
    desired_outcome="be_heard",
)


def test_round_trip_gives_a_risk_model(trained_dir: Path) -> None:
    model = load_model(trained_dir)
    assert isinstance(model, RiskModel)
    assert model.version == "escalation/1"
    prediction = model.predict(ESCALATING)
    assert isinstance(prediction, ModelPrediction)
    assert 0.0 <= prediction.probability <= 1.0
    assert prediction.probability > model.predict(CALM).probability


def test_top_terms_are_readable_positive_and_specific_to_the_report(trained_dir: Path) -> None:
    model = load_model(trained_dir)
    terms = model.predict(ESCALATING).top_terms
    assert 1 <= len(terms) <= 5
    weights = [weight for _, weight in terms]
    assert all(weight > 0 for weight in weights)
    assert weights == sorted(weights, reverse=True)
    names = [name for name, _ in terms]
    assert len(set(names)) == len(names)
    assert any(
        name in {"tribunal", "solicitor", "sick leave", "sick", "employment tribunal"}
        or name.startswith(("desired outcome:", "raised before:", "raised with:", "duration:"))
        for name in names
    )
    # Every term comes from this report's words or fields, in readable form.
    for name in names:
        assert ":" in name or name.split()[0] in ESCALATING.text.lower()
        assert "=" not in name and "_" not in name


def test_fast_predict_matches_the_pipeline(
    trained_dir: Path, corpus_dirs: tuple[Path, Path]
) -> None:
    model = load_model(trained_dir)
    train_dir, holdout_dir = corpus_dirs
    facts = [r.facts for r in read_labelled_dir(train_dir) + read_labelled_dir(holdout_dir)]
    facts += [
        ESCALATING,
        CALM,
        ReportFacts(
            text="Tribunal!!  Tribunal... ünseen wörds\tand\u00a0odd   spacing", category="pay"
        ),
        ReportFacts(text="x", category="not-a-category", involved=("someone new",)),
        replace(ESCALATING, text=ESCALATING.text * 40),
    ]
    fast = np.array([p.probability for p in model.predict_many(facts)])
    assert np.allclose(fast, predict_probabilities(model.pipeline, facts), atol=1e-5)
    assert [model.predict(f) for f in facts[:5]] == model.predict_many(facts[:5])


def test_tampered_model_file_is_refused(artifact_copy: Path) -> None:
    model_file = artifact_copy / "model.skops"
    data = bytearray(model_file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model_file.write_bytes(bytes(data))
    with pytest.raises(ModelArtifactError, match="SHA-256"):
        load_model(artifact_copy)


def test_model_from_another_sklearn_minor_version_is_refused(artifact_copy: Path) -> None:
    major, minor = sklearn.__version__.split(".")[:2]
    _edit_metadata(artifact_copy, sklearn_version=f"{major}.{int(minor) + 1}.0")
    with pytest.raises(ModelArtifactError, match="scikit-learn"):
        load_model(artifact_copy)


def test_another_patch_release_is_accepted(artifact_copy: Path) -> None:
    major, minor = sklearn.__version__.split(".")[:2]
    _edit_metadata(artifact_copy, sklearn_version=f"{major}.{minor}.99")
    assert load_model(artifact_copy).version == "escalation/1"


def test_types_outside_the_allow_list_are_refused(artifact_copy: Path) -> None:
    # A model file whose checksum and version are right but which would call json.dumps.
    rogue = Pipeline([("features", FunctionTransformer(json.dumps))])
    skops.io.dump(rogue, artifact_copy / "model.skops")
    _edit_metadata(artifact_copy, model_sha256=file_sha256(artifact_copy / "model.skops"))
    with pytest.raises(ModelArtifactError, match=r"allow-list .*json\.dumps"):
        load_model(artifact_copy)


def test_missing_metadata_is_a_clear_error(artifact_copy: Path) -> None:
    (artifact_copy / "metadata.json").unlink()
    with pytest.raises(ModelArtifactError, match="metadata.json"):
        load_model(artifact_copy)


def test_latest_model_dir_picks_the_highest_complete_version(tmp_path: Path) -> None:
    assert latest_model_dir(tmp_path) is None
    for version in ("1", "2", "10", "draft"):
        directory = tmp_path / "escalation" / version
        directory.mkdir(parents=True)
        (directory / "model.skops").write_bytes(b"")
        (directory / "metadata.json").write_text("{}")
    (tmp_path / "escalation" / "11").mkdir()  # incomplete: no files
    assert latest_model_dir(tmp_path) == tmp_path / "escalation" / "10"
    assert latest_model_dir(tmp_path, name="other") is None
