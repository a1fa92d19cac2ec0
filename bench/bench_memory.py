"""Memory: resident memory (RSS) of a gunicorn web worker and of an RQ worker after warm-up.

gunicorn runs Defuse with the project's gunicorn.conf.py; after reports are posted and
routed, the RSS of each web worker is read, and of the `defuse worker` process, its work
horses (sampled while they run the routing jobs) and its schedule process. Unique memory
(USS) is shown beside it: with preload_app the web workers share the pages they inherit.

    python -m bench.bench_memory --size small
"""

from __future__ import annotations

import threading
import time
from typing import Any

import psutil

from bench.common import (
    DEFAULT_REDIS_URL,
    DEFUSE,
    PATHS_DATABASE_URL,
    Child,
    Result,
    Row,
    bench_env,
    children,
    log_dir,
    org_unit_ids,
    report_payloads,
    reset,
    run_main,
)
from bench.web import DEFUSE_APP, gunicorn_workers, post_json, start_gunicorn, warm_web

REPORTS = {"small": 100, "full": 400}
TARGET_MB = 250.0
MB = 2**20


class HorseSampler:
    """Samples the RSS of the worker's children that appear after it starts (work horses)."""

    def __init__(self, parent_pid: int, known: set[int]) -> None:
        self.parent = psutil.Process(parent_pid)
        self.known = known
        self.peak_rss = 0.0
        self.horses: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> HorseSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            for child in self.parent.children():
                if child.pid in self.known:
                    continue
                try:
                    rss = child.memory_info().rss / MB
                except psutil.Error:
                    continue
                self.horses.add(child.pid)
                self.peak_rss = max(self.peak_rss, rss)
            time.sleep(0.005)


def _long_lived_children(pid: int) -> set[int]:
    """The worker's schedule process: children present now and a second later (a work horse
    lives for one job)."""
    before = {c.pid for c in psutil.Process(pid).children()}
    time.sleep(1)
    return before & {c.pid for c in psutil.Process(pid).children()}


def _memory(process: psutil.Process) -> tuple[float, float]:
    info = process.memory_full_info()
    return info.rss / MB, info.uss / MB


def main(
    size: str = "full",
    database_url: str = PATHS_DATABASE_URL,
    redis_url: str = DEFAULT_REDIS_URL,
) -> dict[str, Any]:
    from bench.bench_routing import _assigned_times, _wait_for_workers

    started = time.monotonic()
    app = reset(database_url, redis_url)
    bodies = report_payloads(org_unit_ids(app), 200)
    env = bench_env(database_url, redis_url)
    count = REPORTS[size]
    with children() as running:
        worker = Child([DEFUSE, "worker"], env, log_dir() / "memory-worker.log")
        running.append(worker)
        server, base = start_gunicorn(DEFUSE_APP, env, "memory-web")
        running.append(server)
        _wait_for_workers(redis_url, 1)
        url = f"{base}/api/v1/reports"
        warm_web(url, bodies)
        schedule = _long_lived_children(worker.pid)
        with HorseSampler(worker.pid, schedule) as horses:
            ids = [post_json(url, bodies[i % len(bodies)])[1]["id"] for i in range(count)]
            _assigned_times(app, ids, timeout=600)
        web = [_memory(p) for p in gunicorn_workers(server)]
        master = _memory(psutil.Process(server.pid))
        parent = _memory(psutil.Process(worker.pid))
        schedule_rss = [
            _memory(p)[0] for p in psutil.Process(worker.pid).children() if p.pid in schedule
        ]

    web_rss = max(rss for rss, _ in web)
    result = Result(path="memory")
    result.rows = [
        Row(
            "memory",
            "web worker RSS (largest)",
            web_rss,
            "MB",
            target=f"< {TARGET_MB:.0f} MB",
            met=web_rss < TARGET_MB,
        ),
        Row("memory", "  web worker unique (USS)", max(uss for _, uss in web), "MB"),
        Row(
            "memory",
            "RQ worker RSS",
            parent[0],
            "MB",
            target=f"< {TARGET_MB:.0f} MB",
            met=parent[0] < TARGET_MB,
        ),
    ]
    if horses.horses:  # only a forking worker class has work horses
        result.rows.append(
            Row(
                "memory",
                "RQ work horse RSS (peak)",
                horses.peak_rss,
                "MB",
                target=f"< {TARGET_MB:.0f} MB",
                met=horses.peak_rss < TARGET_MB,
            )
        )
    result.notes.append(
        f"after {count} reports posted and routed; gunicorn master {master[0]:.0f} MB RSS; "
        f"{len(web)} web workers; schedule process "
        f"{', '.join(f'{r:.0f}' for r in schedule_rss) or '-'} MB RSS; "
        + (
            f"{len(horses.horses)} work horses sampled"
            if horses.horses
            else "no work horses (the worker runs jobs in its own process)"
        )
    )
    result.seconds = time.monotonic() - started
    return result.as_dict()


if __name__ == "__main__":
    run_main(main, __doc__ or "")
