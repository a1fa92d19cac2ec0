"""Timing that follows a submission is blurred: an outbox entry waits a random delay
(`relay_after`, exact only while the entry is in flight) and its hand-over time is kept to
the hour; a page to the leads waits a random jitter (`notifications.send_after`, cleared once
sent).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_outbox_times"
down_revision = "0006_audit_chain"
branch_labels = None
depends_on = None


def _to_hour(column: str) -> str:
    if op.get_bind().dialect.name == "sqlite":
        return f"strftime('%Y-%m-%d %H:00:00.000000', {column})"
    return f"date_trunc('hour', {column})"


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("relay_after", sa.DateTime(), nullable=True))
    with op.batch_alter_table("notifications") as batch:
        batch.add_column(sa.Column("send_after", sa.DateTime(), nullable=True))
    # Entries in flight now get their stuck check from the next re-queue run.
    op.execute(
        f"UPDATE outbox SET enqueued_at = {_to_hour('enqueued_at')} "  # noqa: S608 - fixed
        "WHERE enqueued_at IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.drop_column("send_after")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("relay_after")
