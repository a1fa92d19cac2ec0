"""Append-only audit log of every view and change of a case, and of staff administration.

The ORM refuses updates and deletes here, and migrations add database triggers that refuse
them (and, on PostgreSQL, TRUNCATE) too, so not even a direct SQL statement rewrites history.

Each row is also a link in a hash chain: `row_hash` is an HMAC-SHA256, under a key derived from
DEFUSE_HASH_KEY, of the row's content and the previous row's `row_hash` (`prev_hash`). Someone
who can write to the database but does not hold the key (a superuser disabling the triggers, a
restored and edited dump) cannot change, insert or remove a row without breaking the chain,
which `defuse audit verify` checks. Links are made as rows are inserted, under a lock on
PostgreSQL, so that two transactions writing at once never fork the chain.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import JSON, DateTime, Engine, ForeignKey, Pool, String, event, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db.base import Base, utcnow
from service.db.people import User

GENESIS_HASH = "0" * 64  # the `prev_hash` of the first row
# Any fixed number: PostgreSQL's advisory lock held by the transaction appending to the chain.
CHAIN_LOCK_ID = 0x44454655  # "DEFU"
_HEAD = "defuse.audit_chain_head"  # connection.info: (id, row_hash) of this transaction's last


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    # NULL for the system or the anonymous reporter; actor_kind says which.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_kind: Mapped[str] = mapped_column(String(16))  # staff | reporter | system
    action: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[int | None] = mapped_column(index=True)
    # Structured detail only (ids, statuses, keys); never report text.
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    row_hash: Mapped[str] = mapped_column(String(64))

    actor: Mapped[User | None] = relationship()


class AuditLogIsAppendOnly(RuntimeError):
    pass


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse_rewrite(*_: object) -> None:
    raise AuditLogIsAppendOnly("audit events cannot be changed or deleted")


# --- the hash chain ---------------------------------------------------------------------------


def chain_key(hash_key: bytes) -> bytes:
    """The chain's own key, derived from DEFUSE_HASH_KEY (so it is kept where that is)."""
    return hmac.new(hash_key, b"defuse audit chain v1", hashlib.sha256).digest()


def content_of(
    id: int,  # noqa: A002 - the column's name
    at: datetime,
    actor_id: int | None,
    actor_kind: str,
    action: str,
    case_id: int | None,
    detail: dict[str, Any] | None,
) -> bytes:
    """The row's content in one canonical form, the same on SQLite and PostgreSQL."""
    return json.dumps(
        [id, at.isoformat(timespec="microseconds"), actor_id, actor_kind, action, case_id, detail],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    ).encode()


def link_hash(key: bytes, prev_hash: str, content: bytes) -> str:
    return hmac.new(key, prev_hash.encode() + b"\n" + content, hashlib.sha256).hexdigest()


def _chain_head(connection: Connection) -> tuple[int, str]:
    """(id, row_hash) of the last row, with this transaction holding the right to append."""
    head = connection.info.get(_HEAD)
    if head is not None:  # several rows in one transaction: the last one made here
        return head  # type: ignore[no-any-return]
    if connection.dialect.name == "postgresql":
        # Held until commit or rollback: the next appender waits, then reads this row.
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": CHAIN_LOCK_ID})
    else:
        # SQLite has one writer at a time; a write (of nothing) takes that place before the
        # head is read, so no other connection can append in between.
        connection.execute(text("UPDATE audit_events SET id = id WHERE 0"))
    row = connection.execute(
        text("SELECT id, row_hash FROM audit_events ORDER BY id DESC LIMIT 1")
    ).first()
    return (row[0], row[1]) if row else (0, GENESIS_HASH)


def _next_id(connection: Connection, last_id: int) -> int:
    if connection.dialect.name == "postgresql":
        return int(
            connection.execute(
                text("SELECT nextval(pg_get_serial_sequence('audit_events', 'id'))")
            ).scalar_one()
        )
    return last_id + 1


@event.listens_for(AuditEvent, "before_insert")
def _link(_mapper: object, connection: Connection, event_row: AuditEvent) -> None:
    last_id, last_hash = _chain_head(connection)
    event_row.id = _next_id(connection, last_id)
    if event_row.at is None:
        event_row.at = utcnow()
    if event_row.detail is None:
        event_row.detail = {}
    event_row.prev_hash = last_hash
    event_row.row_hash = link_hash(
        chain_key(current_app.config["DEFUSE_HASH_KEY"]),
        last_hash,
        content_of(
            event_row.id,
            event_row.at,
            event_row.actor_id,
            event_row.actor_kind,
            event_row.action,
            event_row.case_id,
            event_row.detail,
        ),
    )
    connection.info[_HEAD] = (event_row.id, event_row.row_hash)


@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "rollback")
@event.listens_for(Engine, "rollback_savepoint")
def _forget_head(connection: Connection, *_: object) -> None:
    # The next transaction (or what follows a rolled-back savepoint) reads the head afresh.
    connection.info.pop(_HEAD, None)


@event.listens_for(Pool, "checkin")
def _forget_head_on_checkin(_dbapi_connection: object, record: Any) -> None:
    # A connection handed back without a commit or rollback seen above (the pool resets it).
    if record is not None:
        record.info.pop(_HEAD, None)
