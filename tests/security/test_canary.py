"""The canary: submit a report from a marked address and browser with unique words, let it be
routed by a real worker, then search the database (raw), Redis and every log line. Neither the
address nor the user agent may appear anywhere; the words only inside encrypted columns."""

from __future__ import annotations

import contextlib
import logging
import zlib
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import select, text

from service.db import Case
from service.extensions import db
from tests.conftest import make_app
from tests.factories import report_payload, seed_org
from tests.workers import WorkerProcess, until, worker_env

pytestmark = pytest.mark.worker

CANARY_IP = "203.0.113.199"
CANARY_FORWARDED = "198.51.100.77"
CANARY_AGENT = "CanaryBrowser/7.7 (canary-ua-91731)"
CANARY_WORDS = ("zanzibarquokka", "plinthwhistle")


def raw_database_text() -> str:
    """Every value of every table as stored, read with raw SQL so nothing is decrypted."""
    chunks = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(text(f"SELECT * FROM {table.name}")):  # noqa: S608
            chunks.append(" ".join(str(value) for value in row))
    return "\n".join(chunks)


def redis_text(connection: Redis) -> str:
    chunks: list[bytes] = []
    for key in connection.scan_iter():
        chunks.append(key)
        kind = connection.type(key)
        if kind == b"string":
            chunks.append(connection.get(key) or b"")
        elif kind == b"hash":
            for field, value in connection.hgetall(key).items():
                chunks += [field, value]
        elif kind == b"list":
            chunks += connection.lrange(key, 0, -1)
        elif kind == b"set":
            chunks += list(connection.smembers(key))
        elif kind == b"zset":
            chunks += connection.zrange(key, 0, -1)
    expanded = []
    for chunk in chunks:
        expanded.append(chunk)
        with contextlib.suppress(zlib.error):  # RQ compresses job payloads
            expanded.append(zlib.decompress(chunk))
    return b"\n".join(expanded).decode("utf-8", "replace")


def test_canary_leaves_no_trace(redis_settings, redis_url, workers, tmp_path: Path):
    log_file = tmp_path / "app.log"
    handler = logging.FileHandler(log_file)
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    root.addHandler(handler)
    previous_level = root.level
    root.setLevel(logging.DEBUG)
    worker_log = tmp_path / "worker.log"
    try:
        app = make_app(redis_settings.replace(rate_limits_enabled=True))
        with app.app_context():
            org = seed_org()
            worker = WorkerProcess(worker_env(redis_settings, redis_url), log_path=worker_log)
            workers.append(worker)
            client = app.test_client()
            account = (
                f"The {CANARY_WORDS[0]} incident in the stores keeps happening and my manager "
                f"laughs about the {CANARY_WORDS[1]} every week."
            )
            response = client.post(
                "/api/v1/reports",
                json=report_payload(org, text=account),
                headers={"User-Agent": CANARY_AGENT, "X-Forwarded-For": CANARY_FORWARDED},
                environ_base={"REMOTE_ADDR": CANARY_IP},
            )
            assert response.status_code == 201
            receipt = response.get_json()["receipt"]
            client.get(
                "/api/v1/reports/status",
                headers={"X-Receipt": receipt, "User-Agent": CANARY_AGENT},
                environ_base={"REMOTE_ADDR": CANARY_IP},
            )
            case_id = db.session.execute(select(Case.id)).scalar_one()
            until(lambda: db.session.get(Case, case_id).routing_state == "assigned", 30)
            worker.stop()

            # The words are stored, but only encrypted: the app can still read them.
            assert CANARY_WORDS[0] in db.session.get(Case, case_id).report.text
            stored = raw_database_text()
            logs = log_file.read_text() + worker_log.read_text()
            everything = {
                "database": stored,
                "redis": redis_text(Redis.from_url(redis_url)),
                "logs": logs,
            }
            assert "POST /api/v1/reports 201" in logs  # the request log is there...
            for place, content in everything.items():
                for secret in (
                    CANARY_IP,
                    CANARY_FORWARDED,
                    CANARY_AGENT,
                    "canary-ua-91731",
                    receipt,
                    receipt.replace("-", ""),
                    *CANARY_WORDS,
                ):
                    assert secret not in content, f"{secret!r} found in {place}"
    finally:
        root.removeHandler(handler)
        handler.close()
        root.setLevel(previous_level)
