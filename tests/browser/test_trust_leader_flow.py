"""A Trust Leader's day in a real browser on a phone-sized screen, over HTTPS on the
production site: sign in with a password, open the highest-risk case, tick guide steps,
acknowledge, write to the reporter; the reporter reads it with the receipt code and answers;
the Trust Leader reads the answer and closes the case."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from service.db import AuditEvent, Case, GuideTick, User
from service.extensions import db
from tests.browser.production import StaffAccount
from tests.cases.support import assign, set_risk, submit
from tests.factories import seed_org

pytestmark = pytest.mark.browser

MESSAGE = "Thank you for telling us. Could we talk this week, at a time that suits you?"
REPLY = "Yes please, Thursday after lunch works for me."
CLOSING = "Your hours are restored from next month. Thank you for speaking up."


def fresh(site, case_id: int) -> Case:  # type: ignore[no-untyped-def]
    with site.app_context():
        case = db.session.get(Case, case_id)
        assert case is not None
        db.session.expunge(case)
        return case


@pytest.fixture
def leader(site) -> StaffAccount:  # type: ignore[no-untyped-def]
    """A Trust Leader in Payroll, trained for every category, made as an admin would."""
    with site.app_context():
        org = seed_org()
    return site.create_staff("trust_leader", name="Robin", org_unit_id=org.unit("Payroll"))


def cases_for(site, leader: StaffAccount, *reports: dict) -> list[tuple[int, str]]:  # type: ignore[no-untyped-def, type-arg]
    """Reports submitted through the real intake path, each put with the leader, at a risk
    level; returns (case id, receipt code) pairs."""
    made = []
    with site.app_context():
        org = seed_org()
        user = db.session.get(User, leader.id)
        for report in reports:
            fields = dict(report)
            level, score = fields.pop("risk", ("moderate", 0.4))
            case, receipt = submit(org, **fields)
            assign(case, user)
            set_risk(case, level, score)
            made.append((case.id, receipt))
    return made


def sign_in(page, site, account: StaffAccount) -> None:  # type: ignore[no-untyped-def]
    site.sign_in(page, account)
    page.get_by_role("heading", name="Case queue").wait_for()


def test_trust_leader_works_a_case_with_the_reporter(site, leader, open_page, page):
    (calm_id, _), (urgent_id, receipt) = cases_for(
        site,
        leader,
        {"category": "workload", "risk": ("low", 0.12)},
        {
            "category": "discrimination",
            "text": "Since I told my manager I was pregnant my hours were cut and a friend says "
            "this could go to a tribunal.",
            "risk": ("high", 0.74),
        },
    )

    # Sign in and open the first case in the queue: the highest risk.
    sign_in(page, site, leader)
    links = page.locator("#queue a.case-link")
    assert links.count() == 2
    assert links.first.inner_text() == f"Case {urgent_id}"
    links.first.click()
    assert page.locator("#case-title").inner_text().startswith(f"Case {urgent_id}")
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
    with site.app_context():
        ticks = select(db.func.count(GuideTick.id)).where(GuideTick.case_id == urgent_id)
        assert db.session.scalar(ticks) == 2

    # Acknowledge, then write to the reporter.
    page.get_by_role("button", name="Acknowledge").click()
    assert page.locator("#case-status").inner_text() == "Acknowledged"
    # A third step ticked and not saved survives sending the message (one form).
    steps.nth(2).check()
    page.get_by_label("Message to the reporter", exact=True).fill(MESSAGE)
    page.get_by_label("Also mark the case as in conversation").check()
    page.get_by_role("button", name="Send message").click()
    assert MESSAGE in page.locator("#thread").inner_text()
    assert page.locator("#case-status").inner_text() == "In conversation"
    assert page.locator("#guide-progress").inner_text() == f"3 of {total} steps done."

    # The reporter, in their own browser, reads it with the receipt code and answers.
    reporter = open_page()
    reporter.goto(site.url + "/follow-up")
    reporter.get_by_label("Receipt code").fill(receipt)
    reporter.get_by_role("button", name="Open").click()
    assert MESSAGE in reporter.locator(".thread").inner_text()
    reporter.get_by_label("Write to your Trust Leader").fill(REPLY)
    reporter.get_by_role("button", name="Preview message").click()
    reporter.get_by_role("button", name="Send message").click()
    assert REPLY in reporter.locator(".thread").inner_text()

    # Back in the queue the case shows an unread message; opening it shows the reply.
    page.get_by_role("link", name="Back to the queue").click()
    row = page.locator("#queue tbody tr").filter(has_text=f"Case {urgent_id}")
    assert "1 new" in row.inner_text()
    row.get_by_role("link", name=f"Case {urgent_id}").click()
    assert REPLY in page.locator("#thread").inner_text()

    # Close with an outcome.
    page.get_by_label("How did it end?").select_option("resolved_informally")
    page.get_by_label("What finally happened?").select_option("resolved")
    page.get_by_label("Closing message to the reporter").fill(CLOSING)
    page.get_by_role("button", name="Close case").click()
    assert CLOSING in page.locator("#closing-message-preview").inner_text()
    page.get_by_role("button", name="Yes, close the case").click()
    assert page.locator("#case-status").inner_text() == "Closed: Resolved"
    assert page.locator("#close-form").count() == 0
    closed = fresh(site, urgent_id)
    assert (closed.status, closed.outcome, closed.escalated) == ("closed", "resolved", False)

    # The closing message is what the reporter reads when they next follow up.
    reporter.goto(site.url + "/follow-up")
    reporter.get_by_label("Receipt code").fill(receipt)
    reporter.get_by_role("button", name="Open").click()
    assert CLOSING in reporter.locator(".thread").inner_text()

    # Everything the Trust Leader did is in the audit log; the queue no longer lists the case.
    with site.app_context():
        audited = select(AuditEvent.action).where(AuditEvent.case_id == urgent_id)
        actions = set(db.session.execute(audited).scalars())
    assert {
        "case.viewed",
        "guide.step_ticked",
        "case.status_changed",
        "message.to_reporter",
        "message.from_reporter",
    } <= actions
    page.get_by_role("link", name="Back to the queue").click()
    assert [re.sub(r"\D", "", t) for t in page.locator("#queue a.case-link").all_inner_texts()] == [
        str(calm_id)
    ]


def test_closing_without_an_outcome_shows_the_error_beside_the_field(site, leader, page):
    [(case_id, _)] = cases_for(site, leader, {})
    sign_in(page, site, leader)
    page.goto(f"{site.url}/cases/{case_id}")
    page.get_by_role("button", name="Acknowledge").click()
    page.get_by_label("How did it end?").select_option("withdrawn")
    # Skip the browser's own required-field check to see the server's answer.
    page.locator("#close-form").evaluate("form => form.noValidate = true")
    page.get_by_role("button", name="Close case").click()
    assert page.locator("#outcome-error").is_visible()
    assert page.get_by_label("What finally happened?").get_attribute("aria-invalid") == "true"
    assert fresh(site, case_id).status == "acknowledged"
