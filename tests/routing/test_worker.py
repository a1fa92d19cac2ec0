"""Routing through Redis with real `defuse worker` processes: fast, never lost, exactly once."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from redis import Redis
from rq import Queue
from rq.job import JobStatus
from rq.registry import StartedJobRegistry
from sqlalchemy import func, select

from service.db import AuditEvent, Case, OutboxEntry
from service.extensions import db
from service.tasks.queue import ROUTING_QUEUE
from tests.conftest import make_app
from tests.factories import report_payload, seed_org
from tests.netproxy import CuttableProxy
from tests.workers import WorkerProcess, until, worker_env

pytestmark = pytest.mark.worker


def routing_state(case_id: int) -> str:
    return db.session.execute(select(Case.routing_state).where(Case.id == case_id)).scalar_one()


def assignments(case_id: int) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.case_id == case_id, AuditEvent.action == "case.assigned")
    )


def submit(client, org) -> int:
    response = client.post("/api/v1/reports", json=report_payload(org))
    assert response.status_code == 201, response.get_json()
    report_id = response.get_json()["id"]
    return db.session.execute(select(Case.id).where(Case.report_id == report_id)).scalar_one()


def test_submitted_case_is_assigned_by_a_worker_within_two_seconds(
    redis_settings, redis_url, workers
):
    app = make_app(redis_settings)
    with app.app_context():
        org = seed_org()
        workers.append(WorkerProcess(worker_env(redis_settings, redis_url)))
        workers[0].wait_ready(redis_url)
        client = app.test_client()
        case_id = submit(client, org)
        # Wait longer than the promise, so that a slow routing fails on the figure below
        # rather than on the wait (which would make the figure's check unreachable).
        took = until(lambda: routing_state(case_id) == "assigned", timeout=20)
        assert took < 2, f"routed in {took:.2f} s"
        assert assignments(case_id) == 1


def test_redis_down_at_submit_then_routed_when_it_returns(redis_settings, redis_url, workers):
    target = urlparse(redis_url)
    proxy = CuttableProxy(target.hostname, target.port)
    try:
        proxied = redis_settings.replace(redis_url=proxy.url(path=target.path or "/0"))
        app = make_app(proxied)
        with app.app_context():
            org = seed_org()
            proxy.cut()
            client = app.test_client()
            case_id = submit(client, org)  # 201 although Redis is unreachable
            entry = db.session.execute(
                select(OutboxEntry).where(OutboxEntry.case_id == case_id)
            ).scalar_one()
            assert entry.enqueued_at is None
            assert routing_state(case_id) == "pending"

            proxy.restore()
            workers.append(WorkerProcess(worker_env(proxied, proxied.redis_url)))
            until(lambda: routing_state(case_id) == "assigned", timeout=30)
            assert assignments(case_id) == 1
    finally:
        proxy.close()


def test_worker_killed_mid_job_then_routed_exactly_once_after_restart(
    redis_settings, redis_url, workers
):
    # The relay that hands the job over (here, the submission's) sets when it counts as stuck.
    redis_settings = redis_settings.replace(routing_stuck_seconds=2)
    app = make_app(redis_settings)
    with app.app_context():
        org = seed_org()
        slow = WorkerProcess(worker_env(redis_settings, redis_url, DEFUSE_TEST_ROUTE_DELAY="5"))
        workers.append(slow)
        slow.wait_ready(redis_url)
        client = app.test_client()
        case_id = submit(client, org)
        connection = Redis.from_url(redis_url)
        until(lambda: StartedJobRegistry("routing", connection=connection).count > 0, timeout=10)
        slow.kill()  # SIGKILL, work horse included, in the middle of the job
        assert routing_state(case_id) == "pending"

        workers.append(WorkerProcess(worker_env(redis_settings, redis_url)))
        until(lambda: routing_state(case_id) == "assigned", timeout=40)
        entry = db.session.execute(
            select(OutboxEntry).where(OutboxEntry.case_id == case_id)
        ).scalar_one()
        assert entry.attempts >= 2  # the stuck-case re-queue handed the killed job over again

        # A duplicate of the killed round's job, as a late retry would be: it must run and
        # change nothing.
        duplicate = Queue(ROUTING_QUEUE, connection=connection).enqueue(
            "service.tasks.jobs.route_case_job",
            case_id,
            0,
            job_id=f"duplicate-route_case-{case_id}-0",
        )
        until(lambda: duplicate.get_status(refresh=True) == JobStatus.FINISHED, timeout=20)
        assert duplicate.return_value() == "stale"
        assert assignments(case_id) == 1
        assert routing_state(case_id) == "assigned"


def test_worker_loads_the_guides_before_its_first_job(redis_settings, monkeypatch):
    """Loaded lazily, the guide YAML would hold up the first routing job of every worker."""
    from service.tasks import worker as worker_module

    app = make_app(redis_settings)
    seen_at_start: dict[str, bool] = {}

    class RecordingWorker:
        def __init__(self, queues, connection, **options):  # type: ignore[no-untyped-def]
            pass

        def work(self, **options):  # type: ignore[no-untyped-def]
            seen_at_start["guides"] = "defuse.guides" in app.extensions

    monkeypatch.setattr(worker_module, "Worker", RecordingWorker)
    monkeypatch.setattr(worker_module.gc, "freeze", lambda: None)  # not in the test process
    worker_module.run_worker(app, burst=True)

    assert seen_at_start == {"guides": True}
