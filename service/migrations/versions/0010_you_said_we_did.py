"""released months frozen as first answered, and actions published for "You said, we did"

Revision ID: 0010_you_said_we_did
Revises: 0009_feedback
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_you_said_we_did"
down_revision = "0009_feedback"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "analytics_released_months",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("figures", sa.LargeBinary(), nullable=False),
        sa.Column("released_at", sa.DateTime(), nullable=False),
        sa.Column("stamp", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("month"),
    )
    op.create_table(
        "published_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("quarter", sa.Date(), nullable=False),
        sa.Column("org_unit_id", sa.Integer(), sa.ForeignKey("org_units.id"), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column("text", sa.String(length=2000), nullable=False),
        sa.Column("written_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("written_at", sa.DateTime(), nullable=False),
        sa.Column("published_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_published_actions_quarter", "published_actions", ["quarter"])


def downgrade():
    op.drop_index("ix_published_actions_quarter", table_name="published_actions")
    op.drop_table("published_actions")
    op.drop_table("analytics_released_months")
