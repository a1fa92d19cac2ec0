"""A released month's release (which figures may be shown) is worked out once, stored with the
month, and read by every later request and worker; answers are cached until a month is
released or the org tree changes. Neither may show anything the rule would not."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from sqlalchemy import func, select

from service.analytics import cube, query
from service.analytics.anonymity import current_threshold
from service.db import OrgUnit, ReleasedCells, ReleasedMonth
from service.extensions import db
from tests.analytics.helpers import add_reports, released_months, spread
from tests.analytics.test_api import get, one

OPERATIONS_ARGS = {"depth": 2, "category": "all"}  # the whole organisation, by department


def _fresh_worker(app) -> None:  # type: ignore[no-untyped-def]
    for key in (cube.CACHE_KEY, query.ANSWER_CACHE_KEY):
        app.extensions.pop(key, None)


def _layout(org):  # type: ignore[no-untyped-def]
    (month,) = released_months(1)
    north, south = org.unit("Warehouse North"), org.unit("Warehouse South")
    spread(north, month, 40)
    spread(south, month, 3)  # under k: withheld, and Transport withheld to protect it
    spread(org.unit("Transport"), month, 6)
    return month, north, south


def test_a_fresh_worker_reads_the_stored_release_and_answers_the_same(
    client, org, hr, app, monkeypatch
):
    month, north, south = _layout(org)
    first = get(client, "risk", hr, **OPERATIONS_ARGS)
    frozen = db.session.scalar(select(func.count()).select_from(ReleasedMonth))
    assert frozen >= 1  # the default range and the month before it
    assert db.session.scalar(select(func.count()).select_from(ReleasedCells)) == frozen

    _fresh_worker(app)

    def must_not_solve(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("the release was worked out again")

    monkeypatch.setattr(cube, "release_measures", must_not_solve)
    again = get(client, "risk", hr, **OPERATIONS_ARGS)
    assert again == first
    assert one(again, unit=north, period=month.label)["reports"] == 40
    other = [c for c in again["cells"] if c["remainder"] and c["period"] == month.label]
    assert [c["reports"] for c in other] == [9]  # South and Transport, withheld on their own
    assert south not in {u["unit"] for u in again["units"]}


def test_the_stored_release_is_the_rule_s_own(client, org, hr, app):
    """What is stored is exactly what the rule releases for the month's figures."""
    month, _, _ = _layout(org)
    get(client, "risk", hr, **OPERATIONS_ARGS)
    tree, threshold = cube.load_tree(), current_threshold()
    stored = cube.month_cubes([month], tree, threshold)[month.start]
    own = cube.frozen_figures([month], tree)[month.start]
    expected = cube.release_measures(cube._with_margins(own, tree), tree, threshold)
    assert np.array_equal(stored.shown, expected)
    assert stored.released.sum() > 0 and not stored.released.all()


def test_a_changed_tree_works_the_release_out_again(client, org, hr, app):
    month, north, south = _layout(org)
    get(client, "risk", hr, **OPERATIONS_ARGS)
    layouts = set(db.session.scalars(select(ReleasedCells.layout)))
    # Warehouse South moves under Customer Service: a new shape, a new release.
    unit = db.session.get(OrgUnit, south)
    unit.parent_id = org.unit("Customer Service")
    db.session.commit()
    _fresh_worker(app)
    moved = get(client, "risk", hr, **OPERATIONS_ARGS)
    assert set(db.session.scalars(select(ReleasedCells.layout))).isdisjoint(layouts)
    # Stale layouts of a month are dropped when a new one is stored: one row per month.
    months = db.session.scalar(select(func.count()).select_from(ReleasedMonth))
    assert db.session.scalar(select(func.count()).select_from(ReleasedCells)) == months
    # What was stored for the new tree is what the rule gives it from scratch.
    db.session.execute(ReleasedCells.__table__.delete())
    db.session.commit()
    _fresh_worker(app)
    assert get(client, "risk", hr, **OPERATIONS_ARGS) == moved


def test_a_tampered_stored_release_of_the_wrong_shape_is_not_used(client, org, hr, app):
    month, north, _ = _layout(org)
    first = get(client, "risk", hr, **OPERATIONS_ARGS)
    for row in db.session.scalars(select(ReleasedCells)):
        row.shown = cube._release_blob(np.ones((2, 2), dtype=bool))
    db.session.commit()
    _fresh_worker(app)
    assert get(client, "risk", hr, **OPERATIONS_ARGS) == first


def test_answers_follow_a_rename_and_a_new_release_but_not_late_rollups(client, org, hr, app):
    month, north, _ = _layout(org)
    first = get(client, "risk", hr, **OPERATIONS_ARGS)
    add_reports(north, month.start, 9)  # a late rescore: the frozen month does not move
    assert get(client, "risk", hr, **OPERATIONS_ARGS) == first
    unit = db.session.get(OrgUnit, north)
    unit.name = "Warehouse North (new site)"
    db.session.commit()
    renamed = get(client, "risk", hr, **OPERATIONS_ARGS)
    assert {u["name"] for u in renamed["units"]} >= {"Warehouse North (new site)"}
    assert one(renamed, unit=north, period=month.label)["reports"] == 40


def test_the_release_job_freezes_and_stores_recent_months(client, org, hr, app):
    month, north, _ = _layout(org)
    ready = query.release_recent_months()
    assert ready == query.RELEASE_MONTHS
    assert db.session.scalar(select(func.count()).select_from(ReleasedMonth)) == ready
    assert db.session.scalar(select(func.count()).select_from(ReleasedCells)) == ready
    add_reports(north, month.start, 9)  # after release: not in the month any more
    body = get(client, "risk", hr, **OPERATIONS_ARGS)
    assert one(body, unit=north, period=month.label)["reports"] == 40


@pytest.mark.parametrize("k", [49, 50])
def test_the_answer_cache_is_keyed_by_k(client, org, hr, app, k):
    month, _, _ = _layout(org)  # 49 reports in the organisation
    whole = {"depth": 0, "category": "all"}
    root = org.unit("Harbourside Group")
    assert one(get(client, "risk", hr, **whole), unit=root, period=month.label)["reports"] == 49
    settings = app.config["DEFUSE"]
    app.config["DEFUSE"] = replace(settings, anonymity_k=k)
    try:
        cell = one(get(client, "risk", hr, **whole), unit=root, period=month.label)
    finally:
        app.config["DEFUSE"] = settings
    assert cell["suppressed"] is (k > 49)
