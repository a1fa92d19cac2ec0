"""Typed settings, read from DEFUSE_* environment variables.

`Settings.from_env()` is called by create_app, never at import time, and `Settings.check()`
refuses unsafe production settings. Tests build Settings directly with `dataclasses.replace`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import timedelta
from pathlib import Path

from service.vocab import LEVELS

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET_KEY = "dev-only-not-secret"  # noqa: S105 - marker refused in production by check()

ENVIRONMENTS = ("development", "test", "production")


class ConfigError(ValueError):
    """A setting is missing or invalid; the message names the environment variable."""


def _env_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None


def _env_float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None


def _env_list(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def _env_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    return raw.strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    secret_key: str = DEV_SECRET_KEY
    # None: a SQLite file in the instance folder (the embedded default).
    database_url: str | None = None
    # None: no Redis; jobs run in-process right after the request commits.
    redis_url: str | None = None
    # Fernet keys, newest first. Empty in development: a key is generated into the instance folder.
    encryption_keys: tuple[str, ...] = ()
    # Key for receipt-code and API-token hashes. Empty: derived from secret_key.
    hash_key: str = ""
    base_url: str = "http://127.0.0.1:5000"
    rules_dir: Path = PROJECT_ROOT / "rules"
    guides_dir: Path = PROJECT_ROOT / "guides"
    models_dir: Path = PROJECT_ROOT / "models"
    # Lowest combined score of moderate, high and critical (as in LevelThresholds and the model
    # card). Critical sits high on purpose: it pages the on-call lead, so it comes mostly from
    # the safety rules that force it, not from the classifier alone.
    level_thresholds: tuple[float, float, float] = (0.3, 0.6, 0.97)
    hotspot_min_reports: int = 3
    hotspot_window_days: int = 30
    hotspot_boost: float = 0.1
    staff_id_patterns: tuple[str, ...] = (r"\b(?:EMP|E|ID)[-_ ]?\d{4,8}\b",)
    # Acknowledge-by deadlines per level, in hours.
    sla_hours: Mapping[str, int] = field(
        default_factory=lambda: {"critical": 4, "high": 24, "moderate": 72, "low": 168}
    )
    sla_warning_fraction: float = 0.75
    # A case still pending this long after its job was queued is queued again.
    routing_stuck_seconds: int = 120
    feedback_days: int = 90
    anonymity_k: int = 5
    retention_days: int = 180
    max_request_bytes: int = 64 * 1024
    # Reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host are believed.
    # 0: none, the headers are ignored (anyone could send them).
    trusted_proxies: int = 0
    rate_limits_enabled: bool = True
    rate_limit_reports: str = "10 per hour"
    rate_limit_receipts: str = "20 per hour"
    rate_limit_login: str = "10 per 15 minutes"
    session_idle_minutes: int = 30
    session_absolute_hours: int = 10
    mail_backend: str = "outbox"  # outbox (stored, readable by admins) | smtp
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_from: str = "defuse@localhost"
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        defaults = cls()
        thresholds = _env_list(env, "DEFUSE_LEVEL_THRESHOLDS", ())
        try:
            level_thresholds = (
                tuple(float(t) for t in thresholds) if thresholds else defaults.level_thresholds
            )
        except ValueError:
            raise ConfigError("DEFUSE_LEVEL_THRESHOLDS must be three numbers") from None
        sla = dict(defaults.sla_hours)
        for level in LEVELS:
            sla[level] = _env_int(env, f"DEFUSE_SLA_{level.upper()}_HOURS", sla[level])
        settings = cls(
            env=env.get("DEFUSE_ENV", defaults.env),
            secret_key=env.get("DEFUSE_SECRET_KEY", defaults.secret_key),
            database_url=env.get("DEFUSE_DATABASE_URL") or None,
            redis_url=env.get("DEFUSE_REDIS_URL") or None,
            encryption_keys=_env_list(env, "DEFUSE_ENCRYPTION_KEYS", ()),
            hash_key=env.get("DEFUSE_HASH_KEY", ""),
            base_url=env.get("DEFUSE_BASE_URL", defaults.base_url).rstrip("/"),
            rules_dir=Path(env.get("DEFUSE_RULES_DIR", defaults.rules_dir)),
            guides_dir=Path(env.get("DEFUSE_GUIDES_DIR", defaults.guides_dir)),
            models_dir=Path(env.get("DEFUSE_MODELS_DIR", defaults.models_dir)),
            level_thresholds=level_thresholds,  # type: ignore[arg-type]
            hotspot_min_reports=_env_int(
                env, "DEFUSE_HOTSPOT_MIN_REPORTS", defaults.hotspot_min_reports
            ),
            hotspot_window_days=_env_int(
                env, "DEFUSE_HOTSPOT_WINDOW_DAYS", defaults.hotspot_window_days
            ),
            hotspot_boost=_env_float(env, "DEFUSE_HOTSPOT_BOOST", defaults.hotspot_boost),
            staff_id_patterns=_env_list(
                env, "DEFUSE_STAFF_ID_PATTERNS", defaults.staff_id_patterns
            ),
            sla_hours=sla,
            routing_stuck_seconds=_env_int(
                env, "DEFUSE_ROUTING_STUCK_SECONDS", defaults.routing_stuck_seconds
            ),
            feedback_days=_env_int(env, "DEFUSE_FEEDBACK_DAYS", defaults.feedback_days),
            anonymity_k=_env_int(env, "DEFUSE_ANONYMITY_K", defaults.anonymity_k),
            retention_days=_env_int(env, "DEFUSE_RETENTION_DAYS", defaults.retention_days),
            max_request_bytes=_env_int(env, "DEFUSE_MAX_REQUEST_BYTES", defaults.max_request_bytes),
            trusted_proxies=_env_int(env, "DEFUSE_TRUSTED_PROXIES", defaults.trusted_proxies),
            rate_limits_enabled=_env_bool(
                env, "DEFUSE_RATE_LIMITS_ENABLED", defaults.rate_limits_enabled
            ),
            rate_limit_reports=env.get("DEFUSE_RATE_LIMIT_REPORTS", defaults.rate_limit_reports),
            rate_limit_receipts=env.get("DEFUSE_RATE_LIMIT_RECEIPTS", defaults.rate_limit_receipts),
            rate_limit_login=env.get("DEFUSE_RATE_LIMIT_LOGIN", defaults.rate_limit_login),
            session_idle_minutes=_env_int(
                env, "DEFUSE_SESSION_IDLE_MINUTES", defaults.session_idle_minutes
            ),
            session_absolute_hours=_env_int(
                env, "DEFUSE_SESSION_ABSOLUTE_HOURS", defaults.session_absolute_hours
            ),
            mail_backend=env.get("DEFUSE_MAIL_BACKEND", defaults.mail_backend),
            smtp_host=env.get("DEFUSE_SMTP_HOST", defaults.smtp_host),
            smtp_port=_env_int(env, "DEFUSE_SMTP_PORT", defaults.smtp_port),
            smtp_from=env.get("DEFUSE_SMTP_FROM", defaults.smtp_from),
            smtp_username=env.get("DEFUSE_SMTP_USERNAME", ""),
            smtp_password=env.get("DEFUSE_SMTP_PASSWORD", ""),
            smtp_starttls=_env_bool(env, "DEFUSE_SMTP_STARTTLS", defaults.smtp_starttls),
        )
        settings.check()
        return settings

    def replace(self, **changes: object) -> Settings:
        updated = replace(self, **changes)  # type: ignore[arg-type]
        updated.check()
        return updated

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def sla(self) -> dict[str, timedelta]:
        return {level: timedelta(hours=hours) for level, hours in self.sla_hours.items()}

    def check(self) -> None:
        """Refuse settings that would be unsafe or meaningless; messages name the variable."""
        if self.env not in ENVIRONMENTS:
            raise ConfigError(f"DEFUSE_ENV must be one of {', '.join(ENVIRONMENTS)}")
        if self.production:
            if self.secret_key == DEV_SECRET_KEY or len(self.secret_key) < 32:
                raise ConfigError(
                    "DEFUSE_SECRET_KEY must be set to a random value of at least 32 characters "
                    "in production"
                )
            if not self.encryption_keys:
                raise ConfigError("DEFUSE_ENCRYPTION_KEYS must be set in production")
            if not self.hash_key:
                raise ConfigError("DEFUSE_HASH_KEY must be set in production")
        low, high, critical = self.level_thresholds
        if not 0 < low < high < critical < 1:
            raise ConfigError("DEFUSE_LEVEL_THRESHOLDS must be three ascending numbers in (0, 1)")
        if self.anonymity_k < 3:
            raise ConfigError("DEFUSE_ANONYMITY_K must be at least 3")
        # The EU Whistleblowing Directive allows at most 7 days to acknowledge a report.
        for level, hours in self.sla_hours.items():
            if not 0 < hours <= 7 * 24:
                raise ConfigError(f"DEFUSE_SLA_{level.upper()}_HOURS must be between 1 and 168")
        if self.feedback_days > 90:
            raise ConfigError("DEFUSE_FEEDBACK_DAYS must be at most 90 (three months)")
        if self.mail_backend not in ("outbox", "smtp"):
            raise ConfigError("DEFUSE_MAIL_BACKEND must be 'outbox' or 'smtp'")
        if self.hotspot_min_reports < 2:
            raise ConfigError("DEFUSE_HOTSPOT_MIN_REPORTS must be at least 2")
        # More hops than there are proxies lets a client choose its own address.
        if not 0 <= self.trusted_proxies <= 5:
            raise ConfigError(
                "DEFUSE_TRUSTED_PROXIES must be the number of reverse proxies in front of the "
                "app, from 0 to 5"
            )

    def as_dict(self) -> dict[str, object]:
        return {f.name: getattr(self, f.name) for f in fields(self)}
