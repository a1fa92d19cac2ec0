"""released cells stored with their month: the anonymity rule's answer for a released month,
worked out once (at release, or on first use) and read by every later request; cases indexed by
when they were opened, for the analytics headline

Revision ID: 0013_released_cells
Revises: 0012_guide_language
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_released_cells"
down_revision = "0012_guide_language"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "analytics_released_cells",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("layout", sa.String(length=64), nullable=False),
        sa.Column("shown", sa.LargeBinary(), nullable=False),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("month", "layout"),
    )
    # The analytics headline reads the cases opened in a period.
    op.create_index("ix_cases_opened_at", "cases", ["opened_at"])


def downgrade() -> None:
    op.drop_index("ix_cases_opened_at", table_name="cases")
    op.drop_table("analytics_released_cells")
