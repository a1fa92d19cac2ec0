"""Notifications to staff. The local outbox backend keeps them here for admins to read."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db.base import Base, this_hour
from service.db.people import User


class Notification(Base):
    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    # Subject and body say only that case N needs attention, with a link; never report text.
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(String(1000))
    # Both to the hour: most notifications follow from a submission or a reporter's message.
    created_at: Mapped[datetime] = mapped_column(DateTime, default=this_hour)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Only for a page while it waits: the exact moment (a random jitter after it was raised)
    # it goes out, cleared once sent. Everything else waits for the next digest.
    send_after: Mapped[datetime | None] = mapped_column(DateTime)
    error: Mapped[str | None] = mapped_column(String(300))

    recipient: Mapped[User] = relationship()
