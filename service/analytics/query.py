"""Answering analytics questions from released cells.

The API, the dashboard and the CSV export all call `risk_table`, `summary` or `hotspots` here;
each builds its figures only from cells that anonymity.Threshold released (month cubes, see
cube.py), or from sums and differences of them that the threshold allows (`Threshold.derive`).
No report row is read, so nothing here can leak a single report's text, score, id or time.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from time import monotonic
from typing import Any, TypeVar

import numpy as np
from flask import current_app

from service.analytics import periods
from service.analytics.anonymity import Threshold, current_threshold
from service.analytics.cube import (
    ACK,
    ACK_BOUNDS,
    ALL,
    CATEGORY_AXIS,
    CATEGORY_INDEX,
    FEATURES,
    FORMAL,
    HIGH,
    INFORMAL,
    MEASURES,
    REPORTS,
    SCORE,
    SHOWN_FORMAL,
    SHOWN_HIGH,
    SHOWN_INFORMAL,
    SHOWN_REPORTS,
    SHOWN_RESOLVED,
    WITHDRAWN,
    OrgTree,
    derive_measures,
    load_tree,
    month_cubes,
    released_stamps,
)
from service.analytics.periods import Period
from service.cases.service import median_days_to_feedback, overdue_cases
from service.db import utcnow
from service.engine.hotspots import HotspotModel, per_100_a_year
from service.vocab import CATEGORIES

MAX_PERIODS = 160
DEFAULT_MONTHS = 6
EARLIEST = date(2000, 1, 3)  # a Monday; no analytics before it


class QueryError(ValueError):
    """A request that cannot be answered; `field` names the parameter at fault."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


class UnknownUnit(QueryError):
    """The unit filter names no org unit (answered 404)."""


@dataclass(frozen=True)
class Filters:
    period: str = "month"
    first_day: date | None = None
    last_day: date | None = None
    depth: int = 1
    unit: int | None = None
    # None: each category and "all"; "all": only the total; a category: only that one.
    category: str | None = None


@dataclass(frozen=True)
class Row:
    """A row of the table: a unit's subtree, or (remainder) a unit's own reports together
    with its sub-units too small to show on their own."""

    unit_index: int
    remainder: bool
    terms: tuple[tuple[int, int], ...]  # (sign, unit-part)


@dataclass
class Answer:
    filters: Filters
    released_to: date
    periods: list[Period]
    tree: OrgTree
    threshold: Threshold
    rows: list[Row] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    # (rows, periods + 1, categories, FEATURES) and (rows, periods + 1, categories, MEASURES);
    # period 0 is the one before the range, kept for the change against the previous period.
    values: np.ndarray | None = None
    shown: np.ndarray | None = None

    @property
    def released(self) -> np.ndarray | None:
        """(rows, periods + 1, categories): the cells whose report counts are shown."""
        return None if self.shown is None else self.shown[..., SHOWN_REPORTS]

    def query_echo(self) -> dict[str, Any]:
        return {
            "period": self.filters.period,
            "from": self.periods[0].start if self.periods else None,
            "to": self.periods[-1].end if self.periods else None,
            "released_to": self.released_to,
            "depth": self.filters.depth,
            "unit": self.filters.unit,
            "category": self.filters.category,
            "k": self.threshold.k,
        }


# -- answers cached until a month is released or the org tree changes -----------------------

ANSWER_CACHE_KEY = "defuse.analytics_answers"
ANSWER_CACHE_ENTRIES = 256
ANSWER_CACHE_BYTES = 64 * 1024 * 1024  # serialised answers (the API's JSON) count by size
NOMINAL_ENTRY_BYTES = 64 * 1024  # anything else
T = TypeVar("T")


class _AnswerCache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.items: OrderedDict[tuple[object, ...], tuple[object, int]] = OrderedDict()
        self.size = 0

    def get(self, key: tuple[object, ...]) -> tuple[bool, object]:
        with self.lock:
            item = self.items.get(key)
            if item is None:
                return False, None
            self.items.move_to_end(key)
            return True, item[0]

    def put(self, key: tuple[object, ...], value: object) -> None:
        weight = len(value) if isinstance(value, bytes | str) else NOMINAL_ENTRY_BYTES
        with self.lock:
            old = self.items.pop(key, None)
            if old is not None:
                self.size -= old[1]
            self.items[key] = (value, weight)
            self.size += weight
            while self.items and (
                len(self.items) > ANSWER_CACHE_ENTRIES or self.size > ANSWER_CACHE_BYTES
            ):
                _, (_, dropped) = self.items.popitem(last=False)
                self.size -= dropped


def answer_key(kind: str, filters: Filters, today: date | None = None) -> tuple[object, ...]:
    """Everything an answer depends on: the question, the last released day (which fixes the
    default range too), the frozen months (by their stamps), the org tree as shown, k and the
    hotspot model's settings. Released months never change, so an answer keyed by these is
    valid until a month is released, the tree changes or settings do (two small queries)."""
    settings = current_app.config["DEFUSE"]
    return (
        kind,
        filters,
        periods.last_released_day(today or utcnow().date()),
        released_stamps(),
        load_tree().version,
        current_threshold().k,
        HotspotModel.from_settings(settings),
    )


def cached(kind: str, filters: Filters, compute: Callable[[], T], today: date | None = None) -> T:
    """The answer to `kind` for these filters, from the app's cache when nothing it depends on
    changed (`answer_key`). Cached answers are shared: callers must not change them."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    cache = app.extensions.get(ANSWER_CACHE_KEY)
    if cache is None:
        cache = app.extensions.setdefault(ANSWER_CACHE_KEY, _AnswerCache())
    key = answer_key(kind, filters, today)
    hit, value = cache.get(key)
    if hit:
        return value  # type: ignore[return-value]
    value = compute()
    cache.put(key, value)
    return value


RELEASE_MONTHS = 37  # three years of history (hotspots) and the month before them


def release_recent_months(today: date | None = None) -> int:
    """Freeze the recent complete months and work out their release now, at release time, so
    no request has to (the scheduled job and `defuse analytics release`). Returns how many
    months were made ready."""
    released_to = periods.last_released_day(today or utcnow().date())
    months = [
        m
        for m in periods.between(
            "month", released_to - timedelta(days=31 * RELEASE_MONTHS), released_to
        )
        if m.end <= released_to and m.start >= EARLIEST
    ][-RELEASE_MONTHS:]
    month_cubes(months, load_tree(), current_threshold())
    return len(months)


def resolve_periods(filters: Filters, today: date | None = None) -> tuple[list[Period], date]:
    """The whole, complete periods the filters ask for (the latest MAX_PERIODS of them), and
    the last day released. A range with no complete period (in the future, or 'from' after
    'to') has no periods: an empty answer, not an error."""
    if filters.period not in periods.KINDS:
        raise QueryError("period", f"Must be one of: {', '.join(periods.KINDS)}.")
    if filters.first_day and filters.last_day and filters.first_day > filters.last_day:
        raise QueryError("from", "The first day must be on or before the last day ('to').")
    released_to = periods.last_released_day(today or utcnow().date())
    last = min(filters.last_day or released_to, released_to)
    first = max(filters.first_day or default_range(today)[0], EARLIEST)  # nothing before
    if first > last:
        return [], released_to
    found = [p for p in periods.between(filters.period, first, last) if p.end <= released_to]
    return found[-MAX_PERIODS:], released_to


def _period_slices(
    wanted: Sequence[Period], tree: OrgTree, threshold: Threshold
) -> tuple[np.ndarray, np.ndarray]:
    """Values (periods, unit-parts, categories, FEATURES) and shown measures (periods,
    unit-parts, categories, MEASURES) for each period. A quarter is the sum of its three
    months, each measure shown only where it is in all three."""
    months = sorted({m for p in wanted for m in periods.months_of(p)})
    cubes = month_cubes(months, tree, threshold)
    values = np.zeros((len(wanted), tree.parts, len(CATEGORY_AXIS), FEATURES))
    shown = np.zeros((len(wanted), tree.parts, len(CATEGORY_AXIS), len(MEASURES)), dtype=bool)
    for i, period in enumerate(wanted):
        parts = [cubes[m.start] for m in periods.months_of(period)]
        if period.kind == "quarter":
            values[i] = sum(cube.values[:, :, cube.slot(cube.month)] for cube in parts)
            in_all = np.logical_and.reduce(
                [cube.shown[:, :, cube.slot(cube.month)] for cube in parts]
            )
            shown[i] = derive_measures(values[i], in_all, threshold)
        else:
            cube = parts[0]
            values[i] = cube.values[:, :, cube.slot(period)]
            shown[i] = cube.shown[:, :, cube.slot(period)]
    return values, shown


def _combine(
    rows: Sequence[Row],
    tree: OrgTree,
    values: np.ndarray,
    shown: np.ndarray,
    threshold: Threshold,
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's figures as signed sums of unit-parts, each measure shown only where it is
    in every part (and its counts are at least k)."""
    terms = np.zeros((len(rows), tree.parts))
    for r, row in enumerate(rows):
        for sign, part in row.terms:
            terms[r, part] += sign
    row_values = np.einsum("ru,pucf->rpcf", terms, values)
    hidden_parts = np.einsum(
        "ru,pucm->rpcm", (terms != 0).astype(np.int64), (~shown).astype(np.int64)
    )
    return row_values, derive_measures(row_values, hidden_parts == 0, threshold)


def _category_indexes(category: str | None) -> list[int]:
    if category is None:
        return list(range(len(CATEGORY_AXIS)))
    if category not in CATEGORY_INDEX:
        raise QueryError("category", f"Must be 'all' or one of: {', '.join(CATEGORIES)}.")
    return [CATEGORY_INDEX[category]]


def _scope(tree: OrgTree, unit: int | None) -> list[int]:
    if unit is None:
        return tree.roots
    index = tree.index_of(unit)
    if index is None:
        raise UnknownUnit("unit", "Unknown org unit.")
    return [index]


def _rows_for_depth(
    tree: OrgTree,
    tops: Sequence[int],
    depth: int,
    has_release: np.ndarray,
    covers: Callable[[int, Sequence[int]], bool],
) -> list[Row]:
    """Units at the chosen depth; a unit with nothing released rolls up into its parent,
    whose remainder row then holds it (with the parent's own reports).

    Splitting a unit into its sub-units and remainder can lose figures: a sub-unit shown in
    one period may be withheld in another, and then the remainder is too (it would be the
    unit minus a withheld cell), although the unit itself is shown. Where the split does not
    account for every shown figure of the unit (`covers`), the unit's own row stays, above its
    sub-units, so a finer level never shows less than a coarser one."""
    rows: list[Row] = []

    def visit(node: int) -> None:
        kids = tree.children[node]
        if tree.depths[node] >= depth or not kids:
            rows.append(Row(node, False, ((1, node),)))
            return
        shown = [child for child in kids if has_release[child]]
        if not shown:
            rows.append(Row(node, False, ((1, node),)))
            return
        if not covers(node, shown):
            rows.append(Row(node, False, ((1, node),)))
        for child in shown:
            visit(child)
        rows.append(Row(node, True, ((1, node), *((-1, child) for child in shown))))

    for top in tops:
        visit(top)
    return rows


def _risk_table(filters: Filters, today: date | None = None) -> Answer:
    threshold = current_threshold()
    tree = load_tree()
    wanted, released_to = resolve_periods(filters, today)
    tops = _scope(tree, filters.unit)
    category_indexes = _category_indexes(filters.category)
    if filters.depth < 0:
        raise QueryError("depth", "Must be 0 or more.")
    answer = Answer(filters, released_to, wanted, tree, threshold)
    answer.categories = [CATEGORY_AXIS[i] for i in category_indexes]
    if not wanted:
        return answer
    with_previous = [periods.preceding(wanted[0]), *wanted]
    values, shown = _period_slices(with_previous, tree, threshold)
    values = values[:, :, category_indexes]
    shown = shown[:, :, category_indexes]
    # A unit is listed when any of its subtree cells asked for is released.
    has_release = shown[1:, : tree.size, :, SHOWN_REPORTS].any(axis=(0, 2))
    released = shown[1:, :, :, SHOWN_REPORTS]  # (periods, unit-parts, categories)
    reports = np.rint(values[1:, :, :, REPORTS])

    def covers(node: int, kids: Sequence[int]) -> bool:
        """Wherever the unit is shown, its shown sub-units and its remainder add up to it."""
        kids_shown = released[:, list(kids)].all(axis=1)
        rest = reports[:, node] - reports[:, list(kids)].sum(axis=1)
        rest_shown = np.asarray(threshold.derive(rest, kids_shown & released[:, node]))
        accounted = kids_shown & (rest_shown | (rest == 0))
        return bool((accounted | ~released[:, node]).all())

    answer.rows = _rows_for_depth(tree, tops, filters.depth, has_release, covers)
    row_values, row_shown = _combine(answer.rows, tree, values, shown, threshold)
    keep = [
        r
        for r, row in enumerate(answer.rows)
        if not row.remainder or row_shown[r, 1:, :, SHOWN_REPORTS].any()
    ]
    answer.rows = [answer.rows[r] for r in keep]
    answer.values, answer.shown = row_values[keep], row_shown[keep]
    return answer


# -- turning figures into the published shape ----------------------------------------------


NOTHING_SHOWN = np.zeros(len(MEASURES), dtype=bool)


def measures(vector: np.ndarray, shown: np.ndarray, threshold: Threshold) -> dict[str, Any]:
    """The published figures of one cell (`shown`: its MEASURES flags): all None when its
    reports are not shown; each other figure None where its own counts are not."""
    if not shown[SHOWN_REPORTS]:
        return {
            "suppressed": True,
            "reports": None,
            "mean_risk": None,
            "high_or_critical_share": None,
            "resolved_cases": None,
            "resolved_informally_share": None,
            "referred_formal_share": None,
            "median_hours_to_acknowledge": None,
        }
    reports = int(round(vector[REPORTS]))
    resolved = float(vector[INFORMAL] + vector[FORMAL] + vector[WITHDRAWN])
    return {
        "suppressed": False,
        "reports": reports,
        "mean_risk": _share(vector[SCORE], reports),
        "high_or_critical_share": _share(vector[HIGH], reports) if shown[SHOWN_HIGH] else None,
        "resolved_cases": int(round(resolved)) if shown[SHOWN_RESOLVED] else None,
        "resolved_informally_share": _share(vector[INFORMAL], resolved)
        if shown[SHOWN_INFORMAL]
        else None,
        "referred_formal_share": _share(vector[FORMAL], resolved) if shown[SHOWN_FORMAL] else None,
        "median_hours_to_acknowledge": _median_bucket(vector[ACK:], threshold),
    }


def _share(part: float, whole: float) -> float:
    return round(min(1.0, max(0.0, float(part) / float(whole))), 2) if whole else 0.0


def _median_bucket(histogram: np.ndarray, threshold: Threshold) -> int | None:
    total = float(histogram.sum())
    if not threshold.measure(total):
        return None
    cumulative = np.cumsum(histogram)
    return ACK_BOUNDS[int(np.searchsorted(cumulative, total / 2))]


def change(current: dict[str, Any], previous: dict[str, Any]) -> dict[str, float | int | None]:
    """Against the previous period; each figure only where both periods show it."""
    if current["suppressed"] or previous["suppressed"]:
        return {
            "reports": None,
            "mean_risk": None,
            "high_or_critical_share": None,
            "median_hours_to_acknowledge": None,
        }
    return {
        "reports": current["reports"] - previous["reports"],
        "mean_risk": round(current["mean_risk"] - previous["mean_risk"], 2),
        "high_or_critical_share": _difference(current, previous, "high_or_critical_share", 2),
        "median_hours_to_acknowledge": _difference(
            current, previous, "median_hours_to_acknowledge", 0
        ),
    }


def _difference(current: dict[str, Any], previous: dict[str, Any], name: str, digits: int):  # type: ignore[no-untyped-def]
    now, before = current[name], previous[name]
    if now is None or before is None:
        return None
    return round(now - before, digits) if digits else now - before


def period_json(period: Period) -> dict[str, Any]:
    return {"label": period.label, "start": period.start, "end": period.end}


def unit_label(tree: OrgTree, row: Row) -> str:
    name = tree.names[row.unit_index]
    return f"{name} (other)" if row.remainder else name


def row_json(tree: OrgTree, row: Row) -> dict[str, Any]:
    parent = tree.parents[row.unit_index]
    return {
        "unit": tree.ids[row.unit_index],
        "external_id": tree.external_ids[row.unit_index],
        "remainder": row.remainder,
        "name": unit_label(tree, row),
        "depth": tree.depths[row.unit_index],
        "parent": tree.ids[parent] if parent >= 0 else None,
        "retired": tree.retired[row.unit_index],
    }


def _figure_columns(
    values: np.ndarray, shown_measures: np.ndarray, threshold: Threshold
) -> dict[str, list[Any]]:
    """The figures of `measures` for many cells at once (values (..., FEATURES), shown
    (..., MEASURES), flattened in C order) as columns, computed with numpy; None where not
    shown."""
    flat = values.reshape(-1, FEATURES)
    flags = shown_measures.reshape(-1, len(MEASURES))
    shown = flags[:, SHOWN_REPORTS]
    reports = np.rint(flat[:, REPORTS])
    safe = np.where(reports > 0, reports, 1)
    mean = np.round(np.clip(flat[:, SCORE] / safe, 0, 1), 2)
    high = np.round(np.clip(flat[:, HIGH] / safe, 0, 1), 2)
    resolved = flat[:, INFORMAL] + flat[:, FORMAL] + flat[:, WITHDRAWN]
    safe_resolved = np.where(resolved > 0, resolved, 1)
    by_high = shown & flags[:, SHOWN_HIGH]
    by_resolution = shown & flags[:, SHOWN_RESOLVED]
    by_informal = shown & flags[:, SHOWN_INFORMAL]
    by_formal = shown & flags[:, SHOWN_FORMAL]
    histogram = flat[:, ACK:]
    acknowledged = histogram.sum(axis=1)
    by_median = shown & np.asarray(threshold.measure(acknowledged))
    middle = (np.cumsum(histogram, axis=1) * 2 >= acknowledged[:, None]).argmax(axis=1)
    both = np.concatenate([[False], shown[1:] & shown[:-1]])  # this cell and the one before
    both_high = np.concatenate([[False], by_high[1:] & by_high[:-1]])

    def column(array: np.ndarray, where: np.ndarray) -> list[Any]:
        return [v if w else None for v, w in zip(array.tolist(), where.tolist(), strict=True)]

    return {
        "suppressed": (~shown).tolist(),
        "reports": column(reports.astype(np.int64), shown),
        "mean_risk": column(mean, shown),
        "high_or_critical_share": column(high, by_high),
        "resolved_cases": column(np.rint(resolved).astype(np.int64), by_resolution),
        "resolved_informally_share": column(
            np.round(np.clip(flat[:, INFORMAL] / safe_resolved, 0, 1), 2), by_informal
        ),
        "referred_formal_share": column(
            np.round(np.clip(flat[:, FORMAL] / safe_resolved, 0, 1), 2), by_formal
        ),
        "median_hours_to_acknowledge": column(np.asarray(ACK_BOUNDS)[middle], by_median),
        # Against the cell before in the flat order: the previous period, where it is read.
        "change_reports": column(np.diff(reports, prepend=0).astype(np.int64), both),
        "change_mean": column(np.round(np.diff(mean, prepend=0), 2), both),
        "change_high": column(np.round(np.diff(high, prepend=0), 2), both_high),
    }


def risk_cells(answer: Answer) -> list[dict[str, Any]]:
    """Cells in row, category, period order."""
    if answer.values is None or answer.shown is None:
        return []
    # (rows, categories, periods + 1) order, so each cell follows its previous period.
    figures = _figure_columns(
        answer.values.transpose(0, 2, 1, 3), answer.shown.transpose(0, 2, 1, 3), answer.threshold
    )
    columns = list(zip(*figures.values(), strict=True))
    no_change = {"reports": None, "mean_risk": None, "high_or_critical_share": None}
    width = len(answer.periods) + 1
    labels = [p.label for p in answer.periods]
    cells: list[dict[str, Any]] = []
    position = 0
    for row in answer.rows:
        unit_id = answer.tree.ids[row.unit_index]
        for category in answer.categories:
            for p, label in enumerate(labels, start=1):
                (
                    hidden,
                    reports,
                    mean,
                    high,
                    resolved,
                    informal,
                    formal,
                    median,
                    delta,
                    delta_mean,
                    delta_high,
                ) = columns[position + p]
                cells.append(
                    {
                        "unit": unit_id,
                        "remainder": row.remainder,
                        "category": category,
                        "period": label,
                        "suppressed": hidden,
                        "reports": reports,
                        "mean_risk": mean,
                        "high_or_critical_share": high,
                        "resolved_cases": resolved,
                        "resolved_informally_share": informal,
                        "referred_formal_share": formal,
                        "median_hours_to_acknowledge": median,
                        "change": no_change
                        if delta is None
                        else {
                            "reports": delta,
                            "mean_risk": delta_mean,
                            "high_or_critical_share": delta_high,
                        },
                    }
                )
            position += width
    return cells


def risk_json(answer: Answer) -> dict[str, Any]:
    return {
        "query": answer.query_echo(),
        "periods": [period_json(p) for p in answer.periods],
        "units": [row_json(answer.tree, row) for row in answer.rows],
        "categories": answer.categories,
        "cells": risk_cells(answer),
    }


# -- summary and hotspots -----------------------------------------------------------------


def _summary(filters: Filters, today: date | None = None) -> dict[str, Any]:
    """Totals for the chosen unit (or the whole organisation): per period, per category and
    over the whole range, each only from released cells."""
    threshold = current_threshold()
    tree = load_tree()
    wanted, released_to = resolve_periods(filters, today)
    tops = _scope(tree, filters.unit)
    nothing = measures(np.zeros(FEATURES), NOTHING_SHOWN, threshold)
    body: dict[str, Any] = {
        "query": Answer(filters, released_to, wanted, tree, threshold).query_echo(),
        "unit": tree.ids[tops[0]] if filters.unit is not None else None,
        "name": tree.names[tops[0]] if filters.unit is not None else "Whole organisation",
        "total": nothing,
        "periods": [],
        "categories": [{"category": category, **nothing} for category in CATEGORIES],
    }
    if not wanted:
        return body
    scope = Row(tops[0], False, tuple((1, top) for top in tops))
    values, shown = _period_slices([periods.preceding(wanted[0]), *wanted], tree, threshold)
    row_values, row_shown = _combine([scope], tree, values, shown, threshold)
    series, flags = row_values[0], row_shown[0]  # (periods + 1, categories, FEATURES)
    everything = CATEGORY_INDEX[ALL]
    previous = measures(series[0, everything], flags[0, everything], threshold)
    for p, period in enumerate(wanted, start=1):
        current = measures(series[p, everything], flags[p, everything], threshold)
        body["periods"].append(
            {"period": period_json(period), **current, "change": change(current, previous)}
        )
        previous = current
    # The range total is a sum of period cells: shown only if every one of them is released.
    totals = series[1:].sum(axis=0)
    totals_shown = derive_measures(totals, flags[1:].all(axis=0), threshold)
    body["total"] = measures(totals[everything], totals_shown[everything], threshold)
    body["categories"] = [
        {
            "category": category,
            **measures(
                totals[CATEGORY_INDEX[category]],
                totals_shown[CATEGORY_INDEX[category]],
                threshold,
            ),
        }
        for category in CATEGORIES
    ]
    return body


CASE_FIGURES_KEY = "defuse.analytics_case_figures"
CASE_FIGURES_SECONDS = 60  # case figures move with the work; a minute old is current enough


def headline(filters: Filters, today: date | None = None) -> dict[str, Any]:
    """The latest period of the range against the one before, for the chosen unit (or the
    organisation): reports, high or critical, the median times to acknowledge and to feedback
    and the cases overdue now. Report figures come from the released summary; case figures
    are read live (cases move on after their month is released) and shown only where the
    period's reports are, from at least k cases (an overdue count of 0 is shown: it is the
    organisation's doing, nobody's trait)."""
    body = summary(filters, today)
    if not body["periods"]:
        return {"period": None}
    latest = body["periods"][-1]
    tree = load_tree()
    threshold = current_threshold()
    tops = _scope(tree, filters.unit)
    # The whole organisation: every case (no join with the reports needed).
    unit_ids = (
        None
        if filters.unit is None
        else [tree.ids[node] for top in tops for node in tree.subtree(top)]
    )
    now = utcnow()
    wanted, _ = resolve_periods(filters, today)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    recent = app.extensions.setdefault(CASE_FIGURES_KEY, {})

    def case_figures(period: Period, released: bool) -> tuple[int | None, float | None]:
        if not released:
            return None, None
        key = (period.start, filters.unit, tree.version, threshold.k)
        kept = recent.get(key)
        if kept is not None and monotonic() - kept[0] < CASE_FIGURES_SECONDS:
            return kept[1]
        since = datetime.combine(period.start, time())
        before = datetime.combine(period.end + timedelta(days=1), time())
        cases, overdue = overdue_cases(now, since, before, unit_ids)
        enough = cases >= threshold.k and (overdue == 0 or overdue >= threshold.k)
        figures = (overdue if enough else None), median_days_to_feedback(since, before, unit_ids)
        if len(recent) > ANSWER_CACHE_ENTRIES:
            recent.clear()
        recent[key] = (monotonic(), figures)
        return figures

    # The change is shown only where both periods' reports are (query.change).
    previous_shown = latest["change"]["reports"] is not None
    overdue_before, feedback_before = case_figures(periods.preceding(wanted[-1]), previous_shown)
    overdue_now, feedback_now = case_figures(wanted[-1], not latest["suppressed"])
    return {
        "period": latest["period"],
        "reports": latest["reports"],
        "reports_change": latest["change"]["reports"],
        "high_or_critical_share": latest["high_or_critical_share"],
        "high_or_critical_share_change": latest["change"]["high_or_critical_share"],
        "median_hours_to_acknowledge": latest["median_hours_to_acknowledge"],
        "median_hours_to_acknowledge_change": latest["change"]["median_hours_to_acknowledge"],
        "median_days_to_feedback": feedback_now,
        "median_days_to_feedback_change": None
        if feedback_now is None or feedback_before is None
        else round(feedback_now - feedback_before, 1),
        "overdue_cases": overdue_now,
        "overdue_cases_change": None
        if overdue_now is None or overdue_before is None
        else overdue_now - overdue_before,
    }


HISTORY_DAYS = 366  # a unit's own history: the released months of the year before


def _hotspots(filters: Filters, today: date | None = None) -> dict[str, Any]:
    """Unit-periods with improbably many reports for the unit's headcount and own history
    (service/engine/hotspots.py), tested across units with false-discovery control; the
    deepest such unit only, with aggregate figures and no case detail.

    Everything the model reads is released: a unit-period is tested only where its report
    count is shown, its history is the released months of the year before (withheld months
    count as unknown, not as zero), and the organisation's rate comes from the released
    totals of the top units. So the expected figure and the surprise add nothing that the
    released cells and the published headcounts do not already tell."""
    threshold = current_threshold()
    tree = load_tree()
    wanted, released_to = resolve_periods(filters, today)
    tops = _scope(tree, filters.unit)
    echo = Answer(filters, released_to, wanted, tree, threshold).query_echo()
    found: list[dict[str, Any]] = []
    if wanted:
        model = HotspotModel.from_settings(current_app.config["DEFUSE"])
        everything = CATEGORY_INDEX[ALL]
        headcounts = tree.subtree_headcounts()
        history = [
            m
            for m in periods.between(
                "month", wanted[0].start - timedelta(days=HISTORY_DAYS), wanted[-1].end
            )
            if m.end <= released_to and m.start >= EARLIEST
        ]
        month_values, month_shown = _period_slices(history, tree, threshold)
        month_counts = month_values[:, : tree.size, everything, REPORTS]
        month_known = month_shown[:, : tree.size, everything, SHOWN_REPORTS]
        month_days = np.array([m.days for m in history], dtype=float)
        values, shown = _period_slices(wanted, tree, threshold)
        in_scope = sorted({node for top in tops for node in tree.subtree(top)})
        roots = tree.roots
        for p, period in enumerate(wanted):
            before = np.array(
                [
                    m.end < period.start and m.start >= period.start - timedelta(days=HISTORY_DAYS)
                    for m in history
                ],
                dtype=bool,
            )
            known = month_known & before[:, None]
            history_reports = np.where(known, month_counts, 0).sum(axis=0)
            history_days = (known * month_days[:, None]).sum(axis=0) * np.nan_to_num(headcounts)
            org_rate = model.organisation_rate(
                float(history_reports[roots].sum()), float(history_days[roots].sum())
            )
            cell_values = values[p, : tree.size, everything]
            cell_shown = shown[p, : tree.size, everything]
            exposure = np.where(cell_shown[:, SHOWN_REPORTS], headcounts * period.days, np.nan)
            test = model.test(
                cell_values[:, REPORTS], exposure, history_reports, history_days, org_rate
            )
            for node in in_scope:
                if not test.hotspot[node] or any(test.hotspot[c] for c in tree.children[node]):
                    continue
                figures = measures(cell_values[node], cell_shown[node], threshold)
                found.append(
                    {
                        "unit": tree.ids[node],
                        "name": tree.names[node],
                        "depth": tree.depths[node],
                        "period": period_json(period),
                        "reports": figures["reports"],
                        "headcount": int(headcounts[node]),
                        "expected": round(float(test.expected[node]), 1),
                        "rate_per_100": round(
                            per_100_a_year(figures["reports"], headcounts[node], period.days), 1
                        ),
                        "p_value": _significant(test.p_value[node]),
                        "q_value": _significant(test.q_value[node]),
                        "mean_risk": figures["mean_risk"],
                        "high_or_critical_share": figures["high_or_critical_share"],
                    }
                )
    found.sort(key=lambda h: (h["period"]["start"], h["reports"]), reverse=True)
    return {"query": echo, "false_discovery_rate": _fdr(), "hotspots": found}


def _fdr() -> float:
    return HotspotModel.from_settings(current_app.config["DEFUSE"]).false_discovery_rate


def _significant(value: float) -> float:
    return float(f"{float(value):.3g}")


def default_range(today: date | None = None) -> tuple[date, date]:
    """The dashboard's default: the last six complete months."""
    released_to = periods.last_released_day(today or utcnow().date())
    first = released_to
    for _ in range(DEFAULT_MONTHS):
        first = periods.containing("month", first).start - timedelta(days=1)
    return first + timedelta(days=1), released_to


def _trends(filters: Filters, today: date | None = None) -> dict[str, Any]:
    """Per category and period for the chosen unit (or the whole organisation): the trend
    lines of the dashboard."""
    threshold = current_threshold()
    tree = load_tree()
    wanted, _ = resolve_periods(filters, today)
    tops = _scope(tree, filters.unit)
    series: dict[str, list[dict[str, Any]]] = {category: [] for category in CATEGORY_AXIS}
    if wanted:
        values, shown = _period_slices(wanted, tree, threshold)
        scope = Row(tops[0], False, tuple((1, top) for top in tops))
        row_values, row_shown = _combine([scope], tree, values, shown, threshold)
        for category, index in CATEGORY_INDEX.items():
            series[category] = [
                measures(row_values[0, p, index], row_shown[0, p, index], threshold)
                for p in range(len(wanted))
            ]
    return {"periods": wanted, "series": series}


# -- the entry points: each answer computed once per release state (`cached`) --------------


def risk_table(filters: Filters, today: date | None = None) -> Answer:
    """The table of reports by unit, category and period (`_risk_table`)."""
    return cached("risk", filters, lambda: _risk_table(filters, today), today)


def summary(filters: Filters, today: date | None = None) -> dict[str, Any]:
    """Totals and headlines for a unit or the organisation (`_summary`)."""
    return cached("summary", filters, lambda: _summary(filters, today), today)


def hotspots(filters: Filters, today: date | None = None) -> dict[str, Any]:
    """The hotspot list (`_hotspots`)."""
    return cached("hotspots", filters, lambda: _hotspots(filters, today), today)


def trends(filters: Filters, today: date | None = None) -> dict[str, Any]:
    """The dashboard's trend lines (`_trends`)."""
    return cached("trends", filters, lambda: _trends(filters, today), today)
