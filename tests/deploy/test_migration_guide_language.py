"""Migration 0012_guide_language on SQLite, or on a scratch database of the test PostgreSQL
server: cases get a guide_language column, NULL for cases from before (read as English), and
it downgrades cleanly."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from service.extensions import db
from tests.conftest import _base_settings, make_app
from tests.deploy.test_migration_org_import import scratch_url  # noqa: F401 (a fixture)


def _columns() -> set[str]:
    return {column["name"] for column in inspect(db.engine).get_columns("cases")}


def test_guide_language_upgrades_and_downgrades(scratch_url):  # noqa: F811
    app = make_app(_base_settings(scratch_url))
    with app.app_context():
        upgrade(revision="0011_report_language")
        assert "guide_language" not in _columns()
        upgrade(revision="0012_guide_language")
        assert "guide_language" in _columns()
        db.session.remove()

        downgrade(revision="0011_report_language")
        assert "guide_language" not in _columns()
        assert {"guide_id", "guide_version"} <= _columns()
        upgrade()
        assert "guide_language" in _columns()
        db.session.remove()
        db.engine.dispose()
