"""Defuse: an early-warning service that helps Trust Leaders defuse workplace conflict.

`create_app` is the only entry point; nothing happens at import time.
"""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from pathlib import Path

from cachelib.file import FileSystemCache
from flask import Flask
from redis import Redis
from werkzeug.middleware.proxy_fix import ProxyFix

from service.config import Settings


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    settings.check()
    app = Flask(__name__, instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    _configure(app, settings)
    if settings.trusted_proxies:
        # Believe X-Forwarded-For/-Proto/-Host from exactly that many proxies, so the rate
        # limits and the CSRF origin check see the real client and the address it used.
        # Without any, the headers are ignored: a client could write whatever it liked there.
        hops = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    from service import bidi, errors, extensions, i18n, logs
    from service.privacy.crypto import keyring
    from service.tasks import queue

    logs.init_app(app)
    bidi.init_app(app)
    keyring.configure(app.config["DEFUSE_ENCRYPTION_KEYS"])
    extensions.db.init_app(app)
    migrations_dir = Path(__file__).parent / "migrations"
    extensions.migrate.init_app(app, extensions.db, directory=str(migrations_dir))
    extensions.csrf.init_app(app)
    i18n.init_app(app)
    extensions.limiter.init_app(app)
    extensions.talisman.init_app(
        app,
        content_security_policy=extensions.CONTENT_SECURITY_POLICY,
        force_https=settings.production,
        strict_transport_security=True,
        frame_options="DENY",
        referrer_policy="no-referrer",
        session_cookie_secure=settings.production,
        session_cookie_http_only=True,
        session_cookie_samesite="Lax",
    )
    queue.init_app(app)
    _configure_sessions(app, queue.get_redis(app))
    extensions.server_sessions.init_app(app)
    if queue.get_redis(app) is not None:
        from service.session_store import RedisSessionsWithFallback

        app.session_interface = RedisSessionsWithFallback(
            app,
            queue.get_redis(app),
            _local_session_files(app),
            key_prefix=app.config["SESSION_KEY_PREFIX"],
            permanent=True,
        )

    from service import api, auth, health, input_guard, sso
    from service.admin import views as admin_views
    from service.analytics import feedback
    from service.analytics import views as analytics_views
    from service.cases import views as case_views
    from service.intake import views as intake_views

    auth.init_app(app)
    sso.init_app(app)
    app.register_blueprint(intake_views.bp)
    app.register_blueprint(case_views.bp)
    app.register_blueprint(admin_views.bp)
    app.register_blueprint(analytics_views.bp)
    app.register_blueprint(feedback.bp)
    app.register_blueprint(health.bp)
    api.init_app(app)
    # After the API's body check (a body that is not JSON gets its 415 or 400 first).
    input_guard.init_app(app)
    errors.init_app(app)

    from service.cli import register_commands

    register_commands(app)
    return app


def _configure(app: Flask, settings: Settings) -> None:
    from service.tasks.queue import client_options

    dev_secrets = _development_secrets(app, settings)
    database_url = settings.database_url or f"sqlite:///{Path(app.instance_path) / 'defuse.db'}"
    app.config.update(
        DEFUSE=settings,
        SECRET_KEY=settings.secret_key,
        DEFUSE_ENCRYPTION_KEYS=settings.encryption_keys or (dev_secrets["encryption_key"],),
        DEFUSE_HASH_KEY=(settings.hash_key or dev_secrets["hash_key"]).encode(),
        SQLALCHEMY_DATABASE_URI=database_url,
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(database_url),
        MAX_CONTENT_LENGTH=settings.max_request_bytes,
        # CSRF tokens last as long as a session may; forms left open for a while still work.
        WTF_CSRF_TIME_LIMIT=settings.session_absolute_hours * 3600,
        # The strict check wants a Referer, which no-referrer withholds; service/csrf.py
        # checks where a post came from (Origin, Sec-Fetch-Site) instead.
        WTF_CSRF_SSL_STRICT=False,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.production,
        SESSION_COOKIE_NAME="defuse_session",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_absolute_hours),
        RATELIMIT_STORAGE_URI=settings.redis_url or "memory://",
        RATELIMIT_STORAGE_OPTIONS=client_options(settings.redis_url) if settings.redis_url else {},
        RATELIMIT_ENABLED=settings.rate_limits_enabled,
        RATELIMIT_HEADERS_ENABLED=True,
        # While Redis is unreachable every limit still holds, counted in this process's memory
        # (per process, so a little looser); errors beyond that never take a page down.
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        RATELIMIT_SWALLOW_ERRORS=True,
        TESTING=settings.env == "test",
    )


def _configure_sessions(app: Flask, redis: Redis | None) -> None:
    """Server-side sessions on the app's Redis; without Redis, in owner-only files in the
    instance folder (shared by the processes of one host)."""
    if redis is not None:
        # service/session_store.py: files stand in while Redis is unreachable.
        app.config.update(SESSION_TYPE="redis", SESSION_REDIS=redis)
    else:
        app.config.update(SESSION_TYPE="cachelib", SESSION_CACHELIB=_local_session_files(app))
    app.config.update(SESSION_PERMANENT=True, SESSION_KEY_PREFIX="defuse:session:")


def _local_session_files(app: Flask) -> FileSystemCache:
    # threshold 0: never evict live sessions to make room; expired ones are removed.
    directory = Path(app.instance_path) / "sessions"
    return FileSystemCache(str(directory), threshold=0, mode=0o600)


def _engine_options(database_url: str) -> dict[str, object]:
    if database_url.startswith("sqlite"):
        return {"connect_args": {"timeout": 15}}
    return {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 10}


def _development_secrets(app: Flask, settings: Settings) -> dict[str, str]:
    """Outside production, keys that were not configured are generated once and kept in the
    instance folder, so a restarted development server can still read its own data."""
    if settings.production:
        return {"encryption_key": "", "hash_key": ""}
    from service.privacy.crypto import new_key

    path = Path(app.instance_path) / "development-keys.json"
    if path.exists():
        return json.loads(path.read_text())
    keys = {"encryption_key": new_key(), "hash_key": secrets.token_urlsafe(32)}
    path.write_text(json.dumps(keys))
    path.chmod(0o600)
    return keys
