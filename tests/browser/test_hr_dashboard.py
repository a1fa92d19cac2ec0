"""The HR analyst's dashboard in a real browser over HTTPS on the production site: signed in
with a password, it shows aggregates under the page's strict security policy, never a group
smaller than the anonymity threshold, and the filters and the CSV export work."""

from __future__ import annotations

import pytest

from tests.analytics.helpers import add_reports, released_months, spread
from tests.factories import seed_org

pytestmark = pytest.mark.browser


@pytest.fixture
def figures(site):  # type: ignore[no-untyped-def]
    """Three complete months of reports, as the intake path counts them; Payroll has only 3."""
    with site.app_context():
        org = seed_org()
        months = released_months(3)
        for month in months:
            spread(org.unit("Warehouse North"), month, 14)
            spread(org.unit("Warehouse South"), month, 9, category="safety")
            spread(org.unit("Call Centre"), month, 12, category="workload", hotspots=1)
        add_reports(org.unit("Payroll"), months[1].start, 3, category="pay")
    return org


def test_hr_analyst_reads_the_dashboard_without_seeing_small_groups(site, figures, page):
    problems: list[str] = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    analyst = site.create_staff("hr_analyst")

    assert analyst.totp_secret  # HR must pass a second factor: the browser enters the code
    site.sign_in(page, analyst)
    page.get_by_role("heading", name="Risk dashboard").wait_for()
    assert page.url.startswith(site.url + "/analytics")

    page.get_by_label("Period", exact=True).select_option("month")
    page.get_by_label("Group by level", exact=True).select_option("2")
    page.get_by_role("button", name="Show").click()
    page.get_by_role("heading", name="Risk dashboard").wait_for()
    assert "depth=2" in page.url

    headlines = page.locator("#headlines").inner_text()
    assert "reports" in headlines and "high or critical" in headlines and "hotspots" in headlines
    assert "on the month before" in headlines  # change against the previous period

    heatmap = page.locator("section[aria-labelledby=heatmap-heading]")
    assert heatmap.locator("svg").count() == 1 and page.locator("svg").count() == 2
    shown = heatmap.inner_text()
    assert "Warehouse North" in shown and "Call Centre" in shown
    assert "Payroll" not in shown  # 3 reports: below the threshold, never on the page
    assert page.locator(".suppressed").count() > 1

    with page.expect_download() as download:
        page.get_by_role("link", name="Download these figures as CSV").click()
    exported = download.value.path().read_text()
    assert exported.splitlines()[0].count(",") >= 3 and "Warehouse North" in exported

    # The page is drawn with no inline script or style: nothing was blocked by its policy.
    assert [p for p in problems if "favicon" not in p and "404" not in p] == []


def test_a_filter_error_is_said_in_words(site, figures, page):
    analyst = site.create_staff("hr_analyst")
    site.sign_in(page, analyst)
    page.get_by_role("heading", name="Risk dashboard").wait_for()
    page.get_by_label("First day", exact=True).fill("2026-05-01")
    page.get_by_label("Last day", exact=True).fill("2026-04-01")
    page.get_by_role("button", name="Show").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "must be on or before the last day" in alert.inner_text()


def test_you_said_we_did_answers_anyone(site, figures, page):
    response = page.goto(site.url + "/you-said-we-did")
    assert response.status == 200
    page.get_by_role("heading", name="You said, we did").wait_for()
    assert "Payroll" not in page.inner_text("main")


def test_the_dashboard_is_not_for_trust_leaders(site, figures, page):
    leader = site.create_staff("trust_leader", org_unit_id=figures.unit("Payroll"))
    site.sign_in(page, leader)
    page.get_by_role("heading", name="Case queue").wait_for()
    response = page.goto(site.url + "/analytics")
    assert response.status == 403
