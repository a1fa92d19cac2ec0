"""The reporter is never left hanging, in Chromium on a phone over the production site: Send
then Reload or Back files one report and never shows "confirm form resubmission", the receipt
code never breaks inside a group on a 375 px screen, the counter says by how much text is over
the limit instead of cutting it, and focus, secondary buttons and errors can be seen."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from service.db import Message, Report
from service.extensions import db
from tests.factories import seed_org

pytestmark = pytest.mark.browser

ACCOUNT = "My team lead keeps changing the rota at night and shouting when anyone asks why."


@pytest.fixture
def org(site):  # type: ignore[no-untyped-def]
    with site.app_context():
        return seed_org()


def _count(site, model) -> int:  # type: ignore[no-untyped-def]
    with site.app_context():
        return db.session.scalar(select(func.count()).select_from(model)) or 0


def _preview(page, site, org, text: str = ACCOUNT) -> None:  # type: ignore[no-untyped-def]
    page.goto(site.url + "/")
    page.get_by_label("Where is this happening?").select_option(str(org.unit("Call Centre")))
    page.get_by_label("Bullying or intimidation").check()
    page.get_by_label("What is happening?").fill(text)
    page.get_by_role("button", name="Preview my report").click()
    page.locator("#scrubbed-account").wait_for()


def test_reload_and_back_after_send_file_one_report(site, org, page):
    _preview(page, site, org)
    page.get_by_role("button", name="Send report").click()
    code = page.locator("#receipt-code").inner_text().strip()
    assert page.url == site.url + "/receipt"  # redirected: the code is not in the address

    page.reload()
    page.locator("#receipt-gone").wait_for()
    assert code not in page.content()
    assert _count(site, Report) == 1

    # Back leads to a plain page, not the browser's "confirm form resubmission".
    response = page.go_back()
    assert response is not None and response.ok
    assert page.url == site.url + "/"
    page.get_by_role("heading", name="Report a workplace concern").wait_for()
    assert _count(site, Report) == 1


def test_back_after_sending_a_reply_posts_nothing_again(site, org, page):
    _preview(page, site, org)
    page.get_by_role("button", name="Send report").click()
    code = page.locator("#receipt-code").inner_text().strip()
    page.goto(site.url + "/follow-up")
    page.get_by_label("Receipt code").fill(code)
    page.get_by_role("button", name="Open").click()
    page.get_by_label("Write to your Trust Leader").fill("Thursday after lunch works for me.")
    page.get_by_role("button", name="Preview message").click()
    page.get_by_role("button", name="Send message").click()
    page.locator("#thread-notice").wait_for()
    assert page.url == site.url + "/follow-up/thread"

    page.reload()  # the thread once; then the code is asked for again
    page.get_by_label("Receipt code").wait_for()
    response = page.go_back()
    assert response is not None and response.ok
    assert _count(site, Message) == 1


def test_the_receipt_code_never_breaks_inside_a_group_at_375px(site, org, page):
    page.set_viewport_size({"width": 375, "height": 812})
    _preview(page, site, org)
    page.get_by_role("button", name="Send report").click()
    receipt = page.locator("#receipt-code")
    receipt.wait_for()
    # The line each character of the code sits on, read from the layout itself.
    lines = page.evaluate(
        """(box) => {
          const walker = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
          const out = [];
          for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            for (let i = 0; i < node.length; i++) {
              const range = document.createRange();
              range.setStart(node, i); range.setEnd(node, i + 1);
              out.push([node.data[i], Math.round(range.getBoundingClientRect().top)]);
            }
          }
          return out;
        }""",
        receipt.element_handle(),
    )
    groups: list[set[int]] = [set()]
    for char, top in lines:
        if char == "-":
            groups.append(set())
        else:
            groups[-1].add(top)
    assert len(groups) == 5 and all(len(g) == 1 for g in groups), lines
    assert len({top for g in groups for top in g}) > 1  # it did wrap, between groups
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 375


def test_the_counter_says_how_much_is_over_and_nothing_is_cut(site, org, page):
    page.goto(site.url + "/")
    counter = page.locator("#text-count")
    assert counter.inner_text() == "0 of 5,000 characters"
    box = page.get_by_label("What is happening?")
    box.fill("x" * 4999 + ".")
    assert counter.inner_text() == "5,000 of 5,000 characters"
    box.fill("x" * 5000 + ".")  # a long paste
    assert page.evaluate("() => document.getElementById('text').value.length") == 5001
    assert counter.inner_text().startswith("5,001 of 5,000 characters: 1 too many")
    assert "over-limit" in (counter.get_attribute("class") or "")
    page.get_by_label("Where is this happening?").select_option(str(org.unit("Call Centre")))
    page.get_by_label("Bullying or intimidation").check()
    page.get_by_role("button", name="Preview my report").click()
    page.locator("#text-error").wait_for()
    assert "1 character over the limit" in page.locator("#text-error").inner_text()
    assert page.evaluate("() => document.getElementById('text').value.length") == 5001


CONTRAST = """([fg, bg]) => {
  const parse = c => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = rgb => {
    const [r, g, b] = rgb.map(v => v / 255)
      .map(v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [a, b] = [lum(parse(fg)), lum(parse(bg))].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}"""


def _contrast(page, fg: str, bg: str) -> float:  # type: ignore[no-untyped-def]
    return page.evaluate(CONTRAST, [fg, bg])


def _page_background(page) -> str:  # type: ignore[no-untyped-def]
    return page.evaluate("() => getComputedStyle(document.body).backgroundColor")


def test_focus_secondary_buttons_and_errors_can_be_seen(site, org, page):
    page.goto(site.url + "/")
    background = _page_background(page)
    page.keyboard.press("Tab")  # the skip link, by keyboard: :focus-visible applies
    ring = page.evaluate("() => getComputedStyle(document.activeElement).outlineColor")
    assert _contrast(page, ring, background) >= 3, ring

    page.get_by_role("button", name="Preview my report").click()
    text = page.get_by_label("What is happening?")
    assert text.get_attribute("aria-invalid") == "true"
    assert "text-error" in (text.get_attribute("aria-describedby") or "")
    border = text.evaluate("e => getComputedStyle(e).borderTopColor")
    danger = page.evaluate("() => getComputedStyle(document.querySelector('.error')).color")
    assert border == danger, (border, danger)

    _preview(page, site, org)
    edit = page.get_by_role("button", name="Edit")
    edge = edit.evaluate("e => getComputedStyle(e).boxShadow")
    assert _contrast(page, edge, background) >= 3, edge
