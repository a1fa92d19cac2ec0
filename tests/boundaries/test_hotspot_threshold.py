"""The hotspot model on both sides of its thresholds: a unit exactly at the surprise
threshold (its adjusted p-value equal to the false discovery rate) is a hotspot, one step
below the surprise it is not; at the minimum number of reports it can be, one fewer it cannot;
and in the HR analytics a unit with k reports in a period can be listed, with k - 1 it is never
tested (its cell is withheld, so the model never sees it)."""

from __future__ import annotations

import numpy as np
import pytest

from service.engine.hotspots import HotspotModel
from tests.analytics.helpers import add_reports, released_months, token_for

K = 5  # the configured threshold in the tests
HEADCOUNT = 9
DAYS = 28


def _one_unit(model: HotspotModel, observed: int):  # type: ignore[no-untyped-def]
    org_rate = model.organisation_rate(0.0, 0.0)
    return model.test(
        np.array([observed]), np.array([HEADCOUNT * DAYS]), np.zeros(1), np.zeros(1), org_rate
    )


def test_exactly_at_the_surprise_threshold_is_a_hotspot_one_below_is_not():
    """One unit tested: its q-value is its p-value. A false discovery rate set exactly to it
    flags the unit; the next smaller rate does not."""
    probe = _one_unit(HotspotModel(), 3)
    q = float(probe.q_value[0])
    assert 0 < q < 1
    at = _one_unit(HotspotModel(false_discovery_rate=q), 3)
    below = _one_unit(HotspotModel(false_discovery_rate=float(np.nextafter(q, 0))), 3)
    assert bool(at.hotspot[0]) is True
    assert bool(below.hotspot[0]) is False


@pytest.mark.parametrize(("observed", "flagged"), [(3, True), (2, False)], ids=["min", "min-1"])
def test_a_hotspot_needs_the_minimum_number_of_reports(observed, flagged):
    # Reports this improbable for nine people in four weeks are surprising either way.
    model = HotspotModel(min_reports=3, false_discovery_rate=0.5)
    test = _one_unit(model, observed)
    assert float(test.q_value[0]) < 0.5
    assert bool(test.hotspot[0]) is flagged


@pytest.mark.parametrize(("count", "listed"), [(K, True), (K - 1, False)], ids=["k", "k-1"])
def test_a_hotspot_is_listed_only_from_a_released_cell(client, org, count, listed):
    """Payroll (9 people) with `count` reports in a month, and Warehouse North busy enough
    that no line has a small hidden part: at k Payroll is its own hotspot, at k - 1 it is
    neither listed nor lets Finance (its parent, the same reports) be listed instead."""
    (month,) = released_months(1)
    add_reports(org.unit("Payroll"), month.start, count)
    add_reports(org.unit("Warehouse North"), month.start, 40)
    response = client.get("/api/v1/analytics/hotspots", headers=token_for(org.staff["hr"]))
    assert response.status_code == 200
    body = response.get_json()
    found = {h["name"]: h for h in body["hotspots"]}
    assert ("Payroll" in found) is listed
    assert "Finance" not in found
    if listed:
        assert found["Payroll"]["reports"] == K
        assert found["Payroll"]["headcount"] == HEADCOUNT
        assert found["Payroll"]["q_value"] <= body["false_discovery_rate"]
