"""Two imports at once: the second waits for the first and then works on what it wrote, so the
result is exactly the second file, never a mix of both (on SQLite and PostgreSQL)."""

from __future__ import annotations

import io
import threading
import time

from sqlalchemy import select

from service.db import OrgUnit
from service.extensions import db
from service.org import import_org
from service.org import service as org_service

HEADER = "unit_id,name,parent_unit_id,headcount\n"
START = HEADER + "G,Group,,1\nA,Alpha,G,1\nB,Beta,G,1\n"
FIRST = HEADER + "G,Group,,1\nA,Alpha renamed,B,1\nB,Beta,G,1\n"  # renames A, moves it under B
SECOND = HEADER + "G,Group,,1\nA,Alpha,G,1\nB,Beta,A,1\n"  # moves B under A


def test_a_second_import_waits_and_then_plans_on_what_the_first_wrote(app, monkeypatch):
    import_org(io.StringIO(START))
    planning, release = threading.Event(), threading.Event()
    real_plan = org_service.plan_import
    calls: list[str] = []

    def plan_slowly(rows, stored):  # type: ignore[no-untyped-def]
        calls.append(threading.current_thread().name)
        if threading.current_thread().name == "first":
            planning.set()
            assert release.wait(20)
        return real_plan(rows, stored)

    monkeypatch.setattr(org_service, "plan_import", plan_slowly)
    results: dict[str, object] = {}

    def run(name: str, text: str) -> None:
        with app.app_context():
            try:
                results[name] = import_org(io.StringIO(text))
            except Exception as error:  # reported by the assertions below
                results[name] = error
            finally:
                db.session.remove()

    first = threading.Thread(target=run, args=("first", FIRST), name="first")
    second = threading.Thread(target=run, args=("second", SECOND), name="second")
    first.start()
    assert planning.wait(20)
    second.start()
    time.sleep(0.5)
    assert calls == ["first"], "the second import read the tree while the first held it"
    release.set()
    first.join(30)
    second.join(30)
    assert not first.is_alive() and not second.is_alive()
    assert not isinstance(results["first"], Exception), results["first"]
    assert not isinstance(results["second"], Exception), results["second"]

    db.session.expire_all()
    units = {u.external_id: u for u in db.session.execute(select(OrgUnit)).scalars()}
    # Exactly the second file: A back under G with its old name, B under A. A stale plan would
    # have kept the first file's rename and made A and B each other's parent.
    assert units["A"].name == "Alpha"
    assert units["A"].parent_id == units["G"].id
    assert units["B"].parent_id == units["A"].id
    assert units["B"].path == f"/{units['G'].id}/{units['A'].id}/{units['B'].id}/"
