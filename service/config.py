"""Typed settings, read from DEFUSE_* environment variables.

`Settings.from_env()` is called by create_app, never at import time, and `Settings.check()`
refuses unsafe production settings. Tests build Settings directly with `dataclasses.replace`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import timedelta
from pathlib import Path

from service.i18n import N_
from service.vocab import LANGUAGES, LEVELS, STAFF_ROLES

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET_KEY = "dev-only-not-secret"  # noqa: S105 - marker refused in production by check()

ENVIRONMENTS = ("development", "test", "production")
# Who may sign in with a local password: everyone, nobody (single sign-on only), or only the
# named break-glass admin, for when the organisation's identity provider is down.
LOCAL_SIGN_IN_MODES = ("on", "off", "break-glass")


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


def _env_window(
    env: Mapping[str, str], name: str, default: tuple[float, float]
) -> tuple[float, float]:
    """A range of minutes written `low,high` (or one number for a fixed value)."""
    parts = _env_list(env, name, ())
    if not parts:
        return default
    try:
        numbers = [float(part) for part in parts]
    except ValueError:
        raise ConfigError(f"{name} must be minutes as 'low,high', e.g. 1,10") from None
    if len(numbers) not in (1, 2):
        raise ConfigError(f"{name} must be minutes as 'low,high', e.g. 1,10")
    return (numbers[0], numbers[-1])


def _env_list(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def _env_role_map(env: Mapping[str, str], name: str) -> dict[str, str]:
    """Claim value -> role, as `value=role,value=role` or, for values that contain commas or
    equals signs (LDAP group DNs), as a JSON object."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return {}
    if raw.startswith("{"):
        try:
            mapping = json.loads(raw)
        except ValueError:
            raise ConfigError(f"{name} is not valid JSON") from None
        if not isinstance(mapping, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
        ):
            raise ConfigError(f"{name} must map claim values (strings) to roles")
        return dict(mapping)
    mapping = {}
    for pair in raw.split(","):
        value, separator, role = pair.strip().rpartition("=")
        if not separator or not value.strip():
            raise ConfigError(f"{name} must look like 'group=role,group=role', got {pair!r}")
        mapping[value.strip()] = role.strip()
    return mapping


def _roles_or_none(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    if (env.get(name) or "").strip().lower() == "none":
        return ()
    return _env_list(env, name, default)


def _env_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    return raw.strip().lower() in ("1", "true", "yes", "on")


# In the catalogue: the reporter's pages show it in their language (an organisation's own
# DEFUSE_CRISIS_MESSAGE is shown as written).
DEFAULT_CRISIS_MESSAGE = N_(
    "If you are thinking about harming yourself, or anyone's life is in danger, please get help "
    "now: call your local emergency number, or talk to a crisis helpline in your country, day "
    "or night. You do not have to wait for your Trust Leader."
)


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
    # Lowest score of moderate, high and critical. None: the thresholds chosen for the active
    # model on validation data at training time (see its model card); set only to override.
    level_thresholds: tuple[float, float, float] | None = None
    # Hotspots (service/engine/hotspots.py): at least this many reports, improbably many for
    # the unit's headcount and history, with this false discovery rate across units.
    hotspot_min_reports: int = 3
    hotspot_window_days: int = 30
    hotspot_boost: float = 0.1
    hotspot_false_discovery_rate: float = 0.05
    hotspot_prior_reports: float = 2.0
    staff_id_patterns: tuple[str, ...] = (r"\b(?:EMP|E|ID)[-_ ]?\d{4,8}\b",)
    # Acknowledge-by deadlines per level, in hours.
    sla_hours: Mapping[str, int] = field(
        default_factory=lambda: {"critical": 4, "high": 24, "moderate": 72, "low": 168}
    )
    sla_warning_fraction: float = 0.75
    # A case still pending this long after its job was queued is queued again.
    routing_stuck_seconds: int = 120
    # With Redis configured, no worker heartbeat for this long makes /readyz report degraded
    # (and /healthz/worker fail); workers beat every 5 seconds.
    worker_heartbeat_timeout_seconds: int = 60
    # Timing that would link a report to its sender is blurred on purpose. A new case's
    # routing job waits a random time in this range (minutes) before it is queued; staff
    # notifications go out as one digest per person every `digest_minutes`, give or take up to
    # `digest_jitter_minutes` (0: each at once); a page to the leads (a critical case) goes out
    # a random time in `page_jitter_minutes` after it is raised. Without Redis all go at once.
    routing_delay_minutes: tuple[float, float] = (1.0, 10.0)
    digest_minutes: float = 15.0
    digest_jitter_minutes: float = 5.0
    page_jitter_minutes: tuple[float, float] = (1.0, 3.0)
    feedback_days: int = 90
    # The assignee is warned this many days after opening while no feedback has been given.
    feedback_warning_days: int = 80
    # A justified extension may move feedback to at most this many days after opening.
    feedback_max_days: int = 183
    # When no eligible Trust Leader speaks a report's language, route to one who speaks one
    # of these (in order) and tell the leads the case needs a speaker. Empty: leave unassigned.
    routing_fallback_languages: tuple[str, ...] = ("en",)
    # How long a submission key (form token, API Idempotency-Key) keeps a resend from filing.
    submission_key_hours: int = 24
    # Shown to a reporter whose report mentions self-harm or a threat to life; plain text.
    crisis_message: str = DEFAULT_CRISIS_MESSAGE
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
    # Staff single sign-on with OpenID Connect. No issuer: local passwords only.
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_scopes: str = "openid email profile"
    # The ID token or userinfo claim that carries the user's groups, and which group values
    # give which Defuse role. A user whose claim maps to no role is refused.
    oidc_role_claim: str = "groups"
    oidc_role_map: Mapping[str, str] = field(default_factory=dict)
    # Off: only staff an admin already created can sign in with SSO (matched by email).
    oidc_create_accounts: bool = False
    local_sign_in: str = "on"
    break_glass_admin: str = ""
    # Roles that must pass a second factor (TOTP) after their password.
    totp_required_roles: tuple[str, ...] = ("lead", "hr_analyst", "admin")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        defaults = cls()
        thresholds = _env_list(env, "DEFUSE_LEVEL_THRESHOLDS", ())
        try:
            level_thresholds = tuple(float(t) for t in thresholds) if thresholds else None
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
            hotspot_false_discovery_rate=_env_float(
                env, "DEFUSE_HOTSPOT_FALSE_DISCOVERY_RATE", defaults.hotspot_false_discovery_rate
            ),
            hotspot_prior_reports=_env_float(
                env, "DEFUSE_HOTSPOT_PRIOR_REPORTS", defaults.hotspot_prior_reports
            ),
            staff_id_patterns=_env_list(
                env, "DEFUSE_STAFF_ID_PATTERNS", defaults.staff_id_patterns
            ),
            sla_hours=sla,
            routing_stuck_seconds=_env_int(
                env, "DEFUSE_ROUTING_STUCK_SECONDS", defaults.routing_stuck_seconds
            ),
            worker_heartbeat_timeout_seconds=_env_int(
                env,
                "DEFUSE_WORKER_HEARTBEAT_TIMEOUT_SECONDS",
                defaults.worker_heartbeat_timeout_seconds,
            ),
            routing_delay_minutes=_env_window(
                env, "DEFUSE_ROUTING_DELAY_MINUTES", defaults.routing_delay_minutes
            ),
            digest_minutes=_env_float(env, "DEFUSE_DIGEST_MINUTES", defaults.digest_minutes),
            digest_jitter_minutes=_env_float(
                env, "DEFUSE_DIGEST_JITTER_MINUTES", defaults.digest_jitter_minutes
            ),
            page_jitter_minutes=_env_window(
                env, "DEFUSE_PAGE_JITTER_MINUTES", defaults.page_jitter_minutes
            ),
            feedback_days=_env_int(env, "DEFUSE_FEEDBACK_DAYS", defaults.feedback_days),
            feedback_warning_days=_env_int(
                env, "DEFUSE_FEEDBACK_WARNING_DAYS", defaults.feedback_warning_days
            ),
            feedback_max_days=_env_int(env, "DEFUSE_FEEDBACK_MAX_DAYS", defaults.feedback_max_days),
            routing_fallback_languages=_roles_or_none(
                env, "DEFUSE_ROUTING_FALLBACK_LANGUAGES", defaults.routing_fallback_languages
            ),
            submission_key_hours=_env_int(
                env, "DEFUSE_SUBMISSION_KEY_HOURS", defaults.submission_key_hours
            ),
            crisis_message=env.get("DEFUSE_CRISIS_MESSAGE", "").strip() or defaults.crisis_message,
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
            oidc_issuer=(env.get("DEFUSE_OIDC_ISSUER") or "").strip(),
            oidc_client_id=(env.get("DEFUSE_OIDC_CLIENT_ID") or "").strip(),
            oidc_client_secret=env.get("DEFUSE_OIDC_CLIENT_SECRET") or "",
            oidc_scopes=" ".join(
                (env.get("DEFUSE_OIDC_SCOPES") or defaults.oidc_scopes).replace(",", " ").split()
            ),
            oidc_role_claim=(env.get("DEFUSE_OIDC_ROLE_CLAIM") or defaults.oidc_role_claim).strip(),
            oidc_role_map=_env_role_map(env, "DEFUSE_OIDC_ROLE_MAP"),
            oidc_create_accounts=_env_bool(
                env, "DEFUSE_OIDC_CREATE_ACCOUNTS", defaults.oidc_create_accounts
            ),
            local_sign_in=(env.get("DEFUSE_LOCAL_SIGN_IN") or defaults.local_sign_in).strip(),
            break_glass_admin=(env.get("DEFUSE_BREAK_GLASS_ADMIN") or "").strip().lower(),
            totp_required_roles=_roles_or_none(
                env, "DEFUSE_TOTP_REQUIRED_ROLES", defaults.totp_required_roles
            ),
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
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer)

    @property
    def oidc_discovery_url(self) -> str:
        return self.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration"

    def password_allowed_for(self, email: str) -> bool:
        """Whether this account may sign in with its local password at all."""
        if self.local_sign_in == "on":
            return True
        return self.local_sign_in == "break-glass" and email == self.break_glass_admin

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
        thresholds = self.level_thresholds
        if thresholds is not None and not (
            len(thresholds) == 3 and 0 < thresholds[0] < thresholds[1] < thresholds[2] < 1
        ):
            raise ConfigError("DEFUSE_LEVEL_THRESHOLDS must be three ascending numbers in (0, 1)")
        if self.anonymity_k < 3:
            raise ConfigError("DEFUSE_ANONYMITY_K must be at least 3")
        # The EU Whistleblowing Directive allows at most 7 days to acknowledge a report.
        for level, hours in self.sla_hours.items():
            if not 0 < hours <= 7 * 24:
                raise ConfigError(f"DEFUSE_SLA_{level.upper()}_HOURS must be between 1 and 168")
        if self.feedback_days > 90:
            raise ConfigError("DEFUSE_FEEDBACK_DAYS must be at most 90 (three months)")
        if not 0 < self.feedback_warning_days < self.feedback_days:
            raise ConfigError(
                "DEFUSE_FEEDBACK_WARNING_DAYS must be between 1 and DEFUSE_FEEDBACK_DAYS"
            )
        # Art. 9(1)(f): three months, or six in duly justified cases.
        if not self.feedback_days <= self.feedback_max_days <= 183:
            raise ConfigError(
                "DEFUSE_FEEDBACK_MAX_DAYS must be between the feedback days and 183 (six months)"
            )
        unknown = set(self.routing_fallback_languages) - set(LANGUAGES)
        if unknown:
            listed = ", ".join(sorted(unknown))
            raise ConfigError(f"DEFUSE_ROUTING_FALLBACK_LANGUAGES has unknown languages: {listed}")
        if not 1 <= self.submission_key_hours <= 7 * 24:
            raise ConfigError("DEFUSE_SUBMISSION_KEY_HOURS must be between 1 and 168")
        if self.mail_backend not in ("outbox", "smtp"):
            raise ConfigError("DEFUSE_MAIL_BACKEND must be 'outbox' or 'smtp'")
        # Workers beat every 5 s: a shorter timeout would call a healthy worker missing.
        if self.worker_heartbeat_timeout_seconds < 15:
            raise ConfigError("DEFUSE_WORKER_HEARTBEAT_TIMEOUT_SECONDS must be at least 15")
        if self.hotspot_min_reports < 2:
            raise ConfigError("DEFUSE_HOTSPOT_MIN_REPORTS must be at least 2")
        if not 0 < self.hotspot_false_discovery_rate < 1:
            raise ConfigError("DEFUSE_HOTSPOT_FALSE_DISCOVERY_RATE must be between 0 and 1")
        if not self.hotspot_prior_reports > 0:
            raise ConfigError("DEFUSE_HOTSPOT_PRIOR_REPORTS must be more than 0")
        # More hops than there are proxies lets a client choose its own address.
        if not 0 <= self.trusted_proxies <= 5:
            raise ConfigError(
                "DEFUSE_TRUSTED_PROXIES must be the number of reverse proxies in front of the "
                "app, from 0 to 5"
            )
        self._check_timing()
        self._check_sign_in()

    def _check_timing(self) -> None:
        for name, (low, high) in (
            ("DEFUSE_ROUTING_DELAY_MINUTES", self.routing_delay_minutes),
            ("DEFUSE_PAGE_JITTER_MINUTES", self.page_jitter_minutes),
        ):
            if not 0 <= low <= high <= 60:
                raise ConfigError(f"{name} must be 'low,high' with 0 <= low <= high <= 60")
        if not 0 <= self.digest_minutes <= 240:
            raise ConfigError("DEFUSE_DIGEST_MINUTES must be between 0 and 240")
        if not 0 <= self.digest_jitter_minutes <= self.digest_minutes:
            raise ConfigError(
                "DEFUSE_DIGEST_JITTER_MINUTES must be between 0 and DEFUSE_DIGEST_MINUTES"
            )
        if self.production:
            # Zero would send staff the moment a report arrives: the timing link this breaks.
            if self.routing_delay_minutes[1] <= 0:
                raise ConfigError("DEFUSE_ROUTING_DELAY_MINUTES must not be 0 in production")
            if self.digest_minutes <= 0:
                raise ConfigError("DEFUSE_DIGEST_MINUTES must not be 0 in production")
            if self.page_jitter_minutes[0] < 1:
                raise ConfigError(
                    "DEFUSE_PAGE_JITTER_MINUTES must start at 1 minute or more in production"
                )

    def _check_sign_in(self) -> None:
        unknown = set(self.totp_required_roles) - set(STAFF_ROLES)
        if unknown:
            raise ConfigError(
                f"DEFUSE_TOTP_REQUIRED_ROLES: unknown role(s) {', '.join(sorted(unknown))}; "
                f"use {', '.join(STAFF_ROLES)} or 'none'"
            )
        if self.local_sign_in not in LOCAL_SIGN_IN_MODES:
            raise ConfigError(
                f"DEFUSE_LOCAL_SIGN_IN must be one of {', '.join(LOCAL_SIGN_IN_MODES)}"
            )
        if self.local_sign_in != "on" and not self.oidc_enabled:
            raise ConfigError(
                "DEFUSE_LOCAL_SIGN_IN=off or break-glass needs DEFUSE_OIDC_ISSUER: "
                "otherwise nobody could sign in"
            )
        if self.local_sign_in == "break-glass" and "@" not in self.break_glass_admin:
            raise ConfigError(
                "DEFUSE_BREAK_GLASS_ADMIN must be the email of the admin account that keeps "
                "its password when DEFUSE_LOCAL_SIGN_IN=break-glass"
            )
        if not self.oidc_enabled:
            if self.oidc_client_id or self.oidc_client_secret or self.oidc_role_map:
                raise ConfigError("DEFUSE_OIDC_ISSUER must be set to use the other DEFUSE_OIDC_*")
            return
        if not self.oidc_issuer.startswith(("https://", "http://")):
            raise ConfigError("DEFUSE_OIDC_ISSUER must be an https:// URL")
        if self.production and not self.oidc_issuer.startswith("https://"):
            raise ConfigError("DEFUSE_OIDC_ISSUER must use https:// in production")
        if not self.oidc_client_id or not self.oidc_client_secret:
            raise ConfigError(
                "DEFUSE_OIDC_CLIENT_ID and DEFUSE_OIDC_CLIENT_SECRET must be set with "
                "DEFUSE_OIDC_ISSUER"
            )
        if "openid" not in self.oidc_scopes.split():
            raise ConfigError("DEFUSE_OIDC_SCOPES must include openid")
        if not self.oidc_role_claim:
            raise ConfigError("DEFUSE_OIDC_ROLE_CLAIM must name a claim, e.g. groups")
        if not self.oidc_role_map:
            raise ConfigError(
                "DEFUSE_OIDC_ROLE_MAP must map at least one claim value to a role, "
                "e.g. defuse-leaders=trust_leader"
            )
        bad = {role for role in self.oidc_role_map.values() if role not in STAFF_ROLES}
        if bad:
            raise ConfigError(
                f"DEFUSE_OIDC_ROLE_MAP: unknown role(s) {', '.join(sorted(bad))}; "
                f"roles are {', '.join(STAFF_ROLES)}"
            )

    def as_dict(self) -> dict[str, object]:
        return {f.name: getattr(self, f.name) for f in fields(self)}
