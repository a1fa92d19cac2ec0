"""Notification email through a real SMTP server (aiosmtpd, started here on a free port):
it is delivered to the staff member, carries the case link and none of the report's words,
and a server that refuses or is not there is recorded on the notification, never raised."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from service.db import Notification
from service.extensions import db
from tests.conftest import make_app
from tests.factories import report_payload, seed_org

SECRET_WORDS = "tangerine-umbrella-affair"


class Recorder:
    """An SMTP handler that keeps what it was sent, or refuses every message."""

    def __init__(self, refuse: bool = False) -> None:
        self.refuse = refuse
        self.messages: list[tuple[list[str], bytes]] = []
        self.attempts = 0

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.attempts += 1
        if self.refuse:
            return "451 Requested action aborted: local error in processing"
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def smtp_server(handler: Recorder) -> Iterator[int]:
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def smtp_port(recorder: Recorder) -> Iterator[int]:
    yield from smtp_server(recorder)


def smtp_app(settings, port: int):  # type: ignore[no-untyped-def]
    app = make_app(
        settings.replace(
            mail_backend="smtp", smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False
        )
    )
    return app


@dataclass(frozen=True)
class Sent:
    email: str
    sent: bool
    error: str | None


def submit_and_route(app) -> list[Sent]:  # type: ignore[no-untyped-def]
    """A critical report through the real API: routing notifies its Trust Leader and the
    leads (a critical case), in process."""
    with app.app_context():
        org = seed_org()
        payload = report_payload(
            org,
            org_unit=org.unit("Payroll"),
            category="pay",
            text=f"He said he would hurt me if I told anyone, {SECRET_WORDS}. I am scared.",
        )
        response = app.test_client().post("/api/v1/reports", json=payload)
        assert response.status_code == 201, response.get_json()
        notifications = db.session.scalars(select(Notification).order_by(Notification.id))
        return [Sent(n.recipient.email, n.sent_at is not None, n.error) for n in notifications]


def test_a_notification_email_is_delivered_without_the_reports_words(settings, recorder, smtp_port):
    app = smtp_app(settings, smtp_port)
    notifications = submit_and_route(app)
    assert notifications, "routing sent no notification"
    assert recorder.attempts == len(notifications)
    assert all(n.sent and n.error is None for n in notifications)
    recipients = sorted(rcpt for rcpts, _ in recorder.messages for rcpt in rcpts)
    assert recipients == sorted(n.email for n in notifications)
    for _, raw in recorder.messages:
        email = message_from_bytes(raw)
        body = email.get_payload(decode=True).decode()
        assert email["From"] == settings.smtp_from
        assert email["Subject"].startswith("Defuse: case ")
        assert "/cases/" in body
        for word in ("tangerine", "umbrella", "hurt", "scared"):
            assert word not in raw.decode().lower(), word


def test_a_refusing_server_is_recorded_on_the_notification(settings, caplog):
    refusing = Recorder(refuse=True)
    for port in smtp_server(refusing):
        app = smtp_app(settings, port)
        with caplog.at_level(logging.WARNING, logger="service.notify"):
            notifications = submit_and_route(app)
    # The fault happened: the server was reached and refused each message.
    assert notifications and refusing.attempts == len(notifications)
    assert refusing.messages == []
    assert all(not n.sent and n.error == "SMTPDataError" for n in notifications)
    warnings = [r.getMessage() for r in caplog.records if "not sent" in r.getMessage()]
    assert len(warnings) == len(notifications)
    assert not any(SECRET_WORDS in line for line in caplog.text.splitlines())


def test_no_server_at_all_is_recorded_and_the_report_is_still_taken(settings):
    app = smtp_app(settings, free_port())  # nothing listens there
    notifications = submit_and_route(app)
    assert notifications
    assert all(not n.sent and n.error == "ConnectionRefusedError" for n in notifications)
