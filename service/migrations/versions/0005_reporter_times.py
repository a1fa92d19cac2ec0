"""Reporter-caused times no finer than the hour: a read-by-reporter flag replaces the time
the reporter opened a staff message.

Existing staff messages that were read keep the fact (the flag) and lose the time. Times
already written elsewhere (outbox, notifications, routing) are coarsened to the hour; audit
events are append-only and keep what they hold.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_reporter_times"
down_revision = "0004_org_import"
branch_labels = None
depends_on = None

HOURLY_COLUMNS = (
    ("outbox", "created_at"),
    ("notifications", "created_at"),
    ("notifications", "sent_at"),
    ("cases", "assigned_at"),
)


def _to_hour(column: str) -> str:
    if op.get_bind().dialect.name == "sqlite":
        return f"strftime('%Y-%m-%d %H:00:00.000000', {column})"
    return f"date_trunc('hour', {column})"


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(
            sa.Column("read_by_reporter", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute(
        "UPDATE messages SET read_by_reporter = true, read_at = NULL "
        "WHERE from_reporter = false AND read_at IS NOT NULL"
    )
    for table, column in HOURLY_COLUMNS:
        op.execute(
            f"UPDATE {table} SET {column} = {_to_hour(column)} "  # noqa: S608 - fixed names
            f"WHERE {column} IS NOT NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("read_by_reporter")
