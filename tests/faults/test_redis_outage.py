"""Redis goes away, or hangs: the worker rides it out, its children never outlive it, intake
answers quickly, limits still hold, and the probes tell operators a worker is missing.

Each fault test first proves the fault happened (the worker saw it, a client timed out)."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from contextlib import closing
from pathlib import Path
from urllib.parse import urlparse

import pytest
from redis import Redis
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import Worker
from rq.registry import StartedJobRegistry
from sqlalchemy import func, select

from service.db import Case, OutboxEntry, Report
from service.extensions import db, limiter
from service.tasks import heartbeat, jobs
from service.tasks.queue import ROUTING_QUEUE
from tests.conftest import make_app
from tests.embedded_redis import EmbeddedRedis
from tests.factories import seed_org
from tests.faults.test_faults import all_routed_once, assert_each_routed_exactly_once, post_report
from tests.netproxy import CuttableProxy
from tests.workers import WorkerProcess, until, worker_env

BURST = 150


def _free_port_in(first: int, last: int) -> int:
    for port in range(first, last + 1):
        with closing(socket.socket()) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {first}-{last}")


@pytest.fixture
def private_redis():  # type: ignore[no-untyped-def]
    """A redis-server of the test's own, which it may stop and start again (never the shared
    one)."""
    server = EmbeddedRedis(port=_free_port_in(6400, 6499))
    server.start()
    yield server
    server.__exit__()


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after its ")"
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _routed() -> int:
    db.session.rollback()
    return db.session.scalar(
        select(func.count()).select_from(Case).where(Case.routing_state != "pending")
    )


# --- the worker rides out an outage ---------------------------------------------------------


@pytest.mark.worker
def test_worker_survives_redis_stopped_mid_burst_and_every_case_is_routed(
    settings, private_redis, workers
):
    url = f"redis://127.0.0.1:{private_redis.port}/0"
    # The restarted Redis has lost its queue: the stuck-case re-queue hands over what was
    # waiting in it, 3 s after whoever handed the job over (here the submissions) said so.
    served = settings.replace(redis_url=url, routing_stuck_seconds=3)
    app = make_app(served)
    with app.app_context():
        org = seed_org()
        worker = WorkerProcess(
            worker_env(
                served,
                url,
                DEFUSE_TEST_ROUTE_DELAY="0.1",
            )
        )
        workers.append(worker)
        worker.wait_ready(url)
        client = app.test_client()
        for i in range(BURST // 3):
            assert post_report(client, org, i).status_code == 201

        # Precondition: a registered worker, busy on a routing job.
        connection = Redis.from_url(url)
        assert Worker.count(connection=connection) >= 1
        until(lambda: StartedJobRegistry(ROUTING_QUEUE, connection=connection).count > 0, 20)
        routed_before = _routed()
        assert routed_before < BURST // 3  # work was still waiting when Redis went away

        private_redis.stop()
        for i in range(BURST // 3, 2 * BURST // 3):
            started = time.monotonic()
            assert post_report(client, org, i).status_code == 201
            assert time.monotonic() - started < 2
        # The fault was seen: the worker lost Redis and is trying to reconnect, yet lives.
        until(lambda: "worker lost Redis" in worker.output(), 40)
        until(lambda: "reconnecting in" in worker.output(), 20)
        assert worker.process.poll() is None

        private_redis.start()
        for i in range(2 * BURST // 3, BURST):
            assert post_report(client, org, i).status_code == 201
        until(lambda: "worker reconnected to Redis" in worker.output(), 40)
        until(all_routed_once, timeout=120)
        assert worker.process.poll() is None, worker.output()[-3000:]
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(Report)) == BURST
        assert_each_routed_exactly_once()
        # It beats again, so readiness is whole.
        until(lambda: client.get("/readyz").get_json()["status"] == "ready", 20)


@pytest.mark.worker
def test_killed_worker_takes_its_scheduler_children_with_it(redis_settings, redis_url, workers):
    app = make_app(redis_settings)
    with app.app_context():
        _kill_worker_and_watch_its_children(redis_settings, redis_url, workers)


def _kill_worker_and_watch_its_children(redis_settings, redis_url, workers):  # type: ignore[no-untyped-def]
    worker = WorkerProcess(worker_env(redis_settings, redis_url))
    workers.append(worker)
    worker.wait_ready(redis_url)
    pid = worker.process.pid
    # Precondition: the schedule child (and RQ's scheduler) are running under the worker.
    until(lambda: len(_children(pid)) >= 1, 20)
    children = _children(pid)
    assert all(_alive(child) for child in children)

    os.kill(pid, signal.SIGKILL)  # the worker alone, not its process group
    worker.process.wait(10)
    until(lambda: not any(_alive(child) for child in children), 10)


# --- scheduled runs ---------------------------------------------------------------------------


def test_a_scheduled_run_happens_once_however_many_schedulers_enqueue_it(
    redis_settings, monkeypatch
):
    from service.routing import sla

    app = make_app(redis_settings)
    monkeypatch.setattr(jobs, "_app", app)  # as the worker binds it; unbound after the test
    runs: list[int] = []
    monkeypatch.setattr(sla, "check_deadlines", lambda: runs.append(1) or {})
    connection = Redis.from_url(redis_settings.redis_url)
    key = jobs.SCHEDULE_LOCK_PREFIX + "check_deadlines_job"

    jobs.check_deadlines_job()  # one scheduler's copy of the run
    jobs.check_deadlines_job()  # another's, enqueued for the same minute
    assert runs == [1]
    # The lock lasts most of the interval, never the whole of it: the next run goes ahead.
    ttl_ms = connection.pttl(key)
    assert 50_000 < ttl_ms <= 54_000

    connection.pexpire(key, 1)  # as when the interval has passed
    time.sleep(0.01)
    jobs.check_deadlines_job()
    assert runs == [1, 1]


# --- a Redis that hangs ------------------------------------------------------------------------


def _timed_in_thread(app, request) -> dict:  # type: ignore[no-untyped-def]
    """Run request(client) in a thread; a hang fails on the figures, not by blocking."""
    answer: dict = {}

    def run() -> None:
        with app.app_context():
            started = time.monotonic()
            answer["status"] = request(app.test_client())
            answer["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive(), "the request hung"
    return answer


def _submit_by_form(client, org) -> int:  # type: ignore[no-untyped-def]
    from tests.intake.test_form import form_data

    sent = client.post("/submit", data=form_data(client, org))
    if sent.status_code != 303:  # post-redirect-get: the receipt is the page it leads to
        return sent.status_code
    page = client.get(sent.headers["Location"])
    return page.status_code if "receipt-code" in page.get_data(as_text=True) else -1


def test_a_submission_answers_within_two_seconds_when_redis_hangs(settings, redis_url):
    target = urlparse(redis_url)
    proxy = CuttableProxy(target.hostname, target.port)
    try:
        proxied = settings.replace(
            redis_url=proxy.url(path=target.path or "/0"), rate_limits_enabled=True
        )
        app = make_app(proxied)
        with app.app_context():
            limiter.reset()
            org = seed_org()
            # Warm up (first-request loading) while Redis answers, so the figures below are
            # what a stalled Redis costs.
            assert post_report(app.test_client(), org, 99).status_code == 201
            proxy.black_hole()
            # The fault: the server accepts and never answers.
            with pytest.raises(RedisTimeoutError):
                Redis.from_url(proxied.redis_url, socket_timeout=0.3).ping()

            for i in range(3):
                answer = _timed_in_thread(
                    app, lambda client, i=i: post_report(client, org, i).status_code
                )
                assert answer["status"] == 201
                assert answer["seconds"] < 2, f"answered in {answer['seconds']:.2f} s"
            # The reporter's form too (its page and CSRF token need a session).
            answer = _timed_in_thread(app, lambda client: _submit_by_form(client, org))
            assert answer["status"] == 200
            assert answer["seconds"] < 2, f"the form answered in {answer['seconds']:.2f} s"

            db.session.rollback()
            entries = db.session.execute(select(OutboxEntry)).scalars().all()
            waiting = [e for e in entries if e.enqueued_at is None]
            assert len(entries) == 5 and len(waiting) == 4

            proxy.restore()
            from service.tasks.relay import relay_outbox

            until(lambda: relay_outbox() == 4, 15)  # the outbox hands them over later
    finally:
        proxy.close()
        limiter._storage_dead = False  # the limiter is one object, shared by every app


# --- limits hold while Redis is down ------------------------------------------------------------


@pytest.fixture
def app_without_redis_server(settings):  # type: ignore[no-untyped-def]
    """Redis configured, but nothing listens there: as when it is down."""
    port = _free_port_in(6400, 6499)
    app = make_app(
        settings.replace(redis_url=f"redis://127.0.0.1:{port}/0", rate_limits_enabled=True)
    )
    with app.app_context():
        seed_org()
        with pytest.raises(RedisError):
            Redis.from_url(f"redis://127.0.0.1:{port}/0").ping()
        yield app
    limiter._storage_dead = False  # the limiter is one object, shared by every app of the tests


def _wrong_password(client, email: str):  # type: ignore[no-untyped-def]
    from tests.cases.support import csrf_token

    return client.post(
        "/login",
        data={"csrf_token": csrf_token(client, "/login"), "email": email, "password": "wrong!!"},
    ).status_code


def test_wrong_passwords_stay_limited_per_client_with_redis_down(app_without_redis_server):
    client = app_without_redis_server.test_client()
    client.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    # Different accounts, so only the per-client limit (10 per 15 minutes) applies.
    answers = [_wrong_password(client, f"nobody{n}@demo.defuse") for n in range(15)]
    assert answers[:10] == [401] * 10
    assert answers[10:] == [429] * 5


def test_wrong_passwords_for_one_account_stay_delayed_with_redis_down(
    app_without_redis_server,
):
    from service import sign_in_throttle

    answers = []
    for n in range(15):
        client = app_without_redis_server.test_client()
        client.environ_base["REMOTE_ADDR"] = f"198.51.100.{n + 1}"  # a new client each time
        answers.append(_wrong_password(client, "leader@demo.defuse"))
    free = sign_in_throttle.FREE_FAILURES + 1
    assert answers[:free] == [401] * free
    assert set(answers[free:]) == {429}


def test_receipt_lookups_stay_limited_with_redis_down(app_without_redis_server):
    client = app_without_redis_server.test_client()
    answers = [
        client.get("/api/v1/reports/status", headers={"X-Receipt": f"WRONG-{n:04d}"}).status_code
        for n in range(25)
    ]
    assert answers[:20] == [404] * 20
    assert answers[20:] == [429] * 5


# --- worker heartbeat in the probes and on the admin page -----------------------------------------


def test_readiness_is_degraded_without_a_recent_worker_heartbeat(redis_settings):
    app = make_app(redis_settings.replace(worker_heartbeat_timeout_seconds=60))
    connection = Redis.from_url(redis_settings.redis_url)
    client = app.test_client()
    with app.app_context():
        body = client.get("/readyz").get_json()
        assert body["status"] == "degraded" and body["checks"]["worker"] == "no heartbeat seen"
        assert client.get("/healthz/worker").status_code == 503

        heartbeat.beat(connection, "host:1", at=time.time() - 59)  # just inside the timeout
        response = client.get("/readyz")
        assert response.status_code == 200 and response.get_json()["status"] == "ready"
        assert client.get("/healthz/worker").status_code == 200

        connection.delete(heartbeat.HEARTBEATS_KEY)
        heartbeat.beat(connection, "host:1", at=time.time() - 62)  # just outside it
        response = client.get("/readyz")
        assert response.status_code == 200  # reports are still taken
        assert response.get_json()["status"] == "degraded"
        assert response.get_json()["checks"]["worker"].startswith("no heartbeat for 6")
        assert client.get("/healthz/worker").status_code == 503
