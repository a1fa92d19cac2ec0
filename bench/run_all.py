"""`make bench`: every benchmark, one table, written to bench/RESULTS.md.

Runs against the PostgreSQL and Redis on localhost (databases defuse_bench_paths and
defuse_bench, Redis database 15; the test database and Redis database 0 are never touched).

    python -m bench.run_all                       # everything, full size (~10 minutes)
    python -m bench.run_all --size small          # a couple of minutes
    python -m bench.run_all --only intake,engine --sizes analytics=200000
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import os
import platform
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from bench.common import (
    BENCH_DIR,
    DEFAULT_DATABASE_URL,
    DEFAULT_REDIS_URL,
    PATHS_DATABASE_URL,
    ROOT,
    SIZES,
    format_number,
)

PATHS = ("intake", "engine", "routing", "analytics", "memory")
RESULTS = BENCH_DIR / "RESULTS.md"
PROFILE_NOTES = BENCH_DIR / "PROFILE.md"


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", choices=SIZES, default="full")
    parser.add_argument(
        "--sizes", default="", help="Per-path sizes, e.g. analytics=200000,routing=small"
    )
    parser.add_argument("--only", default="", help=f"Comma-separated subset of {','.join(PATHS)}")
    parser.add_argument("--database-url", default=PATHS_DATABASE_URL)
    parser.add_argument("--analytics-database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--output", type=Path, default=RESULTS)
    return parser.parse_args()


def _sizes(args: argparse.Namespace) -> dict[str, int | str]:
    sizes: dict[str, int | str] = dict.fromkeys(PATHS, args.size)
    for item in filter(None, args.sizes.split(",")):
        path, _, value = item.partition("=")
        if path not in PATHS:
            raise SystemExit(f"--sizes: unknown path {path!r}")
        sizes[path] = value if value in SIZES else int(value.replace("_", ""))
    return sizes


def run_path(path: str, size: int | str, args: argparse.Namespace) -> dict[str, Any]:
    module = importlib.import_module(f"bench.bench_{path}")
    database_url = args.analytics_database_url if path == "analytics" else args.database_url
    print(f"== {path} ({size})", flush=True)
    started = time.monotonic()
    try:
        result = module.main(size=size, database_url=database_url, redis_url=args.redis_url)
    except Exception as error:  # noqa: BLE001 - one failing benchmark must not hide the rest
        traceback.print_exc()
        result = {"path": path, "rows": [], "notes": [f"FAILED: {type(error).__name__}: {error}"]}
    result.setdefault("seconds", round(time.monotonic() - started, 1))
    result["size"] = size
    return result


def _version(command: list[str]) -> str:
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def environment(args: argparse.Namespace) -> dict[str, str]:
    import psycopg
    from redis import Redis
    from sqlalchemy.engine import make_url

    url = make_url(args.database_url)
    try:
        with psycopg.connect(
            host=url.host, port=url.port or 5432, user=url.username, dbname="postgres"
        ) as connection:
            postgres = str(connection.execute("SHOW server_version").fetchone()[0])
    except psycopg.Error:
        postgres = "unknown"
    try:
        redis = str(Redis.from_url(args.redis_url).info("server")["redis_version"])
    except Exception:  # noqa: BLE001
        redis = "unknown"
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores (nproc)": str(os.cpu_count()),
        "load average at start": ", ".join(f"{x:.1f}" for x in os.getloadavg()),
        "Python": platform.python_version(),
        "PostgreSQL": postgres,
        "Redis": redis,
        "commit": _version(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]) or "-",
    }


def _cell(value: Any) -> str:
    return format_number(value) if isinstance(value, int | float) or value is None else str(value)


def table(results: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| path | figure | Defuse | floor | ratio | target | met? |",
        "|---|---|---:|---:|---:|---|---|",
    ]
    for result in results:
        for row in result["rows"]:
            ratio = row.get("ratio")
            value = f"{_cell(row['value'])} {row['unit']}"
            floor = f"{_cell(row['floor'])} {row['unit']}" if row.get("floor") else "-"
            met = {True: "yes", False: "**no**", None: ""}[row.get("met")]
            figure = row["figure"].strip()
            if row["figure"].startswith("  "):
                figure = f"&nbsp;&nbsp;{figure}"
            lines.append(
                f"| {row['path']} | {figure} | {value} | {floor} | "
                f"{_cell(ratio) + 'x' if ratio is not None else '-'} | {row.get('target') or ''} "
                f"| {met} |"
            )
        if not result["rows"]:
            lines.append(f"| {result['path']} | (no figures) | | | | | |")
    return lines


def markdown(results: list[dict[str, Any]], env: dict[str, str], command: str) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"Written by `{command}`. Every figure is measured beside its floor (the same work with "
        "nothing of Defuse in it) in the same run; the ratio is Defuse / floor (for rates, the "
        "share of the floor's rate; for times, how many times the floor's time). The machines "
        "are shared and noisy: trust the ratios more than the absolute figures.",
        "",
        *(f"- {key}: {value}" for key, value in env.items()),
        "",
        *table(results),
        "",
        "## Notes",
        "",
    ]
    for result in results:
        for note in result["notes"]:
            lines.append(f"- {result['path']} ({result['size']}, {result['seconds']} s): {note}")
    if PROFILE_NOTES.exists():
        lines += ["", PROFILE_NOTES.read_text("utf-8").strip()]
    return "\n".join(lines) + "\n"


def main() -> None:
    args = _arguments()
    sizes = _sizes(args)
    only = [p.strip() for p in args.only.split(",") if p.strip()] or list(PATHS)
    unknown = set(only) - set(PATHS)
    if unknown:
        raise SystemExit(f"--only: unknown path(s) {', '.join(sorted(unknown))}")
    env = environment(args)
    results = [run_path(path, sizes[path], args) for path in PATHS if path in only]
    text = markdown(results, env, " ".join(["python -m bench.run_all", *sys.argv[1:]]))
    args.output.write_text(text, "utf-8")
    print()
    print("\n".join(table(results)))
    print(f"\nwritten to {args.output}")


if __name__ == "__main__":
    main()
