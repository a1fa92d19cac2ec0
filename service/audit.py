"""Writing to the append-only audit log (who did what to which case, and when), and checking
its hash chain (service/db/audit.py)."""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import current_app, g, has_request_context

from service.db import AuditEvent, this_hour
from service.db.audit import GENESIS_HASH, chain_key, content_of, link_hash
from service.extensions import db


def record(
    action: str,
    *,
    case_id: int | None = None,
    actor_kind: str | None = None,
    actor_id: int | None = None,
    to_the_hour: bool = False,
    **detail: Any,
) -> AuditEvent:
    """Add an audit event to the current transaction. The actor defaults to the signed-in
    staff member; detail holds ids and statuses only, never report text. What the reporter
    did, and what follows from it automatically (`to_the_hour`), keeps its time to the hour."""
    user = g.get("user") if has_request_context() else None
    if actor_id is None and user is not None and actor_kind in (None, "staff"):
        actor_id = user.id
    event = AuditEvent(
        action=action,
        case_id=case_id,
        actor_id=actor_id,
        actor_kind=actor_kind or ("staff" if actor_id else "system"),
        detail=detail,
    )
    if to_the_hour or actor_kind == "reporter":
        event.at = this_hour()
    db.session.add(event)
    return event


@dataclass(frozen=True)
class ChainCheck:
    """What `verify_chain` found: how many events it checked, the first broken one (None if
    the chain holds) and why, and the hash of the last event (note it down: a chain cut short
    at its end is only noticed against an earlier head)."""

    checked: int
    broken_at: int | None = None
    reason: str = ""
    head: str = GENESIS_HASH


def verify_chain(batch: int = 1000) -> ChainCheck:
    """Walk the audit log in id order, recomputing every link."""
    key = chain_key(current_app.config["DEFUSE_HASH_KEY"])
    rows = db.session.execute(
        db.select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=batch)
    ).scalars()
    try:
        return _walk(rows, key)
    finally:
        rows.close()  # a server-side cursor on PostgreSQL, left open by an early return


def _walk(rows: Iterable[AuditEvent], key: bytes) -> ChainCheck:
    previous, checked = GENESIS_HASH, 0
    for row in rows:
        if row.prev_hash != previous:
            return ChainCheck(
                checked,
                row.id,
                "its link to the event before does not match: an event before it was removed, "
                "added or changed",
                previous,
            )
        content = content_of(
            row.id, row.at, row.actor_id, row.actor_kind, row.action, row.case_id, row.detail
        )
        if not hmac.compare_digest(link_hash(key, previous, content), row.row_hash):
            return ChainCheck(
                checked, row.id, "its content does not match its hash: it was changed", previous
            )
        previous, checked = row.row_hash, checked + 1
    return ChainCheck(checked, head=previous)
