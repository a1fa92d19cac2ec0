"""The anonymity threshold on both sides: exactly k is shown, k - 1 is not, for every figure
HR is given (a cell's reports, a figure derived from released cells, the resolution shares,
the time to acknowledge and a hotspot)."""

from __future__ import annotations

import numpy as np
import pytest

from service.analytics.anonymity import MINIMUM_K, Threshold, UnitLines
from tests.analytics.helpers import (
    add_acknowledgements,
    add_reports,
    add_resolutions,
    released_months,
    spread,
    token_for,
)

K = 5  # the configured threshold in the tests
SIDES = [pytest.param(K, True, id="exactly-k"), pytest.param(K - 1, False, id="k-minus-1")]


# -- the rule itself, for several k ---------------------------------------------------------

ONE_UNIT = UnitLines.from_parents([-1])


def one_cell_cube(count: int) -> np.ndarray:
    """One unit, one category (+ all), one week (+ month): every cell holds `count`."""
    return np.full((1, 2, 2), count, dtype=np.int64)


@pytest.mark.parametrize("k", [MINIMUM_K, 5, 11])
@pytest.mark.parametrize(("offset", "shown"), [(0, True), (-1, False)], ids=["k", "k-1"])
def test_release_derive_and_measure_at_k_and_one_below(k, offset, shown):
    threshold = Threshold(k)
    count = k + offset
    released = threshold.release(one_cell_cube(count), ONE_UNIT)
    assert released.all() == shown and released.any() == shown
    assert bool(threshold.derive(count, True)) is shown
    assert bool(threshold.derive(k, True)) is True  # and never without its parts released
    assert bool(threshold.derive(k + 100, False)) is False
    assert bool(threshold.measure(count)) is shown


@pytest.mark.parametrize(("k", "allowed"), [(MINIMUM_K, True), (MINIMUM_K - 1, False)])
def test_the_threshold_itself_has_a_floor(k, allowed):
    if allowed:
        assert Threshold(k).k == k
    else:
        with pytest.raises(ValueError, match="at least 3"):
            Threshold(k)


# -- the API, figure by figure --------------------------------------------------------------


@pytest.fixture
def hr(org):  # type: ignore[no-untyped-def]
    return token_for(org.staff["hr"])


def risk_cell(client, hr, unit: int, label: str) -> dict | None:  # type: ignore[no-untyped-def]
    """The unit's bullying cell of the month, or None when the unit is not listed at all."""
    response = client.get(
        "/api/v1/analytics/risk", headers=hr, query_string={"depth": 2, "category": "bullying"}
    )
    assert response.status_code == 200, response.get_json()
    found = [c for c in response.get_json()["cells"] if c["unit"] == unit and c["period"] == label]
    assert len(found) <= 1, found
    return found[0] if found else None


def companions(org, month) -> None:  # type: ignore[no-untyped-def]
    """Reports around the unit under test, so that no line around it hides it for company."""
    spread(org.unit("Warehouse North"), month, 9, category="pay")
    spread(org.unit("Warehouse South"), month, 9)
    spread(org.unit("Warehouse South"), month, 9, category="pay")


@pytest.mark.parametrize(("reports", "shown"), SIDES)
def test_a_units_reports(client, org, hr, reports, shown):
    (month,) = released_months(1)
    north = org.unit("Warehouse North")
    companions(org, month)
    add_reports(north, month.start, reports)
    cell = risk_cell(client, hr, north, month.label)
    if shown:
        assert cell is not None and cell["suppressed"] is False
        assert cell["reports"] == reports and cell["mean_risk"] is not None
    else:  # withheld: listed as suppressed, with no figure, or not listed at all
        assert cell is None or (cell["suppressed"] and cell["reports"] is None), cell


@pytest.mark.parametrize(("closed", "shown"), SIDES)
def test_the_resolution_shares(client, org, hr, closed, shown):
    (month,) = released_months(1)
    north = org.unit("Warehouse North")
    companions(org, month)
    spread(north, month, 12)
    add_resolutions(north, month.start, "bullying", "resolved_informally", closed - 1)
    add_resolutions(north, month.start, "bullying", "referred_formal", 1)
    cell = risk_cell(client, hr, north, month.label)
    assert cell["reports"] == 12
    assert cell["resolved_cases"] == (closed if shown else None)
    # One side of the formal share holds a single case: a share is shown only when both
    # sides reach k, so it is withheld at k as below it.
    assert cell["referred_formal_share"] is None


@pytest.mark.parametrize(("acknowledged", "shown"), SIDES)
def test_the_time_to_acknowledge(client, org, hr, acknowledged, shown):
    (month,) = released_months(1)
    north = org.unit("Warehouse North")
    companions(org, month)
    spread(north, month, 12)
    add_acknowledgements(north, month.start, "bullying", 5, acknowledged)
    cell = risk_cell(client, hr, north, month.label)
    assert cell["reports"] == 12
    assert (cell["median_hours_to_acknowledge"] is not None) is shown
