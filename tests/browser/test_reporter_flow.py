"""A reporter, in a real browser on a phone-sized screen, from the form to the receipt and
back with it, over HTTPS on the production site: keyboard and labels only, no JavaScript
needed."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from service.db import Report
from service.extensions import db
from tests.factories import seed_org

pytestmark = pytest.mark.browser

ACCOUNT = (
    "My manager John Miller keeps shouting at me in front of the team. He emails "
    "john.miller@example.com at night and rings me on 07700 900123. It has gone on for months."
)


@pytest.fixture
def org(site):  # type: ignore[no-untyped-def]
    with site.app_context():
        return seed_org()


def test_report_preview_receipt_and_follow_up(site, org, page):
    page.goto(site.url + "/")
    page.get_by_label("Where is this happening?").select_option(str(org.unit("Call Centre")))
    page.get_by_label("Bullying or intimidation").check()
    page.get_by_label("How long has it been going on?").select_option("months")
    page.locator("#raised_before-no").check()
    page.locator("#involved-0").check()  # my manager
    page.get_by_label("A conversation about it").check()
    page.get_by_label("What is happening?").fill(ACCOUNT)
    page.get_by_role("button", name="Preview my report").press("Enter")

    account = page.locator("#scrubbed-account")
    account.wait_for()
    shown = account.inner_text()
    assert "07700 900123" not in shown and "john.miller@example.com" not in shown
    assert "Miller" not in shown
    assert page.locator("#scrubbed-account mark.redacted").count() >= 3

    page.get_by_role("button", name="Send report").click()
    receipt = page.locator("#receipt-code").inner_text().strip()
    assert re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){4}", receipt)

    with site.app_context():
        stored = db.session.execute(select(Report)).scalar_one()
        assert "07700" not in stored.text and "Miller" not in stored.text

    page.get_by_role("link", name="Follow up").first.click()
    page.get_by_label("Receipt code").fill(receipt.lower())
    page.get_by_role("button", name="Open").click()
    assert "Received" in page.locator("#report-status").inner_text()
    page.get_by_label("Write to your Trust Leader").fill(
        "Thank you, I can talk on Tuesdays. Ask Mrs Okafor if you doubt it."
    )
    page.get_by_role("button", name="Preview message").click()
    preview = page.locator("#scrubbed-reply")
    assert "Okafor" not in preview.inner_text() and preview.locator("mark.redacted").count() == 1
    page.get_by_role("button", name="Send message").click()
    assert "Thank you, I can talk on Tuesdays." in page.locator(".thread").inner_text()
    assert page.url.startswith(site.url)  # HTTPS throughout, never sent elsewhere


def test_form_errors_are_shown_beside_fields(site, org, page):
    page.goto(site.url + "/")
    page.get_by_label("What is happening?").fill("too short")
    page.get_by_role("button", name="Preview my report").click()
    assert page.locator("#text-error").is_visible()
    assert page.locator("#org_unit-error").is_visible()
    assert page.get_by_label("What is happening?").input_value() == "too short"


def test_a_wrong_receipt_code_says_so_without_saying_why(site, org, page):
    page.goto(site.url + "/follow-up")
    page.get_by_label("Receipt code").fill("AAAA-BBBB-CCCC-DDDD-EEEE")
    with page.expect_response(re.compile(r"/follow-up$")) as answer:
        page.get_by_role("button", name="Open").click()
    assert answer.value.status == 404
    assert page.get_by_label("Receipt code").is_visible()  # the form again, to try once more
