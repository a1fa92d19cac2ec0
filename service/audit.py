"""Writing to the append-only audit log: who did what to which case, and when."""

from __future__ import annotations

from typing import Any

from flask import g, has_request_context

from service.db import AuditEvent, this_hour
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
