"""Failed background jobs, read from RQ's FailedJobRegistry on each of the service's queues.

Only what an operator needs is shown: the job id (which carries case id and routing round),
the function, when it failed and the exception's type. Never the exception's message or the
traceback: those could quote data the job was handling.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from redis import Redis
from redis.exceptions import RedisError
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job
from rq.registry import FailedJobRegistry

from service.tasks.heartbeat import worker_status
from service.tasks.queue import QUEUE_NAMES, get_queue, get_redis

log = logging.getLogger(__name__)
MAX_PER_QUEUE = 200


class NoRedis(RuntimeError):
    pass


@dataclass(frozen=True)
class FailedJob:
    queue: str
    id: str
    function: str
    failed_at: datetime | None
    error_type: str


@dataclass
class FailedJobsReport:
    configured: bool  # False: no Redis (jobs run in-process), so no registry exists
    reachable: bool = True
    jobs: dict[str, list[FailedJob]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    worker: str = "ok"  # "ok", or why no worker seems to be working (heartbeat.worker_status)


def error_type(exc_info: str | None) -> str:
    """'ValueError' from a traceback's last line 'ValueError: ...', without the message."""
    if not exc_info:
        return "unknown"
    lines = [line for line in exc_info.strip().splitlines() if line.strip()]
    if not lines:
        return "unknown"
    head = lines[-1].split(":", 1)[0].strip()
    return head.rsplit(".", 1)[-1][:80] or "unknown"


def _registry(name: str, connection: Redis) -> FailedJobRegistry:
    return FailedJobRegistry(queue=get_queue(name, connection))


def failed_jobs() -> FailedJobsReport:
    connection = get_redis()
    if connection is None:
        return FailedJobsReport(configured=False)
    report = FailedJobsReport(configured=True, worker=worker_status(connection))
    try:
        for name in QUEUE_NAMES:
            registry = _registry(name, connection)
            ids = registry.get_job_ids(0, MAX_PER_QUEUE - 1)
            report.counts[name] = registry.count
            listed = []
            for job_id, job in zip(ids, Job.fetch_many(ids, connection=connection), strict=True):
                if job is None:  # expired between the two reads
                    continue
                listed.append(
                    FailedJob(
                        queue=name,
                        id=job_id,
                        function=(job.func_name or "?").rsplit(".", 1)[-1],
                        failed_at=job.ended_at,
                        error_type=error_type(_exc_info(job)),
                    )
                )
            report.jobs[name] = listed
    except RedisError as error:
        log.warning("failed-job registry unreadable: %s", type(error).__name__)
        report.reachable = False
    return report


def _exc_info(job: Job) -> str | None:
    try:
        result = job.latest_result()
    except (RedisError, ValueError):
        result = None
    if result is not None and getattr(result, "exc_string", None):
        return str(result.exc_string)
    return job.exc_info


def retry(queue_name: str, job_id: str) -> bool:
    """Put a failed job back on its queue. False if it is not (or no longer) in the registry."""
    connection = get_redis()
    if connection is None:
        raise NoRedis
    if queue_name not in QUEUE_NAMES:
        return False
    try:
        _registry(queue_name, connection).requeue(job_id)
    except (NoSuchJobError, InvalidJobOperation):
        return False
    return True
