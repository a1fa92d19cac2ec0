"""Access to a case that is one's own, someone else's and nobody's, for every staff role:
who may open it (a refusal is audited), who may change it, and whose queue lists it."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from werkzeug.exceptions import Forbidden, NotFound

from service.cases.service import (
    MAX_ID,
    QueueFilters,
    can_view,
    list_queue,
    load_case_for,
    require_assignee,
)
from service.db import AuditEvent
from service.extensions import db
from tests.cases.support import case_for

OWNERS = ("own", "someone_elses", "nobodys")
# (account, role) -> which of the cases it may open. A lead sees every case; a Trust Leader
# only their own; HR and admins none, even one assigned to them by mistake.
MAY_OPEN = {
    "leader": {"own"},
    "lead": {"own", "someone_elses", "nobodys"},
    "hr": set(),
    "admin": set(),
}
# Of the roles that may open it, only the assignee changes a case; a lead reassigns it first.
MAY_CHANGE = {"leader": {"own"}, "lead": {"own"}}


def the_case(org, account: str, owner: str):  # type: ignore[no-untyped-def]
    me = org.staff[account]
    other = org.staff["leader2"]
    assignee = {"own": me, "someone_elses": other, "nobodys": None}[owner]
    return case_for(org, assignee)


def denials(case_id: int) -> int:
    return len(
        db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "case.access_denied", AuditEvent.case_id == case_id
            )
        ).all()
    )


@pytest.mark.parametrize("owner", OWNERS)
@pytest.mark.parametrize("account", list(MAY_OPEN))
def test_opening_a_case(app, org, account, owner):
    user = org.staff[account]
    case = the_case(org, account, owner)
    allowed = owner in MAY_OPEN[account]
    assert can_view(user, case) is allowed
    if allowed:
        assert load_case_for(user, case.id).id == case.id
        assert denials(case.id) == 0
    else:
        with pytest.raises(Forbidden):
            load_case_for(user, case.id, via="api")
        assert denials(case.id) == 1
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "case.access_denied")
        ).one()
        assert event.actor_id == user.id


@pytest.mark.parametrize("owner", OWNERS)
@pytest.mark.parametrize("account", list(MAY_CHANGE))
def test_changing_a_case(app, org, account, owner):
    user = org.staff[account]
    case = the_case(org, account, owner)
    if owner in MAY_CHANGE[account]:
        require_assignee(user, case)
    else:
        with pytest.raises(Forbidden) as refused:
            require_assignee(user, case)
        # A lead is told how to take the case; nobody else is offered that.
        assert ("Reassign it to yourself" in refused.value.description) is (account == "lead")


@pytest.mark.parametrize("owner", OWNERS)
@pytest.mark.parametrize(
    ("account", "scope", "listed"),
    [
        ("leader", "all", {"own"}),  # a Trust Leader's scope is always their own
        ("leader", "unassigned", {"own"}),
        ("lead", "mine", {"own"}),
        ("lead", "unassigned", {"nobodys"}),
        ("lead", "all", {"own", "someone_elses", "nobodys"}),
        ("lead", "attention", {"own", "nobodys"}),
    ],
)
def test_whose_queue_lists_it(app, org, account, scope, listed, owner):
    user = org.staff[account]
    case = the_case(org, account, owner)
    rows, total = list_queue(user, QueueFilters(scope=scope))
    assert (case.id in {row.case.id for row in rows}) is (owner in listed)
    assert total == len(rows)


def test_an_inactive_trust_leader_opens_not_even_their_own(app, org):
    user = org.staff["leader"]
    case = case_for(org, user)
    user.active = False
    db.session.commit()
    assert can_view(user, case) is False
    with pytest.raises(Forbidden):
        load_case_for(user, case.id)


@pytest.mark.parametrize("case_id", [0, -1, MAX_ID, MAX_ID + 1])
def test_numbers_that_name_no_case(app, org, case_id):
    with pytest.raises(NotFound):
        load_case_for(org.staff["lead"], case_id)
