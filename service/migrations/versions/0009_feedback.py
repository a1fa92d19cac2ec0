"""Feedback to the reporter (EU 2019/1937, Art. 9): the staff message that gave it, when it was
given, the warning and breach sent once each; and the language a case still needs a speaker of
after routing fell back to another language.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_feedback"
down_revision = "0008_submission_tokens"
branch_labels = None
depends_on = None

CASE_TIMES = ("feedback_given_at", "feedback_warned_at", "feedback_breached_at")


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(
            sa.Column("is_feedback", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("cases") as batch:
        for name in CASE_TIMES:
            batch.add_column(sa.Column(name, sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("needs_language", sa.String(8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("needs_language")
        for name in reversed(CASE_TIMES):
            batch.drop_column(name)
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("is_feedback")
