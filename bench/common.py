"""What every benchmark shares: the bench database and Redis, the app's settings for them,
the seeded organisation, the report corpus, child processes, and the result rows.

The benchmarks use their own PostgreSQL database (defuse_bench) and Redis database 15, so the
test database and Redis database 0 are never touched. Every figure is reported as a `Row`:
the figure, its floor (the same work with nothing of Defuse in it), their ratio and the target.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy.engine import make_url

from service.vocab import ANSWER_FIELDS

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
PYTHON = sys.executable
DEFUSE = str(Path(sys.executable).parent / "defuse")  # the console script of this venv
DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/defuse_bench"
# The hot-path benchmarks empty their database each run; the analytics benchmark keeps its
# million reports in DEFAULT_DATABASE_URL between runs, so they use another one.
PATHS_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/defuse_bench_paths"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"
SIZES = ("small", "full")

# Fixed bench-only secrets: every process of a run (gunicorn, workers, this one) must share
# them, and nothing real is ever stored in the bench database.
BENCH_SECRET_KEY = "bench-only-secret-key-" + "b" * 32
BENCH_ENCRYPTION_KEY = "YmVuY2gtb25seS1lbmNyeXB0aW9uLWtleS0wMDAwMDA="
BENCH_HASH_KEY = "bench-only-hash-key"
# Trust Leaders added so a burst of reports is assigned rather than left unassigned:
# (email local part, org unit). Each unit sits in a different line of management, so every
# report has several eligible leaders.
EXTRA_LEADERS = (
    ("bench-leader-1", "Warehouse North"),
    ("bench-leader-2", "Call Centre"),
    ("bench-leader-3", "Platform Engineering"),
    ("bench-leader-4", "Payroll"),
    ("bench-leader-5", "Facilities"),
    ("bench-leader-6", "Transport"),
)
LEADER_CAPACITY = 100_000


# --- result rows ----------------------------------------------------------------------------


@dataclass
class Row:
    """One figure beside its floor. `better` says which way is good: "higher" or "lower"."""

    path: str
    figure: str
    value: float | None
    unit: str
    floor: float | None = None
    target: str = ""
    met: bool | None = None
    better: str = "lower"
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """value / floor: how many times the floor's time, or what share of its rate."""
        if self.value is None or not self.floor:
            return None
        return self.value / self.floor

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio}


@dataclass
class Result:
    """What each bench script's main() returns (as a dict, via as_dict)."""

    path: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "rows": [row.as_dict() for row in self.rows],
            "notes": list(self.notes),
            "seconds": round(self.seconds, 1),
        }


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), linear between closest ranks, like numpy's default."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def format_number(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}" if abs(value) >= 0.1 else f"{value:.3f}"


def print_result(result: Result) -> None:
    for row in result.rows:
        ratio = format_number(row.ratio) + "x" if row.ratio is not None else "-"
        met = {True: "yes", False: "NO", None: "-"}[row.met]
        print(
            f"{row.path:10} {row.figure:46} {format_number(row.value):>9} {row.unit:6} "
            f"floor {format_number(row.floor):>9}  ratio {ratio:>7}  {row.target:28} {met}"
        )
    for note in result.notes:
        print(f"  note: {note}")


# --- command line ---------------------------------------------------------------------------


def argument_parser(
    description: str, database_url: str = PATHS_DATABASE_URL
) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", choices=SIZES, default="full")
    parser.add_argument("--database-url", default=database_url)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--json", action="store_true", help="Print the result as JSON too.")
    return parser


def run_main(main: Callable[..., dict[str, Any]], description: str) -> None:
    """The __main__ of every bench script: parse the common options, run, print."""
    args = argument_parser(description).parse_args()
    result = main(size=args.size, database_url=args.database_url, redis_url=args.redis_url)
    print_result(_result_from_dict(result))
    if args.json:
        print(json.dumps(result, indent=2, default=str))


def _result_from_dict(data: dict[str, Any]) -> Result:
    rows = [Row(**{k: v for k, v in row.items() if k != "ratio"}) for row in data.get("rows", [])]
    return Result(path=data["path"], rows=rows, notes=data.get("notes", []))


# --- database, Redis, app -------------------------------------------------------------------


def empty_tables() -> None:
    """Empty every table of the bench database. The audit log refuses TRUNCATE (its triggers
    make it append-only), so triggers step aside for this one transaction (superuser only,
    as the bench's local `postgres` is)."""
    from sqlalchemy import text

    from service.extensions import db

    names = ", ".join(t.name for t in db.metadata.sorted_tables)
    db.session.execute(text("SET LOCAL session_replication_role = replica"))
    db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    db.session.commit()


def ensure_database(database_url: str) -> None:
    """Create the bench database if it is missing (connecting to the `postgres` database)."""
    import psycopg

    url = make_url(database_url)
    name = url.database
    admin = psycopg.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password,
        dbname="postgres",
        autocommit=True,
    )
    with admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{name}"')


def flush_redis(redis_url: str) -> None:
    from redis import Redis

    connection = Redis.from_url(redis_url)
    connection.flushdb()
    connection.close()


def bench_env(database_url: str, redis_url: str | None, **extra: str) -> dict[str, str]:
    """Environment for child processes (gunicorn, workers): production settings on the bench
    database, rate limits off (the load comes from one address)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEFUSE_")}
    env.update(
        DEFUSE_ENV="production",
        DEFUSE_SECRET_KEY=BENCH_SECRET_KEY,
        DEFUSE_ENCRYPTION_KEYS=BENCH_ENCRYPTION_KEY,
        DEFUSE_HASH_KEY=BENCH_HASH_KEY,
        DEFUSE_DATABASE_URL=database_url,
        DEFUSE_RATE_LIMITS_ENABLED="false",
        PYTHONPATH=str(ROOT),
        **extra,
    )
    if redis_url:
        env["DEFUSE_REDIS_URL"] = redis_url
    return env


def bench_app(database_url: str, redis_url: str | None) -> Flask:
    """The app as the web and worker processes build it, from the same environment."""
    from service import create_app
    from service.config import Settings

    return create_app(Settings.from_env(bench_env(database_url, redis_url)))


def prepare_database(app: Flask) -> None:
    """Migrate, empty every table, and seed the demo organisation with enough Trust Leaders
    (all with a high capacity) that routing assigns every case."""
    from flask_migrate import upgrade

    from service.db import User
    from service.demo import ensure_org, ensure_staff
    from service.extensions import db
    from service.people import create_user

    with app.app_context():
        upgrade()
        empty_tables()
        units = ensure_org()
        db.session.commit()
        ensure_staff(units)
        for local, unit in EXTRA_LEADERS:
            create_user(
                email=f"{local}@bench.defuse",
                role="trust_leader",
                password="bench-only-password",
                org_unit_id=units[unit].id,
                capacity=LEADER_CAPACITY,
            )
        for user in db.session.execute(db.select(User)).scalars():
            if user.role == "trust_leader":
                user.capacity = LEADER_CAPACITY
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def reset(database_url: str, redis_url: str) -> Flask:
    """A clean bench database and Redis database; returns the app bound to them."""
    ensure_database(database_url)
    flush_redis(redis_url)
    app = bench_app(database_url, redis_url)
    prepare_database(app)
    return app


def org_unit_ids(app: Flask) -> list[int]:
    """Units reports are made about: the leaves of the demo tree, not HR."""
    from service.db import OrgUnit
    from service.extensions import db

    with app.app_context():
        units = db.session.execute(db.select(OrgUnit)).scalars().all()
        parents = {u.parent_id for u in units}
        return sorted(u.id for u in units if u.id not in parents and not u.is_hr)


def table_count(app: Flask, model: Any) -> int:
    from service.extensions import db

    with app.app_context():
        count = db.session.scalar(db.select(db.func.count()).select_from(model)) or 0
        db.session.remove()
        return int(count)


# --- the report corpus ----------------------------------------------------------------------


def corpus_rows(
    parts: Sequence[str] = ("real/train", "synthetic/holdout", "synthetic/train"),
) -> list[dict[str, Any]]:
    """The labelled reports under models/data/, as dicts (POST /api/v1/reports fields plus
    the label `escalated`)."""
    rows: list[dict[str, Any]] = []
    for part in parts:
        for path in sorted((ROOT / "models" / "data" / part).glob("*.jsonl")):
            with path.open(encoding="utf-8") as lines:
                rows.extend(json.loads(line) for line in lines if line.strip())
    return rows


REPORT_FIELDS = ("category", "text", *ANSWER_FIELDS, "language")


def report_payloads(units: Sequence[int], count: int) -> list[dict[str, Any]]:
    """`count` valid POST /api/v1/reports bodies from the corpus, spread over the units."""
    from service.schemas.reports import ReportCreateSchema

    schema = ReportCreateSchema()
    payloads = []
    for index, row in enumerate(corpus_rows()):
        body = {key: row[key] for key in REPORT_FIELDS if row.get(key) is not None}
        body["org_unit"] = units[index % len(units)]
        if not schema.validate(body):
            payloads.append(body)
        if len(payloads) == count:
            break
    if not payloads:
        raise RuntimeError("no valid report in models/data/")
    return payloads


# --- child processes ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Child:
    """A child process in its own process group (so stopping it takes its children too),
    with its output in a log file."""

    def __init__(self, args: Sequence[str], env: dict[str, str], log_path: Path) -> None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            list(args),
            cwd=ROOT,
            env=env,
            start_new_session=True,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def tail(self, chars: int = 3000) -> str:
        self._log.flush()
        return self.log_path.read_text("utf-8", "replace")[-chars:]

    def stop(self, timeout: float = 20) -> None:
        if self.alive():
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
            except ProcessLookupError:
                pass
        if not self._log.closed:
            self._log.close()


@contextmanager
def children() -> Iterator[list[Child]]:
    """Children started inside are always stopped, whatever happens."""
    started: list[Child] = []
    try:
        yield started
    finally:
        for child in reversed(started):
            child.stop()


def wait_for(
    condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.05
) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if condition():
            return time.monotonic() - start
        time.sleep(interval)
    raise TimeoutError(f"{what}: not within {timeout:.0f} s")


def log_dir() -> Path:
    """Logs of the children of the latest run (gitignored with bench/.data/)."""
    path = BENCH_DIR / ".data" / "logs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def rss_mb(pid: int) -> float:
    import psutil

    return psutil.Process(pid).memory_info().rss / 2**20
