from __future__ import annotations

import json
import math
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
from service.classifier.features import is_function_word
from service.classifier.load import ModelArtifactError, load_model
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


def test_round_trip_gives_a_risk_model(trained_dir: Path, rules) -> None:
    model = load_model(trained_dir)
    assert isinstance(model, RiskModel)
    assert model.version == "escalation/1"

    def predict(facts: ReportFacts) -> ModelPrediction:
        return model.predict(facts, [hit.rule_id for hit in rules.evaluate(facts)])

    prediction = predict(ESCALATING)
    assert isinstance(prediction, ModelPrediction)
    assert 0.0 <= prediction.probability <= 1.0
    assert prediction.probability > predict(CALM).probability


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
    trained_dir: Path, corpus_dirs: tuple[Path, Path], rules
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
    fired = [[hit.rule_id for hit in rules.evaluate(f)] for f in facts]
    assert any(fired), "the check must include reports on which rules fire"
    fast = np.array([p.probability for p in model.predict_many(facts, fired)])
    assert np.allclose(fast, predict_probabilities(model.pipeline, facts, fired), atol=1e-5)
    one_by_one = [model.predict(f, r) for f, r in zip(facts[:5], fired[:5], strict=True)]
    assert one_by_one == model.predict_many(facts[:5], fired[:5])


def test_fired_rules_move_the_probability_by_their_fitted_weight(trained_dir: Path) -> None:
    model = load_model(trained_dir)
    rule, weight = max(model.rule_weights.items(), key=lambda item: abs(item[1]))
    without = model.predict(CALM).probability
    with_rule = model.predict(CALM, [rule])
    shift = math.log(with_rule.probability / (1 - with_rule.probability)) - math.log(
        without / (1 - without)
    )
    assert shift == pytest.approx(weight, abs=1e-3)
    assert with_rule.rule_weights == {rule: weight}
    assert model.predict(CALM, ["not-a-known-rule"]).probability == pytest.approx(without)


def test_explanations_never_name_function_words(trained_dir: Path) -> None:
    model = load_model(trained_dir)
    facts = replace(ESCALATING, text="The the and of to it is was I we this every but. " * 5)
    for name, _ in model.predict(facts).top_terms:
        assert ":" in name or not is_function_word(name)


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
