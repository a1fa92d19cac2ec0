"""`defuse worker`: an RQ worker inside the app context, plus the periodic schedule.

The schedule runs in a child process as RQ's CronScheduler: it enqueues the outbox relay,
the stuck-case re-queue, the deadline check and retention at fixed intervals. Several
workers may each run one; every scheduled job is idempotent, so duplicates cost nothing.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import time

from flask import Flask
from redis import Redis
from redis.exceptions import RedisError
from rq import SimpleWorker
from rq.cron import CronScheduler

from service.tasks import jobs
from service.tasks.queue import MAINTENANCE_QUEUE, QUEUE_NAMES, get_redis

log = logging.getLogger(__name__)

# Jobs run inside the worker process (RQ's SimpleWorker) rather than in a fork per job: the
# jobs are short, idempotent database work, and a fresh fork re-opens its database connection
# and re-compiles every statement, which cost 65 ms of a 20 ms job. A killed worker loses
# nothing either way (the outbox and requeue_stuck re-route); job timeouts still apply.
Worker = SimpleWorker

# (job, seconds between runs)
SCHEDULE = (
    (jobs.relay_outbox_job, 5),
    (jobs.requeue_stuck_job, 10),
    (jobs.check_deadlines_job, 60),
    (jobs.check_feedback_deadlines_job, 15 * 60),
    (jobs.retention_job, 6 * 3600),
)


def run_schedule(redis_url: str) -> None:
    """Keep RQ's CronScheduler running, riding out Redis outages."""
    while True:
        scheduler = CronScheduler(connection=Redis.from_url(redis_url), name="")
        for func, interval in SCHEDULE:
            scheduler.register(func, MAINTENANCE_QUEUE, interval=interval, result_ttl=600)
        try:
            scheduler.start()
            return  # stopped by a signal
        except RedisError as error:
            log.warning("scheduler lost Redis (%s); retrying in 2 s", type(error).__name__)
            time.sleep(2)


def run_worker(app: Flask, *, burst: bool = False, with_schedule: bool = True) -> None:
    connection = get_redis(app)
    if connection is None:
        raise SystemExit("DEFUSE_REDIS_URL is not set: without Redis, jobs run in-process")
    jobs.bind_app(app)
    with app.app_context():
        from service.guides.app import get_guides

        # Loaded before the first job, so no job waits for the guide YAML (200 ms); no job
        # scores reports, so the risk engine (rules and classifier) is not loaded here.
        get_guides()
    gc.freeze()  # start-up objects live as long as the worker: keep them out of collections
    schedule: multiprocessing.Process | None = None
    if with_schedule and not burst:
        schedule = multiprocessing.Process(
            target=run_schedule, args=(app.config["DEFUSE"].redis_url,), daemon=True
        )
        schedule.start()
    try:
        worker = Worker(list(QUEUE_NAMES), connection=connection)
        worker.work(burst=burst, with_scheduler=not burst, logging_level="INFO")
    finally:
        if schedule is not None and schedule.is_alive():
            schedule.terminate()
