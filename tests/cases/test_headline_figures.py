"""The case figures of the analytics headline: the median days to a first feedback, and the
cases open past a deadline, over cases opened in [since, before) about the given units. Each
bound is tested exactly on it and one second the other side; the anonymity threshold of the
median is tested in test_feedback."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from service.cases import service
from service.db import Case, to_hour, utcnow
from service.extensions import db
from tests.cases.support import case_for

DAYS_TO_FEEDBACK = 3
SECOND = timedelta(seconds=1)


@pytest.fixture
def start() -> datetime:
    """The start of the range asked about: a whole hour, well in the past."""
    return to_hour(utcnow()) - timedelta(days=60)


def opened(org, opened_at: datetime, unit: str = "Call Centre", feedback: bool = True) -> Case:  # type: ignore[no-untyped-def]
    """A case opened at `opened_at` (its deadlines as from then) about the unit, answered with
    feedback DAYS_TO_FEEDBACK days later, or not answered."""
    case = case_for(org, org.staff["leader"], org_unit=org.unit(unit))
    shift = case.opened_at - opened_at
    case.opened_at -= shift
    case.ack_due_at -= shift
    case.feedback_due_at -= shift
    if feedback:
        case.status = "in_conversation"
        case.feedback_given_at = opened_at + timedelta(days=DAYS_TO_FEEDBACK, hours=5)
    db.session.commit()
    return case


def inside_and_one_more(app, org, start: datetime, edge: datetime, **edge_case) -> None:  # type: ignore[no-untyped-def]
    """k - 1 cases well inside the range, and one more at `edge`."""
    for hour in range(app.config["DEFUSE"].anonymity_k - 1):
        opened(org, start + timedelta(days=1, hours=hour))
    opened(org, edge, **edge_case)


@pytest.mark.parametrize(("offset", "counted"), [(timedelta(), True), (-SECOND, False)])
def test_the_median_counts_a_case_opened_exactly_at_the_start(app, org, start, offset, counted):
    inside_and_one_more(app, org, start, start + offset)
    figure = service.median_days_to_feedback(opened_since=start)
    assert figure == (float(DAYS_TO_FEEDBACK) if counted else None)


@pytest.mark.parametrize(("offset", "counted"), [(-SECOND, True), (timedelta(), False)])
def test_the_median_leaves_out_a_case_opened_exactly_at_the_end(app, org, start, offset, counted):
    end = start + timedelta(days=10)
    inside_and_one_more(app, org, start, end + offset)
    figure = service.median_days_to_feedback(opened_since=start, opened_before=end)
    assert figure == (float(DAYS_TO_FEEDBACK) if counted else None)


@pytest.mark.parametrize(("unit", "counted"), [("Call Centre", True), ("Transport", False)])
def test_the_median_counts_only_the_units_asked_about(app, org, start, unit, counted):
    inside_and_one_more(app, org, start, start + timedelta(days=2), unit=unit)
    figure = service.median_days_to_feedback(unit_ids=[org.unit("Call Centre")])
    assert figure == (float(DAYS_TO_FEEDBACK) if counted else None)
    assert service.median_days_to_feedback() == float(DAYS_TO_FEEDBACK)  # all units


def test_the_median_is_of_whole_days_to_the_first_feedback(app, org, start):
    k = app.config["DEFUSE"].anonymity_k
    for index in range(k):
        case = opened(org, start + timedelta(hours=index))
        # 1, 2, ..., k days and 23 hours: whole days 1..k, median (k + 1) / 2
        case.feedback_given_at = case.opened_at + timedelta(days=index + 1, hours=23)
    db.session.commit()
    assert service.median_days_to_feedback() == pytest.approx((k + 1) / 2)


# --- overdue --------------------------------------------------------------------------------


def test_overdue_counts_open_cases_past_their_next_deadline_as_the_queue_does(org, start):
    now = start + timedelta(days=30)
    unanswered = opened(org, start, feedback=False)  # new, acknowledge-by long past
    unanswered.status = "acknowledged"  # feedback-by (start + 3 months) still ahead
    opened(org, start, feedback=False)  # new, acknowledge-by long past: overdue
    answered = opened(org, start)  # feedback given: no deadline left
    closed = opened(org, start, feedback=False)
    closed.status = "closed"
    db.session.commit()
    assert service.overdue_cases(now) == (4, 1)
    # Once the feedback-by deadline has passed too, the acknowledged one is overdue as well.
    assert now < unanswered.feedback_due_at < now + timedelta(days=100)
    assert service.overdue_cases(now + timedelta(days=100)) == (4, 2)
    assert answered.status == "in_conversation"


@pytest.mark.parametrize(("before_deadline", "overdue"), [(timedelta(), 0), (SECOND, 1)])
def test_a_case_is_overdue_only_once_its_deadline_has_passed(org, start, before_deadline, overdue):
    case = opened(org, start, feedback=False)
    now = case.ack_due_at + before_deadline
    assert service.overdue_cases(now) == (1, overdue)
    assert service.overdue_cases(case.ack_due_at - timedelta(hours=1)) == (1, 0)


@pytest.mark.parametrize(
    ("edge", "counted"),
    [("start", True), ("before start", False), ("before end", True), ("end", False)],
)
def test_overdue_counts_cases_opened_in_the_range(org, start, edge, counted):
    end = start + timedelta(days=10)
    moment = {"start": start, "before start": start - SECOND, "before end": end - SECOND}
    opened(org, moment.get(edge, end), feedback=False)
    now = end + timedelta(days=200)
    assert service.overdue_cases(now, start, end) == ((1, 1) if counted else (0, 0))


@pytest.mark.parametrize(("unit", "counted"), [("Call Centre", True), ("Transport", False)])
def test_overdue_counts_only_the_units_asked_about(org, start, unit, counted):
    opened(org, start, unit=unit, feedback=False)
    now = start + timedelta(days=200)
    figures = service.overdue_cases(now, unit_ids=[org.unit("Call Centre")])
    assert figures == ((1, 1) if counted else (0, 0))
    assert service.overdue_cases(now) == (1, 1)  # all units
