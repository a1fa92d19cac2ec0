"""Choosing a Trust Leader for a case.

Eligible: active, a case worker, not away, trained for the category, speaks the report's
language, below capacity, and free of conflict of interest: not in the reported org unit nor
anywhere in its line of management above or below it, and not in a unit the report says is
involved (e.g. "hr"). Among the eligible, the lowest risk-weighted open caseload wins; ties go
to whoever was assigned least recently.

Some reasons hold for every case (`standing_exclusions`: no org unit, no categories, ...):
the admin pages warn about those, from the same function routing uses.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

# An open critical case weighs as much as five low ones.
LEVEL_WEIGHTS: Mapping[str, int] = {"low": 1, "moderate": 2, "high": 3, "critical": 5}


@dataclass(frozen=True)
class OrgTree:
    """parent_of maps each unit id to its parent id (None at the root); hr_units are the
    units whose people count as "hr" when a report says HR is involved."""

    parent_of: Mapping[int, int | None]
    hr_units: frozenset[int] = frozenset()
    retired_units: frozenset[int] = frozenset()

    def ancestors(self, unit: int) -> list[int]:
        chain: list[int] = []
        seen = {unit}
        current = self.parent_of.get(unit)
        while current is not None and current not in seen:  # a cycle never loops forever
            chain.append(current)
            seen.add(current)
            current = self.parent_of.get(current)
        return chain

    def in_line(self, a: int, b: int) -> bool:
        """True if a and b are the same unit or one is above the other."""
        return a == b or a in self.ancestors(b) or b in self.ancestors(a)

    def under_hr(self, unit: int) -> bool:
        return unit in self.hr_units or any(u in self.hr_units for u in self.ancestors(unit))


@dataclass(frozen=True)
class CaseToRoute:
    case_id: int
    org_unit_id: int
    category: str
    language: str
    level: str
    involved: tuple[str, ...] = ()
    previous_assignee_id: int | None = None  # excluded when re-routing after a breach


@dataclass(frozen=True)
class Candidate:
    id: int
    org_unit_id: int | None
    categories: frozenset[str]
    languages: frozenset[str]
    capacity: int
    open_levels: tuple[str, ...] = ()  # the levels of the candidate's open cases
    active: bool = True
    away_until: date | None = None
    last_assigned_at: datetime | None = None

    @property
    def weighted_load(self) -> int:
        return sum(LEVEL_WEIGHTS.get(level, 1) for level in self.open_levels)


def standing_exclusions(candidate: Candidate, tree: OrgTree, today: date) -> list[str]:
    """Every reason this candidate can be given no case at all, whatever the case."""
    reasons = []
    if not candidate.active:
        reasons.append("inactive")
    if candidate.away_until is not None and candidate.away_until >= today:
        reasons.append("away")
    if not candidate.categories:
        reasons.append("no categories")
    if not candidate.languages:
        reasons.append("no languages")
    if candidate.capacity <= 0:
        reasons.append("capacity 0")
    # Without the unit they work in, a conflict of interest cannot be ruled out; a retired
    # unit is no longer where they work.
    if candidate.org_unit_id is None:
        reasons.append("no org unit")
    elif candidate.org_unit_id in tree.retired_units:
        reasons.append("retired org unit")
    return reasons


def exclusion_reason(
    case: CaseToRoute, candidate: Candidate, tree: OrgTree, today: date
) -> str | None:
    """Why this candidate may not take the case, or None if they may."""
    standing = standing_exclusions(candidate, tree, today)
    if standing:
        return standing[0]
    if case.category not in candidate.categories:
        return "not trained for category"
    if case.language not in candidate.languages:
        return "language"
    if len(candidate.open_levels) >= candidate.capacity:
        return "at capacity"
    if candidate.id == case.previous_assignee_id:
        return "previous assignee"
    assert candidate.org_unit_id is not None  # a standing exclusion otherwise
    if tree.in_line(candidate.org_unit_id, case.org_unit_id):
        return "conflict of interest: line of management"
    if "hr" in case.involved and tree.under_hr(candidate.org_unit_id):
        return "conflict of interest: involved"
    return None


def eligible(
    case: CaseToRoute, candidates: Iterable[Candidate], tree: OrgTree, today: date
) -> list[Candidate]:
    return [c for c in candidates if exclusion_reason(case, c, tree, today) is None]


def choose_trust_leader(
    case: CaseToRoute, candidates: Iterable[Candidate], tree: OrgTree, today: date
) -> Candidate | None:
    pool = eligible(case, candidates, tree, today)
    if not pool:
        return None
    return min(
        pool,
        key=lambda c: (
            c.weighted_load,
            c.last_assigned_at is not None,  # never assigned goes first
            c.last_assigned_at or datetime.min,
            c.id,
        ),
    )


def exclusion_counts(
    case: CaseToRoute, candidates: Iterable[Candidate], tree: OrgTree, today: date
) -> dict[str, int]:
    """How many candidates each reason rules out, most common first: what the leads are
    told when no one is eligible."""
    counts = Counter(
        reason
        for reason in (exclusion_reason(case, c, tree, today) for c in candidates)
        if reason is not None
    )
    return dict(counts.most_common())


def choose_with_fallback(
    case: CaseToRoute,
    candidates: Iterable[Candidate],
    tree: OrgTree,
    today: date,
    fallback_languages: Sequence[str],
) -> tuple[Candidate | None, str | None]:
    """The Trust Leader for the case and, when no eligible one speaks its language, the
    fallback language (in the configured order) the chosen one speaks instead."""
    pool = list(candidates)
    chosen = choose_trust_leader(case, pool, tree, today)
    if chosen is not None:
        return chosen, None
    for language in fallback_languages:
        if language == case.language:
            continue
        chosen = choose_trust_leader(replace(case, language=language), pool, tree, today)
        if chosen is not None:
            return chosen, language
    return None, None
