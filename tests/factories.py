"""Test data: the demo organisation, staff, and reports submitted through the real path."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from service.db import OrgUnit, User
from service.demo import DEMO_ORG_CSV, DEMO_PASSWORD, ensure_org, ensure_staff
from service.extensions import db
from service.org import OrgChanges, import_org

PASSWORD = DEMO_PASSWORD


@dataclass
class Org:
    units: dict[str, OrgUnit]
    staff: dict[str, User]
    unit_ids: dict[str, int]

    def unit(self, name: str) -> int:
        """A unit's id; usable after the session that loaded the units has gone."""
        return self.unit_ids[name]


def seed_org() -> Org:
    units = ensure_org()
    db.session.commit()
    ensure_staff(units)
    staff = {u.email.split("@")[0]: u for u in db.session.execute(db.select(User)).scalars()}
    return Org(units=units, staff=staff, unit_ids={name: u.id for name, u in units.items()})


def report_payload(org: Org, **overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "org_unit": org.unit("Call Centre"),
        "category": "workload",
        "text": "We keep being asked to cover extra shifts and nobody says for how long.",
        "duration": "weeks",
        "raised_before": False,
        "involved": ["my manager"],
        "desired_outcome": "conversation",
        "urgency": "normal",
        "language": "en",
    }
    payload.update(overrides)
    return payload


def import_demo_org(*, without: tuple[str, ...] = (), **renamed: str) -> OrgChanges:
    """Import the demo HR file again, through the real import, with the units named in
    `without` left out (so retired) and units renamed by external id (`HG_FIN="Money"`: the
    keyword is the unit_id with dashes as underscores)."""
    lines = []
    for line in DEMO_ORG_CSV.splitlines():
        unit_id, name, rest = line.split(",", 2)
        if name in without:
            continue
        lines.append(",".join((unit_id, renamed.get(unit_id.replace("-", "_"), name), rest)))
    return import_org(io.StringIO("\n".join(lines) + "\n"))
