"""The canary: a reporter with a marked address and browser sends two reports with unique
words, one through the web form `/` (CSRF token and Origin, as a browser sends them) and one
through the API, to gunicorn run as production runs it (gunicorn.conf.py); replies and reads
as the reporter; a real worker routes both after their random delay and sends the digest.
Then everything an insider could read is searched: the database (raw, every table), every
Redis key and value, every log (gunicorn's access and error log, the app's, the worker's), and
every answer the Trust Leader, lead, HR and admin get. Nowhere the address or the user agent;
the words only inside encrypted columns; no case id in a log; and no time finer than the hour
within minutes of the submission in anything the reporter's actions caused."""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import re
import socket
import subprocess
import sys
import time
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from redis import Redis
from sqlalchemy import select, text

from service.db import Case, Message
from service.extensions import db
from tests.analytics.helpers import token_for
from tests.cases.support import signed_in
from tests.conftest import make_app
from tests.factories import report_payload, seed_org
from tests.workers import ROOT, WorkerProcess, until, worker_env

pytestmark = pytest.mark.worker

CANARY_FORWARDED = "198.51.100.77"  # the client address, as the one trusted proxy reports it
CANARY_SPOOFED = "203.0.113.199"  # what the client claims beyond that proxy
CANARY_AGENT = "CanaryBrowser/7.7 (canary-ua-91731)"
CANARY_WORDS = ("zanzibarquokka", "plinthwhistle", "marmaladeheron", "quillbarnacle")
NEAR = timedelta(minutes=10)  # "within minutes of the submission"

# Tables whose times are staff accounts and their credentials: exact by design.
STAFF_TABLES = {"users", "api_tokens", "recovery_codes", "sso_links"}
# Times of staff actions in the case worker's answers: when they read, acknowledged, closed.
STAFF_ACTION_FIELDS = {"read_at", "acknowledged_at", "closed_at"}
# Redis keys whose times come from the worker's own clock, not from anything a reporter did:
# worker registrations and heartbeats, RQ's cron scheduler, the digest schedule, and the
# maintenance jobs the schedule enqueues every few seconds.
WORKER_KEYS = re.compile(
    rb"^(rq:worker|rq:workers|rq:cron|rq:scheduler|rq:queue:maintenance|rq:wip:maintenance"
    rb"|rq:scheduled:maintenance|defuse:notify:next-digest|rq:clean_registries"
    rb"|defuse:worker:heartbeats)"
)
MAINTENANCE_FUNCTIONS = (
    b"relay_outbox_job",
    b"send_notifications_job",
    b"requeue_stuck_job",
    b"check_deadlines_job",
    b"retention_job",
)
ISO_TIME = re.compile(rb"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?")
FERNET_TOKEN = re.compile(rb"gAAAAA[A-Za-z0-9_=-]{60,}")
EPOCH = re.compile(rb"(?<![\d.])1\d{9}(?:\.\d+)?(?![\d.])")


# --- what an insider reads -----------------------------------------------------------------


def raw_rows() -> dict[str, list[dict[str, Any]]]:
    """Every row of every table as stored, read with raw SQL so nothing is decrypted."""
    return {
        table.name: [
            dict(row._mapping)
            for row in db.session.execute(text(f"SELECT * FROM {table.name}"))  # noqa: S608
        ]
        for table in db.metadata.sorted_tables
    }


def staff_time(table: str, column: str, row: dict[str, Any]) -> bool:
    """Times staff actions keep exactly: their accounts, their audit events, their own
    messages and notes, and when they read a reporter's message; and events of no case."""
    if table in STAFF_TABLES or table in ("notes", "guide_ticks"):
        return True
    if table == "audit_events":  # setting up the organisation is linked to no case
        return row["actor_kind"] == "staff" or row["case_id"] is None
    if table == "cases":
        return column in STAFF_ACTION_FIELDS
    if table == "messages":
        return column == "read_at" or not row["from_reporter"]
    return False


def redis_items(connection: Redis) -> list[tuple[bytes, bytes]]:
    """(key, value) for every value in Redis, zset scores included, payloads decompressed."""
    items: list[tuple[bytes, bytes]] = []
    for key in connection.scan_iter():
        values: list[bytes] = [key]
        kind = connection.type(key)
        if kind == b"string":
            values.append(connection.get(key) or b"")
        elif kind == b"hash":
            for field, value in connection.hgetall(key).items():
                values += [field, value]
        elif kind == b"list":
            values += connection.lrange(key, 0, -1)
        elif kind == b"set":
            values += list(connection.smembers(key))
        elif kind == b"zset":
            for member, score in connection.zrange(key, 0, -1, withscores=True):
                values += [member, repr(score).encode()]
        elif kind == b"stream":
            for _, fields in connection.xrange(key):
                for field, value in fields.items():
                    values += [field, value]
        for value in values:
            items.append((key, value))
            with contextlib.suppress(zlib.error):  # RQ compresses job payloads
                items.append((key, zlib.decompress(value)))
    return items


def fine_time_near(moment: datetime, submitted: datetime) -> bool:
    return abs(moment - submitted) < NEAR and moment != moment.replace(
        minute=0, second=0, microsecond=0
    )


def fernet_times(value: bytes) -> list[datetime]:
    """The creation time every Fernet token carries in the clear (bytes 1 to 8)."""
    found = []
    for match in FERNET_TOKEN.finditer(value):
        with contextlib.suppress(ValueError):
            raw = base64.urlsafe_b64decode(match.group(0) + b"=" * (-len(match.group(0)) % 4))
            stamp = int.from_bytes(raw[1:9], "big")
            found.append(datetime.fromtimestamp(stamp, UTC).replace(tzinfo=None))
    return found


def times_in_bytes(value: bytes) -> list[datetime]:
    found = fernet_times(value)
    for match in ISO_TIME.finditer(value):
        with contextlib.suppress(ValueError):
            found.append(datetime.fromisoformat(match.group(0).decode().replace(" ", "T")))
    for match in EPOCH.finditer(value):
        found.append(datetime.fromtimestamp(float(match.group(0)), UTC).replace(tzinfo=None))
    return found


def json_times(answer: Any) -> list[tuple[str, datetime]]:
    """(field, time) for every string in a JSON answer that reads as a time, leaving out the
    staff's own: their messages, and when they read the reporter's."""
    found: list[tuple[str, datetime]] = []

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            if value.get("from_reporter") is False:
                return
            for key, item in value.items():
                if key not in STAFF_ACTION_FIELDS:
                    walk(item, f"{path}.{key}")
        elif isinstance(value, list):
            for item in value:
                walk(item, f"{path}[]")
        elif isinstance(value, str):
            for moment in times_in_bytes(value.encode()):
                found.append((path, moment.replace(tzinfo=None)))

    walk(answer, "")
    return found


# --- gunicorn, as production runs it ---------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Gunicorn:
    """gunicorn with gunicorn.conf.py (our logger class, the access log format), one proxy
    trusted, its access and error logs (and the app's) captured in one file."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **env,
            "DEFUSE_BIND": f"127.0.0.1:{self.port}",
            "DEFUSE_WEB_WORKERS": "1",
            "DEFUSE_TRUSTED_PROXIES": "1",
            "DEFUSE_BASE_URL": self.url,
            "DEFUSE_RATE_LIMITS_ENABLED": "true",
            "XDG_RUNTIME_DIR": str(log_path.parent),
        }
        self.log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", os.path.join(ROOT, "gunicorn.conf.py")],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with contextlib.suppress(requests.RequestException):
                if requests.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return
            if self.process.poll() is not None:
                break
            time.sleep(0.5)
        self.stop()
        raise AssertionError("gunicorn did not start: " + log_path.read_text()[-3000:])

    def malformed_request(self) -> None:
        """What makes gunicorn's error log name a client address."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as raw:
            raw.sendall(b"GET /cases/4242 HTTP/9.9\r\nHost: x\r\n\r\n")
            with contextlib.suppress(OSError):
                raw.recv(1024)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait(10)
        self.log.close()


class Browser:
    """A requests session that sends what the canary's browser sends."""

    def __init__(self, site: str) -> None:
        self.site = site
        self.session = requests.Session()
        self.session.headers.update(
            {"User-Agent": CANARY_AGENT, "X-Forwarded-For": f"{CANARY_SPOOFED}, {CANARY_FORWARDED}"}
        )

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.get(self.site + path, timeout=30, **kwargs)

    def post_form(self, path: str, data: dict[str, Any], token_from: str) -> requests.Response:
        page = self.get(token_from).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token, f"no CSRF token on {token_from}"
        headers = {"Origin": self.site, "Sec-Fetch-Site": "same-origin"}
        return self.session.post(
            self.site + path, data={**data, "csrf_token": token.group(1)}, headers=headers,
            timeout=30,
        )  # fmt: skip

    def post_json(self, path: str, body: dict[str, Any], **headers: str) -> requests.Response:
        return self.session.post(self.site + path, json=body, headers=headers, timeout=30)


# --- the test ------------------------------------------------------------------------------


def test_canary_leaves_no_trace(redis_settings, redis_url, workers, tmp_path: Path):
    app_log = tmp_path / "app.log"
    handler = logging.FileHandler(app_log)
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    root.addHandler(handler)
    previous_level = root.level
    root.setLevel(logging.DEBUG)
    worker_log, web_log = tmp_path / "worker.log", tmp_path / "gunicorn.log"
    # The delayed paths, short: routing waits 1 to 3 s, the digest comes every 3 s.
    settings = redis_settings.replace(
        routing_delay_minutes=(0.02, 0.05), digest_minutes=0.05, digest_jitter_minutes=0.01
    )
    web = None
    try:
        app = make_app(settings)
        with app.app_context():
            org = seed_org()
            workers.append(WorkerProcess(worker_env(settings, redis_url), log_path=worker_log))
            web = Gunicorn(worker_env(settings, redis_url), web_log)
            browser = Browser(web.url)
            submitted = datetime.now(UTC).replace(tzinfo=None)

            # Through the web form, as a browser posts it.
            form = {
                "org_unit": str(org.unit("Warehouse North")),
                "category": "bullying",
                "duration": "months",
                "raised_before": "no",
                "involved": ["my manager"],
                "desired_outcome": "conversation",
                "urgency": "normal",
                "language": "en",
                "text": f"The {CANARY_WORDS[0]} incident in the stores keeps happening and "
                f"my manager laughs about the {CANARY_WORDS[1]} every week.",
            }
            receipt_page = browser.post_form("/submit", form, token_from="/")
            assert receipt_page.status_code == 200, receipt_page.text[:500]
            shown = re.search(r'id="receipt-code"[^>]*>(.*?)</p>', receipt_page.text, re.S)
            assert shown, "no receipt code on the receipt page"
            # The code is shown in groups that never break: read it without their markup.
            form_receipt = re.fullmatch(r"[0-9A-Z-]+", re.sub(r"<[^>]+>", "", shown.group(1)))
            assert form_receipt, "no receipt code on the receipt page"
            # Through the API.
            created = browser.post_json(
                "/api/v1/reports",
                report_payload(
                    org,
                    text=f"Every shift the {CANARY_WORDS[2]} rota is changed without notice.",
                ),
            )
            assert created.status_code == 201, created.text
            api_receipt = created.json()["receipt"]
            receipts = (form_receipt.group(0), api_receipt)

            case_ids = list(db.session.execute(select(Case.id).order_by(Case.id)).scalars())
            assert len(case_ids) == 2
            until(
                lambda: all(db.session.get(Case, i).routing_state == "assigned" for i in case_ids),
                timeout=60,
            )
            # A Trust Leader writes (a staff action, exact time), then the reporter replies,
            # by the API and by the follow-up page, and reads the thread.
            api_case = db.session.get(Case, case_ids[1])
            wrote = app.test_client().post(
                f"/api/v1/cases/{api_case.id}/messages",
                json={"body": "Thank you for telling us."},
                headers=token_for(api_case.assignee),
            )
            assert wrote.status_code == 201, wrote.get_data(as_text=True)
            reply = browser.post_json(
                "/api/v1/reports/messages",
                {"body": f"It happened again with the {CANARY_WORDS[3]}."},
                **{"X-Receipt": api_receipt},
            )
            assert reply.status_code == 201, reply.text
            status = browser.get("/api/v1/reports/status", headers={"X-Receipt": api_receipt})
            assert status.status_code == 200
            assert (
                browser.post_form(
                    "/follow-up", {"receipt": receipts[0]}, token_from="/follow-up"
                ).status_code
                == 200
            )
            web.malformed_request()

            # The digest goes out after the reporter's message too.
            until(
                lambda: (
                    db.session.execute(
                        text("SELECT count(*) FROM notifications WHERE sent_at IS NULL")
                    ).scalar_one()
                    == 0
                ),
                timeout=60,
            )
            db.session.expire_all()
            staff_message = db.session.execute(
                select(Message).where(Message.from_reporter.is_(False))
            ).scalar_one()
            assert staff_message.read_by_reporter
            # The words are stored, but only encrypted: the app can still read them.
            assert CANARY_WORDS[0] in db.session.get(Case, case_ids[0]).report.text

            # What staff get: every case-facing API answer, HR's aggregates, the admin pages.
            answers: dict[str, str] = {}
            staff_client = app.test_client()
            for who in (
                "lead",
                *{db.session.get(Case, i).assignee.email.split("@")[0] for i in case_ids},
            ):
                headers = token_for(org.staff[who])
                paths = ["/api/v1/cases"]
                for case_id in case_ids:
                    paths += [
                        f"/api/v1/cases/{case_id}{tail}"
                        for tail in ("", "/messages", "/notes", "/guide")
                    ]
                for path in paths:
                    response = staff_client.get(path, headers=headers)
                    if response.status_code == 200:
                        answers[f"{who} {path}"] = response.get_data(as_text=True)
            assert any(k.endswith(f"/api/v1/cases/{case_ids[1]}/messages") for k in answers)
            hr = token_for(org.staff["hr"])
            for path in ("risk", "summary", "hotspots"):
                response = staff_client.get(f"/api/v1/analytics/{path}", headers=hr)
                answers[f"hr {path}"] = response.get_data(as_text=True)
            admin = signed_in(app, "admin@demo.defuse")
            for path in ("/admin/audit", "/admin/notifications", "/admin/jobs"):
                response = admin.get(path)
                assert response.status_code == 200, path
                answers[f"admin {path}"] = response.get_data(as_text=True)

            for worker in workers:
                worker.stop()
            web.stop()
            web_text = web_log.read_text()
            assert "POST /api/v1/reports 201" in web_text  # the access log is there...
            assert "POST /submit" in web_text
            assert "Invalid request" in web_text  # ...and the error log's malformed request

            rows = raw_rows()
            redis = redis_items(Redis.from_url(redis_url))
            logs = {
                "gunicorn": web_text,
                "worker": worker_log.read_text(),
                "app": app_log.read_text(),
            }
            everything = {
                "database": "\n".join(
                    " ".join(str(v) for v in row.values())
                    for table in rows.values()
                    for row in table
                ),
                "redis": b"\n".join(v for _, v in redis).decode("utf-8", "replace"),
                **{f"{name} log": content for name, content in logs.items()},
                **{f"answer {name}": content for name, content in answers.items()},
            }

            # 1. No address, no browser, no receipt anywhere; the words outside encrypted
            # columns nowhere but where a case worker reads the case (they are its text).
            identifying = (
                CANARY_FORWARDED, CANARY_SPOOFED, CANARY_AGENT, "canary-ua-91731",
                *receipts, *(r.replace("-", "") for r in receipts),
            )  # fmt: skip
            for place, content in everything.items():
                reads_the_case = place.startswith(("answer lead ", "answer leader"))
                for secret in identifying + (() if reads_the_case else CANARY_WORDS):
                    assert secret not in content, f"{secret!r} found in {place}"
            assert any(CANARY_WORDS[2] in answer for answer in answers.values())
            assert "127.0.0.1" not in web_text.replace(f"127.0.0.1:{web.port}", "")

            # 2. No log names a case: not by id, not in a job's arguments, not in a path.
            for name, content in logs.items():
                for case_id in case_ids:
                    for mention in (
                        rf"\bcase[ _#-]?{case_id}\b", rf"\({case_id}, ", rf"/cases/{case_id}\b",
                        rf"route_case-{case_id}-",
                    ):  # fmt: skip
                        assert not re.search(mention, content), f"{mention} in the {name} log"

            # 3. No time finer than the hour near the submission, but the staff's own.
            for table, table_rows in rows.items():
                for row in table_rows:
                    for column, value in row.items():
                        # SQLite hands raw times back as text; tokens carry their own.
                        if isinstance(value, datetime):
                            moments = [value]
                        else:
                            moments = times_in_bytes(str(value).encode())
                        for moment in moments:
                            if fine_time_near(moment, submitted):
                                assert staff_time(table, column, row), (table, column, row)
            assert any(fernet_times(str(row["text"]).encode()) for row in rows["reports"]), (
                "the tokens' own times are read"
            )
            reporter_events = [
                row
                for row in rows["audit_events"]
                if row["action"] in ("report.submitted", "message.from_reporter", "case.assigned")
            ]
            assert len(reporter_events) == 5, reporter_events  # 2 submitted, 2 routed, 1 reply

            for key, value in redis:
                if WORKER_KEYS.match(key) or maintenance_job(key, redis):
                    continue
                for moment in times_in_bytes(value):
                    assert not fine_time_near(moment, submitted), (key, value[:200])

            for name, answer in answers.items():
                if not name.startswith(("lead ", "leader")) or not answer.startswith(("{", "[")):
                    continue
                for field, moment in json_times(json.loads(answer)):
                    assert not fine_time_near(moment, submitted), (name, field, moment)
    finally:
        if web is not None:
            with contextlib.suppress(Exception):
                web.stop()
        root.removeHandler(handler)
        handler.close()
        root.setLevel(previous_level)


def maintenance_job(key: bytes, redis: list[tuple[bytes, bytes]]) -> bool:
    """A job record (or its results) of one of the schedule's own jobs."""
    match = re.match(rb"^rq:(?:job|results|executions?):([^:]+)", key)
    if not match:
        return False
    job_key = b"rq:job:" + match.group(1)
    return any(k == job_key and any(f in v for f in MAINTENANCE_FUNCTIONS) for k, v in redis)
