"""Fault suite: Redis and the database fail under a burst of reports and a real worker.

For each fault: every report answered 201 is stored exactly once, with its case and outbox
entry; every answer that was not 201 is a clear 503 with nothing half-written; and once the
fault is over every stored case is routed exactly once.
"""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from redis import Redis
from rq import Worker
from rq.registry import StartedJobRegistry
from sqlalchemy import func, select

from service.db import AuditEvent, Case, OutboxEntry, Report
from service.extensions import db
from tests.conftest import DATABASE_URL, make_app
from tests.factories import report_payload, seed_org
from tests.netproxy import CuttableProxy
from tests.workers import WorkerProcess, until, worker_env

BURST = 30


def stored() -> tuple[int, int, int]:
    db.session.rollback()
    return tuple(  # type: ignore[return-value]
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Report, Case, OutboxEntry)
    )


def all_routed_once() -> bool:
    db.session.rollback()
    pending = db.session.scalar(
        select(func.count()).select_from(Case).where(Case.routing_state == "pending")
    )
    return pending == 0


def assert_each_routed_exactly_once() -> None:
    per_case = db.session.execute(
        select(AuditEvent.case_id, func.count())
        .where(AuditEvent.action.in_(["case.assigned", "case.unassigned"]))
        .group_by(AuditEvent.case_id)
    ).all()
    cases = db.session.scalar(select(func.count()).select_from(Case))
    assert len(per_case) == cases
    assert all(count == 1 for _, count in per_case), per_case


def post_report(client, org, i: int):  # type: ignore[no-untyped-def]
    units = ["Call Centre", "Warehouse North", "Platform Engineering", "Payroll"]
    return client.post(
        "/api/v1/reports",
        json=report_payload(
            org,
            org_unit=org.unit(units[i % len(units)]),
            text=f"Report number {i}: the rota changes every week without notice.",
        ),
    )


@pytest.mark.worker
def test_redis_cut_mid_burst_loses_nothing(redis_settings, redis_url, workers):
    """The network to Redis is cut while a registered worker is busy on a routing job: the
    worker sees it, outlives it, and every report is stored and routed exactly once."""
    target = urlparse(redis_url)
    proxy = CuttableProxy(target.hostname, target.port)
    try:
        proxied = redis_settings.replace(redis_url=proxy.url(path=target.path or "/0"))
        app = make_app(proxied)
        with app.app_context():
            org = seed_org()
            worker = WorkerProcess(
                worker_env(
                    proxied,
                    proxied.redis_url,
                    DEFUSE_TEST_ROUTE_DELAY="0.2",
                    DEFUSE_ROUTING_STUCK_SECONDS="3",
                )
            )
            workers.append(worker)
            worker.wait_ready(proxied.redis_url)
            client = app.test_client()
            direct = Redis.from_url(redis_url)  # past the proxy: the test's own view of Redis
            accepted = 0
            for i in range(BURST):
                if i == BURST // 3:
                    # Precondition: a registered worker, busy on a job, when the cut comes.
                    assert Worker.count(connection=direct) >= 1
                    until(lambda: StartedJobRegistry("routing", connection=direct).count > 0, 20)
                    proxy.cut()
                if i == 2 * BURST // 3:
                    # The fault was seen: the worker lost Redis, and lives on trying again.
                    until(lambda: "reconnecting in" in worker.output(), 40)
                    assert worker.process.poll() is None
                    proxy.restore()
                response = post_report(client, org, i)
                assert response.status_code == 201  # Redis is never needed to accept a report
                accepted += 1
            assert stored() == (accepted, accepted, accepted)
            until(lambda: "worker reconnected to Redis" in worker.output(), 40)
            until(all_routed_once, timeout=90)
            assert worker.process.poll() is None, worker.output()[-3000:]
            assert_each_routed_exactly_once()
    finally:
        proxy.close()


@pytest.mark.worker
def test_worker_killed_mid_burst_loses_nothing(redis_settings, redis_url, workers):
    # Whoever hands a job over (here the submissions) sets when its case counts as stuck.
    redis_settings = redis_settings.replace(routing_stuck_seconds=2)
    app = make_app(redis_settings)
    with app.app_context():
        org = seed_org()
        env = worker_env(redis_settings, redis_url)
        first = WorkerProcess({**env, "DEFUSE_TEST_ROUTE_DELAY": "0.3"})
        workers.append(first)
        first.wait_ready(redis_url)
        client = app.test_client()
        for i in range(BURST):
            assert post_report(client, org, i).status_code == 201
        until(
            lambda: (
                db.session.scalar(
                    select(func.count()).select_from(Case).where(Case.routing_state != "pending")
                )
                >= 3
            ),
            timeout=30,
        )
        first.kill()
        workers.append(WorkerProcess(env))
        until(all_routed_once, timeout=90)
        assert stored() == (BURST, BURST, BURST)
        assert_each_routed_exactly_once()


def test_database_lost_mid_burst_gives_503_and_no_half_written_case(settings, request):
    """The middle third of a burst meets a database that cannot write: PostgreSQL behind a
    proxy that drops every connection (as a restart does), or the SQLite file opened
    read-only. Each of those requests is a clear 503; the rest are stored and routed."""
    app = make_app(settings)
    with app.app_context():
        org = seed_org()
    if DATABASE_URL:
        target = urlparse(DATABASE_URL)
        proxy = CuttableProxy(target.hostname or "127.0.0.1", target.port or 5432)
        request.addfinalizer(proxy.close)
        proxied_url = DATABASE_URL.replace(
            f"{target.hostname}:{target.port or 5432}", f"127.0.0.1:{proxy.port}"
        )
        healthy = faulty = make_app(settings.replace(database_url=proxied_url))
        cut, restore = proxy.cut, proxy.restore
    else:
        path = settings.database_url.removeprefix("sqlite:///")
        healthy = app
        faulty = make_app(settings.replace(database_url=f"sqlite:///file:{path}?mode=ro&uri=true"))
        cut = restore = lambda: None  # noqa: E731 - the read-only app is the fault

    answers: list[int] = []
    for i in range(BURST):
        in_fault = BURST // 3 <= i < 2 * BURST // 3
        if i == BURST // 3:
            cut()
        if i == 2 * BURST // 3:
            restore()
        serving = faulty if in_fault else healthy
        with serving.app_context():
            response = post_report(serving.test_client(), org, i)
        answers.append(response.status_code)
        if in_fault:
            assert response.status_code == 503
            assert response.get_json()["error"]["code"] == "unavailable"
            assert response.headers["Retry-After"]
        else:
            assert response.status_code == 201, response.get_json()

    with app.app_context():
        accepted = answers.count(201)
        assert accepted == BURST - BURST // 3
        assert stored() == (accepted, accepted, accepted)
        assert all_routed_once()
        assert_each_routed_exactly_once()
