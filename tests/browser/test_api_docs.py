"""The API's HTML viewer renders in a real browser under the page's own security policy,
from the vendored Redoc bundle (no CDN), on the production site."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_redoc_renders_the_api_under_its_policy(site, page):
    problems: list[str] = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    loaded: list[str] = []
    page.on("requestfinished", lambda request: loaded.append(request.url))

    page.goto(site.url + "/api/v1/docs")

    page.get_by_role("heading", name="Defuse API").first.wait_for()
    page.locator("h2", has_text="Submit a report").first.wait_for()
    # Allowed: Chromium's own /favicon.ico 404, and Redoc's "powered by" logo, which it asks
    # for from its CDN and the policy blocks (no page of Defuse loads anything from outside).
    expected = ("404", "cdn.redoc.ly/redoc/logo-mini.svg")
    assert [p for p in problems if not any(e in p for e in expected)] == []
    assert all(url.startswith((site.url, "data:", "blob:")) for url in loaded), loaded
