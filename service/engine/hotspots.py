"""Hotspots: units with improbably many reports for their size and their own history.

One model, used in two places: the risk engine's hotspot boost (service/scoring.py, on the
last `window` days, from all reports) and the HR analytics' hotspot list
(service/analytics/query.py, per released period, from released figures only).

The model (Gamma-Poisson, i.e. negative binomial)
--------------------------------------------------
Reports about a unit arrive as a Poisson process with rate lambda per person-day. Before its
own history is seen, lambda is Gamma distributed around the organisation's rate, with the
weight of `prior_reports` reports: shape a = prior_reports, rate b = a / org_rate. A unit's
history (n reports over E person-days) gives the posterior Gamma(a + n, b + E), so the
expected rate is (a + n) / (b + E): a large unit with a long history is judged by its own
rate, a small or new one mostly by the organisation's. Over the tested span of X person-days
the count is then negative binomial with r = a + n and p = (b + E) / (b + E + X): `expected`
is its mean, and `p_value` = P(count >= observed) is the surprise.

The organisation's rate is itself shrunk towards a benchmark of 1.57 reports per 100 employees
a year (NAVEX's published median) with the weight of `prior_reports` reports, so a new
organisation is not judged by its first few reports.

Many units are tested at once, so a few would look surprising by chance alone: the p-values of
one test round (all units, one span) are adjusted with Benjamini-Hochberg, and a unit is a
hotspot when its adjusted value (q) is at most `false_discovery_rate` and it has at least
`min_reports` reports. A unit without a known headcount is not tested.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

DAYS_PER_YEAR = 365.25
BENCHMARK_PER_100_A_YEAR = 1.57


@dataclass(frozen=True, slots=True)
class HotspotModel:
    prior_reports: float = 2.0
    false_discovery_rate: float = 0.05
    min_reports: int = 3

    def __post_init__(self) -> None:
        if not self.prior_reports > 0:
            raise ValueError("prior_reports must be more than 0")
        if not 0 < self.false_discovery_rate < 1:
            raise ValueError("the false discovery rate must be between 0 and 1")
        if self.min_reports < 2:
            raise ValueError("a hotspot needs at least 2 reports")

    @classmethod
    def from_settings(cls, settings: object) -> HotspotModel:
        """From the app's settings (DEFUSE_HOTSPOT_*)."""
        return cls(
            prior_reports=float(settings.hotspot_prior_reports),
            false_discovery_rate=float(settings.hotspot_false_discovery_rate),
            min_reports=int(settings.hotspot_min_reports),
        )

    def organisation_rate(self, reports: float, person_days: float) -> float:
        """Reports per person-day across the organisation, shrunk towards the benchmark."""
        benchmark = BENCHMARK_PER_100_A_YEAR / 100 / DAYS_PER_YEAR
        return (reports + self.prior_reports) / (person_days + self.prior_reports / benchmark)

    def test(
        self,
        observed: np.ndarray,
        person_days: np.ndarray,
        history_reports: np.ndarray,
        history_person_days: np.ndarray,
        org_rate: float,
    ) -> HotspotTest:
        """One test round: arrays with one entry per unit (person_days NaN or 0: not tested)."""
        observed = np.asarray(observed, dtype=float)
        person_days = np.asarray(person_days, dtype=float)
        tested = np.isfinite(person_days) & (person_days > 0)
        exposure = np.where(tested, person_days, 1.0)
        shape = self.prior_reports + np.asarray(history_reports, dtype=float)
        rate = self.prior_reports / org_rate + np.asarray(history_person_days, dtype=float)
        expected = np.where(tested, shape / rate * exposure, np.nan)
        p_value = np.where(
            tested, stats.nbinom.sf(observed - 1, shape, rate / (rate + exposure)), np.nan
        )
        q_value = benjamini_hochberg(p_value)
        hotspot = tested & (q_value <= self.false_discovery_rate) & (observed >= self.min_reports)
        return HotspotTest(observed, expected, p_value, q_value, hotspot)


@dataclass(frozen=True, slots=True)
class HotspotTest:
    observed: np.ndarray
    expected: np.ndarray
    p_value: np.ndarray
    q_value: np.ndarray
    hotspot: np.ndarray


def benjamini_hochberg(p_values: np.ndarray) -> np.ndarray:
    """Adjusted p-values (q) of the Benjamini-Hochberg step-up procedure; NaN stays NaN and
    is not counted as a test."""
    p = np.asarray(p_values, dtype=float)
    q = np.full(p.shape, np.nan)
    valid = np.nonzero(np.isfinite(p))[0]
    if not len(valid):
        return q
    order = valid[np.argsort(p[valid], kind="stable")]
    ranked = p[order] * len(order) / np.arange(1, len(order) + 1)
    q[order] = np.minimum(1.0, np.minimum.accumulate(ranked[::-1])[::-1])
    return q


def per_100_a_year(reports: float, headcount: float, days: float) -> float:
    return reports / headcount / days * DAYS_PER_YEAR * 100
