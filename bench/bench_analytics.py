"""HR analytics over a million reports: every /api/v1/analytics endpoint, timed through the
Flask test client (p50/p95 over N runs), beside a plain GROUP BY over the raw report rows
(unit, category, month) in the same database.

Loads `size` synthetic reports into PostgreSQL (default the local defuse_bench database,
created if missing): the raw report rows by COPY (the encrypted text is a constant token) and
the rollup rows they add up to, also by COPY, with the rollup triggers off during the load and
the week stamps written once afterwards. A database already holding exactly this load is
reused; --reload forces a fresh one.

    python -m bench.bench_analytics                 # 1,000,000 reports
    python -m bench.bench_analytics --size 50000 --runs 30
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import numpy as np

from bench.common import (
    DEFAULT_DATABASE_URL,
    Result,
    Row,
    bench_app,
    empty_tables,
    ensure_database,
    percentile,
    print_result,
)

NAMED_SIZES = {"small": 50_000, "full": 1_000_000}
DAYS = 728  # two years of whole weeks, ending with the last complete month
TARGET_MS = 50.0
CATEGORY_WEIGHTS = (0.08, 0.14, 0.05, 0.04, 0.22, 0.16, 0.14, 0.07, 0.05, 0.05)
RESOLUTIONS = ("resolved_informally", "referred_formal", "withdrawn")
MARKER = "bench-analytics"
BASE = "https://localhost"  # production settings redirect plain HTTP


def main(
    size: int | str = 1_000_000,
    database_url: str = DEFAULT_DATABASE_URL,
    redis_url: str | None = None,
    runs: int = 50,
    reload: bool = False,
    freeze_gc: bool = True,
) -> dict[str, Any]:
    """Load (or reuse) the data, time every analytics endpoint and the GROUP BY; the figures
    as a dict (bench.common.Result)."""
    del redis_url  # the analytics need no Redis
    count = NAMED_SIZES[size] if isinstance(size, str) else int(size)
    started = time.perf_counter()
    ensure_database(database_url)
    app = bench_app(database_url, None)
    result = Result(path="analytics")
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        load_seconds = _load(count, reload)
        token = _analyst_token()
        release_seconds, released = _release(app)
    result.notes.append(
        f"{count:,} reports" + (f" loaded in {load_seconds:.0f} s" if load_seconds else " (reused)")
    )
    result.notes.append(
        f"release step (`defuse analytics release`, the worker's hourly job): {released} months "
        f"in {release_seconds:.1f} s; then the in-memory caches were emptied, so first calls "
        "read the stored releases as a newly started worker would"
    )
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    with app.app_context():
        last_day = _released_to()
    first_year = (last_day - timedelta(days=364)).isoformat()
    calls: list[tuple[str, str, dict[str, Any]]] = [
        ("GET /risk default (depth 1, month, 6 months)", "risk", {}),
        ("GET /risk depth 2, month, 12 months", "risk", {"depth": 2, "from": first_year}),
        (
            "GET /risk depth 3, week, 12 months, 1 category",
            "risk",
            {"depth": 3, "period": "week", "from": first_year, "category": "workload"},
        ),
        (
            "GET /risk depth 1, quarter, 2 years",
            "risk",
            {"period": "quarter", "from": (last_day - timedelta(days=DAYS - 1)).isoformat()},
        ),
        ("GET /summary (month, 12 months)", "summary", {"from": first_year}),
        ("GET /hotspots (month, 12 months)", "hotspots", {"from": first_year}),
        (
            "GET /hotspots (quarter, 2 years)",
            "hotspots",
            {"period": "quarter", "from": (last_day - timedelta(days=DAYS - 1)).isoformat()},
        ),
        ("GET /you-said-we-did (public page, 4 quarters)", "/you-said-we-did", {}),
    ]
    groupby = _time(lambda: _plain_group_by(app), max(5, runs // 5))
    colds = {}
    for label, path, params in calls:  # first calls: the month cubes are built and cached
        cold_start = time.perf_counter()
        response = client.get(_url(path), headers=headers, query_string=params, base_url=BASE)
        colds[label] = (time.perf_counter() - cold_start) * 1000
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
    if freeze_gc:
        # As a gunicorn worker would after `gc.freeze()` at start-up (proposed for
        # service/wsgi.py): the long-lived heap leaves the collector, so a full collection no
        # longer scans ~160,000 objects in the middle of a request.
        gc.freeze()
    result.notes.append(f"gc.freeze() after start-up: {'yes' if freeze_gc else 'no'}")
    for label, path, params in calls:
        cold = colds[label]
        timings = _time(
            lambda path=path, params=params: client.get(
                _url(path), headers=headers, query_string=params, base_url=BASE
            ),
            runs,
        )
        for name, value in (("p50", percentile(timings, 50)), ("p95", percentile(timings, 95))):
            result.rows.append(
                Row(
                    path="analytics",
                    figure=f"{label} {name}",
                    value=value,
                    unit="ms",
                    floor=percentile(groupby, 50 if name == "p50" else 95),
                    target=f"p95 < {TARGET_MS:.0f} ms" if name == "p95" else "",
                    met=(value < TARGET_MS) if name == "p95" else None,
                    note=f"first call {cold:.0f} ms (cache cold)",
                )
            )
        result.notes.append(f"{label}: first call {cold:.0f} ms (month cubes read, answer cold)")
    for name, q in (("p50", 50), ("p95", 95)):
        result.rows.append(
            Row(
                path="analytics",
                figure=f"plain GROUP BY unit, category, month {name}",
                value=percentile(groupby, q),
                unit="ms",
            )
        )
    result.notes.append(
        "floor column: the plain GROUP BY over the raw report rows (unit, category, month, "
        "two years), p50 beside p50 and p95 beside p95; ratio < 1 means faster than it"
    )
    result.seconds = time.perf_counter() - started
    return result.as_dict()


def _release(app) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    """Release the recent months as the scheduled job does, then forget every in-memory cache
    (a new worker process starts with none)."""
    from service.analytics.cube import CACHE_KEY
    from service.analytics.query import ANSWER_CACHE_KEY, release_recent_months

    started = time.perf_counter()
    released = release_recent_months()
    seconds = time.perf_counter() - started
    for key in (CACHE_KEY, ANSWER_CACHE_KEY):
        app.extensions.pop(key, None)
    return seconds, released


def _time(call: Callable[[], object], runs: int) -> list[float]:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        timings.append((time.perf_counter() - start) * 1000)
    return timings


def _released_to() -> date:
    from service.analytics import periods
    from service.db import utcnow

    return periods.last_released_day(utcnow().date())


def _plain_group_by(app) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    from service.extensions import db

    with app.app_context():
        db.session.execute(
            text(
                "SELECT org_unit_id, category, date_trunc('month', submitted_on) AS month, "
                "count(*), avg(risk_score) FROM reports GROUP BY 1, 2, 3"
            )
        ).all()
        db.session.remove()


# --- loading ------------------------------------------------------------------------------


def _load(count: int, reload: bool) -> float:
    from sqlalchemy import text

    from service.extensions import db

    marker = db.session.execute(
        text("SELECT name FROM org_units WHERE name LIKE :m"), {"m": f"{MARKER}:%"}
    ).scalar()
    reports = db.session.execute(text("SELECT count(*) FROM reports")).scalar()
    if not reload and marker == f"{MARKER}:{count}" and reports == count:
        return 0.0
    started = time.perf_counter()
    empty_tables()
    units = _org()
    data = _synthetic(count, units)
    connection = db.session.connection().connection.driver_connection
    _copy_reports(connection, data)
    _copy_rollups(connection, data)
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    return time.perf_counter() - started


def _url(path: str) -> str:
    """An API endpoint by its last part, or a page by its path."""
    return path if path.startswith("/") else f"/api/v1/analytics/{path}"


def _org() -> dict[str, np.ndarray]:
    """A root, 5 divisions, 20 departments, 40 teams. Reports go to teams (85%) and to
    departments directly (15%). The root's name marks the load."""
    from service.db import OrgUnit
    from service.extensions import db

    def unit(name: str, parent: OrgUnit | None, headcount: int) -> OrgUnit:
        made = OrgUnit(external_id=name, name=name, parent=parent, headcount=headcount)
        db.session.add(made)
        db.session.flush()
        made.path = f"{parent.path if parent else '/'}{made.id}/"
        made.depth = parent.depth + 1 if parent else 0
        return made

    # Headcounts that put a million reports in two years near the benchmark rate (1.57 per
    # 100 a year), so the hotspot model works on realistic expectations.
    root = unit(f"{MARKER}:pending", None, 100)
    departments, teams = [], []
    for d in range(5):
        division = unit(f"Division {d + 1}", root, 100)
        for p in range(4):
            department = unit(f"Department {d + 1}.{p + 1}", division, 150_000)
            departments.append(department.id)
            for t in range(2):
                teams.append(unit(f"Team {d + 1}.{p + 1}.{t + 1}", department, 350_000).id)
    db.session.commit()
    return {
        "root": np.array([root.id]),
        "departments": np.array(departments),
        "teams": np.array(teams),
    }


def _synthetic(count: int, units: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    from service.db import OrgUnit
    from service.extensions import db

    rng = np.random.default_rng(42)
    last = _released_to()
    first = last - timedelta(days=DAYS - 1)
    to_team = rng.random(count) < 0.85
    team_weights = rng.gamma(2.0, 1.0, len(units["teams"]))
    unit = np.where(
        to_team,
        rng.choice(units["teams"], count, p=team_weights / team_weights.sum()),
        rng.choice(units["departments"], count),
    )
    category = rng.choice(len(CATEGORY_WEIGHTS), count, p=np.array(CATEGORY_WEIGHTS))
    day = rng.integers(0, DAYS, count)
    score = np.clip(rng.beta(2.0, 4.0, count), 0, 1)
    level = np.digitize(score, (0.35, 0.6, 0.85))  # 0 low .. 3 critical
    hotspot = rng.random(count) < 0.12
    resolution = np.where(rng.random(count) < 0.7, rng.choice(3, count, p=(0.6, 0.15, 0.25)), -1)
    ack_hours = np.where(rng.random(count) < 0.9, np.minimum(rng.geometric(1 / 20, count), 200), -1)
    root = db.session.get(OrgUnit, int(units["root"][0]))
    root.name = f"{MARKER}:{count}"
    db.session.commit()
    return {
        "unit": unit,
        "category": category,
        "day": day,
        "score": score,
        "level": level,
        "hotspot": hotspot,
        "resolution": resolution,
        "ack_hours": ack_hours,
        "first": np.array([first.toordinal()]),
    }


def _copy(connection, table: str, columns: tuple[str, ...], lines: io.StringIO) -> None:  # type: ignore[no-untyped-def]
    lines.seek(0)
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        while chunk := lines.read(1 << 20):
            copy.write(chunk)


def _copy_reports(connection, data: dict[str, np.ndarray]) -> None:  # type: ignore[no-untyped-def]
    from service.vocab import CATEGORIES, LEVELS

    first = int(data["first"][0])
    days = [date.fromordinal(first + d).isoformat() for d in range(DAYS)]
    token = "gAAAAABbench-constant-token-not-a-real-ciphertext"
    lines = io.StringIO()
    write = lines.write
    for i, (unit, category, day, score, level, hotspot) in enumerate(
        zip(
            data["unit"].tolist(),
            data["category"].tolist(),
            data["day"].tolist(),
            data["score"].tolist(),
            data["level"].tolist(),
            data["hotspot"].tolist(),
            strict=True,
        )
    ):
        write(
            f"{unit}\t{CATEGORIES[category]}\t[]\t[]\ten\t{token}\t{{}}\t{days[day]}\t"
            f"{i:064x}\t{score:.4f}\t{LEVELS[level]}\t{'t' if hotspot else 'f'}\n"
        )
    _copy(
        connection,
        "reports",
        (
            "org_unit_id",
            "category",
            "raised_with",
            "involved",
            "language",
            "text",
            "redactions",
            "submitted_on",
            "receipt_hash",
            "risk_score",
            "risk_level",
            "hotspot",
        ),
        lines,
    )


def _copy_rollups(connection, data: dict[str, np.ndarray]) -> None:  # type: ignore[no-untyped-def]
    """The rollup rows the reports add up to, written with the triggers off; then one stamp
    per week, as the triggers would have left."""
    from service.vocab import CATEGORIES, LEVELS

    first = int(data["first"][0])
    with connection.cursor() as cursor:
        for table in ("risk_rollups", "resolution_rollups", "acknowledgement_rollups"):
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
    try:
        unit, category, day = data["unit"], data["category"], data["day"]
        keys = np.stack([day, unit, category, data["level"]], axis=1)
        unique, inverse = np.unique(keys, axis=0, return_inverse=True)
        inverse = inverse.ravel()
        reports = np.bincount(inverse)
        scores = np.bincount(inverse, weights=data["score"])
        hotspots = np.bincount(inverse, weights=data["hotspot"].astype(float))
        lines = io.StringIO()
        for (d, u, c, lv), n, s, h in zip(
            unique.tolist(), reports.tolist(), scores.tolist(), hotspots.tolist(), strict=True
        ):
            lines.write(
                f"{date.fromordinal(first + d)}\t{u}\t{CATEGORIES[c]}\t{LEVELS[lv]}\t"
                f"{n}\t{s:.4f}\t{int(h)}\n"
            )
        _copy(
            connection,
            "risk_rollups",
            ("day", "org_unit_id", "category", "level", "reports", "score_sum", "hotspots"),
            lines,
        )
        for column, table, names in (
            ("resolution", "resolution_rollups", RESOLUTIONS),
            ("ack_hours", "acknowledgement_rollups", None),
        ):
            chosen = data[column] >= 0
            keys = np.stack(
                [day[chosen], unit[chosen], category[chosen], data[column][chosen]], axis=1
            )
            unique, counts = np.unique(keys, axis=0, return_counts=True)
            lines = io.StringIO()
            for (d, u, c, v), n in zip(unique.tolist(), counts.tolist(), strict=True):
                value = names[v] if names else v
                lines.write(f"{date.fromordinal(first + d)}\t{u}\t{CATEGORIES[c]}\t{value}\t{n}\n")
            last_column = "resolution" if names else "hours"
            _copy(
                connection, table, ("day", "org_unit_id", "category", last_column, "cases"), lines
            )
    finally:
        with connection.cursor() as cursor:
            for table in ("risk_rollups", "resolution_rollups", "acknowledgement_rollups"):
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO analytics_versions (week, version) "
            "SELECT DISTINCT date_trunc('week', day)::date, 0 FROM risk_rollups "
            "ON CONFLICT (week) DO UPDATE SET version = (random() * 9e18)::bigint"
        )


def _analyst_token() -> str:
    from service.auth import new_api_token
    from service.db import User
    from service.extensions import db
    from service.people import create_user

    email = "bench-analyst@bench.defuse"
    user = db.session.execute(db.select(User).where(User.email == email)).scalar_one_or_none()
    if user is None:
        user = create_user(email=email, role="hr_analyst", password="bench-only-password")
    token = new_api_token(user, label="bench")
    db.session.commit()
    return token


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--size", default="1000000", help="number of reports, or small (50,000) / full (1,000,000)"
    )
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--runs", type=int, default=50, help="timed calls per endpoint")
    parser.add_argument("--reload", action="store_true", help="load afresh even if present")
    parser.add_argument("--json", action="store_true", help="print the result as JSON too")
    parser.add_argument(
        "--no-gc-freeze", action="store_true", help="leave the start-up heap to the collector"
    )
    return parser.parse_args()


if __name__ == "__main__":
    args = _arguments()
    size: int | str = args.size if args.size in NAMED_SIZES else int(args.size.replace(",", ""))
    figures = main(
        size=size,
        database_url=args.database_url,
        runs=args.runs,
        reload=args.reload,
        freeze_gc=not args.no_gc_freeze,
    )
    from bench.common import _result_from_dict

    print_result(_result_from_dict(figures))
    if args.json:
        print(json.dumps(figures, indent=2, default=str))
