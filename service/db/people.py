"""Staff accounts (Trust Leaders, leads, HR analysts, admins) and their API tokens.

Reporters have no account: they are known only by the hash of their receipt code.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db.base import Base, utcnow
from service.db.org import OrgUnit

ROLES: tuple[str, ...] = ("trust_leader", "lead", "hr_analyst", "admin")
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
    # Bumped on password change or deactivation: every existing session ends.
    session_generation: Mapped[int] = mapped_column(default=0)

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
