"""org import: the organisation's own unit ids, headcount, and retired units

`external_id` is the unit_id of the HR file that `defuse org import` matches units on. Units
made before this revision (only `seed-demo` could make them) get their database id as their
external id, so they stay unique; a first import that does not name them retires them.

Revision ID: 0004_org_import
Revises: 0003_staff_sign_in
Create Date: 2026-12-01 17:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0004_org_import"
down_revision = "0003_staff_sign_in"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("org_units", schema=None) as batch_op:
        batch_op.add_column(sa.Column("external_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("headcount", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("retired_at", sa.DateTime(), nullable=True))
    op.execute("UPDATE org_units SET external_id = CAST(id AS VARCHAR(64))")
    with op.batch_alter_table("org_units", schema=None) as batch_op:
        batch_op.alter_column("external_id", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_org_units_external_id"), ["external_id"])


def downgrade():
    with op.batch_alter_table("org_units", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_org_units_external_id"), type_="unique")
        batch_op.drop_column("retired_at")
        batch_op.drop_column("headcount")
        batch_op.drop_column("external_id")
