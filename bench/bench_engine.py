"""Risk engine: rules plus classifier per report, single report and batch, p50 and p95.

Floor: a bare scikit-learn Pipeline(TfidfVectorizer(word 1-2 grams), LogisticRegression)
fitted on the training texts, timing predict_proba on the same texts, one at a time and in
batches. The engine is the app's own (service.scoring.build_risk_engine). If the repository
has no trained classifier yet, one is trained into bench/.data/models with the project's own
trainer, so the figure always includes a classifier.

    python -m bench.bench_engine --size small
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.common import (
    DEFAULT_REDIS_URL,
    PATHS_DATABASE_URL,
    ROOT,
    Result,
    Row,
    bench_env,
    corpus_rows,
    percentile,
    run_main,
)

REPORTS = {"small": 1_000, "full": 5_000}
BATCH = 100
WARMUP = 200
TARGET_P95_MS = 3.0
TARGET_RATIO = 3.0


def models_dir_with_artifact() -> tuple[Path, str]:
    """The repository's models/, which ships an active (promoted) classifier."""
    from service.classifier.registry import active_version

    repo_models = ROOT / "models"
    version = active_version(repo_models)
    if version is None:
        raise SystemExit("no active model in models/escalation/ACTIVE: promote one first")
    return repo_models, f"the repository's active escalation/{version}"


def _time_each(func: Callable[[Any], Any], items: Sequence[Any]) -> list[float]:
    """Milliseconds per call."""
    times = []
    for item in items:
        start = time.perf_counter()
        func(item)
        times.append((time.perf_counter() - start) * 1000)
    return times


def _time_batches(func: Callable[[Sequence[Any]], Any], items: Sequence[Any]) -> list[float]:
    """Milliseconds per item, one figure per batch of BATCH items."""
    times = []
    for start_index in range(0, len(items) - BATCH + 1, BATCH):
        batch = items[start_index : start_index + BATCH]
        start = time.perf_counter()
        func(batch)
        times.append((time.perf_counter() - start) * 1000 / len(batch))
    return times


def _floor_pipeline(rows: Sequence[dict[str, Any]]):  # type: ignore[no-untyped-def]
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    pipeline = Pipeline(
        [
            ("tfidf", TfidfVectorizer(ngram_range=(1, 2))),
            ("classifier", LogisticRegression(max_iter=1000)),
        ]
    )
    pipeline.fit([r["text"] for r in rows], [bool(r["escalated"]) for r in rows])
    return pipeline


def main(
    size: str = "full",
    database_url: str = PATHS_DATABASE_URL,
    redis_url: str = DEFAULT_REDIS_URL,
) -> dict[str, Any]:
    from service import create_app
    from service.config import Settings
    from service.engine.facts import ReportFacts
    from service.scoring import build_risk_engine

    started = time.monotonic()
    models_dir, model_source = models_dir_with_artifact()
    env = bench_env(database_url, None, DEFUSE_MODELS_DIR=str(models_dir))
    app = create_app(Settings.from_env(env))
    engine = build_risk_engine(app)

    corpus = corpus_rows()
    count = REPORTS[size]
    rows = [corpus[i % len(corpus)] for i in range(count)]
    facts = [ReportFacts.from_mapping(row) for row in rows]
    texts = [row["text"] for row in rows]
    floor = _floor_pipeline(corpus_rows(("real/train", "synthetic/train")))

    def floor_one(text: str) -> Any:
        return floor.predict_proba([text])

    # Warm both (caches, lazy imports) before timing.
    _time_each(engine.assess, facts[:WARMUP])
    _time_each(floor_one, texts[:WARMUP])

    engine_single = _time_each(engine.assess, facts)
    floor_single = _time_each(floor_one, texts)
    engine_batch = _time_batches(engine.assess_many, facts)
    floor_batch = _time_batches(floor.predict_proba, texts)
    rules_only = _time_each(engine.rules.evaluate, facts)
    fired = [[hit.rule_id for hit in engine.rules.evaluate(f)] for f in facts]
    pairs = list(zip(facts, fired, strict=True))
    model_only = _time_each(lambda pair: engine.model.predict(*pair), pairs) if engine.model else []

    def p(values: list[float], q: float) -> float:
        return percentile(values, q)

    result = Result(path="engine")
    p95_single = p(engine_single, 95)
    ratio_single = p95_single / p(floor_single, 95)
    result.rows = [
        Row("engine", "single report p50", p(engine_single, 50), "ms", p(floor_single, 50)),
        Row(
            "engine",
            "single report p95",
            p95_single,
            "ms",
            p(floor_single, 95),
            target=f"< {TARGET_P95_MS:.0f} ms; <= {TARGET_RATIO:.0f}x floor",
            met=p95_single < TARGET_P95_MS and ratio_single <= TARGET_RATIO,
        ),
        Row(
            "engine",
            f"batch of {BATCH}, per report p50",
            p(engine_batch, 50),
            "ms",
            p(floor_batch, 50),
        ),
        Row(
            "engine",
            f"batch of {BATCH}, per report p95",
            p(engine_batch, 95),
            "ms",
            p(floor_batch, 95),
            target=f"< {TARGET_P95_MS:.0f} ms; <= {TARGET_RATIO:.0f}x floor",
            met=p(engine_batch, 95) < TARGET_P95_MS
            and p(engine_batch, 95) / p(floor_batch, 95) <= TARGET_RATIO,
        ),
        Row("engine", "  of which rules alone, p95", p(rules_only, 95), "ms"),
    ]
    if model_only:
        result.rows.append(
            Row("engine", "  of which classifier alone, p95", p(model_only, 95), "ms")
        )
    result.notes.append(
        f"{count} reports (the {len(corpus)} corpus reports repeated), after {WARMUP} warm-up; "
        f"{len(engine.rules.rules)} rules ({engine.rules.version}); classifier: "
        f"{engine.model_version or 'none: rules only'} ({model_source}); floor: "
        "TfidfVectorizer(ngram_range=(1, 2)) + LogisticRegression fitted on the training texts"
    )
    result.seconds = time.monotonic() - started
    return result.as_dict()


if __name__ == "__main__":
    run_main(main, __doc__ or "")
