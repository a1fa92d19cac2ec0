"""analytics: hotspot counts in the risk rollups, and per-week change stamps

`analytics_versions` gets a fresh random value for an ISO week whenever a rollup row of that
week is inserted, updated or deleted, by a trigger, so the analytics cache of released cells
(service/analytics/query.py) notices any change, including rows written outside the app.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 07:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ROLLUP_TABLES = ("risk_rollups", "resolution_rollups", "acknowledgement_rollups")


def upgrade():
    with op.batch_alter_table("risk_rollups", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hotspots", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "analytics_versions",
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("week", name=op.f("pk_analytics_versions")),
    )
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_triggers()
        week = "date_trunc('week', day)::date"
        stamp = "(random() * 9e18)::bigint"
    else:
        _sqlite_triggers()
        week = "date(day, 'weekday 0', '-6 days')"
        stamp = "random()"
    for table in ROLLUP_TABLES:
        # Table and expressions are this module's own constants, never input.
        op.execute(
            f"INSERT INTO analytics_versions (week, version) "  # noqa: S608
            f"SELECT week, {stamp} FROM (SELECT DISTINCT {week} AS week FROM {table}) AS weeks "
            f"WHERE true ON CONFLICT (week) DO NOTHING"
        )


def _postgresql_triggers():
    op.execute(
        """
        CREATE FUNCTION analytics_touch_week() RETURNS trigger AS $$
        BEGIN
            IF TG_OP <> 'INSERT' THEN
                INSERT INTO analytics_versions (week, version)
                VALUES (date_trunc('week', OLD.day)::date, (random() * 9e18)::bigint)
                ON CONFLICT (week) DO UPDATE SET version = EXCLUDED.version;
            END IF;
            IF TG_OP <> 'DELETE' THEN
                INSERT INTO analytics_versions (week, version)
                VALUES (date_trunc('week', NEW.day)::date, (random() * 9e18)::bigint)
                ON CONFLICT (week) DO UPDATE SET version = EXCLUDED.version;
            END IF;
            RETURN NULL;
        END;
        $$ LANGUAGE plpgsql;
        """
    )
    for table in ROLLUP_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_touch_week AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION analytics_touch_week();"
        )


def _sqlite_triggers():
    touch = (
        "INSERT INTO analytics_versions (week, version) "
        "VALUES (date({row}.day, 'weekday 0', '-6 days'), random()) "
        "ON CONFLICT (week) DO UPDATE SET version = excluded.version;"
    )
    for table in ROLLUP_TABLES:
        for verb, rows in (("INSERT", ("NEW",)), ("UPDATE", ("OLD", "NEW")), ("DELETE", ("OLD",))):
            body = " ".join(touch.format(row=row) for row in rows)
            op.execute(
                f"CREATE TRIGGER {table}_touch_week_{verb.lower()} AFTER {verb} ON {table} "
                f"BEGIN {body} END;"
            )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in ROLLUP_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_touch_week ON {table}")
        op.execute("DROP FUNCTION IF EXISTS analytics_touch_week()")
    else:
        for table in ROLLUP_TABLES:
            for verb in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_touch_week_{verb}")
    op.drop_table("analytics_versions")
    with op.batch_alter_table("risk_rollups", schema=None) as batch_op:
        batch_op.drop_column("hotspots")
