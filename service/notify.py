"""Notifications to staff, through a pluggable backend, sent so their timing gives no reporter away.

A notification never carries report text: only that case N needs attention, and a link.
The "outbox" backend (development default) keeps them in the database for admins to read;
"smtp" sends them by email as well.

When they go: `notify` queues one for the recipient's next digest, which the worker's schedule
sends every DEFUSE_DIGEST_MINUTES give or take DEFUSE_DIGEST_JITTER_MINUTES, one message per
person; `page_leads` is the urgent path, a page to the leads a random DEFUSE_PAGE_JITTER_MINUTES
after it is raised. An email arriving the moment a report is sent would tell its reader when
the reporter was at a keyboard. Without Redis (no worker, no schedule) both go at once.
"""

from __future__ import annotations

import logging
import random
import smtplib
import time
from collections.abc import Sequence
from datetime import timedelta
from email.message import EmailMessage
from itertools import groupby
from typing import Protocol

from flask import current_app

from service.bidi import neutralise
from service.db import Case, Notification, User, this_hour, utcnow
from service.extensions import db
from service.tasks.queue import get_redis

log = logging.getLogger(__name__)

PAGE_KIND = "page"
# Redis key holding when the next digest is due (epoch seconds): one schedule for all workers.
DIGEST_DUE_KEY = "defuse:notify:next-digest"
# Claims the digest if it is due and sets the next due time, atomically: with several workers
# running the schedule, exactly one sends each digest.
_CLAIM_DIGEST = """
local due = redis.call('GET', KEYS[1])
if due and tonumber(due) > tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1
"""
_random = random.SystemRandom()  # jitter an insider cannot predict from earlier draws


class Backend(Protocol):
    def deliver(self, recipient: User, notifications: Sequence[Notification]) -> bool:
        """Send these (all for `recipient`) as one message; True if it went."""
        ...


class OutboxBackend:
    """Keeps the notifications in the database only (visible on the admin page)."""

    def deliver(self, recipient: User, notifications: Sequence[Notification]) -> bool:
        return True


class SmtpBackend:
    def deliver(self, recipient: User, notifications: Sequence[Notification]) -> bool:
        settings = current_app.config["DEFUSE"]
        message = EmailMessage()
        message["From"] = settings.smtp_from
        message["To"] = recipient.email
        if len(notifications) == 1:
            message["Subject"] = notifications[0].subject
        else:
            message["Subject"] = f"Defuse: {len(notifications)} updates on your cases"
        message.set_content("\n".join(n.body for n in notifications))
        try:
            with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
                if settings.smtp_starttls:
                    smtp.starttls()
                if settings.smtp_username:
                    smtp.login(settings.smtp_username, settings.smtp_password)
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as error:
            for notification in notifications:
                notification.error = type(error).__name__
            log.warning("a notification message was not sent: %s", type(error).__name__)
            return False
        return True


def backend() -> Backend:
    if current_app.config["DEFUSE"].mail_backend == "smtp":
        return SmtpBackend()
    return OutboxBackend()


def case_link(case_id: int) -> str:
    return f"{current_app.config['DEFUSE'].base_url}/cases/{case_id}"


def _deliver(recipient: User, notifications: Sequence[Notification]) -> bool:
    if not backend().deliver(recipient, notifications):
        return False
    for notification in notifications:
        notification.sent_at = this_hour()
        notification.send_after = None
        notification.error = None
    return True


def _new(recipient: User, kind: str, case_id: int, subject: str, body: str) -> Notification:
    notification = Notification(
        recipient_id=recipient.id, kind=kind, subject=subject, body=neutralise(body)
    )
    notification.recipient = recipient
    db.session.add(notification)
    db.session.flush()
    return notification


def digests_on() -> bool:
    return get_redis() is not None and current_app.config["DEFUSE"].digest_minutes > 0


def notify(recipient: User, kind: str, case_id: int, headline: str) -> Notification:
    """Queue one notification for the recipient's next digest (or send it now, without
    digests); the caller commits. `headline` is a fixed phrase, never report text."""
    notification = _new(
        recipient,
        kind,
        case_id,
        subject=f"Defuse: case {case_id} needs attention",
        body=f"{headline} on case {case_id}.\n\nOpen it in Defuse: {case_link(case_id)}\n",
    )
    if not digests_on():
        _deliver(recipient, [notification])
    return notification


def notify_case_activity(case: Case, kind: str, headline: str) -> None:
    """Tell the case's Trust Leader (or, if unassigned, the leads) and commit."""
    recipients = [case.assignee] if case.assignee else leads()
    for recipient in recipients:
        notify(recipient, kind, case.id, headline)
    db.session.commit()


def page_leads(case: Case, reason: str) -> list[Notification]:
    """Page the on-call leads (every lead if none is on call) about `case`, outside the digest,
    a random DEFUSE_PAGE_JITTER_MINUTES from now (at once without Redis or with 0). `reason`
    is a fixed phrase such as "A critical case has come in", never report text. The caller
    commits, so a page is stored with the change that needs it and is never lost."""
    low, high = current_app.config["DEFUSE"].page_jitter_minutes
    jitter = timedelta(minutes=_random.uniform(low, high)) if get_redis() is not None else None
    pages = []
    for lead in on_call_leads():
        page = _new(
            lead,
            PAGE_KIND,
            case.id,
            subject=f"Defuse: urgent, case {case.id}",
            body=f"{reason}: case {case.id}.\n\nOpen it in Defuse: {case_link(case.id)}\n",
        )
        if jitter:
            page.send_after = utcnow() + jitter
        elif not _deliver(lead, [page]):
            page.send_after = None  # goes with the next digest instead
        pages.append(page)
    return pages


def send_due_pages() -> int:
    """Send the pages whose jitter has passed; one that cannot be sent joins the next
    digest. Returns how many went. Run every few seconds by the worker's schedule."""
    due = (
        db.session.execute(
            db.select(Notification)
            .where(
                Notification.sent_at.is_(None),
                Notification.send_after.is_not(None),
                Notification.send_after <= utcnow(),
            )
            .order_by(Notification.id)
            .with_for_update(skip_locked=True)
        )
        .scalars()
        .all()
    )
    sent = 0
    for page in due:
        if _deliver(page.recipient, [page]):
            sent += 1
        else:
            page.send_after = None
    db.session.commit()
    return sent


def send_digest() -> int:
    """Send everything waiting for a digest, one message per recipient; what fails waits for
    the next. Returns how many notifications went."""
    waiting = (
        db.session.execute(
            db.select(Notification)
            .where(Notification.sent_at.is_(None), Notification.send_after.is_(None))
            .order_by(Notification.recipient_id, Notification.id)
            .with_for_update(skip_locked=True)
        )
        .scalars()
        .all()
    )
    sent = 0
    for _, group in groupby(waiting, key=lambda n: n.recipient_id):
        batch = list(group)
        if _deliver(batch[0].recipient, batch):
            sent += len(batch)
    db.session.commit()
    return sent


def next_digest_in() -> float:
    """Seconds to the digest after this one: DEFUSE_DIGEST_MINUTES give or take the jitter."""
    settings = current_app.config["DEFUSE"]
    minutes = settings.digest_minutes + _random.uniform(
        -settings.digest_jitter_minutes, settings.digest_jitter_minutes
    )
    return minutes * 60


def send_digest_if_due() -> int:
    """The schedule's entry point: send the digest if its time has come (and set the next),
    else nothing. Returns how many notifications went."""
    redis = get_redis()
    if redis is None:
        return send_digest()
    now = time.time()
    claimed = redis.eval(_CLAIM_DIGEST, 1, DIGEST_DUE_KEY, now, now + next_digest_in())
    return send_digest() if claimed else 0


def send_notifications() -> dict[str, int]:
    """Run by the worker's schedule every few seconds: due pages, and the digest when due."""
    return {"pages": send_due_pages(), "digest": send_digest_if_due()}


def leads() -> list[User]:
    return list(
        db.session.execute(
            db.select(User).where(User.role == "lead", User.active.is_(True)).order_by(User.id)
        ).scalars()
    )


def on_call_leads() -> list[User]:
    """The leads on call, or every lead when none is."""
    on_call = (
        db.session.execute(
            db.select(User)
            .where(User.role == "lead", User.active.is_(True), User.on_call.is_(True))
            .order_by(User.id)
        )
        .scalars()
        .all()
    )
    return list(on_call) or leads()
