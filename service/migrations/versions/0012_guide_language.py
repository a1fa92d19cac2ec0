"""The language of the listening guide a case was given, beside its id and version.

A case's guide version only says what the Trust Leader saw together with its language, since
each translation has its own version. Existing cases were all given the English guide, so the
column stays NULL for them and is read as English.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_guide_language"
down_revision = "0011_report_language"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("guide_language", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("guide_language")
