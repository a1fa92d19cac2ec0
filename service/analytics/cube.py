"""Month cubes: one month's rollups summed over the org tree, with the released cells marked.

A cube holds, for every unit-part (each unit's subtree, and each parent unit's own reports),
every category and "all", every week of the month and the month itself, a vector of additive
features (reports, score sum, high or critical, hotspots, resolutions, acknowledgement-time
histogram). Which measures of which cells may be shown is decided by the anonymity threshold,
measure by measure (`release_measures`): report counts, then the counts behind resolution and
every share, each released only inside the cells whose reports are.

Released months are frozen: the first time a complete month is asked for, each unit's own
figures are read from the rollups and stored (`analytics_released_months`); from then on the
month is built from what was stored, never from the rollups, so a later rescore or rule change
moves cases, not released figures. Cubes are cached per app, keyed by the month, its frozen
stamp (one small query a request), the shape of the org tree and k (the only inputs that can
still change a frozen month's cells).

Which cells of a month are released takes seconds to work out (the audit), so it is worked
out once for those same inputs and stored (`analytics_released_cells`, `release_layout`):
at release time by the scheduled job (query.release_recent_months), else by the first
request that needs it. A new worker then reads it instead of solving it again.
"""

from __future__ import annotations

import hashlib
import io
import secrets
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
from flask import Flask, current_app
from sqlalchemy import Date, case, cast, func, literal_column, select
from sqlalchemy.dialects import postgresql, sqlite

from service.analytics import periods
from service.analytics.anonymity import Threshold, UnitLines
from service.analytics.periods import Period
from service.db import (
    AcknowledgementRollup,
    OrgUnit,
    ReleasedCells,
    ReleasedMonth,
    ResolutionRollup,
    RiskRollup,
    this_hour,
)
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

# The published measures, and the counts each one gives away (anonymity.release_jointly):
# a share tells both how many reports have the attribute and how many have not.
MEASURES: tuple[str, ...] = ("reports", "high", "resolved", "informal", "formal")
SHOWN_REPORTS, SHOWN_HIGH, SHOWN_RESOLVED, SHOWN_INFORMAL, SHOWN_FORMAL = range(len(MEASURES))
# A measure is shown only inside the cells where this one is (None: anywhere).
MEASURE_WITHIN: tuple[int | None, ...] = (
    None,
    SHOWN_REPORTS,
    SHOWN_REPORTS,
    SHOWN_RESOLVED,
    SHOWN_RESOLVED,
)


def measure_counts(values: np.ndarray) -> list[list[np.ndarray]]:
    """For each measure, the whole-number counts it rests on, from features (..., FEATURES)."""
    counts = np.rint(values).astype(np.int64)
    reports, high = counts[..., REPORTS], counts[..., HIGH]
    informal, formal, withdrawn = counts[..., INFORMAL], counts[..., FORMAL], counts[..., WITHDRAWN]
    return [
        [reports],
        [high, reports - high],
        [informal + formal + withdrawn],
        [informal, formal + withdrawn],
        [formal, informal + withdrawn],
    ]


def release_measures(values: np.ndarray, tree: OrgTree, threshold: Threshold) -> np.ndarray:
    """Which measures of which cells of a month cube are shown: (cells..., MEASURES)."""
    shown = np.zeros((*values.shape[:-1], len(MEASURES)), dtype=bool)
    for measure, counts in enumerate(measure_counts(values)):
        inside = MEASURE_WITHIN[measure]
        # Inside a shown group an empty count tells (none high: all low), except for the
        # resolved count itself: no case closed yet is the organisation's doing, no one's trait.
        shown[..., measure] = threshold.release_jointly(
            counts,
            tree.lines,
            None if inside is None else shown[..., inside],
            empty_tells=measure not in (SHOWN_REPORTS, SHOWN_RESOLVED),
        )
    return shown


def derive_measures(
    values: np.ndarray, parts_shown: np.ndarray, threshold: Threshold
) -> np.ndarray:
    """The measures of a figure computed from cells (a sum or difference: a quarter, a
    remainder row, a range total): shown where they are in every cell it is made of and
    every count behind them is at least k."""
    shown = np.array(parts_shown, dtype=bool)
    for measure, counts in enumerate(measure_counts(values)):
        for count in counts:
            shown[..., measure] &= count >= threshold.k
        inside = MEASURE_WITHIN[measure]
        if inside is not None:
            shown[..., measure] &= shown[..., inside]
    return shown


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
    headcounts: tuple[int | None, ...]  # the unit's own people, from the HR file
    parents: tuple[int, ...]  # index of the parent unit, -1 for a root
    depths: tuple[int, ...]
    children: tuple[tuple[int, ...], ...]
    own: tuple[int, ...]
    lines: UnitLines = field(repr=False, compare=False)
    fingerprint: int = 0  # the shape (units and parents), in this process
    # Everything an answer shows of the tree (names, ids, headcounts, retirements too), in
    # this process: what cached answers are keyed by (query.py).
    version: int = 0
    # The shape as a stable digest, the same in every process: what stored releases are
    # keyed by (a release depends on the units, their order and parents, nothing else).
    shape_digest: str = ""

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

    def subtree_headcounts(self) -> np.ndarray:
        """People in each unit's subtree (retired units count none); NaN where no unit of
        the subtree has a known headcount."""
        own = np.array(
            [
                np.nan if h is None or r else float(h)
                for h, r in zip(self.headcounts, self.retired, strict=True)
            ]
        )
        total = np.where(np.isnan(own), 0.0, own)
        known = ~np.isnan(own)
        for node in reversed(range(self.size)):
            parent = self.parents[node]
            if parent >= 0:
                total[parent] += total[node]
                known[parent] |= known[node]
        return np.where(known, total, np.nan)

    def subtree(self, index: int) -> list[int]:
        found, stack = [], [index]
        while stack:
            node = stack.pop()
            found.append(node)
            stack.extend(reversed(self.children[node]))
        return sorted(found)


def load_tree() -> OrgTree:
    rows = db.session.execute(
        select(
            OrgUnit.id,
            OrgUnit.external_id,
            OrgUnit.name,
            OrgUnit.parent_id,
            OrgUnit.retired_at,
            OrgUnit.headcount,
        )
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
        headcounts=tuple(by_id[u].headcount for u in order),
        parents=parents,
        depths=tuple(depth_of[u] for u in order),
        children=children,
        own=tuple(own),
        lines=UnitLines.from_parents(part_parent),
        fingerprint=hash(tuple(zip(order, parents, strict=True))),
        version=hash(
            tuple(
                (u, by_id[u].external_id, by_id[u].name, by_id[u].retired_at is not None)
                + (by_id[u].headcount, p)
                for u, p in zip(order, parents, strict=True)
            )
        ),
        shape_digest=hashlib.sha256(repr((order, parents)).encode()).hexdigest(),
    )


@dataclass(frozen=True)
class MonthCube:
    month: Period
    weeks: tuple[Period, ...]
    values: np.ndarray  # (unit-parts, categories + all, weeks + month, FEATURES)
    shown: np.ndarray  # (unit-parts, categories + all, weeks + month, MEASURES)

    @property
    def released(self) -> np.ndarray:
        """The cells whose report counts are shown."""
        return self.shown[..., SHOWN_REPORTS]

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
    """The cubes of the given (complete) months: from memory, else from their frozen figures,
    else read from the rollups and frozen now. Frozen figures are what the month was first
    answered with, so a month's answers never change; only today's org tree and k are
    applied to them again (a moved unit's history is summed under its new parent)."""
    if not months:
        return {}
    cache = _cache(current_app._get_current_object())  # type: ignore[attr-defined]
    stamps = _stamps(months)
    unfrozen = [m for m in months if m.start not in stamps]
    own: dict[date, np.ndarray] = {}
    if unfrozen:
        own = _freeze(unfrozen, _read_rollups(unfrozen, tree), tree)
        stamps = _stamps(months)
    found: dict[date, MonthCube] = {}
    missing: list[tuple[Period, tuple[object, ...]]] = []
    for month in months:
        key = (month.start, stamps[month.start], tree.fingerprint, threshold.k)
        cube = cache.get(key)
        if cube is None:
            missing.append((month, key))
        else:
            found[month.start] = cube
    if missing:
        wanted = [m for m, _ in missing if m.start not in own]
        if wanted:
            own.update(frozen_figures(wanted, tree))
        layouts = {m.start: release_layout(stamps[m.start], tree, threshold) for m, _ in missing}
        stored = _stored_releases(layouts)
        for month, key in missing:
            values = _with_margins(own[month.start], tree)
            shown = stored.get(month.start)
            if shown is None or shown.shape != (*values.shape[:-1], len(MEASURES)):
                shown = release_measures(values, tree, threshold)
                _store_release(month, layouts[month.start], shown)
            cube = _cube(month, values, shown)
            cache.put(key, cube)
            found[month.start] = cube
    return found


# Bump when the release rule (anonymity.py, release_measures) changes: every stored release
# is then worked out again on first use.
RELEASE_RULE_VERSION = 1


def release_layout(stamp: int, tree: OrgTree, threshold: Threshold) -> str:
    """The key of a month's stored release: everything the release depends on (the frozen
    figures by their stamp, the tree's shape, k, the axes and the rule), as one digest."""
    inputs = (
        RELEASE_RULE_VERSION,
        stamp,
        tree.shape_digest,
        threshold.k,
        CATEGORY_AXIS,
        FEATURES,
        MEASURES,
    )
    return hashlib.sha256(repr(inputs).encode()).hexdigest()


def _stored_releases(layouts: dict[date, str]) -> dict[date, np.ndarray]:
    rows = db.session.execute(
        select(ReleasedCells.month, ReleasedCells.layout, ReleasedCells.shown).where(
            ReleasedCells.month.in_(list(layouts))
        )
    ).all()
    found: dict[date, np.ndarray] = {}
    for row in rows:
        month = _as_date(row.month)
        if layouts.get(month) == row.layout:
            with np.load(io.BytesIO(row.shown), allow_pickle=False) as stored:
                found[month] = np.unpackbits(stored["bits"], count=int(np.prod(stored["shape"])))
                found[month] = found[month].reshape(tuple(stored["shape"])).astype(bool)
    return found


def _release_blob(shown: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, shape=np.asarray(shown.shape), bits=np.packbits(shown.ravel()))
    return buffer.getvalue()


def _store_release(month: Period, layout: str, shown: np.ndarray) -> None:
    """Keep a month's release for every later request (and process); a release stored for an
    older layout of the month (another tree or k) is dropped. Two requests may store the same
    release at once: it is the same, the first one stays."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(
        ReleasedCells.__table__.delete().where(
            ReleasedCells.month == month.start, ReleasedCells.layout != layout
        )
    )
    db.session.execute(
        insert(ReleasedCells)
        .values(
            month=month.start, layout=layout, shown=_release_blob(shown), computed_at=this_hour()
        )
        .on_conflict_do_nothing(index_elements=["month", "layout"])
    )
    db.session.commit()


def released_stamps() -> tuple[tuple[date, int], ...]:
    """Every frozen month with its stamp: what changes when a month is released (or a
    backup restored), so what cached answers are keyed by."""
    rows = db.session.execute(
        select(ReleasedMonth.month, ReleasedMonth.stamp).order_by(ReleasedMonth.month)
    ).all()
    return tuple((_as_date(row.month), row.stamp) for row in rows)


def _stamps(months: Sequence[Period]) -> dict[date, int]:
    rows = db.session.execute(
        select(ReleasedMonth.month, ReleasedMonth.stamp).where(
            ReleasedMonth.month.in_([m.start for m in months])
        )
    ).all()
    return {_as_date(row.month): row.stamp for row in rows}


def frozen_figures(months: Sequence[Period], tree: OrgTree) -> dict[date, np.ndarray]:
    """The frozen figures of those months that have them, laid out on today's tree (own
    unit-parts, categories + all, weeks + month, FEATURES; margins still empty)."""
    rows = db.session.execute(
        select(ReleasedMonth.month, ReleasedMonth.figures).where(
            ReleasedMonth.month.in_([m.start for m in months])
        )
    ).all()
    by_start = {m.start: m for m in months}
    return {
        _as_date(row.month): _unpack(by_start[_as_date(row.month)], row.figures, tree)
        for row in rows
    }


def _empty(month: Period, tree: OrgTree) -> np.ndarray:
    return np.zeros((tree.parts, len(CATEGORY_AXIS), len(month.weeks()) + 1, FEATURES))


def _pack(values: np.ndarray, tree: OrgTree) -> bytes:
    """A month's own-report figures per unit (only units with any), as an .npz file."""
    own = np.asarray(tree.own)
    per_unit = values[own][:, :-1, :-1]  # no margins: they are sums, made again on load
    used = np.nonzero(per_unit.reshape(len(own), -1).any(axis=1))[0]
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        unit_ids=np.asarray(tree.ids, dtype=np.int64)[used],
        categories=np.asarray(CATEGORY_AXIS[:-1]),
        values=per_unit[used],
    )
    return buffer.getvalue()


def _unpack(month: Period, blob: bytes, tree: OrgTree) -> np.ndarray:
    values = _empty(month, tree)
    with np.load(io.BytesIO(blob), allow_pickle=False) as stored:
        columns = [CATEGORY_INDEX.get(str(name)) for name in stored["categories"]]
        own_part = {unit_id: tree.own[i] for i, unit_id in enumerate(tree.ids)}
        for unit_id, figures in zip(stored["unit_ids"].tolist(), stored["values"], strict=True):
            part = own_part.get(unit_id)
            if part is None:
                continue  # units are never deleted; only a bad restore could get here
            for column, by_week in zip(columns, figures, strict=True):
                if column is not None:
                    values[part, column, :-1] += by_week
    return values


def _freeze(
    months: Sequence[Period], figures: dict[date, np.ndarray], tree: OrgTree
) -> dict[date, np.ndarray]:
    """Store the figures of months not frozen yet. Two requests may freeze the same month at
    once: the first stored wins, and both answer with what is stored."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    for month in months:
        db.session.execute(
            insert(ReleasedMonth)
            .values(
                month=month.start,
                figures=_pack(figures[month.start], tree),
                released_at=this_hour(),
                stamp=secrets.randbits(62),
            )
            .on_conflict_do_nothing(index_elements=["month"])
        )
    db.session.commit()
    return frozen_figures(months, tree)


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


def _read_rollups(months: Sequence[Period], tree: OrgTree) -> dict[date, np.ndarray]:
    """Read the rollups of the months (one query per table): each unit's own reports."""
    week_slot: dict[date, tuple[date, int]] = {}
    arrays: dict[date, np.ndarray] = {}
    for month in months:
        for slot, monday in enumerate(month.weeks()):
            week_slot[monday] = (month.start, slot)
        arrays[month.start] = _empty(month, tree)
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
    return arrays


def _with_margins(values: np.ndarray, tree: OrgTree) -> np.ndarray:
    """Fill in the margins (subtrees, "all", the month) of each unit's own figures."""
    for node in reversed(range(tree.size)):  # children come after their parent in tree order
        if tree.own[node] != node:
            values[node] += values[tree.own[node]]
        parent = tree.parents[node]
        if parent >= 0:
            values[parent] += values[node]
    values[:, -1] = values[:, :-1].sum(axis=1)
    values[:, :, -1] = values[:, :, :-1].sum(axis=2)
    return values


def _cube(month: Period, values: np.ndarray, shown: np.ndarray) -> MonthCube:
    values.setflags(write=False)
    shown.setflags(write=False)
    weeks = tuple(periods.week(monday) for monday in month.weeks())
    return MonthCube(month=month, weeks=weeks, values=values, shown=shown)
