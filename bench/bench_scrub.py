"""Scrubber: time per report (p50, p95, max) and resident memory with every language loaded.

Budget (issue 11): 5 ms per report at p95, under 150 MB resident. Reports are the PII set's
(tests/privacy/pii_set.jsonl) as written, and the same joined into 5,000-character accounts
(the form's limit), each scrubbed in its own language with no staff directory.

    .venv/bin/python -m bench.bench_scrub
"""

from __future__ import annotations

import json
import resource
import statistics
import time
from pathlib import Path

from service.privacy import lexicon
from service.privacy.scrub import Scrubber

PII_SET = Path(__file__).resolve().parent.parent / "tests" / "privacy" / "pii_set.jsonl"
ROUNDS = 5


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def _timings(scrubber: Scrubber, reports: list[tuple[str, str]]) -> list[float]:
    times = []
    for _ in range(ROUNDS):
        for language, text in reports:
            start = time.perf_counter()
            scrubber.scrub(text, language=language)
            times.append((time.perf_counter() - start) * 1000)
    return times


def _line(label: str, times: list[float]) -> str:
    p95 = statistics.quantiles(times, n=20)[-1]
    return (
        f"{label:<28} n={len(times):>5}  p50={statistics.median(times):6.3f} ms  "
        f"p95={p95:6.3f} ms  max={max(times):6.3f} ms"
    )


def main() -> None:
    rows = [json.loads(line) for line in PII_SET.read_text("utf-8").splitlines()]
    before = _rss_mb()
    start = time.perf_counter()
    lexicon.warm()
    print(
        f"lexicon load: {time.perf_counter() - start:.2f} s, RSS {before:.0f} -> {_rss_mb():.0f} MB"
    )
    scrubber = Scrubber()
    short = [(row["language"], row["text"]) for row in rows]
    long = []
    for language in lexicon.LANGUAGES:
        texts = [text for lang, text in short if lang == language]
        joined = " ".join(texts * 10)[:5000]
        long.append((language, joined))
    print(_line("PII set reports", _timings(scrubber, short)))
    print(_line("5,000-character accounts", _timings(scrubber, long)))
    print(f"max RSS: {_rss_mb():.0f} MB (budget 150 MB)")


if __name__ == "__main__":
    main()
