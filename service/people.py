"""Staff accounts and the staff directory: the operations the CLI and the admin page share."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TextIO

from service import passwords
from service.audit import record
from service.db import ApiToken, DirectoryName, OrgUnit, User, utcnow
from service.db.people import CASE_WORKER_ROLES, ROLES
from service.extensions import db
from service.schemas.messages import Phrase
from service.vocab import CATEGORIES, LANGUAGES


class PeopleError(ValueError):
    """A refused account change; `field` names the form field at fault ("_form" if none)."""

    def __init__(self, message: str, field: str = "_form") -> None:
        super().__init__(message)
        self.field = field
        # A Phrase (service/schemas/messages.py): English as a string, in the reader's
        # language through translated().
        self.message = message


def _check_profile(
    role: str, org_unit_id: int | None, categories: Iterable[str], languages: Iterable[str]
) -> None:
    if role not in ROLES:
        raise PeopleError(
            Phrase.gettext("role must be one of %(roles)s", roles=", ".join(ROLES)), "role"
        )
    unknown = set(categories) - set(CATEGORIES)
    if unknown:
        raise PeopleError(
            Phrase.gettext("unknown categories: %(codes)s", codes=", ".join(sorted(unknown))),
            "categories",
        )
    unknown = set(languages) - set(LANGUAGES)
    if unknown:
        raise PeopleError(
            Phrase.gettext("unknown languages: %(codes)s", codes=", ".join(sorted(unknown))),
            "languages",
        )
    if org_unit_id is not None and db.session.get(OrgUnit, org_unit_id) is None:
        raise PeopleError(
            Phrase.gettext("no org unit with id %(id)s", id=str(org_unit_id)), "org_unit_id"
        )


def _check_placement(
    role: str, org_unit_id: int | None, active: bool, current_unit_id: int | None
) -> None:
    """An active Trust Leader or lead needs the (active) unit they work in: routing keeps them
    away from cases in their own line of management, and without the unit gives them none.
    A retired unit an account is already in may stay, so other fields can still be saved (the
    admin page warns about it); an inactive account is routed nothing anyway."""
    if role not in CASE_WORKER_ROLES or not active:
        return
    if org_unit_id is None:
        raise PeopleError(
            Phrase.gettext(
                "A Trust Leader or lead needs the org unit they work in: without it routing "
                "cannot rule out a conflict of interest and gives them no case."
            ),
            "org_unit_id",
        )
    unit = db.session.get(OrgUnit, org_unit_id)
    if unit is not None and unit.retired and org_unit_id != current_unit_id:
        raise PeopleError(
            Phrase.gettext(
                "%(unit)s is retired: choose the unit they work in now.", unit=unit.name
            ),
            "org_unit_id",
        )


def create_user(
    *,
    email: str,
    role: str,
    password: str | None,
    name: str = "",
    org_unit_id: int | None = None,
    categories: Iterable[str] = (),
    languages: Iterable[str] = ("en",),
    capacity: int = 8,
    on_call: bool = False,
    active: bool = True,
    commit: bool = True,
) -> User:
    """A new account. `password=None`: one that signs in only with single sign-on. An inactive
    Trust Leader or lead may be made without a unit (an admin places and activates them)."""
    email = email.strip().lower()
    if "@" not in email:
        raise PeopleError(Phrase.gettext("email must be an email address"), "email")
    if password is not None:
        check_new_password(password, email, name)
    categories, languages = list(categories), list(languages) or ["en"]
    _check_profile(role, org_unit_id, categories, languages)
    _check_placement(role, org_unit_id, active, None)
    if db.session.execute(db.select(User.id).where(User.email == email)).first():
        raise PeopleError(
            Phrase.gettext("an account for %(email)s already exists", email=email), "email"
        )
    if role in ("trust_leader", "lead") and not categories:
        categories = list(CATEGORIES)
    user = User(
        email=email,
        role=role,
        name=name or email.split("@")[0],
        password_hash=passwords.hash_secret(password) if password else passwords.NO_PASSWORD,
        org_unit_id=org_unit_id,
        categories=categories,
        languages=languages,
        capacity=capacity,
        on_call=on_call,
        active=active,
    )
    db.session.add(user)
    db.session.flush()
    record("staff.created", target_user=user.id, role=role)
    if commit:
        db.session.commit()
    return user


def check_new_password(password: str, email: str, name: str = "") -> None:
    problem = passwords.password_problem(password, (email, name))
    if problem:
        raise PeopleError(problem, "password")


def set_password(user: User, password: str) -> None:
    """An admin's reset: checked like any new password; ends the account's sessions. The
    caller commits."""
    check_new_password(password, user.email, user.name)
    update_profile(user, password_hash=passwords.hash_secret(password))


def edit_profile(user: User, profile: dict[str, object]) -> dict[str, object]:
    """An admin saves an account's whole profile form: checked as a whole (an active Trust
    Leader or lead needs their org unit), then what differs is applied. Returns the changes;
    the caller commits."""
    _check_placement(
        str(profile.get("role", user.role)),
        profile.get("org_unit_id", user.org_unit_id),  # type: ignore[arg-type]
        bool(profile.get("active", user.active)),
        user.org_unit_id,
    )
    changes = {name: value for name, value in profile.items() if getattr(user, name) != value}
    if changes:
        update_profile(user, **changes)
    return changes


def update_profile(user: User, **changes: object) -> None:
    """Apply admin changes to an account; deactivation, a new role or a new password end its
    sessions. The caller commits."""
    role = str(changes.get("role", user.role))
    categories = list(changes.get("categories", user.categories))  # type: ignore[call-overload]
    languages = list(changes.get("languages", user.languages))  # type: ignore[call-overload]
    org_unit_id = changes.get("org_unit_id", user.org_unit_id)
    _check_profile(role, org_unit_id, categories, languages)  # type: ignore[arg-type]
    # A new role or password, or deactivation: sessions opened under the old ones end.
    ends_sessions = (
        changes.get("active") is False
        or "password_hash" in changes
        or ("role" in changes and changes["role"] != user.role)
    )
    for name, value in changes.items():
        setattr(user, name, value)
    if ends_sessions:
        user.session_generation += 1
    record("staff.updated", target_user=user.id, fields=sorted(changes))


def import_directory(stream: TextIO, replace: bool = False) -> int:
    from service.privacy import forget_scrubber
    from service.privacy.directory import parse_staff_csv

    names = parse_staff_csv(stream)
    if replace:
        db.session.execute(db.delete(DirectoryName))
    db.session.add_all(DirectoryName(first=n.first, last=n.last) for n in names)
    record("directory.imported", count=len(names), replace=replace)
    db.session.commit()
    forget_scrubber()
    return len(names)


def revoke_api_tokens(user: User) -> int:
    """Revoke every live API token of the account; returns how many. The caller commits."""
    tokens = db.session.execute(
        db.select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).scalars()
    count = 0
    for token in tokens:
        token.revoked_at = utcnow()
        count += 1
    if count:
        record("token.revoked", target_user=user.id, count=count, reason="password_reset")
    return count
