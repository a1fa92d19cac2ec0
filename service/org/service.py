"""The org unit tree in the database: importing the HR file, an admin's edit of one unit, and
the materialised paths both keep right.

Both writers leave the tree the same shape: every active unit's parent is active, no unit is
its own ancestor, and `path`/`depth` match the parents. Retired units keep the parent they
had, so their history still adds up into the units above them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TextIO

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from service.audit import record
from service.db import OrgUnit, User, utcnow
from service.db.org import NAME_MAX
from service.db.people import CASE_WORKER_ROLES
from service.extensions import db
from service.org.changes import OrgChanges, plan_import
from service.org.csvfile import HEADCOUNT_MAX, UnitRow, read_org_csv
from service.schemas.messages import Phrase


class OrgEditError(ValueError):
    """An edit refused; `field` names the form field at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


# --- reading the tree -------------------------------------------------------------------------


def in_tree_order(units: Iterable[OrgUnit]) -> list[OrgUnit]:
    """Parents before children, siblings by name: how every list of units is shown."""
    units = list(units)
    ids = {unit.id for unit in units}
    children: dict[int | None, list[OrgUnit]] = {}
    for unit in sorted(units, key=lambda u: (u.name.casefold(), u.id)):
        parent = unit.parent_id if unit.parent_id in ids else None
        children.setdefault(parent, []).append(unit)
    ordered: list[OrgUnit] = []
    seen: set[int] = set()
    stack = list(reversed(children.get(None, [])))
    while stack:
        unit = stack.pop()
        if unit.id in seen:
            continue
        seen.add(unit.id)
        ordered.append(unit)
        stack.extend(reversed(children.get(unit.id, [])))
    return ordered


def all_units() -> list[OrgUnit]:
    return in_tree_order(db.session.execute(db.select(OrgUnit)).scalars())


def active_units() -> list[OrgUnit]:
    """The units a reporter may choose and staff may be placed in."""
    return in_tree_order(
        db.session.execute(db.select(OrgUnit).where(OrgUnit.retired_at.is_(None))).scalars()
    )


def find_unit(external_id: str) -> OrgUnit | None:
    """The unit the organisation calls `external_id` (the unit_id of its HR file)."""
    return db.session.execute(
        db.select(OrgUnit).where(OrgUnit.external_id == external_id.strip())
    ).scalar_one_or_none()


def recompute_paths() -> int:
    """Set every unit's `path` and `depth` from its parents; returns how many changed. Run
    after any move: a unit's path is its ancestors' ids, so a move changes the paths of the
    unit and of everything below it."""
    units = {unit.id: unit for unit in db.session.execute(db.select(OrgUnit)).scalars()}
    paths: dict[int, str] = {}
    changed = 0
    for unit in units.values():
        chain: list[OrgUnit] = []
        current: OrgUnit | None = unit
        while current is not None and current.id not in paths:
            if current in chain:  # never written by the importer or the admin page
                raise RuntimeError(f"org unit {current.id} is its own ancestor")
            chain.append(current)
            current = units.get(current.parent_id) if current.parent_id else None
        above = paths[current.id] if current is not None else "/"
        for link in reversed(chain):
            above = paths[link.id] = f"{above}{link.id}/"
    for unit in units.values():
        depth = paths[unit.id].count("/") - 2
        if unit.path != paths[unit.id] or unit.depth != depth:
            unit.path, unit.depth = paths[unit.id], depth
            changed += 1
    return changed


# --- the HR file ------------------------------------------------------------------------------


class ConcurrentChange(RuntimeError):
    """Another import or edit wrote the tree at the same time; nothing of this one was kept."""


def import_org(stream: TextIO, *, dry_run: bool = False) -> OrgChanges:
    """Make the units match the HR file, in one transaction, or refuse the whole file
    (OrgFileError, every problem with its line) and write nothing. With dry_run, say what
    would change and write nothing."""
    rows = read_org_csv(stream)
    stored = _lock_tree()
    changes = plan_import(rows, stored)
    retiring = {c.unit_id for c in changes.of_kind("retired")}
    changes.stranded_staff = case_workers_in(
        [unit.id for unit in stored if unit.external_id in retiring]
    )
    if dry_run or changes.nothing_to_do:
        db.session.rollback()
        return changes

    by_external = {unit.external_id: unit for unit in stored}
    now = utcnow()
    try:
        # Level by level from the roots, flushing each, so every new parent has its id before
        # its children need it. Parents are set by id: the ORM's relationship bookkeeping
        # would see a cycle in the old and new parents of units that swap places.
        for level in _levels(rows):
            for row in level:
                parent_id = by_external[row.parent_unit_id].id if row.parent_unit_id else None
                unit = by_external.get(row.unit_id)
                if unit is None:
                    unit = OrgUnit(external_id=row.unit_id, path="/", depth=0)
                    db.session.add(unit)
                    by_external[row.unit_id] = unit
                # An unchanged value writes nothing: the ORM updates only what differs.
                unit.name, unit.parent_id, unit.headcount = row.name, parent_id, row.headcount
                unit.retired_at = None
            db.session.flush()
        for unit in stored:
            if unit.external_id in retiring:
                unit.retired_at = now
        db.session.flush()
        recompute_paths()
        record(
            "org.imported",
            units=changes.units_in_file,
            **{kind.replace(" ", "_"): n for kind, n in changes.counts().items()},
        )
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        if "external_id" not in str(error.orig):
            raise
        # Only a unit created meanwhile by another import can clash with one created here.
        raise ConcurrentChange(
            "another import or edit changed the organisation at the same time; "
            "nothing was imported: run the import again"
        ) from None
    return changes


def _levels(rows: list[UnitRow]) -> list[list[UnitRow]]:
    """The rows by depth, roots first (rows come parents first)."""
    depth: dict[str, int] = {}
    levels: list[list[UnitRow]] = []
    for row in rows:
        depth[row.unit_id] = depth[row.parent_unit_id] + 1 if row.parent_unit_id else 0
        if depth[row.unit_id] == len(levels):
            levels.append([])
        levels[depth[row.unit_id]].append(row)
    return levels


def _lock_tree() -> list[OrgUnit]:
    """Every unit, read afresh after taking the tree for this transaction: a concurrent import
    or edit waits until this one commits, so neither checks the tree's shape against a state
    the other is changing. Reports may still be filed meanwhile."""
    if db.session.get_bind().dialect.name == "sqlite":
        # SQLite has no row locks, and a read takes none: a write, even of no row, takes the
        # database's write lock now, before the tree is read.
        db.session.execute(
            db.update(OrgUnit)
            .where(sa.false())
            .values(path=OrgUnit.path)
            .execution_options(synchronize_session=False)
        )
    # FOR NO KEY UPDATE on PostgreSQL: it waits for other importers and editors but not for a
    # report's foreign-key check on its unit (which FOR UPDATE would block).
    return list(
        db.session.execute(
            db.select(OrgUnit)
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        ).scalars()
    )


def case_workers_in(unit_ids: list[int]) -> list[str]:
    """The active Trust Leaders and leads placed in these units, by email."""
    if not unit_ids:
        return []
    return list(
        db.session.execute(
            db.select(User.email)
            .where(
                User.org_unit_id.in_(unit_ids),
                User.role.in_(CASE_WORKER_ROLES),
                User.active.is_(True),
            )
            .order_by(User.email)
        ).scalars()
    )


# --- an admin's edit --------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitEdit:
    name: str
    parent_id: int | None
    headcount: int | None
    retired: bool
    is_hr: bool


def update_unit(unit: OrgUnit, edit: UnitEdit) -> list[str]:
    """Apply an admin's edit, keeping the tree whole; returns the names of the fields that
    changed (audited). Raises OrgEditError naming the field. The caller commits."""
    _lock_tree()
    name = " ".join(edit.name.split())
    if not name:
        raise OrgEditError("name", Phrase.gettext("Enter the unit's name."))
    if len(name) > NAME_MAX:
        raise OrgEditError("name", Phrase.gettext("Use at most %(max)s characters.", max=NAME_MAX))
    if edit.headcount is not None and not 0 <= edit.headcount <= HEADCOUNT_MAX:
        raise OrgEditError("headcount", Phrase.gettext("Must be 0 to %(max)s.", max=HEADCOUNT_MAX))
    parent = _checked_parent(unit, edit.parent_id, edit.retired)
    if edit.retired and not unit.retired:
        active_children = db.session.scalar(
            db.select(db.func.count(OrgUnit.id)).where(
                OrgUnit.parent_id == unit.id, OrgUnit.retired_at.is_(None)
            )
        )
        if active_children:
            raise OrgEditError(
                "retired",
                Phrase.ngettext(
                    "%(num)s active unit sits below this one: move or retire it first.",
                    "%(num)s active units sit below this one: move or retire them first.",
                    active_children,
                ),
            )

    changed: list[str] = []
    for field_name, value in (
        ("name", name),
        ("parent_id", parent.id if parent else None),
        ("headcount", edit.headcount),
        ("is_hr", edit.is_hr),
    ):
        if getattr(unit, field_name) != value:
            setattr(unit, field_name, value)
            changed.append(field_name)
    if edit.retired != unit.retired:
        unit.retired_at = utcnow() if edit.retired else None
        changed.append("retired")
    if not changed:
        return changed
    db.session.flush()
    if "parent_id" in changed:
        recompute_paths()
    record(
        "org_unit.updated", org_unit=unit.id, external_id=unit.external_id, fields=sorted(changed)
    )
    return changed


def _checked_parent(unit: OrgUnit, parent_id: int | None, retired: bool) -> OrgUnit | None:
    if parent_id is None:
        return None
    parent = db.session.get(OrgUnit, parent_id)
    if parent is None:
        raise OrgEditError("parent_id", Phrase.gettext("Choose a unit from the list."))
    if parent.id == unit.id:
        raise OrgEditError("parent_id", Phrase.gettext("A unit cannot be its own parent."))
    ancestor: OrgUnit | None = parent
    while ancestor is not None:
        if ancestor.id == unit.id:
            raise OrgEditError(
                "parent_id",
                Phrase.gettext(
                    "%(unit)s is inside this unit: moving it there would make a cycle.",
                    unit=parent.name,
                ),
            )
        ancestor = ancestor.parent
    if parent.retired and not retired:
        raise OrgEditError(
            "parent_id",
            Phrase.gettext("%(unit)s is retired: choose an active unit.", unit=parent.name),
        )
    return parent
