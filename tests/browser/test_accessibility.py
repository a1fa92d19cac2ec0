"""WCAG 2.2 AA on every page, in Chromium on a phone-sized screen over the production site:
axe-core finds no serious or critical violation and nothing makes a page scroll sideways.
Each role walks its own pages; problems are gathered so one run names them all."""

from __future__ import annotations

import pytest

from service.db import Case, User
from service.extensions import db
from tests.browser.accessibility import check
from tests.cases.support import assign, set_risk, submit
from tests.factories import seed_org

pytestmark = pytest.mark.browser

ACCOUNT = (
    "Since the restructure my manager shouts at me in meetings and some days I think about "
    "ending my life. I do not know who else to tell."
)
MILD = "We keep being asked to cover extra shifts and nobody says for how long."


@pytest.fixture
def org(site):  # type: ignore[no-untyped-def]
    with site.app_context():
        return seed_org()


def _fill_form(page, site, org, text: str = ACCOUNT) -> None:  # type: ignore[no-untyped-def]
    page.goto(site.url + "/")
    page.get_by_label("Where is this happening?").select_option(str(org.unit("Call Centre")))
    page.get_by_label("Bullying or intimidation").check()
    page.get_by_label("What is happening?").fill(text)


def test_the_reporter_s_pages(site, org, page):
    problems: list[str] = []
    page.goto(site.url + "/")
    check(page, "report form", problems)

    page.get_by_role("button", name="Preview my report").click()
    page.locator(".error-summary").wait_for()
    check(page, "report form with errors", problems)

    _fill_form(page, site, org)
    page.get_by_label("How to reach you").fill("desk phone")  # typed, box not ticked
    page.get_by_role("button", name="Preview my report").click()
    page.locator("#contact-warning").wait_for()
    check(page, "preview", problems)

    page.get_by_role("button", name="Send report").click()
    page.locator("#receipt-code").wait_for()
    page.locator("#crisis-support").wait_for()
    check(page, "receipt with crisis support", problems)
    receipt = page.locator("#receipt-code").inner_text().strip()
    page.reload()
    page.locator("#receipt-gone").wait_for()
    check(page, "receipt after a reload", problems)

    page.goto(site.url + "/follow-up")
    check(page, "follow-up", problems)
    page.get_by_label("Receipt code").fill("AAAA-BBBB-CCCC-DDDD-EEEE")
    page.get_by_role("button", name="Open").click()
    page.locator("#receipt-error").wait_for()
    check(page, "follow-up, unknown code", problems)

    page.get_by_label("Receipt code").fill(receipt)
    page.get_by_role("button", name="Open").click()
    page.locator("#report-status").wait_for()
    check(page, "status", problems)
    page.get_by_label("Write to your Trust Leader").fill("   ")  # blank: an error
    page.get_by_role("button", name="Preview message").click()
    page.locator("#body-error").wait_for()
    check(page, "status with an error", problems)
    page.get_by_label("Write to your Trust Leader").fill("Thank you, Thursday works.")
    page.get_by_role("button", name="Preview message").click()
    page.locator("#scrubbed-reply").wait_for()
    check(page, "reply preview", problems)
    page.get_by_role("button", name="Send message").click()
    page.locator("#thread-notice").wait_for()
    check(page, "thread after sending", problems)

    page.goto(site.url + "/no-such-page")
    check(page, "error page", problems)
    assert not problems, "\n".join(problems)


def test_the_sign_in_pages(site, org, page):
    problems: list[str] = []
    page.goto(site.url + "/login")
    check(page, "sign-in", problems)
    page.get_by_label("Email").fill("nobody@site.test")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Sign in").wait_for()
    check(page, "sign-in refused", problems)

    admin = site.create_staff("admin")
    page.goto(site.url + "/login")
    page.get_by_label("Email").fill(admin.email)
    page.get_by_label("Password").fill(admin.password)
    page.get_by_role("button", name="Sign in").click()
    if admin.totp_secret:
        page.get_by_role("heading", name="Enter your code").wait_for()
        check(page, "second-factor code", problems)
    assert not problems, "\n".join(problems)


def _cases(site, org, leader_id: int) -> list[int]:  # type: ignore[no-untyped-def]
    with site.app_context():
        user = db.session.get(User, leader_id)
        made = []
        for level, score in (("critical", 0.97), ("high", 0.8), ("moderate", 0.4), ("low", 0.1)):
            case, _ = submit(org, text=ACCOUNT if level == "critical" else MILD)
            assign(case, user)
            set_risk(case, level, score)
            made.append(case.id)
        unassigned, _ = submit(org)
        assign(unassigned, None)
        made.append(unassigned.id)
        assert db.session.get(Case, made[0]) is not None
        return made


def test_the_trust_leader_s_pages(site, org, page):
    leader = site.create_staff("trust_leader", name="Robin", org_unit_id=org.unit("Payroll"))
    case_ids = _cases(site, org, leader.id)
    problems: list[str] = []
    site.sign_in(page, leader)
    page.get_by_role("heading", name="Case queue").wait_for()
    check(page, "queue", problems)
    page.goto(f"{site.url}/cases/{case_ids[0]}")
    check(page, "case", problems)
    page.goto(site.url + "/cases/availability")
    check(page, "availability", problems)
    page.goto(site.url + "/account/second-factor")
    check(page, "second-factor settings", problems)
    assert not problems, "\n".join(problems)


def test_the_lead_s_pages(site, org, page):
    leader = site.create_staff("trust_leader", org_unit_id=org.unit("Payroll"))
    case_ids = _cases(site, org, leader.id)
    lead = site.create_staff("lead", org_unit_id=org.unit("Payroll"), on_call=True)
    problems: list[str] = []
    site.sign_in(page, lead)
    page.get_by_role("heading", name="Case queue").wait_for()
    check(page, "lead's queue", problems)
    page.goto(f"{site.url}/cases/{case_ids[0]}")
    check(page, "lead's view of a case", problems)
    page.goto(f"{site.url}/cases/{case_ids[-1]}")
    check(page, "lead's view of an unassigned case", problems)
    assert not problems, "\n".join(problems)


def test_the_hr_dashboard(site, org, page):
    _cases(site, org, site.create_staff("trust_leader", org_unit_id=org.unit("Payroll")).id)
    analyst = site.create_staff("hr_analyst")
    problems: list[str] = []
    site.sign_in(page, analyst)
    page.goto(site.url + "/analytics")
    check(page, "HR dashboard", problems)
    assert not problems, "\n".join(problems)


def test_the_admin_pages(site, org, page):
    leader = site.create_staff("trust_leader", org_unit_id=org.unit("Payroll"))
    _cases(site, org, leader.id)
    admin = site.create_staff("admin")
    problems: list[str] = []
    site.sign_in(page, admin)
    for path, name in (
        ("/admin", "admin home"),
        ("/admin/users", "users"),
        ("/admin/users/new", "new user"),
        (f"/admin/users/{leader.id}", "edit user"),
        ("/admin/org", "org tree"),
        (f"/admin/org/{org.unit('Payroll')}", "edit unit"),
        ("/admin/audit", "audit log"),
        ("/admin/jobs", "failed jobs"),
        ("/admin/notifications", "notifications"),
        ("/analytics", "dashboard as admin"),
    ):
        response = page.goto(site.url + path)
        assert response is not None and response.status == 200, (path, response)
        check(page, name, problems)
    page.goto(site.url + "/admin/users/new")
    page.get_by_role("button", name="Create").first.click()
    page.locator(".error").first.wait_for()
    check(page, "new user with errors", problems)
    assert not problems, "\n".join(problems)
