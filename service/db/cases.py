"""A case is the Trust Leader's side of a report: assignment, workflow, guide, notes, messages."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db.base import Base, this_hour, utcnow
from service.db.people import User
from service.db.reports import Report
from service.privacy.crypto import EncryptedText

# The workflow: new -> acknowledged -> in_conversation -> one of the resolutions -> closed.
STATUSES: tuple[str, ...] = (
    "new",
    "acknowledged",
    "in_conversation",
    "resolved_informally",
    "referred_formal",
    "withdrawn",
    "closed",
)
RESOLUTIONS = ("resolved_informally", "referred_formal", "withdrawn")
OPEN_STATUSES = ("new", "acknowledged", "in_conversation")

# What finally happened, recorded at closing. These are the labels the classifier learns from:
# the ones in ESCALATED_OUTCOMES count as "escalated".
OUTCOMES: tuple[str, ...] = (
    "resolved",
    "mediated",
    "no_further_action",
    "withdrawn",
    "formal_grievance",
    "legal_claim",
    "resigned",
)
ESCALATED_OUTCOMES = frozenset({"formal_grievance", "legal_claim", "resigned"})

ROUTING_STATES = ("pending", "assigned", "unassigned")


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), unique=True)
    status: Mapped[str] = mapped_column(String(24), default="new", index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    routing_state: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    # Bumped on each routing decision; jobs carry it so a stale or repeated job does nothing.
    routing_round: Mapped[int] = mapped_column(default=0)
    guide_id: Mapped[str | None] = mapped_column(String(64))
    guide_version: Mapped[str | None] = mapped_column(String(64))
    # The language of the guide version above ("de"); NULL on cases from before, read as English.
    guide_language: Mapped[str | None] = mapped_column(String(8))

    # To the hour, see base.to_hour; indexed for the analytics headline (cases of a period).
    opened_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    ack_due_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    feedback_due_at: Mapped[datetime] = mapped_column(DateTime)
    assigned_at: Mapped[datetime | None] = mapped_column(DateTime)  # to the hour when routed
    ack_warned_at: Mapped[datetime | None] = mapped_column(DateTime)
    breached_at: Mapped[datetime | None] = mapped_column(DateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The first staff message marked as feedback stops the feedback clock (Art. 9(1)(f)).
    feedback_given_at: Mapped[datetime | None] = mapped_column(DateTime)
    feedback_warned_at: Mapped[datetime | None] = mapped_column(DateTime)
    feedback_breached_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Routed to a fallback language because no eligible Trust Leader spoke this one.
    needs_language: Mapped[str | None] = mapped_column(String(8))
    outcome: Mapped[str | None] = mapped_column(String(32))
    escalated: Mapped[bool | None] = mapped_column(Boolean)

    report: Mapped[Report] = relationship(lazy="joined")
    assignee: Mapped[User | None] = relationship()

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class GuideTick(Base):
    __tablename__ = "guide_ticks"
    __table_args__ = (UniqueConstraint("case_id", "step_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    step_key: Mapped[str] = mapped_column(String(80))
    ticked_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    ticked_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Note(Base):
    """A Trust Leader's private note on a case; never shown to the reporter."""

    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    body: Mapped[str | None] = mapped_column(EncryptedText)

    author: Mapped[User] = relationship()


class Message(Base):
    """One message of the anonymous thread between the reporter and the Trust Leader."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    from_reporter: Mapped[bool] = mapped_column(Boolean)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Staff messages to the second; the reporter's to the day (set by intake).
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    body: Mapped[str | None] = mapped_column(EncryptedText)
    # When staff read a reporter's message (a staff action, so exact); NULL on staff messages.
    read_at: Mapped[datetime | None] = mapped_column(DateTime)
    # A staff message the reporter has opened: a flag, never when (it would time the reporter).
    read_by_reporter: Mapped[bool] = mapped_column(Boolean, default=False)
    # A staff message that tells the reporter what is being done: it stops the feedback clock.
    is_feedback: Mapped[bool] = mapped_column(Boolean, default=False)


class OutboxEntry(Base):
    """A job to hand to the queue, written in the same transaction as the change that needs
    it, so a case is never lost between the database and Redis."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(40))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    routing_round: Mapped[int] = mapped_column(default=0)
    # To the hour: a submission writes the first entry of its case.
    created_at: Mapped[datetime] = mapped_column(DateTime, default=this_hour)
    # To the hour, when last handed to the queue; NULL while waiting.
    enqueued_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    # The one exact time, kept only while the entry is in flight and cleared once its round
    # is decided: before hand-over, the moment it may go (a random delay after a submission);
    # after it, the moment the case counts as stuck if still pending, and goes again.
    relay_after: Mapped[datetime | None] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(default=0)
