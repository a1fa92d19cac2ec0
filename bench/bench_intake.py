"""Intake: POST /api/v1/reports under gunicorn with PostgreSQL, driven by wrk at 16 connections.

Floor: bench/floor_app.py, a bare Flask app that parses the same JSON and answers 201, under
the same gunicorn settings and the same wrk script. No RQ worker runs (the routing jobs wait
in Redis), so the web processes have the machine's cores to themselves, as the floor does.

    python -m bench.bench_intake --size small
"""

from __future__ import annotations

import time
from typing import Any

from bench.common import (
    DEFAULT_REDIS_URL,
    PATHS_DATABASE_URL,
    Result,
    Row,
    bench_env,
    children,
    corpus_rows,
    log_dir,
    org_unit_ids,
    report_payloads,
    reset,
    run_main,
    table_count,
)
from bench.web import (
    DEFUSE_APP,
    FLOOR_APP,
    WrkResult,
    run_wrk,
    start_gunicorn,
    warm_web,
    write_lua,
)

CONNECTIONS = 16
SECONDS = {"small": 5, "full": 15}
WARMUP_SECONDS = 3
WARMUP_ROUNDS = 10
WARM_P99_MS = 2000.0
BODIES = 100
# Reports already stored from the last 30 days (the hotspot window), as in a running system:
# about what an organisation producing the analytics benchmark's million reports over two
# years receives in a month is 40,000.
PREFILL = {"small": 2_000, "full": 20_000}
TARGET_SHARE = 0.25
TARGET_P99_MS = 50.0


def prefill(app: Any, count: int) -> None:
    """`count` earlier reports spread over the units and the last 30 days, already hotspots,
    inserted in bulk (encrypted like any other)."""
    import secrets
    from datetime import timedelta

    from sqlalchemy import insert

    from service.db import Report, utcnow
    from service.extensions import db

    units = org_unit_ids(app)
    corpus = corpus_rows()
    today = utcnow().date()
    rows = []
    for index in range(count):
        source = corpus[index % len(corpus)]
        rows.append(
            {
                "org_unit_id": units[index % len(units)],
                "category": source["category"],
                "text": source["text"],
                "raised_with": [],
                "involved": [],
                "redactions": {},
                "language": "en",
                "urgency": "normal",
                "submitted_on": today - timedelta(days=index % 30),
                "receipt_hash": secrets.token_hex(32),
                "risk_score": 0.3,
                "risk_level": "moderate",
                "hotspot": True,
            }
        )
    with app.app_context():
        for start in range(0, len(rows), 5_000):
            db.session.execute(insert(Report), rows[start : start + 5_000])
        db.session.commit()
        db.session.remove()


def warm_up(url: str, script: Any) -> None:
    """Until the server answers steadily: each gunicorn worker builds its risk engine on its
    first report (several seconds, see the results' profile notes), which is not the
    steady state being measured."""
    for _ in range(WARMUP_ROUNDS):
        run = run_wrk(url, script, connections=CONNECTIONS, seconds=WARMUP_SECONDS)
        if run.requests and run.p99_ms < WARM_P99_MS:
            return
    raise RuntimeError(f"{url} did not settle within {WARMUP_ROUNDS} warm-up rounds")


def _measure(
    app_uri: str, env: dict[str, str], name: str, bodies: Any, script: Any, seconds: int
) -> WrkResult:
    with children() as started:
        server, base = start_gunicorn(app_uri, env, name)
        started.append(server)
        url = f"{base}/api/v1/reports"
        warm_web(url, bodies)
        warm_up(url, script)
        result = run_wrk(url, script, connections=CONNECTIONS, seconds=seconds)
        if not server.alive():
            raise RuntimeError(f"gunicorn ({name}) died:\n{server.tail()}")
        return result


def main(
    size: str = "full",
    database_url: str = PATHS_DATABASE_URL,
    redis_url: str = DEFAULT_REDIS_URL,
) -> dict[str, Any]:
    from service.db import Report

    started = time.monotonic()
    seconds = SECONDS[size]
    app = reset(database_url, redis_url)
    prefill(app, PREFILL[size])
    bodies = report_payloads(org_unit_ids(app), BODIES)
    script = write_lua(bodies, log_dir() / "post_report.lua")
    env = bench_env(database_url, redis_url)

    floor = _measure(FLOOR_APP, env, "intake-floor", bodies, script, seconds)
    defuse = _measure(DEFUSE_APP, env, "intake-defuse", bodies, script, seconds)
    stored = table_count(app, Report)

    result = Result(path="intake")
    share = defuse.requests_per_second / floor.requests_per_second
    result.rows = [
        Row(
            "intake",
            f"requests/s at {CONNECTIONS} connections",
            defuse.requests_per_second,
            "req/s",
            floor=floor.requests_per_second,
            target=f">= {TARGET_SHARE:.0%} of the floor",
            met=share >= TARGET_SHARE,
            better="higher",
        ),
        Row("intake", "p50 latency", defuse.p50_ms, "ms", floor=floor.p50_ms),
        Row(
            "intake",
            "p99 latency",
            defuse.p99_ms,
            "ms",
            floor=floor.p99_ms,
            target=f"< {TARGET_P99_MS:.0f} ms",
            met=defuse.p99_ms < TARGET_P99_MS,
        ),
    ]
    result.notes.append(
        f"wrk -t2 -c{CONNECTIONS} -d{seconds}s after {WARMUP_SECONDS} s warm-up rounds until "
        "p99 < 2 s; gunicorn "
        f"gthread per gunicorn.conf.py (2 workers x 4 threads); {len(bodies)} corpus reports "
        f"in turn, into a database already holding {PREFILL[size]:,} reports from the last 30 "
        f"days; {stored:,} reports stored at the end; errors: Defuse {defuse.errors}, "
        f"floor {floor.errors}"
    )
    if defuse.errors or floor.errors:
        result.notes.append("some requests failed: see bench/.data/logs/intake-*.log")
    result.seconds = time.monotonic() - started
    return result.as_dict()


if __name__ == "__main__":
    run_main(main, __doc__ or "")
