"""Fixtures: app, client, database and Redis.

The database is SQLite by default, or the PostgreSQL at DEFUSE_TEST_DATABASE_URL (CI sets it).
The app runs without Redis (jobs in-process) unless a test asks for `redis_settings`: those use
the Redis at DEFUSE_TEST_REDIS_URL (CI sets it), or else a private redis-server started for the
session, so real RQ worker processes run either way. With
CI=true both variables are required: the suite fails rather than quietly testing less.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from service import create_app
from service.config import Settings
from service.privacy.crypto import new_key

DATABASE_URL = os.environ.get("DEFUSE_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("DEFUSE_TEST_REDIS_URL")
ENCRYPTION_KEY = new_key()

if os.environ.get("CI") == "true" and not (DATABASE_URL and REDIS_URL):
    raise pytest.UsageError(
        "CI=true needs DEFUSE_TEST_DATABASE_URL and DEFUSE_TEST_REDIS_URL (see .ci/run)"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under mutmut (scripts/mutation.py), run the cheapest tests first.

    mutmut stops a mutant's run at its first failing test, but hands pytest the tests in no
    order; cheap ones first reach a killing test sooner. The clean run mutmut starts with
    uses the same order, so an order a test cannot stand would show there."""
    stats = Path("mutmut-stats.json")  # mutmut runs the tests from its mutants/ directory
    if "MUTANT_UNDER_TEST" not in os.environ or not stats.exists():
        return
    durations = json.loads(stats.read_text())["duration_by_test"]
    items.sort(key=lambda item: durations.get(item.nodeid, 0.0))


@pytest.fixture(scope="session", autouse=True)
def _fresh_caches_under_a_mutant() -> None:
    """mutmut forks each mutant's run from a process that has run the unmutated tests, so
    the process-wide caches of the code under test hold the original code's answers, and a
    mutant behind a cache would never run. Under a mutant, start them empty."""
    if os.environ.get("MUTANT_UNDER_TEST", "") in ("", "stats", "fail", "list_all_tests"):
        return
    from service.analytics import anonymity

    anonymity._EQUATIONS.clear()
    for name, module in list(sys.modules.items()):
        if name == "service" or name.startswith("service."):
            for value in list(vars(module).values()):
                # Look on the type: a module's Flask proxies (current_app) fail on any
                # attribute outside an app context.
                if hasattr(type(value), "cache_clear"):
                    value.cache_clear()


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing() -> Iterator[None]:
    """argon2id at its production cost makes every created account take ~50 ms; the tests
    create hundreds (and recovery codes ten at a time). Same algorithm, minimal cost."""
    from service import passwords

    original = passwords.hasher
    passwords.hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    passwords.hasher = original


def _base_settings(database_url: str) -> Settings:
    return Settings(
        env="test",
        secret_key="test-secret-key-" + "x" * 32,
        database_url=database_url,
        redis_url=None,
        encryption_keys=(ENCRYPTION_KEY,),
        hash_key="test-hash-key",
        rate_limits_enabled=False,
        # Tests route and notify at once; the delayed paths have tests of their own
        # (tests/routing/test_timing.py).
        routing_delay_minutes=(0.0, 0.0),
        digest_minutes=0.0,
        digest_jitter_minutes=0.0,
        page_jitter_minutes=(0.0, 0.0),
    )


def _migrate(database_url: str) -> None:
    from flask_migrate import upgrade

    from service.extensions import db

    app = create_app(_base_settings(database_url))
    with app.app_context():
        if database_url.startswith("postgresql"):
            # The test database is the suite's own: start from an empty schema, whatever
            # revision an earlier run (of this or another branch) left it at, so a migration
            # that no longer exists can never stop the suite. Downgrades have their own tests.
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Migrate once per session: the PostgreSQL database, or a SQLite file copied per test."""
    if DATABASE_URL:
        _migrate(DATABASE_URL)
        return DATABASE_URL
    cache = os.environ.get("DEFUSE_TEST_TEMPLATE_CACHE")
    if cache:
        return _cached_sqlite_template(Path(cache))
    path = tmp_path_factory.mktemp("db") / "template.db"
    _migrate(f"sqlite:///{path}")
    return str(path)


def _cached_sqlite_template(cache: Path) -> str:
    """A migrated SQLite file kept between pytest runs, named by the migrations it ran.

    Mutation testing (scripts/mutation.py) starts pytest once per mutant; migrating afresh
    each time would cost several seconds a mutant. The first run (the unmutated baseline)
    builds it; a change to any migration names a new file."""
    versions = sorted((Path(__file__).parent.parent / "service" / "migrations").rglob("*.py"))
    digest = hashlib.sha256(b"".join(v.read_bytes() for v in versions)).hexdigest()[:16]
    path = cache / f"template-{digest}.db"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        building = cache / f"building-{os.getpid()}.db"
        _migrate(f"sqlite:///{building}")
        building.replace(path)  # atomic: a concurrent run sees no half-migrated file
    return str(path)


@pytest.fixture
def database_url(database_template: str, tmp_path: Path) -> Iterator[str]:
    if DATABASE_URL:
        yield DATABASE_URL
        _close_connections()
        empty_postgresql(DATABASE_URL)
    else:
        path = tmp_path / "defuse.db"
        shutil.copy(database_template, path)
        yield f"sqlite:///{path}"
        _close_connections()


def _close_connections() -> None:
    """End every session and close every pool the test's apps opened (make_app keeps them)."""
    from service.extensions import db

    while _APPS:
        with _APPS.pop().app_context():
            db.session.remove()
            db.engine.dispose()


def empty_postgresql(url: str) -> None:
    """Every table emptied, ids restarted (between tests, and by the browser suite's site)."""
    from service.extensions import db

    engine = create_engine(url)
    names = ", ".join(t.name for t in db.metadata.sorted_tables)
    with engine.begin() as connection:
        # The audit log refuses TRUNCATE (a trigger); the suite, as superuser, empties it
        # with triggers off for this transaction only.
        connection.execute(text("SET LOCAL session_replication_role = replica"))
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return _base_settings(database_url)


_ENGINE_CACHE: dict[str, object] = {}
_APPS: list[Flask] = []


def make_app(settings: Settings) -> Flask:
    """An app for these settings, sharing the loaded risk engine; its database connections
    are closed after the test."""
    app = make_lasting_app(settings)
    _APPS.append(app)
    return app


def make_lasting_app(settings: Settings) -> Flask:
    """An app for these settings, sharing the loaded risk engine, that outlives the test
    (its caller disposes of its connections)."""
    app = create_app(settings)
    # Loading rules and the classifier takes a moment; share one engine across tests.
    from service.scoring import build_risk_engine

    key = f"{settings.rules_dir}|{settings.models_dir}|{settings.level_thresholds}"
    if key not in _ENGINE_CACHE:
        _ENGINE_CACHE[key] = build_risk_engine(app)
    app.extensions["defuse.risk_engine"] = _ENGINE_CACHE[key]
    return app


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    app = make_app(settings)
    with app.app_context():
        yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def org(app: Flask):  # type: ignore[no-untyped-def]
    """The demo organisation and staff, without demo reports."""
    from tests.factories import seed_org

    return seed_org()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    if REDIS_URL:
        yield REDIS_URL
        return
    from tests.embedded_redis import EmbeddedRedis

    with EmbeddedRedis() as url:
        yield url


@pytest.fixture
def redis_settings(settings: Settings, redis_url: str) -> Iterator[Settings]:
    from redis import Redis

    connection = Redis.from_url(redis_url)
    connection.flushdb()
    yield settings.replace(redis_url=redis_url)
    connection.flushdb()
    connection.close()


@pytest.fixture
def workers():  # type: ignore[no-untyped-def]
    """Worker processes a test starts; stopped (and their process groups killed) afterwards."""
    from tests.workers import WorkerProcess

    started: list[WorkerProcess] = []
    yield started
    for worker in started:
        worker.stop()
