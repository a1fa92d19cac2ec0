"""Routing's pure functions: eligibility, conflict of interest, load balancing."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from service.routing import (
    Candidate,
    CaseToRoute,
    OrgTree,
    choose_trust_leader,
    exclusion_reason,
    standing_exclusions,
)
from service.vocab import CATEGORIES

TODAY = date(2026, 6, 1)
# root(1) -> ops(2) -> warehouse(3), ops(2) -> transport(4); root(1) -> finance(5); hr(6) under root
TREE = OrgTree(parent_of={1: None, 2: 1, 3: 2, 4: 2, 5: 1, 6: 1}, hr_units=frozenset({6}))


def case(**overrides) -> CaseToRoute:
    values = dict(case_id=1, org_unit_id=3, category="bullying", language="en", level="high")
    values.update(overrides)
    return CaseToRoute(**values)


def leader(id: int, unit: int | None = 5, **overrides) -> Candidate:
    values = dict(
        id=id,
        org_unit_id=unit,
        categories=frozenset(CATEGORIES),
        languages=frozenset({"en"}),
        capacity=5,
    )
    values.update(overrides)
    return Candidate(**values)


def test_line_of_management_is_a_conflict_both_ways():
    assert exclusion_reason(case(), leader(1, unit=3), TREE, TODAY)  # same unit
    assert exclusion_reason(case(), leader(1, unit=2), TREE, TODAY)  # above
    assert exclusion_reason(case(), leader(1, unit=1), TREE, TODAY)  # the root is above all
    assert exclusion_reason(case(org_unit_id=2), leader(1, unit=3), TREE, TODAY)  # below
    assert exclusion_reason(case(), leader(1, unit=4), TREE, TODAY) is None  # a sibling
    assert exclusion_reason(case(), leader(1, unit=5), TREE, TODAY) is None


def test_hr_involved_excludes_hr_people():
    hr_leader = leader(1, unit=6)
    assert exclusion_reason(case(), hr_leader, TREE, TODAY) is None
    involved = exclusion_reason(case(involved=("hr",)), hr_leader, TREE, TODAY)
    assert involved == "conflict of interest: involved"


def test_other_exclusions():
    assert exclusion_reason(case(), leader(1, active=False), TREE, TODAY) == "inactive"
    assert exclusion_reason(case(), leader(1, away_until=TODAY), TREE, TODAY) == "away"
    assert (
        exclusion_reason(case(), leader(1, away_until=TODAY - timedelta(days=1)), TREE, TODAY)
        is None
    )
    untrained = leader(1, categories=frozenset({"pay"}))
    assert exclusion_reason(case(), untrained, TREE, TODAY) == "not trained for category"
    assert exclusion_reason(case(language="de"), leader(1), TREE, TODAY) == "language"
    full = leader(1, capacity=2, open_levels=("low", "low"))
    assert exclusion_reason(case(), full, TREE, TODAY) == "at capacity"
    rerouted = case(previous_assignee_id=1)
    assert exclusion_reason(rerouted, leader(1), TREE, TODAY) == "previous assignee"
    assert exclusion_reason(case(), leader(1, unit=None), TREE, TODAY)


def test_standing_exclusions_hold_for_every_case_and_are_all_named():
    retired_tree = OrgTree(parent_of=TREE.parent_of, retired_units=frozenset({5}))
    assert standing_exclusions(leader(1), TREE, TODAY) == []
    for candidate, tree, expected in (
        (leader(1, unit=None), TREE, ["no org unit"]),
        (leader(1), retired_tree, ["retired org unit"]),
        (leader(1, categories=frozenset()), TREE, ["no categories"]),
        (leader(1, languages=frozenset()), TREE, ["no languages"]),
        (leader(1, capacity=0), TREE, ["capacity 0"]),
        (leader(1, away_until=TODAY), TREE, ["away"]),
        (leader(1, active=False), TREE, ["inactive"]),
        (
            leader(1, unit=None, capacity=0, active=False),
            TREE,
            ["inactive", "capacity 0", "no org unit"],
        ),
    ):
        assert standing_exclusions(candidate, tree, TODAY) == expected
        # Routing refuses such a candidate every case, with the first of those reasons.
        for reported in TREE.parent_of:
            assert (
                exclusion_reason(case(org_unit_id=reported), candidate, tree, TODAY)
                == (expected[0])
            )


def test_lowest_weighted_load_wins_then_least_recently_assigned():
    busy = leader(1, open_levels=("critical",))  # weight 5
    lighter = leader(2, open_levels=("low", "low", "moderate"))  # weight 4
    assert choose_trust_leader(case(), [busy, lighter], TREE, TODAY).id == 2

    recent = leader(3, last_assigned_at=datetime(2026, 5, 31, 12))
    older = leader(4, last_assigned_at=datetime(2026, 5, 30, 12))
    never = leader(5)
    assert choose_trust_leader(case(), [recent, older], TREE, TODAY).id == 4
    assert choose_trust_leader(case(), [recent, older, never], TREE, TODAY).id == 5


def test_nobody_eligible_gives_none():
    assert choose_trust_leader(case(), [leader(1, unit=3)], TREE, TODAY) is None


def test_a_cycle_in_the_tree_does_not_hang():
    cyclic = OrgTree(parent_of={1: 2, 2: 1})
    assert cyclic.in_line(1, 2)
    # A cycle above the unit, not through it: each unit on it is listed once.
    above = OrgTree(parent_of={3: 1, 1: 2, 2: 1})
    assert above.ancestors(3) == [1, 2]


@st.composite
def org_and_staff(draw):
    size = draw(st.integers(min_value=1, max_value=25))
    parent_of: dict[int, int | None] = {1: None}
    for unit in range(2, size + 1):
        parent_of[unit] = draw(st.integers(min_value=1, max_value=unit - 1))
    hr_units = frozenset(draw(st.sets(st.sampled_from(sorted(parent_of)), max_size=2)))
    staff = [
        leader(
            i,
            unit=draw(st.sampled_from(sorted(parent_of))),
            capacity=draw(st.integers(min_value=1, max_value=4)),
            open_levels=tuple(draw(st.lists(st.sampled_from(["low", "critical"]), max_size=3))),
            categories=frozenset(draw(st.sets(st.sampled_from(CATEGORIES), min_size=1))),
        )
        for i in range(1, draw(st.integers(min_value=0, max_value=12)) + 1)
    ]
    reported = draw(st.sampled_from(sorted(parent_of)))
    involved = tuple(draw(st.sets(st.sampled_from(["hr", "my manager", "a peer"]))))
    category = draw(st.sampled_from(CATEGORIES))
    return OrgTree(parent_of=parent_of, hr_units=hr_units), staff, reported, involved, category


def _line(tree: OrgTree, unit: int) -> set[int]:
    """Every unit above or below `unit`, computed independently of OrgTree.in_line."""
    above = set(tree.ancestors(unit)) | {unit}
    below = {u for u in tree.parent_of if unit in tree.ancestors(u)}
    return above | below


def _under_hr(tree: OrgTree, unit: int) -> bool:
    return bool(({unit} | set(tree.ancestors(unit))) & tree.hr_units)


def _may_take(tree: OrgTree, candidate: Candidate, reported: int, involved, category) -> bool:  # type: ignore[no-untyped-def]
    """The rules written out again, apart from choose.py, for the drawn staff (all active,
    present, speaking English)."""
    return (
        candidate.org_unit_id is not None
        and candidate.org_unit_id not in _line(tree, reported)
        and not ("hr" in involved and _under_hr(tree, candidate.org_unit_id))
        and category in candidate.categories
        and len(candidate.open_levels) < candidate.capacity
    )


def test_conflict_of_interest_is_never_broken():
    """Whoever is chosen may take the case and carries the lowest load of those who may; when
    nobody is chosen, nobody may. Both branches must actually run, often enough to mean it."""
    seen = {"chosen": 0, "chosen, hr involved": 0, "nobody": 0}

    @settings(max_examples=300, deadline=None, database=None)
    @given(org_and_staff())
    def check(data):  # type: ignore[no-untyped-def]
        tree, staff, reported, involved, category = data
        chosen = choose_trust_leader(
            case(org_unit_id=reported, involved=involved, category=category), staff, tree, TODAY
        )
        allowed = [c for c in staff if _may_take(tree, c, reported, involved, category)]
        if chosen is None:
            seen["nobody"] += 1
            assert allowed == []
            return
        seen["chosen"] += 1
        seen["chosen, hr involved"] += "hr" in involved
        assert chosen.org_unit_id not in _line(tree, reported)
        if "hr" in involved:
            assert not _under_hr(tree, chosen.org_unit_id)
        assert category in chosen.categories
        assert len(chosen.open_levels) < chosen.capacity
        assert chosen in allowed
        assert chosen.weighted_load == min(c.weighted_load for c in allowed)

    check()
    # About a third of the drawn organisations have someone eligible (99 of 300 when counted);
    # the floors are far enough below that to never flake, and far above zero.
    assert seen["chosen"] >= 50, seen
    assert seen["chosen, hr involved"] >= 10, seen
    assert seen["nobody"] >= 50, seen


def test_exclusion_counts_judge_absence_on_the_given_day():
    from service.routing import exclusion_counts

    away = leader(1, away_until=TODAY)
    back = leader(2, away_until=TODAY - timedelta(days=1), languages=frozenset({"de"}))
    assert exclusion_counts(case(), [away, back, leader(3, unit=3)], TREE, TODAY) == {
        "away": 1,
        "language": 1,
        "conflict of interest: line of management": 1,
    }
