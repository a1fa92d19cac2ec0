"""One-time submission keys (form tokens and API Idempotency-Key headers), stored as keyed
hashes with an expiry to the hour."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_submission_tokens"
down_revision = "0007_outbox_times"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "submission_keys",
        sa.Column("key_hash", sa.String(64), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=True),
        sa.Column("result_id", sa.Integer(), nullable=False),
        sa.Column("sealed_receipt", sa.Text(), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_submission_keys_expires_at", "submission_keys", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_submission_keys_expires_at", table_name="submission_keys")
    op.drop_table("submission_keys")
