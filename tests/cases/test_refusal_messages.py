"""A move the workflow does not allow is refused (409) with a message naming where the case
is, where it was asked to go and every place it may go instead, for every status and every
refused target. The lists are written out here, not derived from the workflow table, so a
change to the table or to the message shows."""

from __future__ import annotations

import pytest

from service.cases import service
from service.cases.service import WorkflowError
from service.db.cases import STATUSES
from service.extensions import db
from tests.cases.support import case_for

CLOSE_WITH_RESOLUTION = "Closed (with its resolution)"
MAY_MOVE_TO = {
    "new": ("Acknowledged", "Withdrawn", CLOSE_WITH_RESOLUTION),
    "acknowledged": (
        "In conversation",
        "Resolved informally",
        "Referred to a formal process",
        "Withdrawn",
        CLOSE_WITH_RESOLUTION,
    ),
    "in_conversation": (
        "Resolved informally",
        "Referred to a formal process",
        "Withdrawn",
        CLOSE_WITH_RESOLUTION,
    ),
    "resolved_informally": ("Closed",),
    "referred_formal": ("Closed",),
    "withdrawn": ("Closed",),
}
IN_A_SENTENCE = {
    "new": "new",
    "acknowledged": "acknowledged",
    "in_conversation": "in conversation",
    "resolved_informally": "resolved informally",
    "referred_formal": "referred to a formal process",
    "withdrawn": "withdrawn",
}
ALLOWED = {
    "new": {"acknowledged", "withdrawn"},
    "acknowledged": {"in_conversation", "resolved_informally", "referred_formal", "withdrawn"},
    "in_conversation": {"resolved_informally", "referred_formal", "withdrawn"},
    "resolved_informally": set(),
    "referred_formal": set(),
    "withdrawn": set(),
}


@pytest.mark.parametrize("status", MAY_MOVE_TO)
def test_a_refused_move_names_where_the_case_may_go(org, status):
    leader = org.staff["leader"]
    case = case_for(org, leader)
    case.status = status
    db.session.commit()
    # Closing has its own checks (an outcome, a resolution, feedback): see test_workflow.
    refused_targets = [t for t in STATUSES if t != "closed" and t not in ALLOWED[status]]
    assert refused_targets  # there is always something to refuse: the way back to new
    for target in refused_targets:
        with pytest.raises(WorkflowError) as refused:
            service.transition(leader, case, target)
        assert refused.value.status_code == 409 and refused.value.field is None
        assert refused.value.message == (
            f"A case that is {IN_A_SENTENCE[status]} cannot become {IN_A_SENTENCE[target]}. "
            f"It can move to: {', '.join(MAY_MOVE_TO[status])}."
        ), target
        db.session.expire_all()
        assert case.status == status  # nothing moved
