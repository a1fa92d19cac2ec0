"""audit chain: each audit event is linked to the one before by a keyed hash, and TRUNCATE of
the audit log is refused on PostgreSQL

Existing events are linked in id order under the running app's DEFUSE_HASH_KEY, with the
append-only triggers lifted for that one update (they are restored before the revision ends).

Revision ID: 0006_audit_chain
Revises: 0005_reporter_times
Create Date: 2026-12-01 21:00:00

"""

import sqlalchemy as sa
from alembic import op
from flask import current_app

from service.db.audit import GENESIS_HASH, chain_key, content_of, link_hash

revision = "0006_audit_chain"
down_revision = "0005_reporter_times"
branch_labels = None
depends_on = None

SQLITE_TRIGGERS = {
    verb: f"CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;"
    for verb in ("UPDATE", "DELETE")
}


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    op.add_column("audit_events", sa.Column("prev_hash", sa.String(length=64), nullable=True))
    op.add_column("audit_events", sa.Column("row_hash", sa.String(length=64), nullable=True))
    _link_existing_events()
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("row_hash", existing_type=sa.String(length=64), nullable=False)
    if _postgresql():
        op.execute(
            "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();"
        )
    else:
        # batch mode may have rebuilt the table, and SQLite drops triggers with it.
        for verb, statement in SQLITE_TRIGGERS.items():
            op.execute(f"DROP TRIGGER IF EXISTS audit_events_no_{verb.lower()}")
            op.execute(statement)


def _link_existing_events():
    bind = op.get_bind()
    if _postgresql():
        op.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_rewrite")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
    key = chain_key(current_app.config["DEFUSE_HASH_KEY"])
    events = sa.table(
        "audit_events",
        sa.column("id", sa.Integer),
        sa.column("at", sa.DateTime),
        sa.column("actor_id", sa.Integer),
        sa.column("actor_kind", sa.String),
        sa.column("action", sa.String),
        sa.column("case_id", sa.Integer),
        sa.column("detail", sa.JSON),
        sa.column("prev_hash", sa.String),
        sa.column("row_hash", sa.String),
    )
    previous = GENESIS_HASH
    for row in bind.execute(sa.select(events).order_by(events.c.id)).all():
        content = content_of(
            row.id, row.at, row.actor_id, row.actor_kind, row.action, row.case_id, row.detail
        )
        current = link_hash(key, previous, content)
        bind.execute(
            events.update()
            .where(events.c.id == row.id)
            .values(prev_hash=previous, row_hash=current)
        )
        previous = current
    if _postgresql():
        op.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_rewrite")
    else:
        op.execute(SQLITE_TRIGGERS["UPDATE"])


def downgrade():
    if _postgresql():
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_column("row_hash")
        batch_op.drop_column("prev_hash")
    if not _postgresql():
        for verb, statement in SQLITE_TRIGGERS.items():
            op.execute(f"DROP TRIGGER IF EXISTS audit_events_no_{verb.lower()}")
            op.execute(statement)
