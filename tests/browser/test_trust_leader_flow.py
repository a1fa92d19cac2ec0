"""A Trust Leader's day in a real browser on a phone-sized screen: sign in, open the
highest-risk case, tick guide steps, acknowledge, write to the reporter; the reporter reads it
with the receipt code and answers; the Trust Leader reads the answer and closes the case."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from service.db import AuditEvent, Case, GuideTick
from service.extensions import db
from tests.cases.support import assign, set_risk, submit
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

MESSAGE = "Thank you for telling us. Could we talk this week, at a time that suits you?"
REPLY = "Yes please, Thursday after lunch works for me."


def fresh(case_id: int) -> Case:
    db.session.expire_all()
    case = db.session.get(Case, case_id)
    assert case is not None
    return case


def test_trust_leader_works_a_case_with_the_reporter(org, live_server, browser, page):
    leader = org.staff["leader"]
    calm, _ = submit(org, category="workload")
    urgent, receipt = submit(
        org,
        category="discrimination",
        text="Since I told my manager I was pregnant my hours were cut and a friend says this "
        "could go to a tribunal.",
    )
    for case in (calm, urgent):
        assign(case, leader)
    set_risk(calm, "low", 0.12)
    set_risk(urgent, "high", 0.74)
    db.session.rollback()

    # Sign in and open the first case in the queue: the highest risk.
    page.goto(live_server + "/login")
    page.get_by_label("Email").fill("leader@demo.defuse")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Case queue").wait_for()
    links = page.locator("#queue a.case-link")
    assert links.count() == 2
    assert links.first.inner_text() == f"Case {urgent.id}"
    links.first.click()
    assert page.locator("#case-title").inner_text().startswith(f"Case {urgent.id}")
    assert "tribunal" in page.locator("#case-account").inner_text()

    # Tick the first two guide steps, by their labels.
    steps = page.locator("#guide-form input[type=checkbox]")
    total = steps.count()
    assert total > 2
    first_label = page.locator("#guide-form label").nth(0).inner_text().split("\n")[0]
    page.get_by_label(first_label, exact=False).first.check()
    steps.nth(1).check()
    page.get_by_role("button", name="Save checklist").click()
    assert page.locator("#guide-progress").inner_text() == f"2 of {total} steps done."
    assert steps.nth(0).is_checked() and steps.nth(1).is_checked()
    db.session.rollback()
    assert (
        db.session.scalar(select(db.func.count(GuideTick.id)).where(GuideTick.case_id == urgent.id))
        == 2
    )

    # Acknowledge, then write to the reporter.
    page.get_by_role("button", name="Acknowledge").click()
    assert page.locator("#case-status").inner_text() == "Acknowledged"
    page.get_by_label("Message to the reporter").fill(MESSAGE)
    page.get_by_role("button", name="Send message").click()
    assert MESSAGE in page.locator("#thread").inner_text()
    assert page.locator("#case-status").inner_text() == "In conversation"

    # The reporter, in their own browser, reads it with the receipt code and answers.
    reporter_context = browser.new_context(viewport={"width": 390, "height": 844})
    reporter = reporter_context.new_page()
    reporter.set_default_timeout(10_000)
    reporter.goto(live_server + "/follow-up")
    reporter.get_by_label("Receipt code").fill(receipt)
    reporter.get_by_role("button", name="Open").click()
    assert MESSAGE in reporter.locator(".thread").inner_text()
    reporter.get_by_label("Write to your Trust Leader").fill(REPLY)
    reporter.get_by_role("button", name="Preview message").click()
    reporter.get_by_role("button", name="Send message").click()
    assert REPLY in reporter.locator(".thread").inner_text()
    reporter_context.close()

    # Back in the queue the case shows an unread message; opening it shows the reply.
    page.get_by_role("link", name="Back to the queue").click()
    row = page.locator("#queue tbody tr").filter(has_text=f"Case {urgent.id}")
    assert "1 new" in row.inner_text()
    row.get_by_role("link", name=f"Case {urgent.id}").click()
    assert REPLY in page.locator("#thread").inner_text()

    # Close with an outcome.
    page.get_by_label("How did it end?").select_option("resolved_informally")
    page.get_by_label("What finally happened?").select_option("resolved")
    page.get_by_role("button", name="Close case").click()
    assert page.locator("#case-status").inner_text() == "Closed: Resolved"
    assert page.locator("#close-form").count() == 0
    closed = fresh(urgent.id)
    assert (closed.status, closed.outcome, closed.escalated) == ("closed", "resolved", False)

    # Everything the Trust Leader did is in the audit log; the queue no longer lists the case.
    actions = set(
        db.session.execute(
            select(AuditEvent.action).where(AuditEvent.case_id == urgent.id)
        ).scalars()
    )
    assert {
        "case.viewed",
        "guide.step_ticked",
        "case.status_changed",
        "message.to_reporter",
        "message.from_reporter",
    } <= actions
    db.session.rollback()
    page.get_by_role("link", name="Back to the queue").click()
    assert [re.sub(r"\D", "", t) for t in page.locator("#queue a.case-link").all_inner_texts()] == [
        str(calm.id)
    ]


def test_closing_without_an_outcome_shows_the_error_beside_the_field(org, live_server, page):
    case, _ = submit(org)
    assign(case, org.staff["leader"])
    db.session.rollback()
    page.goto(live_server + "/login")
    page.get_by_label("Email").fill("leader@demo.defuse")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server}/cases/{case.id}")
    page.get_by_role("button", name="Acknowledge").click()
    page.get_by_label("How did it end?").select_option("withdrawn")
    # Skip the browser's own required-field check to see the server's answer.
    page.locator("#close-form").evaluate("form => form.noValidate = true")
    page.get_by_role("button", name="Close case").click()
    assert page.locator("#outcome-error").is_visible()
    assert page.get_by_label("What finally happened?").get_attribute("aria-invalid") == "true"
    assert fresh(case.id).status == "acknowledged"
