"""Staff accounts (Trust Leaders, leads, HR analysts, admins) and their API tokens.

Reporters have no account: they are known only by the hash of their receipt code.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Boolean, Date, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db.base import Base, utcnow
from service.db.org import OrgUnit
from service.privacy.crypto import EncryptedText
from service.vocab import STAFF_ROLES

ROLES: tuple[str, ...] = STAFF_ROLES
CASE_WORKER_ROLES = frozenset({"trust_leader", "lead"})


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Bumped on password change, second-factor reset or deactivation: every session ends.
    session_generation: Mapped[int] = mapped_column(default=0)

    # Second factor (TOTP, RFC 6238). The secret is encrypted at rest like case text; it is
    # set when enrolment starts and counts only once `totp_enabled_at` is set (confirmed).
    totp_secret: Mapped[str | None] = mapped_column(EncryptedText)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The time step of the last accepted code: the same code is never accepted twice.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    # The identity provider's subject ("sub") once the account signed in with single sign-on;
    # from then on only that identity can use this account.
    sso_subject: Mapped[str | None] = mapped_column(String(255), unique=True)

    # Trust Leader profile, used by routing.
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    languages: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["en"])
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    capacity: Mapped[int] = mapped_column(default=8)
    away_until: Mapped[date | None] = mapped_column(Date)
    on_call: Mapped[bool] = mapped_column(Boolean, default=False)
    last_assigned_at: Mapped[datetime | None] = mapped_column(DateTime)

    org_unit: Mapped[OrgUnit | None] = relationship()

    @property
    def has_second_factor(self) -> bool:
        return self.totp_enabled_at is not None

    @property
    def works_cases(self) -> bool:
        return self.role in CASE_WORKER_ROLES

    def is_away(self, today: date) -> bool:
        return self.away_until is not None and self.away_until >= today


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # Keyed SHA-256 of the token; the token is printed once and never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship()


class RecoveryCode(Base):
    """One-time codes for when the authenticator is lost; only argon2id hashes are kept."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)
