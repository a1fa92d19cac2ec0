"""Language detection at intake: detector build time, resident memory, time per report, and
the rule set's time on German and French reports beside English ones.

The detector is Lingua in low-accuracy mode over the offered languages plus eight common others
(service/engine/language.py). Reports are the held-out sets of models/data/languages/ and the
PII set's texts, joined into 5,000-character accounts (the form's limit) too.

    .venv/bin/python -m bench.bench_language
"""

from __future__ import annotations

import json
import resource
import statistics
import time
from pathlib import Path

from service.engine import language
from service.engine.facts import ReportFacts
from service.engine.rules import load_rule_set

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 5


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def _line(label: str, times: list[float]) -> str:
    p95 = statistics.quantiles(times, n=20)[-1]
    return f"{label:<44} p50 {statistics.median(times):7.3f} ms  p95 {p95:7.3f} ms"


def _reports() -> list[tuple[str, str]]:
    rows = []
    for path in sorted((ROOT / "models" / "data" / "languages").glob("*.jsonl")):
        rows += [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    pii = ROOT / "tests" / "privacy" / "pii_set.jsonl"
    rows += [json.loads(line) for line in pii.read_text("utf-8").splitlines()]
    return [(row["language"], row["text"]) for row in rows]


def main() -> None:
    reports = _reports()
    before = _rss_mb()
    start = time.perf_counter()
    language.detect("Ein erster Satz zum Aufwärmen.")  # builds the detector
    built = time.perf_counter() - start
    print(f"detector build: {built * 1000:.0f} ms, resident memory +{_rss_mb() - before:.0f} MB")

    long_reports = []
    by_language: dict[str, list[str]] = {}
    for code, text in reports:
        by_language.setdefault(code, []).append(text)
    for code, texts in by_language.items():
        long_reports.append((code, (" ".join(texts) * 3)[:5000]))

    for label, batch in (
        ("detect, one report", reports),
        ("detect, 5,000 characters", long_reports),
    ):
        times, right = [], 0
        for _ in range(ROUNDS):
            for code, text in batch:
                t0 = time.perf_counter()
                found, _ = language.detect(text)
                times.append((time.perf_counter() - t0) * 1000)
                right += found == code
        print(_line(label, times) + f"  agrees with the label {right / len(times):.1%}")

    rules = load_rule_set(ROOT / "rules")
    for code in ("en", "de", "fr", "pl"):
        texts = [text for lang, text in reports if lang == code]
        times = []
        for _ in range(ROUNDS):
            for text in texts:
                facts = ReportFacts(text=text, category="other", language=code)
                t0 = time.perf_counter()
                rules.evaluate(facts)
                times.append((time.perf_counter() - t0) * 1000)
        print(_line(f"rules, {code} reports ({len(texts)})", times))
    print(f"resident memory at the end: {_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
