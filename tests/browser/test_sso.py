"""Staff single sign-on in a real browser, over HTTPS on the production site: the person
presses "Sign in with your organisation", logs in and consents on the real OpenID provider's
own pages (also behind TLS), and comes back signed in; or is refused with a clear page."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from service.db import AuditEvent, User
from service.extensions import db
from tests.cases.support import assign, set_risk, submit
from tests.factories import seed_org

pytestmark = pytest.mark.browser


def callback_statuses(page, site) -> list[int]:  # type: ignore[no-untyped-def]
    """The statuses of the site's answers to the provider sending the browser back."""
    statuses: list[int] = []
    page.on(
        "response",
        lambda response: (
            response.url.startswith(site.callback_url + "?") and statuses.append(response.status)
        ),
    )
    return statuses


def test_a_trust_leader_signs_in_with_their_organisation(site, page):
    # The demo staff's accounts, as an admin made them; the provider's directory has the same
    # emails. Sam (leader@demo.defuse) has a case in their queue.
    with site.app_context():
        org = seed_org()
        leader = org.staff["leader"]
        case, _ = submit(org, category="workload")
        assign(case, leader)
        set_risk(case, "moderate", 0.4)
        case_id, leader_id = case.id, leader.id

    statuses = callback_statuses(page, site)
    site.sign_in_with_organisation(page, "leader")

    # Back on the site over HTTPS, on their own queue, with their case in it.
    assert page.url == site.url + "/cases"
    page.get_by_role("heading", name="Case queue").wait_for()
    assert page.locator("#queue a.case-link").all_inner_texts() == [f"Case {case_id}"]
    assert statuses == [302]
    with site.app_context():
        user = db.session.get(User, leader_id)
        assert user.sso_subject == "leader" and user.role == "trust_leader"
        signed_in = db.session.execute(
            select(AuditEvent).where(AuditEvent.action == "staff.signed_in")
        ).scalar_one()
        assert signed_in.actor_id == leader_id and signed_in.detail["method"] == "sso"


def test_someone_with_no_defuse_role_is_refused_with_a_clear_page(site, page):
    # leader2@demo.defuse is a Trust Leader in Defuse, but the directory ("no-role") has them in
    # no Defuse group.
    with site.app_context():
        someone_id = seed_org().staff["leader2"].id

    statuses = callback_statuses(page, site)
    site.sign_in_with_organisation(page, "no-role")

    page.get_by_role("heading", name="Sign-in with your organisation did not work").wait_for()
    error = page.locator("#sso-error")
    assert "no Defuse role" in error.inner_text()
    assert error.get_attribute("data-reason") == "missing_role"
    assert statuses == [403]
    # Nobody was signed in: the queue still asks for a sign-in.
    page.goto(site.url + "/cases")
    assert page.url.startswith(site.url + "/login")
    with site.app_context():
        assert db.session.get(User, someone_id).sso_subject is None
        assert not db.session.execute(
            select(AuditEvent).where(AuditEvent.action == "staff.signed_in")
        ).all()
