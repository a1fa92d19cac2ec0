"""Feedback to the reporter (EU 2019/1937, Art. 9(1)(f)): a message marked as feedback stops
the clock; the worker warns the assignee at 80 days and alerts the leads on breach, once each;
a justified extension to six months; closing needs feedback unless the reporter withdrew."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from service.cases import service
from service.cases.service import WorkflowError
from service.config import ConfigError, Settings
from service.db import AuditEvent, Case, Note, Notification, utcnow
from service.extensions import db
from service.intake.service import reporter_messages
from service.routing.sla import check_feedback_deadlines
from tests.cases.support import case_for


@pytest.fixture
def case(org, leader):  # type: ignore[no-untyped-def]
    case = case_for(org, leader)
    service.transition(leader, case, "acknowledged")
    return case


def opened_days_ago(case: Case, days: float) -> Case:
    """As if the case had come in `days` ago (deadlines move with it)."""
    shift = timedelta(days=days)
    case.opened_at -= shift
    case.ack_due_at -= shift
    case.feedback_due_at -= shift
    db.session.commit()
    return case


def kinds_for(user_id: int) -> list[str]:
    return list(
        db.session.execute(
            select(Notification.kind).where(Notification.recipient_id == user_id)
        ).scalars()
    )


# --- the clock ------------------------------------------------------------------------------


def test_a_message_marked_as_feedback_stops_the_clock(case, leader):
    due = case.feedback_due_at
    assert service.deadline_of(case) == due
    service.send_message(leader, case, "We are looking into the rota.")
    assert case.feedback_given_at is None and service.deadline_of(case) == due

    message = service.send_message(leader, case, "We spoke to the team lead.", feedback=True)
    assert message.is_feedback and case.feedback_given_at == message.created_at
    assert service.deadline_of(case) is None
    actions = db.session.execute(
        select(AuditEvent.action).where(AuditEvent.case_id == case.id)
    ).scalars()
    assert "case.feedback_given" in list(actions)

    # Given once: a later feedback message does not move the time it was first given.
    first = case.feedback_given_at
    service.send_message(leader, case, "And here is what changes.", feedback=True)
    assert case.feedback_given_at == first


def test_feedback_given_takes_the_case_off_the_overdue_queue(org, case, leader):
    opened_days_ago(case, 95)
    lead = org.staff["lead"]
    overdue = service.QueueFilters(scope="overdue", status="open")
    assert [r.case.id for r in service.list_queue(lead, overdue)[0]] == [case.id]
    service.send_message(leader, case, "Here is where things stand.", feedback=True)
    assert service.list_queue(lead, overdue)[0] == []


# --- the worker's check ---------------------------------------------------------------------


def test_warning_at_80_days_once_then_breach_alert_to_the_leads_once(org, case, leader):
    lead = org.staff["lead"]
    opened_days_ago(case, 79.9)
    assert check_feedback_deadlines() == {"warned": 0, "breached": 0}

    opened_days_ago(case, 0.2)  # now a little over 80 days
    assert check_feedback_deadlines() == {"warned": 1, "breached": 0}
    assert check_feedback_deadlines() == {"warned": 0, "breached": 0}  # warned once
    assert kinds_for(leader.id).count("feedback_due") == 1
    assert "feedback_breach" not in kinds_for(lead.id)

    opened_days_ago(case, 9.8)  # 89.9 days: still before the deadline
    assert check_feedback_deadlines() == {"warned": 0, "breached": 0}
    opened_days_ago(case, 0.2)
    assert check_feedback_deadlines() == {"warned": 0, "breached": 1}
    assert check_feedback_deadlines() == {"warned": 0, "breached": 0}
    assert kinds_for(lead.id).count("feedback_breach") == 1
    body = db.session.execute(
        select(Notification.body).where(Notification.kind == "feedback_breach")
    ).scalar_one()
    assert f"case {case.id}" in body and "lawyer" not in body  # never report text


def test_no_warning_once_feedback_is_given_or_the_case_is_resolved(org, case, leader):
    other = case_for(org, leader)
    service.transition(leader, other, "acknowledged")
    service.send_message(leader, case, "We have spoken to the team.", feedback=True)
    service.transition(leader, other, "closed", resolution="withdrawn", outcome="withdrawn")
    opened_days_ago(case, 95)
    opened_days_ago(other, 95)
    assert check_feedback_deadlines() == {"warned": 0, "breached": 0}


def test_the_warning_day_is_configurable(app, case):
    app.config["DEFUSE"] = app.config["DEFUSE"].replace(feedback_warning_days=60)
    opened_days_ago(case, 59.9)
    assert check_feedback_deadlines()["warned"] == 0
    opened_days_ago(case, 0.2)
    assert check_feedback_deadlines()["warned"] == 1


def test_the_schedule_runs_the_feedback_check():
    from service.tasks import jobs
    from service.tasks.worker import SCHEDULE

    assert jobs.check_feedback_deadlines_job in [func for func, _ in SCHEDULE]


@pytest.mark.parametrize(
    ("changes", "ok"),
    [
        ({"feedback_warning_days": 89}, True),
        ({"feedback_warning_days": 90}, False),
        ({"feedback_warning_days": 0}, False),
        ({"feedback_max_days": 183}, True),
        ({"feedback_max_days": 184}, False),
        ({"feedback_max_days": 89}, False),
        ({"routing_fallback_languages": ("de", "en")}, True),
        ({"routing_fallback_languages": ("xx",)}, False),
    ],
)
def test_feedback_settings_are_checked(changes, ok):
    if ok:
        Settings().replace(**changes)
    else:
        with pytest.raises(ConfigError):
            Settings().replace(**changes)


def test_settings_from_the_environment():
    settings = Settings.from_env(
        {
            "DEFUSE_FEEDBACK_WARNING_DAYS": "70",
            "DEFUSE_FEEDBACK_MAX_DAYS": "150",
            "DEFUSE_ROUTING_FALLBACK_LANGUAGES": "fr,en",
        }
    )
    assert (settings.feedback_warning_days, settings.feedback_max_days) == (70, 150)
    assert settings.routing_fallback_languages == ("fr", "en")
    off = Settings.from_env({"DEFUSE_ROUTING_FALLBACK_LANGUAGES": "none"})
    assert off.routing_fallback_languages == ()


# --- the extension --------------------------------------------------------------------------


def test_extension_up_to_six_months_with_a_reason_kept_and_audited(case, leader):
    limit = (case.opened_at + timedelta(days=183)).date()
    assert service.feedback_extension_limit(case) == limit
    with pytest.raises(WorkflowError) as too_far:
        service.extend_feedback(leader, case, limit + timedelta(days=1), "Waiting for HR.")
    assert too_far.value.field == "until"
    with pytest.raises(WorkflowError) as too_early:
        service.extend_feedback(leader, case, case.feedback_due_at.date(), "Waiting for HR.")
    assert too_early.value.field == "until"
    with pytest.raises(WorkflowError) as no_reason:
        service.extend_feedback(leader, case, limit, "  ")
    assert no_reason.value.field == "reason"
    db.session.rollback()

    hour = case.feedback_due_at.time()
    service.extend_feedback(leader, case, limit, "An external investigator is needed.")
    assert case.feedback_due_at.date() == limit and case.feedback_due_at.time() == hour
    event = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "case.feedback_extended")
    ).scalar_one()
    assert event.actor_id == leader.id and event.detail["to_due"].startswith(limit.isoformat())
    note = db.session.get(Note, event.detail["note_id"])
    assert "An external investigator is needed." in note.body
    assert "investigator" not in str(event.detail)


def test_an_extension_moves_the_warning_too(case, leader):
    opened_days_ago(case, 81)
    assert check_feedback_deadlines()["warned"] == 1
    until = (case.opened_at + timedelta(days=150)).date()
    service.extend_feedback(leader, case, until, "Waiting for the investigation.")
    assert case.feedback_warned_at is None
    assert check_feedback_deadlines() == {"warned": 0, "breached": 0}  # 81 days: not yet due
    opened_days_ago(case, 150 - 10 - 81 + 0.5)  # ten days before the new deadline
    assert check_feedback_deadlines()["warned"] == 1


def test_only_the_assignee_or_a_lead_extends_and_not_after_feedback(org, case, leader):
    from werkzeug.exceptions import Forbidden

    until = case.feedback_due_at.date() + timedelta(days=30)
    with pytest.raises(Forbidden):
        service.extend_feedback(org.staff["leader2"], case, until, "Busy.")
    service.extend_feedback(org.staff["lead"], case, until, "Investigation ongoing.")
    service.send_message(leader, case, "Here is what we found.", feedback=True)
    with pytest.raises(WorkflowError):
        service.extend_feedback(leader, case, until + timedelta(days=1), "More time.")


# --- closing --------------------------------------------------------------------------------


def test_closing_without_feedback_is_refused(case, leader):
    with pytest.raises(WorkflowError) as refused:
        service.transition(
            leader, case, "closed", resolution="resolved_informally", outcome="resolved"
        )
    assert refused.value.field == "closing_message"
    db.session.rollback()
    assert db.session.get(Case, case.id).status == "acknowledged"


def test_the_closing_message_is_what_the_reporter_reads_at_follow_up(case, leader):
    service.transition(
        leader,
        case,
        "closed",
        resolution="resolved_informally",
        outcome="resolved",
        closing_message="We agreed a fair rota with your team lead. Thank you for speaking up.",
    )
    assert case.status == "closed" and case.feedback_given_at is not None
    thread = reporter_messages(case)
    assert thread[-1].body.startswith("We agreed a fair rota") and thread[-1].is_feedback


def test_closing_after_feedback_needs_no_closing_message(case, leader):
    service.send_message(leader, case, "We have changed the rota.", feedback=True)
    service.transition(leader, case, "closed", resolution="resolved_informally", outcome="resolved")
    assert case.status == "closed"


def test_a_withdrawn_case_closes_without_feedback(org, leader):
    case = case_for(org, leader)
    service.transition(leader, case, "withdrawn")
    service.transition(leader, case, "closed", outcome="withdrawn")
    assert case.status == "closed" and case.feedback_given_at is None


# --- analytics ------------------------------------------------------------------------------


def test_median_days_to_feedback_only_above_the_anonymity_threshold(app, org, leader):
    k = app.config["DEFUSE"].anonymity_k
    for days in range(k - 1):
        case = opened_days_ago(case_for(org, leader), 10 * (days + 1))
        service.send_message(leader, case, "Here is where things stand.", feedback=True)
    assert service.median_days_to_feedback() is None  # k - 1 cases: nothing shown
    case = opened_days_ago(case_for(org, leader), 10 * k)
    service.send_message(leader, case, "Here is where things stand.", feedback=True)
    # Opened 10, 20, ... 10k days ago and answered now: the median is 10 * (k + 1) / 2.
    assert service.median_days_to_feedback() == pytest.approx(10 * (k + 1) / 2, abs=0.5)
    since = utcnow() - timedelta(days=10 * k - 5)
    assert service.median_days_to_feedback(opened_since=since) is None  # k - 1 of them
