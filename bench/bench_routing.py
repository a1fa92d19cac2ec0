"""Routing: submit-to-assigned time at a steady 20 reports/s, and a burst of 1,000 reports
drained by 1 and by 2 workers.

Steady: gunicorn serves Defuse, one `defuse worker` runs with its schedule (as deployed); a
client posts reports at a fixed rate (open loop: a slow answer never delays the next
report) and records when it sent each; the figure is Case.assigned_at minus that moment
(never Case.opened_at, which is truncated to the hour on purpose).

Burst: the reports are submitted first, with no worker running, so their routing jobs wait in
the queue; N `defuse worker --no-schedule` processes start while RQ is suspended, and the
drain is timed from the first job's start to the last job's end (RQ's own job timestamps),
so worker start-up is not counted.

Floor: RQ draining the same number of no-op jobs (bench/noop.py) with the same worker class
as `defuse worker` (service.tasks.worker.Worker), started and timed the same way.

    python -m bench.bench_routing --size small
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC
from typing import Any

from bench.common import (
    DEFAULT_REDIS_URL,
    DEFUSE,
    PATHS_DATABASE_URL,
    PYTHON,
    Child,
    Result,
    Row,
    bench_env,
    children,
    flush_redis,
    log_dir,
    org_unit_ids,
    percentile,
    report_payloads,
    reset,
    run_main,
    wait_for,
)
from bench.web import DEFUSE_APP, post_json, start_gunicorn, warm_web

RATE = 20.0  # reports per second
STEADY_SECONDS = {"small": 10, "full": 30}
BURST = {"small": 300, "full": 1_000}
TARGET_P95_S = 1.0
TARGET_SHARE = 0.5

# The floor's worker: the class `defuse worker` uses, whatever it is (rq.Worker forks a work
# horse per job), so a change of class in service/tasks/worker.py moves the floor with it.
WORKER_CODE = """
import sys
from redis import Redis
from rq import Queue
from service.tasks.worker import Worker
connection = Redis.from_url(sys.argv[1])
Worker([Queue(sys.argv[2], connection=connection)], connection=connection).work(
    logging_level="WARNING"
)
"""


# --- steady rate ------------------------------------------------------------------------------


def _post_at_rate(
    url: str, bodies: Sequence[dict[str, Any]], seconds: float, answers: list[float] | None = None
) -> dict[int, float]:
    """Posts reports at RATE per second for `seconds`; returns report id -> wall time sent,
    and appends each request's answer time (seconds) to `answers`."""
    sent: dict[int, float] = {}
    failures: list[str] = []
    lock = threading.Lock()

    def post(body: dict[str, Any]) -> None:
        moment = time.time()
        try:
            status, answer = post_json(url, body)
        except OSError as error:
            failures.append(type(error).__name__)
            return
        if status != 201:
            failures.append(str(status))
            return
        with lock:
            sent[int(answer["id"])] = moment
            if answers is not None:
                answers.append(time.time() - moment)

    count = int(seconds * RATE)
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=16) as pool:
        for index in range(count):
            delay = start + index / RATE - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(post, bodies[index % len(bodies)])
    if failures:
        raise RuntimeError(f"{len(failures)} submissions failed: {failures[:5]}")
    return sent


def _assigned_times(app: Any, report_ids: Sequence[int], timeout: float) -> dict[int, float]:
    """report id -> wall time its case was assigned, once every case has left 'pending'."""
    from service.db import Case
    from service.extensions import db

    with app.app_context():

        def settled() -> bool:
            db.session.rollback()
            pending = db.session.scalar(
                db.select(db.func.count())
                .select_from(Case)
                .where(Case.report_id.in_(report_ids), Case.routing_state == "pending")
            )
            return pending == 0

        wait_for(settled, timeout, "every case routed", interval=0.25)
        rows = db.session.execute(
            db.select(Case.report_id, Case.assigned_at).where(Case.report_id.in_(report_ids))
        ).all()
        db.session.remove()
    return {
        report_id: assigned.replace(tzinfo=UTC).timestamp()
        for report_id, assigned in rows
        if assigned is not None
    }


def steady(app: Any, env: dict[str, str], bodies: Sequence[dict[str, Any]], seconds: int) -> dict:
    with children() as started:
        worker = Child([DEFUSE, "worker"], env, log_dir() / "steady-worker.log")
        started.append(worker)
        server, base = start_gunicorn(DEFUSE_APP, env, "steady-web")
        started.append(server)
        url = f"{base}/api/v1/reports"
        _wait_for_workers(env["DEFUSE_REDIS_URL"], 1)
        # Warm the web workers' and the worker's risk engines and connections first.
        warm_web(url, bodies)
        warm = _post_at_rate(url, bodies, 2)
        _assigned_times(app, list(warm), timeout=120)
        answers: list[float] = []
        sent = _post_at_rate(url, bodies, seconds, answers)
        assigned = _assigned_times(app, list(sent), timeout=300)
    latencies = [assigned[i] - sent[i] for i in sent if i in assigned]
    return {
        "latencies": latencies,
        "answers": answers,
        "submitted": len(sent),
        "unassigned": len(sent) - len(assigned),
    }


# --- burst --------------------------------------------------------------------------------------


def _wait_for_workers(redis_url: str, count: int, timeout: float = 90) -> None:
    from redis import Redis
    from rq import Worker

    connection = Redis.from_url(redis_url)
    wait_for(lambda: Worker.count(connection=connection) >= count, timeout, f"{count} worker(s)")


def _drain_rate(redis_url: str, queue_name: str, job_ids: Sequence[str], timeout: float) -> float:
    """Jobs per second between the first job's start and the last job's end."""
    from redis import Redis
    from rq import Queue
    from rq.job import Job, JobStatus

    connection = Redis.from_url(redis_url)
    queue = Queue(queue_name, connection=connection)
    wait_for(lambda: queue.count == 0, timeout, f"queue {queue_name} drained", interval=0.2)

    def finished() -> bool:
        jobs = Job.fetch_many(list(job_ids), connection=connection)
        return all(
            j is not None and j.get_status(refresh=False) in (JobStatus.FINISHED, JobStatus.FAILED)
            for j in jobs
        )

    wait_for(finished, 60, "every job finished", interval=0.2)
    jobs = Job.fetch_many(list(job_ids), connection=connection)
    failed = [j.id for j in jobs if j.get_status(refresh=False) == JobStatus.FAILED]
    if failed:
        raise RuntimeError(f"{len(failed)} job(s) failed, e.g. {failed[0]}")
    first = min(j.started_at for j in jobs)
    last = max(j.ended_at for j in jobs)
    return len(jobs) / (last - first).total_seconds()


def _run_drain(
    redis_url: str,
    queue_name: str,
    job_ids: Sequence[str],
    commands: Sequence[list[str]],
    env: dict[str, str],
    name: str,
) -> float:
    from redis import Redis
    from rq.suspension import resume, suspend

    connection = Redis.from_url(redis_url)
    suspend(connection)
    with children() as started:
        for index, command in enumerate(commands):
            started.append(Child(command, env, log_dir() / f"{name}-{index + 1}.log"))
        _wait_for_workers(redis_url, len(commands))
        time.sleep(1.5)  # every worker has reached its suspension check
        resume(connection)
        return _drain_rate(redis_url, queue_name, job_ids, timeout=600)


def burst_defuse(
    app: Any, env: dict[str, str], bodies: Sequence[dict[str, Any]], count: int, workers: int
) -> float:
    from service.intake.service import submit_report
    from service.tasks.queue import ROUTING_QUEUE
    from service.tasks.relay import routing_job_id

    redis_url = env["DEFUSE_REDIS_URL"]
    job_ids = []
    with app.app_context():
        from service.extensions import db

        for index in range(count):
            body = dict(bodies[index % len(bodies)])
            submission = submit_report(body)  # relays its routing job to Redis at once
            job_ids.append(routing_job_id(submission.case_id, 0))
        db.session.remove()
    command = [DEFUSE, "worker", "--no-schedule"]
    return _run_drain(
        redis_url, ROUTING_QUEUE, job_ids, [command] * workers, env, f"burst-defuse-{workers}"
    )


def burst_floor(env: dict[str, str], count: int, workers: int) -> float:
    from redis import Redis
    from rq import Queue

    redis_url = env["DEFUSE_REDIS_URL"]
    flush_redis(redis_url)
    queue = Queue("floor", connection=Redis.from_url(redis_url))
    job_ids = [queue.enqueue("bench.noop.noop", result_ttl=3600).id for _ in range(count)]
    command = [PYTHON, "-c", WORKER_CODE, redis_url, "floor"]
    return _run_drain(
        redis_url, "floor", job_ids, [command] * workers, env, f"burst-floor-{workers}"
    )


def _worker_class() -> str:
    from service.tasks import worker

    return f"{worker.Worker.__module__}.{worker.Worker.__name__}"


def _schema_bodies(app: Any, count: int) -> list[dict[str, Any]]:
    from service.schemas.reports import ReportCreateSchema

    schema = ReportCreateSchema()
    return [schema.load(body) for body in report_payloads(org_unit_ids(app), count)]


def main(
    size: str = "full",
    database_url: str = PATHS_DATABASE_URL,
    redis_url: str = DEFAULT_REDIS_URL,
) -> dict[str, Any]:
    started = time.monotonic()
    env = bench_env(database_url, redis_url)
    result = Result(path="routing")

    app = reset(database_url, redis_url)
    bodies = report_payloads(org_unit_ids(app), 200)
    run = steady(app, env, bodies, STEADY_SECONDS[size])
    latencies = run["latencies"]
    p95 = percentile(latencies, 95)
    result.rows += [
        Row("routing", f"submit-to-assigned p50 at {RATE:.0f}/s", percentile(latencies, 50), "s"),
        Row(
            "routing",
            f"submit-to-assigned p95 at {RATE:.0f}/s",
            p95,
            "s",
            target=f"< {TARGET_P95_S:.0f} s",
            met=p95 < TARGET_P95_S and run["unassigned"] == 0,
        ),
    ]
    answers_ms = [a * 1000 for a in run["answers"]]
    result.rows += [
        Row(
            "routing",
            f"  POST /api/v1/reports p50 at {RATE:.0f}/s",
            percentile(answers_ms, 50),
            "ms",
        ),
        Row(
            "routing",
            f"  POST /api/v1/reports p99 at {RATE:.0f}/s",
            percentile(answers_ms, 99),
            "ms",
        ),
    ]
    result.notes.append(
        f"steady: {run['submitted']} reports over {STEADY_SECONDS[size]} s via gunicorn, one "
        f"`defuse worker` with its schedule; {run['unassigned']} left unassigned"
    )

    count = BURST[size]
    for workers in (1, 2):
        app = reset(database_url, redis_url)
        loaded = _schema_bodies(app, 200)
        defuse_rate = burst_defuse(app, env, loaded, count, workers)
        floor_rate = burst_floor(env, count, workers)
        result.rows.append(
            Row(
                "routing",
                f"burst of {count} drained, {workers} worker{'s' if workers > 1 else ''}",
                defuse_rate,
                "jobs/s",
                floor=floor_rate,
                target=f">= {TARGET_SHARE:.0%} of the no-op rate",
                met=defuse_rate / floor_rate >= TARGET_SHARE,
                better="higher",
            )
        )
    result.notes.append(
        "burst: timed from the first job's start to the last job's end (RQ job timestamps); "
        "floor: the same number of no-op jobs, same worker class "
        f"({_worker_class()}), same start"
    )
    flush_redis(redis_url)
    result.seconds = time.monotonic() - started
    return result.as_dict()


if __name__ == "__main__":
    run_main(main, __doc__ or "")
