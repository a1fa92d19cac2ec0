"""Routing: who should hear a case. Pure functions over plain data, tested without Redis."""

from service.routing.choose import (
    LEVEL_WEIGHTS,
    Candidate,
    CaseToRoute,
    OrgTree,
    choose_trust_leader,
    choose_with_fallback,
    eligible,
    exclusion_counts,
    exclusion_reason,
    standing_exclusions,
)

__all__ = [
    "LEVEL_WEIGHTS",
    "Candidate",
    "CaseToRoute",
    "OrgTree",
    "choose_trust_leader",
    "choose_with_fallback",
    "eligible",
    "exclusion_counts",
    "exclusion_reason",
    "standing_exclusions",
]
