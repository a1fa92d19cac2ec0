"""The language a report was written in, as read from its text, beside the form's choice.

`reports.language` stays the language the report is scrubbed, scored and routed in; it is the
detected language when the detector was sure, else the form's. Existing reports keep their
language and get the same value as the form's choice, detection unknown.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_report_language"
down_revision = "0010_you_said_we_did"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.add_column(sa.Column("form_language", sa.String(length=8), nullable=True))
        batch.add_column(sa.Column("detected_language", sa.String(length=8), nullable=True))
    op.execute("UPDATE reports SET form_language = language")


def downgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.drop_column("detected_language")
        batch.drop_column("form_language")
