"""A tiny, deterministic labelled corpus and one model trained on it, shared by the tests."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from service.classifier.train import TrainSettings, train_model
from service.engine.rules import load_rule_set

RULES_DIR = Path(__file__).resolve().parents[2] / "rules"
# Small enough to train (grid search and grouped out-of-fold included) in a few seconds.
FAST_SETTINGS = TrainSettings(
    cv_folds=3,
    c_grid=(1.0, 10.0),
    fields_weight_grid=(0.3,),
    rules_weight_grid=(1.0,),
    synthetic_grid=(False,),
    bootstrap_resamples=100,
)
SOURCES = [f"https://site-{n}.example/case/{{}}" for n in range(6)]

_CALM = [
    "we disagree about how the weekly meetings are run",
    "the rota changed at short notice again this month",
    "my colleague talks over me in planning sessions",
    "I would just like someone to listen to me",
    "a quiet conversation would probably help us both",
    "it is minor but I wanted it noted somewhere",
    "things have improved a little since last week",
]
_ESCALATING = [
    "I have spoken to a solicitor about an employment tribunal",
    "I am signed off on sick leave because of the stress",
    "I will resign and hand in my notice if nothing changes",
    "I am raising a formal grievance with the union next week",
    "this is constructive dismissal and I have contacted a lawyer",
]


def corpus_lines(count: int, seed: int) -> list[dict[str, object]]:
    """Reports whose label follows the wording, with one in ten labels flipped as noise."""
    rng = random.Random(seed)
    lines = []
    for index in range(count):
        escalated = index % 2 == 0
        phrases = rng.sample(_CALM, 2) + (rng.sample(_ESCALATING, 2) if escalated else [])
        rng.shuffle(phrases)
        noisy_label = escalated if index % 10 != 3 else not escalated
        lines.append(
            {
                "text": ". ".join(phrases).capitalize() + ".",
                "category": rng.choice(["bullying", "workload", "harassment"]),
                "escalated": noisy_label,
                "duration": "months" if escalated else rng.choice(["days", "weeks"]),
                "raised_before": escalated,
                "raised_with": ["hr"] if escalated else [],
                "involved": ["my manager"] if rng.random() < 0.5 else ["a peer"],
                "desired_outcome": "formal_action" if escalated else "be_heard",
                "urgency": "normal",
                "language": "en",
                "outcome": "grievance" if noisy_label else "resolved_informally",
                "source": SOURCES[(index // 2) % len(SOURCES)].format(seed * 1000 + index),
            }
        )
    return lines


def write_jsonl(path: Path, records: list[dict[str, object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def rules():  # type: ignore[no-untyped-def]
    return load_rule_set(RULES_DIR)


@pytest.fixture(scope="session")
def corpus_dirs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(training folder, frozen-test-like folder)."""
    root = tmp_path_factory.mktemp("corpus")
    write_jsonl(root / "train" / "part-a.jsonl", corpus_lines(30, seed=1))
    write_jsonl(root / "train" / "part-b.jsonl", corpus_lines(30, seed=2))
    write_jsonl(root / "test" / "test.jsonl", corpus_lines(20, seed=3))
    return root / "train", root / "test"


@pytest.fixture(scope="session")
def trained_dir(tmp_path_factory: pytest.TempPathFactory, corpus_dirs, rules) -> Path:  # type: ignore[no-untyped-def]
    """models/escalation/1 trained once for the whole session (read-only for tests)."""
    train_dir, test_dir = corpus_dirs
    out_root = tmp_path_factory.mktemp("models")
    return train_model(train_dir, out_root, rules, test_dir=test_dir, settings=FAST_SETTINGS)
