"""Notifications to staff, through a pluggable backend.

A notification never carries report text: only that case N needs attention, and a link.
The "outbox" backend (development default) keeps them in the database for admins to read;
"smtp" sends them by email as well.
"""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from typing import Protocol

from flask import current_app

from service.bidi import neutralise
from service.db import Case, Notification, User, this_hour
from service.extensions import db

log = logging.getLogger(__name__)


class Backend(Protocol):
    def deliver(self, notification: Notification) -> None: ...


class OutboxBackend:
    """Keeps the notification in the database only (visible on the admin page)."""

    def deliver(self, notification: Notification) -> None:
        notification.sent_at = this_hour()


class SmtpBackend:
    def deliver(self, notification: Notification) -> None:
        settings = current_app.config["DEFUSE"]
        message = EmailMessage()
        message["From"] = settings.smtp_from
        message["To"] = notification.recipient.email
        message["Subject"] = notification.subject
        message.set_content(notification.body)
        try:
            with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
                if settings.smtp_starttls:
                    smtp.starttls()
                if settings.smtp_username:
                    smtp.login(settings.smtp_username, settings.smtp_password)
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as error:
            notification.error = type(error).__name__
            log.warning("notification %s not sent: %s", notification.id, type(error).__name__)
            return
        notification.sent_at = this_hour()


def backend() -> Backend:
    if current_app.config["DEFUSE"].mail_backend == "smtp":
        return SmtpBackend()
    return OutboxBackend()


def case_link(case_id: int) -> str:
    return f"{current_app.config['DEFUSE'].base_url}/cases/{case_id}"


def notify(recipient: User, kind: str, case_id: int, headline: str) -> Notification:
    """Queue and deliver one notification; the caller commits."""
    notification = Notification(
        recipient_id=recipient.id,
        kind=kind,
        subject=f"Defuse: case {case_id} needs attention",
        body=neutralise(
            f"{headline} on case {case_id}.\n\nOpen it in Defuse: {case_link(case_id)}\n"
        ),
    )
    notification.recipient = recipient
    db.session.add(notification)
    db.session.flush()
    backend().deliver(notification)
    return notification


def notify_case_activity(case: Case, kind: str, headline: str) -> None:
    """Tell the case's Trust Leader (or, if unassigned, the leads) and commit."""
    recipients = [case.assignee] if case.assignee else leads()
    for recipient in recipients:
        notify(recipient, kind, case.id, headline)
    db.session.commit()


def leads() -> list[User]:
    return list(
        db.session.execute(
            db.select(User).where(User.role == "lead", User.active.is_(True)).order_by(User.id)
        ).scalars()
    )
