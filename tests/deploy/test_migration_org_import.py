"""Migration 0004_org_import on a database that already holds units (a demo seeded before org
imports), on SQLite or on a scratch database of the test PostgreSQL server: the units get
their database id as external id, stay unique, and seed-demo then keeps them (and their
reports and staff) instead of retiring them. It downgrades cleanly too."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from service.db import OrgUnit
from service.demo import ensure_org
from service.extensions import db
from tests.conftest import DATABASE_URL, _base_settings, make_app

# Two units as seed-demo made them before this migration (ids, names and paths as it set).
OLD_UNITS = (
    "INSERT INTO org_units (id, name, parent_id, path, depth, is_hr) VALUES "
    "(1, 'Harbourside Group', NULL, '/1/', 0, false), (2, 'Finance', 1, '/1/2/', 1, false)"
)


@pytest.fixture
def scratch_url(tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    if not DATABASE_URL:
        yield f"sqlite:///{tmp_path / 'migrate.db'}"
        return
    # Never the shared test database: a database of our own on the same server.
    name = f"defuse_migration_{uuid.uuid4().hex[:12]}"
    server = make_url(DATABASE_URL).set(database="postgres")
    engine = create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(DATABASE_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def test_units_made_before_org_import_get_an_external_id_and_the_demo_keeps_them(scratch_url):
    app = make_app(_base_settings(scratch_url))
    with app.app_context():
        upgrade(revision="0002")
        db.session.execute(text(OLD_UNITS))
        if scratch_url.startswith("postgresql"):  # as if the ids had come from the sequence
            db.session.execute(text("SELECT setval('org_units_id_seq', 2)"))
        db.session.commit()

        upgrade()
        rows = db.session.execute(
            text("SELECT id, external_id, headcount, retired_at FROM org_units ORDER BY id")
        ).all()
        assert [tuple(row) for row in rows] == [(1, "1", None, None), (2, "2", None, None)]
        db.session.commit()
        with pytest.raises(IntegrityError):  # external ids are unique
            db.session.execute(
                text(
                    "INSERT INTO org_units (external_id, name, path, depth, is_hr) "
                    "VALUES ('1', 'Copy', '/', 0, false)"
                )
            )
            db.session.commit()
        db.session.rollback()

        units = ensure_org()
        db.session.commit()
        assert units["Finance"].id == 2 and units["Finance"].external_id == "HG-FIN"
        assert units["Harbourside Group"].id == 1
        assert (
            db.session.scalar(
                db.select(db.func.count())
                .select_from(OrgUnit)
                .where(OrgUnit.retired_at.is_not(None))
            )
            == 0
        )
        db.session.remove()

        downgrade(revision="0002")
        columns = db.session.execute(text("SELECT * FROM org_units")).keys()
        assert "external_id" not in columns and "retired_at" not in columns
        db.session.remove()
        db.engine.dispose()
