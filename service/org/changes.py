"""What an import would change: the HR file's rows against the units stored now.

Units are matched on their external id only, so a unit keeps its database id (and with it
its reports, rollups and staff) when the file renames it, moves it or retires it. A unit
absent from the file is retired, never deleted; a retired unit named again is reactivated.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from service.db import OrgUnit
from service.org.csvfile import UnitRow

KINDS: tuple[str, ...] = (
    "created",
    "renamed",
    "moved",
    "retired",
    "reactivated",
    "headcount changed",
)
ROOT = "(top level)"


@dataclass(frozen=True)
class Change:
    kind: str  # one of KINDS
    unit_id: str  # the organisation's id
    before: str | None = None
    after: str | None = None

    def describe(self) -> str:
        if self.kind in ("renamed", "moved", "headcount changed"):
            return f"{self.unit_id}: {self.before} -> {self.after}"
        if self.kind == "created":
            return f"{self.unit_id}: {self.after}"
        return f"{self.unit_id}: {self.before}"


@dataclass
class OrgChanges:
    units_in_file: int
    changes: list[Change] = field(default_factory=list)
    # Active Trust Leaders and leads whose unit the import retires: routing can no longer
    # rule out a conflict of interest for them, so they get no cases until moved.
    stranded_staff: list[str] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[Change]:
        return [change for change in self.changes if change.kind == kind]

    def counts(self) -> dict[str, int]:
        return {kind: len(self.of_kind(kind)) for kind in KINDS}

    @property
    def nothing_to_do(self) -> bool:
        return not self.changes


def plan_import(rows: Sequence[UnitRow], stored: Iterable[OrgUnit]) -> OrgChanges:
    """The changes that make the stored units match the file (no database access)."""
    stored = list(stored)
    by_external = {unit.external_id: unit for unit in stored}
    external_of = {unit.id: unit.external_id for unit in stored}
    in_file = {row.unit_id for row in rows}
    result = OrgChanges(units_in_file=len(rows))
    add = result.changes.append
    for row in rows:
        unit = by_external.get(row.unit_id)
        if unit is None:
            add(Change("created", row.unit_id, after=f"{row.name!r} under {_place(row)}"))
            continue
        if unit.retired:
            add(Change("reactivated", row.unit_id, before=repr(unit.name)))
        if unit.name != row.name:
            add(Change("renamed", row.unit_id, repr(unit.name), repr(row.name)))
        parent_before = external_of.get(unit.parent_id) if unit.parent_id else None
        if parent_before != row.parent_unit_id:
            add(Change("moved", row.unit_id, parent_before or ROOT, row.parent_unit_id or ROOT))
        if unit.headcount != row.headcount:
            before = "unknown" if unit.headcount is None else str(unit.headcount)
            add(Change("headcount changed", row.unit_id, before, str(row.headcount)))
    for unit in stored:
        if unit.external_id not in in_file and not unit.retired:
            add(Change("retired", unit.external_id, before=repr(unit.name)))
    order = {kind: i for i, kind in enumerate(KINDS)}
    result.changes.sort(key=lambda change: order[change.kind])
    return result


def _place(row: UnitRow) -> str:
    return row.parent_unit_id or ROOT


LISTED_PER_KIND = 100  # a first import creates every unit: list some, count all


def report_lines(changes: OrgChanges, *, dry_run: bool = False) -> list[str]:
    """What `defuse org import` prints: a count and the ids for each kind of change."""
    if changes.nothing_to_do:
        return [
            f"no changes: the organisation already matches the file ({changes.units_in_file} units)"
        ]
    lines: list[str] = []
    for kind in KINDS:
        found = changes.of_kind(kind)
        lines.append(f"{kind}: {len(found)}")
        lines += [f"  {change.describe()}" for change in found[:LISTED_PER_KIND]]
        if len(found) > LISTED_PER_KIND:
            lines.append(f"  ... and {len(found) - LISTED_PER_KIND} more")
    if changes.stranded_staff:
        lines.append(
            f"warning: {len(changes.stranded_staff)} Trust Leader(s) or lead(s) work in units "
            "this retires and will get no cases until moved to an active unit: "
            + ", ".join(changes.stranded_staff)
        )
    total = len(changes.changes)
    lines.append(
        f"dry run: {total} change(s) to {changes.units_in_file} units in the file; "
        "nothing was written"
        if dry_run
        else f"imported: {total} change(s); the organisation has {changes.units_in_file} "
        "active units"
    )
    return lines
