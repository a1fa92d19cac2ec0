"""Month cubes: one month's rollups summed over the org tree, with the released cells marked.

A cube holds, for every unit-part (each unit's subtree, and each parent unit's own reports),
every category and "all", every week of the month and the month itself, a vector of additive
features (reports, score sum, high or critical, hotspots, resolutions, acknowledgement-time
histogram). Which cells may be shown is decided by anonymity.Threshold.release.

Cubes are cached per app, keyed by the month, the change stamps of its weeks (kept by database
triggers), the shape of the org tree and k. A complete month's counts never change, so after
the first request the analytics answer from memory; any write to that month's rollups changes a
stamp and the month is recomputed on the next request.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
from flask import Flask, current_app
from sqlalchemy import Date, case, cast, func, literal_column, select

from service.analytics import periods
from service.analytics.anonymity import Threshold, UnitLines
from service.analytics.periods import Period
from service.db import AcknowledgementRollup, OrgUnit, ResolutionRollup, RiskRollup
from service.db.rollups import AnalyticsVersion
from service.extensions import db
from service.vocab import CATEGORIES

ALL = "all"
CATEGORY_AXIS: tuple[str, ...] = (*CATEGORIES, ALL)
CATEGORY_INDEX = {name: index for index, name in enumerate(CATEGORY_AXIS)}

# Acknowledgement times are kept only as these buckets (upper bounds, hours): coarse on purpose.
ACK_BOUNDS: tuple[int, ...] = (1, 2, 4, 8, 12, 24, 48, 72, 96, 120, 144, 168, 336, 720)
RESOLUTIONS: tuple[str, ...] = ("resolved_informally", "referred_formal", "withdrawn")

REPORTS, SCORE, HIGH, HOTSPOTS, INFORMAL, FORMAL, WITHDRAWN = range(7)
ACK = 7  # first acknowledgement bucket
FEATURES = ACK + len(ACK_BOUNDS)

CACHE_KEY = "defuse.analytics_cubes"
CACHE_SIZE = 512


@dataclass(frozen=True)
class OrgTree:
    """The org units in tree order (parents first) and the unit-parts of a cube: index i < n
    is unit i's subtree, `own[i]` is the part for unit i's own reports (= i for a leaf).

    Retired units stay in the tree where they last were: their reports are history, counted
    in the units above them. The tree is today's, so a unit that moved takes its whole
    history along (counted once, under its new parent)."""

    ids: tuple[int, ...]
    external_ids: tuple[str, ...]
    names: tuple[str, ...]
    retired: tuple[bool, ...]
    parents: tuple[int, ...]  # index of the parent unit, -1 for a root
    depths: tuple[int, ...]
    children: tuple[tuple[int, ...], ...]
    own: tuple[int, ...]
    lines: UnitLines = field(repr=False, compare=False)
    fingerprint: int = 0

    @property
    def size(self) -> int:
        return len(self.ids)

    @property
    def parts(self) -> int:
        return len(self.lines.parent)

    @property
    def roots(self) -> list[int]:
        return [i for i, parent in enumerate(self.parents) if parent < 0]

    def index_of(self, unit_id: int) -> int | None:
        try:
            return self.ids.index(unit_id)
        except ValueError:
            return None

    def subtree(self, index: int) -> list[int]:
        found, stack = [], [index]
        while stack:
            node = stack.pop()
            found.append(node)
            stack.extend(reversed(self.children[node]))
        return sorted(found)


def load_tree() -> OrgTree:
    rows = db.session.execute(
        select(OrgUnit.id, OrgUnit.external_id, OrgUnit.name, OrgUnit.parent_id, OrgUnit.retired_at)
    ).all()
    by_id = {row.id: row for row in rows}
    kids: dict[int | None, list[int]] = {}
    for row in sorted(rows, key=lambda r: (r.name, r.id)):  # siblings by name
        parent = row.parent_id if row.parent_id in by_id else None
        kids.setdefault(parent, []).append(row.id)
    order: list[int] = []
    depth_of: dict[int, int] = {}
    stack = [(unit_id, 0) for unit_id in reversed(kids.get(None, []))]
    while stack:  # depth-first, so each unit comes right after its parent's earlier subtrees
        unit_id, depth = stack.pop()
        if unit_id in depth_of:
            continue  # a cycle in bad data: each unit once
        depth_of[unit_id] = depth
        order.append(unit_id)
        stack.extend((child, depth + 1) for child in reversed(kids.get(unit_id, [])))
    index = {unit_id: i for i, unit_id in enumerate(order)}
    parents = tuple(index.get(by_id[u].parent_id, -1) for u in order)
    children = tuple(tuple(index[c] for c in kids.get(u, []) if c in index) for u in order)
    own: list[int] = []
    part_parent = list(parents)  # a subtree is a part of its parent's subtree
    for i, kids_of_i in enumerate(children):
        if kids_of_i:
            own.append(len(part_parent))
            part_parent.append(i)  # a unit's own reports are a part of its subtree
        else:
            own.append(i)
    return OrgTree(
        ids=tuple(order),
        external_ids=tuple(by_id[u].external_id for u in order),
        names=tuple(by_id[u].name for u in order),
        retired=tuple(by_id[u].retired_at is not None for u in order),
        parents=parents,
        depths=tuple(depth_of[u] for u in order),
        children=children,
        own=tuple(own),
        lines=UnitLines.from_parents(part_parent),
        fingerprint=hash(tuple(zip(order, parents, strict=True))),
    )


@dataclass(frozen=True)
class MonthCube:
    month: Period
    weeks: tuple[Period, ...]
    values: np.ndarray  # (unit-parts, categories + all, weeks + month, FEATURES)
    released: np.ndarray  # (unit-parts, categories + all, weeks + month)

    def slot(self, period: Period) -> int:
        if period.kind == "month":
            return len(self.weeks)
        return [w.start for w in self.weeks].index(period.start)


class _Cache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.items: OrderedDict[tuple[object, ...], MonthCube] = OrderedDict()

    def get(self, key: tuple[object, ...]) -> MonthCube | None:
        with self.lock:
            cube = self.items.get(key)
            if cube is not None:
                self.items.move_to_end(key)
            return cube

    def put(self, key: tuple[object, ...], cube: MonthCube) -> None:
        with self.lock:
            self.items[key] = cube
            while len(self.items) > CACHE_SIZE:
                self.items.popitem(last=False)


def _cache(app: Flask) -> _Cache:
    cache = app.extensions.get(CACHE_KEY)
    if cache is None:
        cache = app.extensions.setdefault(CACHE_KEY, _Cache())
    return cache


def month_cubes(
    months: Sequence[Period], tree: OrgTree, threshold: Threshold
) -> dict[date, MonthCube]:
    """The cubes of the given months, from the cache where their stamps are unchanged."""
    if not months:
        return {}
    cache = _cache(current_app._get_current_object())  # type: ignore[attr-defined]
    stamps = _week_stamps(min(m.start for m in months), max(m.end for m in months))
    found: dict[date, MonthCube] = {}
    missing: list[tuple[Period, tuple[object, ...]]] = []
    for month in months:
        key = (
            month.start,
            tuple(stamps.get(w) for w in month.weeks()),
            tree.fingerprint,
            threshold.k,
        )
        cube = cache.get(key)
        if cube is None:
            missing.append((month, key))
        else:
            found[month.start] = cube
    if missing:
        built = _build([m for m, _ in missing], tree, threshold)
        for month, key in missing:
            cache.put(key, built[month.start])
            found[month.start] = built[month.start]
    return found


def _week_stamps(first: date, last: date) -> dict[date, int]:
    rows = db.session.execute(
        select(AnalyticsVersion.week, AnalyticsVersion.version).where(
            AnalyticsVersion.week.between(first, last)
        )
    ).all()
    return {_as_date(row.week): row.version for row in rows}


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _week_of(column):  # type: ignore[no-untyped-def]
    """The Monday of a date column's ISO week, in SQL."""
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(func.date_trunc("week", column), Date)
    return func.date(column, literal_column("'weekday 0'"), literal_column("'-6 days'"))


def _ack_bucket(column):  # type: ignore[no-untyped-def]
    whens = [(column <= bound, index) for index, bound in enumerate(ACK_BOUNDS)]
    return case(*whens, else_=len(ACK_BOUNDS) - 1)


def _build(months: Sequence[Period], tree: OrgTree, threshold: Threshold) -> dict[date, MonthCube]:
    """Read the rollups of the months (one query per table) and build their cubes."""
    week_slot: dict[date, tuple[date, int]] = {}
    arrays: dict[date, np.ndarray] = {}
    for month in months:
        for slot, monday in enumerate(month.weeks()):
            week_slot[monday] = (month.start, slot)
        arrays[month.start] = np.zeros(
            (tree.parts, len(CATEGORY_AXIS), len(month.weeks()) + 1, FEATURES)
        )
    first, last = min(m.start for m in months), max(m.end for m in months)
    own_part = {unit_id: tree.own[i] for i, unit_id in enumerate(tree.ids)}

    def add(rows: Iterable, feature_of) -> None:  # type: ignore[no-untyped-def]
        for unit_id, category, week, key, *amounts in rows:
            part = own_part.get(unit_id)
            category_index = CATEGORY_INDEX.get(category)
            target = week_slot.get(_as_date(week))
            if part is None or category_index is None or target is None or category == ALL:
                continue
            cell = arrays[target[0]][part, category_index, target[1]]
            for feature, amount in feature_of(key, amounts):
                cell[feature] += amount

    week = _week_of(RiskRollup.day)
    high = RiskRollup.level.in_(("high", "critical"))
    add(
        db.session.execute(
            select(
                RiskRollup.org_unit_id,
                RiskRollup.category,
                week,
                high,
                func.sum(RiskRollup.reports),
                func.sum(RiskRollup.score_sum),
                func.sum(RiskRollup.hotspots),
            )
            .where(RiskRollup.day.between(first, last))
            .group_by(RiskRollup.org_unit_id, RiskRollup.category, week, high)
        ),
        lambda is_high, amounts: (
            (REPORTS, amounts[0] or 0),
            (SCORE, amounts[1] or 0.0),
            (HOTSPOTS, amounts[2] or 0),
            (HIGH, (amounts[0] or 0) if is_high else 0),
        ),
    )
    week = _week_of(ResolutionRollup.day)
    resolution_feature = dict(zip(RESOLUTIONS, (INFORMAL, FORMAL, WITHDRAWN), strict=True))
    add(
        db.session.execute(
            select(
                ResolutionRollup.org_unit_id,
                ResolutionRollup.category,
                week,
                ResolutionRollup.resolution,
                func.sum(ResolutionRollup.cases),
            )
            .where(ResolutionRollup.day.between(first, last))
            .group_by(
                ResolutionRollup.org_unit_id,
                ResolutionRollup.category,
                week,
                ResolutionRollup.resolution,
            )
        ),
        lambda resolution, amounts: (
            ((resolution_feature[resolution], amounts[0] or 0),)
            if resolution in resolution_feature
            else ()
        ),
    )
    week = _week_of(AcknowledgementRollup.day)
    bucket = _ack_bucket(AcknowledgementRollup.hours)
    add(
        db.session.execute(
            select(
                AcknowledgementRollup.org_unit_id,
                AcknowledgementRollup.category,
                week,
                bucket,
                func.sum(AcknowledgementRollup.cases),
            )
            .where(AcknowledgementRollup.day.between(first, last))
            .group_by(
                AcknowledgementRollup.org_unit_id, AcknowledgementRollup.category, week, bucket
            )
        ),
        lambda index, amounts: ((ACK + int(index), amounts[0] or 0),),
    )
    return {month.start: _finish(month, arrays[month.start], tree, threshold) for month in months}


def _finish(month: Period, values: np.ndarray, tree: OrgTree, threshold: Threshold) -> MonthCube:
    """Fill in the margins (subtrees, "all", the month) and decide what is released."""
    for node in reversed(range(tree.size)):  # children come after their parent in tree order
        if tree.own[node] != node:
            values[node] += values[tree.own[node]]
        parent = tree.parents[node]
        if parent >= 0:
            values[parent] += values[node]
    values[:, -1] = values[:, :-1].sum(axis=1)
    values[:, :, -1] = values[:, :, :-1].sum(axis=2)
    counts = np.rint(values[..., REPORTS]).astype(np.int64)
    released = threshold.release(counts, tree.lines)
    values.setflags(write=False)
    released.setflags(write=False)
    weeks = tuple(periods.week(monday) for monday in month.weeks())
    return MonthCube(month=month, weeks=weeks, values=values, released=released)
