"""`defuse worker`: an RQ worker inside the app context, plus the periodic schedule.

The schedule runs in a child process as RQ's CronScheduler: it enqueues the outbox relay,
the stuck-case re-queue, the deadline check and retention at fixed intervals. Several
workers may each run one; each scheduled job takes a Redis lock for its run, so however many
schedulers enqueue it, it runs once per interval.

When Redis goes away the worker does not exit: it waits with growing pauses, reconnects and
carries on. Nothing is lost meanwhile (reports and outbox entries are in the database; the
relay and the stuck-case re-queue hand them over again). Children (the schedule, RQ's
scheduler) die with the worker, however it dies, so a `kill -9` leaves no schedule behind.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time

from flask import Flask
from redis.exceptions import RedisError
from rq import SimpleWorker
from rq.cron import CronScheduler

from service.tasks import jobs
from service.tasks.heartbeat import Heartbeat, worker_name
from service.tasks.queue import MAINTENANCE_QUEUE, QUEUE_NAMES, connect

log = logging.getLogger(__name__)

# Jobs run inside the worker process (RQ's SimpleWorker) rather than in a fork per job: the
# jobs are short, idempotent database work, and a fresh fork re-opens its database connection
# and re-compiles every statement, which cost 65 ms of a 20 ms job. A killed worker loses
# nothing either way (the outbox and requeue_stuck re-route); job timeouts still apply.
Worker = SimpleWorker

# RQ waits for jobs in blocking pops of WORKER_TTL - 15 s, on a socket timeout of 10 s more:
# short, so that a Redis that stops answering is noticed within half a minute.
WORKER_TTL = 30
# Pauses between reconnection attempts, in seconds; the last one repeats.
RECONNECT_PAUSES = (1, 2, 4, 8, 15)

SCHEDULE = tuple(
    (job, job.every_seconds)  # type: ignore[attr-defined]
    for job in (
        jobs.relay_outbox_job,
        jobs.send_notifications_job,
        jobs.requeue_stuck_job,
        jobs.check_deadlines_job,
        jobs.check_feedback_deadlines_job,
        jobs.retention_job,
        jobs.release_months_job,
    )
)


# --- children die with the worker -------------------------------------------------------------

PR_SET_PDEATHSIG = 1
_forking_parent = 0
_hooks_installed = False


def _remember_parent() -> None:
    global _forking_parent
    _forking_parent = os.getpid()


def _die_with_parent() -> None:
    """In a freshly forked child: ask the kernel for SIGTERM when the parent dies (Linux), or
    else watch the parent's pid. SIGTERM lets RQ's schedulers stop cleanly."""
    parent = _forking_parent
    armed = False
    if sys.platform.startswith("linux"):
        try:  # the process's own symbols include libc's prctl
            armed = ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) == 0
        except (OSError, AttributeError):
            armed = False
    if not armed:
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    if os.getppid() != parent:  # the parent died before the signal was armed
        os.kill(os.getpid(), signal.SIGTERM)


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1)
    os.kill(os.getpid(), signal.SIGTERM)


def children_die_with_this_process() -> None:
    """Every process forked from here on (the schedule, RQ's scheduler) ends with this one."""
    global _hooks_installed
    if not _hooks_installed:
        os.register_at_fork(before=_remember_parent, after_in_child=_die_with_parent)
        _hooks_installed = True


# --- the schedule -----------------------------------------------------------------------------


def run_schedule(redis_url: str) -> None:
    """Keep RQ's CronScheduler running, riding out Redis outages."""
    while True:
        scheduler = CronScheduler(connection=connect(redis_url), name="")
        for func, interval in SCHEDULE:
            # No result kept: a job's record in Redis holds exact times.
            scheduler.register(func, MAINTENANCE_QUEUE, interval=interval, result_ttl=0)
        try:
            scheduler.start()
            return  # stopped by a signal
        except RedisError as error:
            log.warning("scheduler lost Redis (%s); retrying in 2 s", type(error).__name__)
            time.sleep(2)


# --- the worker -------------------------------------------------------------------------------


def _wait_for_redis(redis_url: str, attempt: int) -> None:
    pause = RECONNECT_PAUSES[min(attempt, len(RECONNECT_PAUSES)) - 1]
    log.warning("worker lost Redis; reconnecting in %s s (attempt %d)", pause, attempt)
    time.sleep(pause)
    connect(redis_url).ping()  # raises while Redis is still away


def _exit_now(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def run_worker(app: Flask, *, burst: bool = False, with_schedule: bool = True) -> None:
    redis_url = app.config["DEFUSE"].redis_url
    if not redis_url:
        raise SystemExit("DEFUSE_REDIS_URL is not set: without Redis, jobs run in-process")
    jobs.bind_app(app)
    with app.app_context():
        from service.guides.app import get_guides

        # Loaded before the first job, so no job waits for the guide YAML (200 ms); no job
        # scores reports, so the risk engine (rules and classifier) is not loaded here.
        get_guides()
    gc.freeze()  # start-up objects live as long as the worker: keep them out of collections
    schedule: multiprocessing.Process | None = None
    if not burst:  # only then are there children: the schedule and RQ's scheduler
        children_die_with_this_process()
    if with_schedule and not burst:
        schedule = multiprocessing.Process(target=run_schedule, args=(redis_url,), daemon=True)
        schedule.start()
    heartbeat = Heartbeat(connect(redis_url), worker_name())
    heartbeat.start()
    attempt = 0
    try:
        while True:
            # A connection of its own: RQ raises its socket timeout above the blocking pop's,
            # which must not slow the app's own client (used by the jobs) down.
            worker = Worker(
                list(QUEUE_NAMES),
                connection=connect(redis_url, None),
                worker_ttl=WORKER_TTL,
                # A job's description names its arguments (a case id), next to the log's time.
                log_job_description=False,
            )
            heartbeat.working.set()
            try:
                worker.work(burst=burst, with_scheduler=not burst, logging_level="INFO")
            except RedisError as error:  # raised from RQ's teardown when Redis is away
                log.error("worker lost Redis: %s", type(error).__name__)
            finally:
                heartbeat.working.clear()
            if burst or getattr(worker, "_stop_requested", False):
                return
            # RQ's loop ended on an error (Redis went away mid-job or mid-wait): reconnect.
            # RQ's signal handlers need Redis; while it is away a stop signal simply ends us.
            for stop_signal in (signal.SIGTERM, signal.SIGINT):
                signal.signal(stop_signal, _exit_now)
            while True:
                attempt += 1
                try:
                    _wait_for_redis(redis_url, attempt)
                except RedisError:
                    continue
                log.warning("worker reconnected to Redis after %d attempt(s)", attempt)
                attempt = 0
                break
    finally:
        heartbeat.stop()
        if schedule is not None and schedule.is_alive():
            schedule.terminate()
