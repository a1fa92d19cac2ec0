"""Timing that would link a report to its sender is blurred: routing waits a random delay,
staff notifications go out as a digest, pages to the leads after a jitter, and routing jobs
leave no record in Redis once done."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest
from redis import Redis
from sqlalchemy import select

from service import notify
from service.config import ConfigError, Settings
from service.db import Case, Notification, OutboxEntry, utcnow
from service.extensions import db
from service.routing.service import requeue_stuck, route_case
from service.tasks import relay
from tests.conftest import make_app
from tests.factories import report_payload, seed_org
from tests.workers import WorkerProcess, until, worker_env

CRITICAL_TEXT = "He said he will hurt me after the shift and he has a knife in his locker."


def on_the_hour(moment: datetime | None) -> bool:
    return moment is not None and moment == moment.replace(minute=0, second=0, microsecond=0)


def submit(client, org, **changes) -> int:
    response = client.post("/api/v1/reports", json=report_payload(org, **changes))
    assert response.status_code == 201, response.get_json()
    return db.session.execute(
        select(Case.id).where(Case.report_id == response.get_json()["id"])
    ).scalar_one()


def entry_of(case_id: int) -> OutboxEntry:
    return db.session.execute(
        select(OutboxEntry).where(OutboxEntry.case_id == case_id)
    ).scalar_one()


class Recorder:
    """A notification backend that records each message it is asked to send."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[int]]] = []
        self.fail = False

    def deliver(self, recipient, notifications) -> bool:  # type: ignore[no-untyped-def]
        if self.fail:
            return False
        self.messages.append((recipient.email, [n.id for n in notifications]))
        return True


@pytest.fixture
def recorder(monkeypatch) -> Recorder:
    sent = Recorder()
    monkeypatch.setattr(notify, "backend", lambda: sent)
    return sent


# --- settings ---------------------------------------------------------------------------


def test_timing_settings_read_from_the_environment():
    settings = Settings.from_env(
        {
            "DEFUSE_ROUTING_DELAY_MINUTES": "2,12",
            "DEFUSE_DIGEST_MINUTES": "20",
            "DEFUSE_DIGEST_JITTER_MINUTES": "4",
            "DEFUSE_PAGE_JITTER_MINUTES": "1.5, 4",
        }
    )
    assert settings.routing_delay_minutes == (2.0, 12.0)
    assert (settings.digest_minutes, settings.digest_jitter_minutes) == (20.0, 4.0)
    assert settings.page_jitter_minutes == (1.5, 4.0)
    assert Settings.from_env({"DEFUSE_ROUTING_DELAY_MINUTES": "0"}).routing_delay_minutes == (0, 0)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"DEFUSE_ROUTING_DELAY_MINUTES": "10,2"}, "DEFUSE_ROUTING_DELAY_MINUTES"),
        ({"DEFUSE_ROUTING_DELAY_MINUTES": "-1,2"}, "DEFUSE_ROUTING_DELAY_MINUTES"),
        ({"DEFUSE_ROUTING_DELAY_MINUTES": "1,61"}, "DEFUSE_ROUTING_DELAY_MINUTES"),
        ({"DEFUSE_ROUTING_DELAY_MINUTES": "soon"}, "DEFUSE_ROUTING_DELAY_MINUTES"),
        ({"DEFUSE_ROUTING_DELAY_MINUTES": "1,2,3"}, "DEFUSE_ROUTING_DELAY_MINUTES"),
        ({"DEFUSE_PAGE_JITTER_MINUTES": "3,1"}, "DEFUSE_PAGE_JITTER_MINUTES"),
        ({"DEFUSE_DIGEST_MINUTES": "241"}, "DEFUSE_DIGEST_MINUTES"),
        ({"DEFUSE_DIGEST_MINUTES": "10", "DEFUSE_DIGEST_JITTER_MINUTES": "11"}, "JITTER"),
    ],
)
def test_bad_timing_settings_are_refused_by_name(env, named):
    with pytest.raises(ConfigError, match=named):
        Settings.from_env(env)


def test_production_refuses_timing_that_would_follow_a_report_at_once():
    production = Settings(
        env="production",
        secret_key="s" * 40,
        encryption_keys=("k",),
        hash_key="h",
    )
    production.check()  # the defaults blur timing: accepted
    with pytest.raises(ConfigError, match="DEFUSE_ROUTING_DELAY_MINUTES"):
        production.replace(routing_delay_minutes=(0.0, 0.0))
    with pytest.raises(ConfigError, match="DEFUSE_DIGEST_MINUTES"):
        production.replace(digest_minutes=0.0, digest_jitter_minutes=0.0)
    with pytest.raises(ConfigError, match="DEFUSE_PAGE_JITTER_MINUTES"):
        production.replace(page_jitter_minutes=(0.9, 3.0))
    assert production.replace(page_jitter_minutes=(1.0, 1.0)).page_jitter_minutes == (1, 1)


# --- routing delay ------------------------------------------------------------------------


def test_routing_delay_is_drawn_within_the_window_and_spread(redis_settings):
    app = make_app(redis_settings.replace(routing_delay_minutes=(2.0, 3.0)))
    with app.app_context():
        delays = [relay.routing_delay() for _ in range(300)]
    assert all(timedelta(minutes=2) <= d <= timedelta(minutes=3) for d in delays)
    # Spread over the window, not one fixed wait: both thirds of it are drawn.
    assert min(delays) < timedelta(minutes=2, seconds=20)
    assert max(delays) > timedelta(minutes=2, seconds=40)


def test_without_redis_there_is_no_delay(settings):
    app = make_app(settings.replace(routing_delay_minutes=(2.0, 3.0)))
    with app.app_context():
        assert relay.routing_delay() == timedelta(0)


def test_delayed_entry_waits_for_its_moment_then_goes(redis_settings):
    app = make_app(redis_settings.replace(routing_delay_minutes=(5.0, 6.0)))
    with app.app_context():
        org = seed_org()
        client = app.test_client()
        before = utcnow()
        case_id = submit(client, org)
        entry = entry_of(case_id)
        # Not handed over at submission, and not by the relay before its moment.
        assert entry.enqueued_at is None
        assert before + timedelta(minutes=5) <= entry.relay_after
        assert entry.relay_after <= utcnow() + timedelta(minutes=6)
        assert relay.relay_outbox() == 0
        assert Redis.from_url(redis_settings.redis_url).llen("rq:queue:routing") == 0

        entry.relay_after = utcnow() - timedelta(seconds=1)  # its moment has come
        db.session.commit()
        assert relay.relay_outbox() == 1
        entry = entry_of(case_id)
        assert on_the_hour(entry.enqueued_at) and entry.attempts == 1
        # In flight: relay_after now says when the case counts as stuck.
        assert entry.relay_after > utcnow() + timedelta(seconds=100)
        assert Redis.from_url(redis_settings.redis_url).llen("rq:queue:routing") == 1


def test_stuck_check_counts_from_relay_after_and_decided_rounds_lose_it(redis_settings):
    app = make_app(redis_settings)
    with app.app_context():
        org = seed_org()
        client = app.test_client()
        case_id = submit(client, org)  # queued at once (no delay), no worker: stays pending
        entry = entry_of(case_id)
        assert entry.enqueued_at is not None and entry.relay_after is not None
        assert requeue_stuck() == 0  # not stuck yet

        entry.relay_after = utcnow() - timedelta(seconds=1)
        db.session.commit()
        assert requeue_stuck() == 1
        entry = entry_of(case_id)
        assert entry.enqueued_at is None and entry.relay_after is None
        assert relay.relay_outbox() == 1  # handed over again

        # An entry from before relay_after existed gets its clock started, not re-queued.
        entry = entry_of(case_id)
        entry.relay_after = None
        db.session.commit()
        assert requeue_stuck() == 0
        assert entry_of(case_id).relay_after > utcnow()

        # Once the round is decided the exact time goes.
        assert route_case(case_id, 0) in ("assigned", "unassigned")
        assert entry_of(case_id).relay_after is None


def test_routing_job_id_names_no_case(app):
    job_id = relay.routing_job_id(401, 0)
    assert "401" not in job_id and job_id.startswith("route_case-")
    assert job_id == relay.routing_job_id(401, 0)  # the same round replaces its job
    assert job_id != relay.routing_job_id(401, 1) != relay.routing_job_id(402, 0)


@pytest.mark.worker
def test_worker_routes_after_the_delay_and_leaves_no_job_record(redis_settings, redis_url, workers):
    """The delayed path end to end, with a real worker and Redis: not routed before the
    window opens, routed after it, the notification sent by the digest, and nothing of the
    routing job left in Redis."""
    timing = redis_settings.replace(
        routing_delay_minutes=(0.1, 0.15),  # 6 to 9 seconds
        digest_minutes=0.05,
        digest_jitter_minutes=0.0,
    )
    app = make_app(timing)
    with app.app_context():
        org = seed_org()
        worker = WorkerProcess(worker_env(timing, redis_url))
        workers.append(worker)
        worker.wait_ready(redis_url)
        client = app.test_client()
        submitted = time.monotonic()
        case_id = submit(client, org)
        until(lambda: db.session.get(Case, case_id).routing_state != "pending", timeout=40)
        took = time.monotonic() - submitted
        assert 6 <= took < 9 + 5 + 5, f"routed after {took:.1f} s"  # window + relay tick + slack
        case = db.session.get(Case, case_id)
        assert case.routing_state == "assigned"
        entry = entry_of(case_id)
        assert entry.relay_after is None and on_the_hour(entry.enqueued_at)

        note = db.session.execute(
            select(Notification).where(
                Notification.recipient_id == case.assignee_id, Notification.kind == "assigned"
            )
        ).scalar_one()
        until(lambda: db.session.get(Notification, note.id).sent_at is not None, timeout=40)
        assert on_the_hour(db.session.get(Notification, note.id).sent_at)
        worker.stop()

        connection = Redis.from_url(redis_url)
        for key in connection.scan_iter("rq:job:*"):
            described = connection.hget(key, "description") or b""
            assert b"route_case" not in described, key
        assert not list(connection.scan_iter("rq:results:route_case*"))
        assert not list(connection.scan_iter("rq:job:route_case*"))
        assert connection.zcard("rq:finished:routing") == 0


# --- digest -------------------------------------------------------------------------------


def test_notifications_wait_for_one_digest_per_person(redis_settings, recorder):
    app = make_app(redis_settings.replace(digest_minutes=10.0, digest_jitter_minutes=2.0))
    with app.app_context():
        org = seed_org()
        leader, lead = org.staff["leader"], org.staff["lead"]
        first = notify.notify(leader, "assigned", 1, "A new case has been assigned to you")
        second = notify.notify(leader, "message", 2, "There is a new message from the reporter")
        third = notify.notify(lead, "unassigned", 3, "No eligible Trust Leader was found")
        db.session.commit()
        assert recorder.messages == []  # nothing at once
        assert all(n.sent_at is None for n in (first, second, third))

        connection = Redis.from_url(redis_settings.redis_url)
        started = time.time()
        assert notify.send_digest_if_due() == 3  # no digest yet: this one is due
        assert sorted(recorder.messages) == [
            (lead.email, [third.id]),
            (leader.email, [first.id, second.id]),  # one message for both
        ]
        assert all(on_the_hour(n.sent_at) for n in (first, second, third))
        due = float(connection.get(notify.DIGEST_DUE_KEY))
        assert started + 8 * 60 <= due <= time.time() + 12 * 60  # ten minutes, give or take two

        later = notify.notify(leader, "message", 1, "There is a new message from the reporter")
        db.session.commit()
        assert notify.send_digest_if_due() == 0  # not due yet
        assert later.sent_at is None
        connection.set(notify.DIGEST_DUE_KEY, time.time() - 1)
        assert notify.send_digest_if_due() == 1
        assert recorder.messages[-1] == (leader.email, [later.id])


def test_digest_jitter_is_spread_within_its_bounds(redis_settings):
    app = make_app(redis_settings.replace(digest_minutes=10.0, digest_jitter_minutes=2.0))
    with app.app_context():
        gaps = [notify.next_digest_in() for _ in range(300)]
    assert all(8 * 60 <= gap <= 12 * 60 for gap in gaps)
    assert min(gaps) < 9 * 60 and max(gaps) > 11 * 60


def test_a_digest_that_fails_is_sent_with_the_next(redis_settings, recorder):
    app = make_app(redis_settings.replace(digest_minutes=10.0, digest_jitter_minutes=0.0))
    with app.app_context():
        org = seed_org()
        note = notify.notify(org.staff["leader"], "assigned", 1, "A new case has been assigned")
        db.session.commit()
        recorder.fail = True
        assert notify.send_digest() == 0
        assert db.session.get(Notification, note.id).sent_at is None
        recorder.fail = False
        assert notify.send_digest() == 1
        assert notify.send_digest() == 0  # sent once only


def test_without_redis_notifications_go_at_once(client, org, recorder):
    note = notify.notify(org.staff["leader"], "assigned", 1, "A new case has been assigned")
    assert recorder.messages == [(org.staff["leader"].email, [note.id])]
    assert on_the_hour(note.sent_at)


# --- pages --------------------------------------------------------------------------------


def test_critical_report_pages_the_on_call_lead_after_a_jitter(redis_settings, recorder):
    app = make_app(
        redis_settings.replace(
            page_jitter_minutes=(1.0, 2.0), digest_minutes=10.0, digest_jitter_minutes=0.0
        )
    )
    with app.app_context():
        org = seed_org()
        client = app.test_client()
        before = utcnow()
        case_id = submit(client, org, category="safety", urgency="urgent", text=CRITICAL_TEXT)
        assert db.session.get(Case, case_id).report.risk_level == "critical"
        page = db.session.execute(
            select(Notification).where(Notification.kind == notify.PAGE_KIND)
        ).scalar_one()
        assert page.recipient.email == "lead@demo.defuse" and page.sent_at is None
        # At least a minute, at most two: never the moment of the report.
        assert before + timedelta(minutes=1) <= page.send_after
        assert page.send_after <= utcnow() + timedelta(minutes=2)
        assert notify.send_due_pages() == 0  # not yet
        assert notify.send_digest() == 0  # and never with the digest
        assert recorder.messages == []

        page.send_after = utcnow() - timedelta(seconds=1)
        db.session.commit()
        assert notify.send_due_pages() == 1
        page = db.session.get(Notification, page.id)
        assert recorder.messages == [("lead@demo.defuse", [page.id])]
        assert page.send_after is None and on_the_hour(page.sent_at)
        assert notify.send_due_pages() == 0


def test_page_leads_pages_every_lead_when_none_is_on_call(redis_settings, recorder):
    app = make_app(redis_settings.replace(page_jitter_minutes=(1.0, 1.0)))
    with app.app_context():
        org = seed_org()
        client = app.test_client()
        case_id = submit(client, org)
        leads = notify.leads()
        for lead in leads:
            lead.on_call = False
        db.session.commit()
        pages = notify.page_leads(db.session.get(Case, case_id), "A report needs a lead now")
        db.session.commit()
        assert {p.recipient_id for p in pages} == {lead.id for lead in leads}
        assert all(f"case {case_id}" in p.body and "needs a lead now" in p.body for p in pages)


def test_a_page_that_cannot_be_sent_joins_the_next_digest(redis_settings, recorder):
    app = make_app(redis_settings.replace(page_jitter_minutes=(1.0, 1.0)))
    with app.app_context():
        org = seed_org()
        client = app.test_client()
        case_id = submit(client, org)
        (page,) = notify.page_leads(db.session.get(Case, case_id), "A critical case has come in")
        page.send_after = utcnow() - timedelta(seconds=1)
        db.session.commit()
        recorder.fail = True
        assert notify.send_due_pages() == 0
        assert db.session.get(Notification, page.id).send_after is None
        recorder.fail = False
        assert notify.send_digest() >= 1
        assert db.session.get(Notification, page.id).sent_at is not None


class FakeSmtp:
    """smtplib.SMTP's part the backend uses, recording what would be sent."""

    sent: list = []  # type: ignore[type-arg]
    refuse = False

    def __init__(self, host, port, timeout):  # type: ignore[no-untyped-def]
        if FakeSmtp.refuse:
            raise ConnectionRefusedError

    def __enter__(self):  # type: ignore[no-untyped-def]
        return self

    def __exit__(self, *exc):  # type: ignore[no-untyped-def]
        return False

    def starttls(self) -> None:
        pass

    def send_message(self, message) -> None:  # type: ignore[no-untyped-def]
        FakeSmtp.sent.append(message)


def test_smtp_digest_is_one_email_per_person_with_every_case_link(redis_settings, monkeypatch):
    monkeypatch.setattr(notify.smtplib, "SMTP", FakeSmtp)
    FakeSmtp.sent, FakeSmtp.refuse = [], False
    app = make_app(
        redis_settings.replace(mail_backend="smtp", digest_minutes=10.0, digest_jitter_minutes=0)
    )
    with app.app_context():
        org = seed_org()
        leader = org.staff["leader"]
        notify.notify(leader, "assigned", 7, "A new case has been assigned to you")
        notify.notify(leader, "message", 9, "There is a new message from the reporter")
        db.session.commit()
        assert FakeSmtp.sent == []
        assert notify.send_digest() == 2
        (email,) = FakeSmtp.sent
        assert email["To"] == leader.email and email["Subject"] == "Defuse: 2 updates on your cases"
        body = email.get_content()
        assert "/cases/7" in body and "/cases/9" in body

        FakeSmtp.refuse = True
        failed = notify.notify(leader, "message", 7, "There is a new message from the reporter")
        db.session.commit()
        assert notify.send_digest() == 0
        failed = db.session.get(Notification, failed.id)
        assert failed.sent_at is None and failed.error == "ConnectionRefusedError"
