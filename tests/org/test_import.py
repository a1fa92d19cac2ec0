"""`defuse org import`: the organisation from its HR file, as an operator runs it (on SQLite, or
the PostgreSQL of DEFUSE_TEST_DATABASE_URL)."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from service.db import AuditEvent, OrgUnit, Report
from service.extensions import db
from service.org import import_org
from service.people import create_user

HEADER = "unit_id,name,parent_unit_id,headcount\n"
FIRST = (
    HEADER + "G,Group,,10\n"
    "OPS,Operations,G,5\n"
    "WN,Warehouse North,OPS,100\n"
    "WN-A,Night shift,WN,30\n"
    "FIN,Finance,G,12\n"
    "PAY,Payroll,FIN,4\n"
)


@pytest.fixture
def run(app, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Run `defuse org import` on CSV text; returns the click result."""
    runner = app.test_cli_runner()

    def invoke(text: str, *options: str):  # type: ignore[no-untyped-def]
        path = tmp_path / "org.csv"
        path.write_text(text, encoding="utf-8")
        result = runner.invoke(args=["org", "import", str(path), *options])
        db.session.remove()  # what the command wrote, read afresh
        return result

    return invoke


def units() -> dict[str, OrgUnit]:
    return {u.external_id: u for u in db.session.execute(select(OrgUnit)).scalars()}


def snapshot() -> list[tuple]:  # type: ignore[type-arg]
    return [
        (u.id, u.external_id, u.name, u.parent_id, u.path, u.depth, u.headcount, u.retired_at)
        for u in db.session.execute(select(OrgUnit).order_by(OrgUnit.id)).scalars()
    ]


def test_a_first_import_creates_the_tree_and_a_second_changes_nothing(run):
    first = run(FIRST)
    assert first.exit_code == 0, first.output
    assert "created: 6" in first.output
    assert "  WN-A: 'Night shift' under WN" in first.output
    assert "imported: 6 change(s)" in first.output

    found = units()
    group, ops, north, night = found["G"], found["OPS"], found["WN"], found["WN-A"]
    assert (group.parent_id, group.path, group.depth) == (None, f"/{group.id}/", 0)
    assert night.parent_id == north.id
    assert night.path == f"/{group.id}/{ops.id}/{north.id}/{night.id}/" and night.depth == 3
    assert (north.name, north.headcount, north.retired) == ("Warehouse North", 100, False)

    before = snapshot()
    again = run(FIRST)
    assert again.exit_code == 0, again.output
    assert again.output.strip() == (
        "no changes: the organisation already matches the file (6 units)"
    )
    assert snapshot() == before


def test_renames_moves_retirements_and_headcounts_keep_each_unit_and_its_reports(run, app):
    run(FIRST)
    before = {external_id: unit.id for external_id, unit in units().items()}
    report = Report(
        org_unit_id=before["WN-A"],
        category="workload",
        raised_with=[],
        involved=[],
        language="en",
        text="x" * 30,
        redactions={},
        submitted_on=date(2026, 1, 5),
        receipt_hash="a" * 64,
        risk_score=0.2,
        risk_level="low",
    )
    db.session.add(report)
    db.session.commit()
    report_id = report.id

    result = run(
        HEADER + "G,Group,,10\n"
        "OPS,Operations and Logistics,G,5\n"  # renamed
        "WN,Warehouse North,FIN,100\n"  # moved, with its sub-unit
        "WN-A,Night shift,WN,31\n"  # headcount changed
        "FIN,Finance,G,12\n"
        "NEW,Procurement,FIN,3\n"  # created; PAY is absent: retired
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for expected in (
        "created: 1",
        "  NEW: 'Procurement' under FIN",
        "renamed: 1",
        "  OPS: 'Operations' -> 'Operations and Logistics'",
        "moved: 1",
        "  WN: OPS -> FIN",
        "retired: 1",
        "  PAY: 'Payroll'",
        "reactivated: 0",
        "headcount changed: 1",
        "  WN-A: 30 -> 31",
    ):
        assert expected in lines, result.output

    after = units()
    # The same rows: their ids, and so their reports, rollups and staff, stay put.
    assert {k: u.id for k, u in after.items() if k in before} == before
    group, fin, north, night = after["G"], after["FIN"], after["WN"], after["WN-A"]
    assert north.parent_id == fin.id
    assert north.path == f"/{group.id}/{fin.id}/{north.id}/" and north.depth == 2
    assert night.path == f"/{group.id}/{fin.id}/{north.id}/{night.id}/" and night.depth == 3
    assert after["PAY"].retired and after["PAY"].parent_id == fin.id  # kept, where it was
    assert db.session.get(Report, report_id).org_unit_id == night.id

    event = (
        db.session.execute(
            select(AuditEvent).where(AuditEvent.action == "org.imported").order_by(AuditEvent.id)
        )
        .scalars()
        .all()[-1]
    )
    assert event.actor_kind == "system"
    assert event.detail == {
        "units": 6,
        "created": 1,
        "renamed": 1,
        "moved": 1,
        "retired": 1,
        "reactivated": 0,
        "headcount_changed": 1,
    }


def test_a_retired_unit_named_again_is_reactivated(run):
    run(FIRST)
    run(FIRST.replace("PAY,Payroll,FIN,4\n", ""))
    assert units()["PAY"].retired
    result = run(FIRST)
    assert "reactivated: 1" in result.output and "  PAY: 'Payroll'" in result.output
    assert not units()["PAY"].retired


def test_moves_that_swap_places_recompute_every_path(run):
    run(FIRST)
    # Warehouse North goes to the top; Operations, its old parent, goes under its old child.
    result = run(
        FIRST.replace("OPS,Operations,G,5", "OPS,Operations,WN-A,5").replace(
            "WN,Warehouse North,OPS,100", "WN,Warehouse North,,100"
        )
    )
    assert result.exit_code == 0, result.output
    found = units()
    north, night, ops = found["WN"], found["WN-A"], found["OPS"]
    assert (north.path, north.depth) == (f"/{north.id}/", 0)
    assert ops.path == f"/{north.id}/{night.id}/{ops.id}/" and ops.depth == 2
    for unit in found.values():  # every path is its parent's plus its own id
        parent = found_by_id(found, unit.parent_id)
        assert unit.path == (parent.path if parent else "/") + f"{unit.id}/"


def found_by_id(found: dict[str, OrgUnit], unit_id: int | None) -> OrgUnit | None:
    return next((u for u in found.values() if u.id == unit_id), None)


@pytest.mark.parametrize(
    ("bad_row", "expected"),
    [
        ("X,Loop,Y,1\nY,Loop back,X,1", "line 8: a cycle of parents 'X' -> 'Y' -> 'X'"),
        ("X,Orphan,NOWHERE,1", "line 8: parent_unit_id 'NOWHERE' is not a unit_id in this file"),
        ("PAY,Payroll again,FIN,4", "line 8: unit_id 'PAY' appears again (first on line 7)"),
        ("X,Minus,G,-1", "line 8: headcount '-1' is negative"),
        ("X,Fraction,G,1.5", "line 8: headcount '1.5' is not a whole number"),
        ("X,,G,1", "line 8: name is missing"),
    ],
)
def test_a_bad_row_refuses_the_whole_file_and_changes_nothing(run, bad_row, expected):
    run(FIRST)
    before = snapshot()
    # Valid changes before the bad row: none of them may be applied.
    changed = FIRST.replace("Operations", "Ops renamed").replace("FIN,Finance,G,12", "FIN,F,,1")
    result = run(changed + bad_row + "\n")
    assert result.exit_code == 1
    assert "was refused, nothing was imported" in result.output
    assert expected in result.output, result.output
    assert snapshot() == before


def test_a_wrong_header_is_refused(run):
    result = run("id,name,parent,headcount\nG,Group,,1\n")
    assert result.exit_code == 1
    assert "line 1: the header must be unit_id,name,parent_unit_id,headcount" in result.output
    assert units() == {}


def test_a_dry_run_prints_the_changes_and_writes_nothing(run):
    run(FIRST)
    before = snapshot()
    events = db.session.scalar(select(db.func.count()).select_from(AuditEvent))
    result = run(FIRST.replace("Payroll", "Pay and Pensions"), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "  PAY: 'Payroll' -> 'Pay and Pensions'" in result.output
    assert "dry run: 1 change(s) to 6 units in the file; nothing was written" in result.output
    assert snapshot() == before
    assert db.session.scalar(select(db.func.count()).select_from(AuditEvent)) == events


def test_staff_left_in_retired_units_are_named(run, app):
    run(FIRST)
    create_user(
        email="tl@example.org",
        role="trust_leader",
        password="a long enough password",
        org_unit_id=units()["PAY"].id,
    )
    result = run(FIRST.replace("PAY,Payroll,FIN,4\n", ""), "--dry-run")
    assert "warning: 1 Trust Leader(s) or lead(s) work in units this retires" in result.output
    assert "tl@example.org" in result.output


def test_units_made_before_imports_are_retired_by_a_file_that_does_not_name_them(app, run):
    # What migration 0003 leaves of a unit made before imports: its id as its external id.
    legacy = OrgUnit(external_id="pending", name="Old tree", path="/", depth=0)
    db.session.add(legacy)
    db.session.flush()
    legacy.external_id, legacy.path = str(legacy.id), f"/{legacy.id}/"
    db.session.commit()
    legacy_id = legacy.id

    result = run(FIRST)
    assert result.exit_code == 0, result.output
    assert f"  {legacy_id}: 'Old tree'" in result.output
    assert db.session.get(OrgUnit, legacy_id).retired


def test_import_org_reads_a_stream_too(app):
    changes = import_org(io.StringIO(FIRST))
    assert changes.counts()["created"] == 6
    assert import_org(io.StringIO(FIRST)).nothing_to_do


def test_the_demo_organisation_is_imported_and_keeps_a_database_seeded_before_imports(app):
    from service.demo import DEMO_ORG_CSV, ensure_org

    # A demo unit as migration 0003 leaves one: found by name, given its demo id, and kept.
    old = OrgUnit(external_id="pending", name="Payroll", path="/", depth=0)
    db.session.add(old)
    db.session.flush()
    old.external_id = str(old.id)
    db.session.commit()
    old_id = old.id

    units_by_name = ensure_org()
    db.session.commit()
    assert len(units_by_name) == len(DEMO_ORG_CSV.strip().splitlines()) - 1
    payroll = units_by_name["Payroll"]
    assert (payroll.id, payroll.external_id, payroll.retired) == (old_id, "HG-FIN-PAY", False)
    assert payroll.parent.external_id == "HG-FIN"
    assert units_by_name["People and Culture"].is_hr
    assert (
        db.session.scalar(
            select(db.func.count()).select_from(OrgUnit).where(OrgUnit.retired_at.is_not(None))
        )
        == 0
    )
