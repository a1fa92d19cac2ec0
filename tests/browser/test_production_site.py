"""The site as deployed: gunicorn in production mode behind nginx over TLS. Forms work over
HTTPS although the browser sends no Referer, posts from elsewhere are refused, the probes
answer over plain HTTP on the internal port, and behind the one trusted proxy each client has
its own rate limit."""

from __future__ import annotations

import http.client
import json
import re
from urllib.parse import urlsplit

import pytest

from service.config import Settings
from tests.factories import report_payload, seed_org

pytestmark = pytest.mark.browser

REPORT_BUDGET = int(Settings().rate_limit_reports.split()[0])  # production's default, per hour


def plain_http(site, path: str) -> tuple[http.client.HTTPResponse, bytes]:  # type: ignore[no-untyped-def]
    """A GET straight to gunicorn over plain HTTP, redirects not followed."""
    address = urlsplit(site.internal_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response, response.read()
    finally:
        connection.close()


class Client:
    """An HTTPS client from its own loopback address (127.0.0.N), verifying the site's
    certificate, as one person's machine behind the proxy would be."""

    def __init__(self, site, address: str) -> None:  # type: ignore[no-untyped-def]
        self.site = site
        self.address = address

    def request(self, method: str, path: str, body=None, headers=None):  # type: ignore[no-untyped-def]
        url = urlsplit(self.site.url)
        connection = http.client.HTTPSConnection(
            url.hostname,
            url.port,
            context=self.site.ssl_context(),
            source_address=(self.address, 0),
            timeout=15,
        )
        try:
            data = json.dumps(body) if body is not None else None
            sent = {"Content-Type": "application/json", **(headers or {})}
            connection.request(method, path, body=data, headers=sent)
            response = connection.getresponse()
            response.read()
            return response
        finally:
            connection.close()

    def report(self, org, **headers: str) -> int:  # type: ignore[no-untyped-def]
        return self.request("POST", "/api/v1/reports", report_payload(org), headers).status


@pytest.fixture
def org(site):  # type: ignore[no-untyped-def]
    with site.app_context():
        return seed_org()


# --- transport -------------------------------------------------------------------------------


@pytest.mark.parametrize("probe", ["/healthz", "/readyz"])
def test_probes_answer_over_plain_http_on_the_internal_port(site, probe):
    response, body = plain_http(site, probe)
    assert response.status == 200
    answer = json.loads(body)
    if probe == "/healthz":
        assert answer["status"] == "ok"
    else:
        assert answer["checks"]["database"] == answer["checks"]["redis"] == "ok"
        # This site runs no worker: ready to take reports, degraded for want of routing.
        worker_ok = answer["checks"]["worker"] == "ok"
        assert answer["status"] == ("ready" if worker_ok else "degraded")


@pytest.mark.parametrize("path", ["/", "/login", "/follow-up", "/api/v1/openapi.json"])
def test_every_other_page_on_plain_http_is_sent_to_https(site, path):
    response, _ = plain_http(site, path)
    assert response.status == 302
    assert response.getheader("Location").startswith("https://")


def test_through_the_proxy_pages_come_over_https_with_the_security_headers(site):
    response = Client(site, "127.0.0.1").request("GET", "/")
    assert response.status == 200
    assert response.getheader("Referrer-Policy") == "no-referrer"
    assert "max-age" in response.getheader("Strict-Transport-Security")
    assert "script-src 'self'" in response.getheader("Content-Security-Policy")
    cookie = response.getheader("Set-Cookie") or ""
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


# --- forms over HTTPS ------------------------------------------------------------------------


def test_staff_sign_in_over_https_without_a_referer_is_not_refused(site, page):
    account = site.create_staff("admin")
    page.goto(site.url + "/login")
    page.get_by_label("Email").fill(account.email)
    page.get_by_label("Password").fill(account.password)
    with page.expect_request(lambda r: r.method == "POST") as posted:
        page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Enter your code").wait_for()
    with page.expect_request(lambda r: r.method == "POST") as posted_code:
        page.get_by_label("Code", exact=True).fill(account.code())
        page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="Staff accounts").wait_for()
    for sign_in in (posted.value, posted_code.value):
        headers = sign_in.all_headers()
        assert "referer" not in headers  # the no-referrer policy, as a real browser applies it
        assert headers.get("origin") in ("null", site.url)
        assert sign_in.response().status == 302
    assert page.url == site.url + "/admin/users"


def _login_form(page, site) -> str:  # type: ignore[no-untyped-def]
    page.goto(site.url + "/login")
    # The sign-in form's own token (the header's language switcher carries one too).
    return page.locator('#password-sign-in input[name="csrf_token"]').get_attribute("value")


@pytest.mark.parametrize(
    "forged",
    [
        {"Origin": "https://elsewhere.example"},
        {"Origin": "null", "Sec-Fetch-Site": "cross-site"},
    ],
)
def test_a_sign_in_post_from_another_site_is_refused(site, page, forged):
    account = site.create_staff("admin")
    token = _login_form(page, site)
    form = {"csrf_token": token, "email": account.email, "password": account.password}
    # The page's own cookies and token: only what the post says about its origin differs.
    refused = page.context.request.post(site.url + "/login", form=form, headers=forged)
    assert refused.status == 400
    assert "sent from elsewhere" in refused.text()
    accepted = page.context.request.post(
        site.url + "/login", form=form, headers={"Origin": site.url}, max_redirects=0
    )
    assert accepted.status == 302


# --- real clients behind the proxy -------------------------------------------------------


def test_behind_the_proxy_twelve_clients_each_report_and_one_is_limited(site, org):
    clients = [Client(site, f"127.0.0.{n}") for n in range(2, 14)]
    assert [client.report(org) for client in clients] == [201] * 12
    busy = clients[0]
    answers = [busy.report(org) for _ in range(REPORT_BUDGET)]
    assert answers == [201] * (REPORT_BUDGET - 1) + [429]
    assert clients[1].report(org) == 201  # the others keep their own budget


def test_a_forged_forwarded_for_does_not_buy_a_client_a_new_budget(site, org):
    # The busy client of the test before: its budget is whole again (the `site` fixture).
    client = Client(site, "127.0.0.2")
    answers = [
        client.report(org, **{"X-Forwarded-For": f"198.51.100.{n}"})
        for n in range(REPORT_BUDGET + 1)
    ]
    assert answers == [201] * REPORT_BUDGET + [429]


def test_the_report_form_and_the_api_share_the_budget_through_the_proxy(site, org, page):
    client = Client(site, "127.0.0.1")  # the browser's address
    assert [client.report(org) for _ in range(REPORT_BUDGET)] == [201] * REPORT_BUDGET
    page.goto(site.url + "/")
    page.get_by_label("Where is this happening?").select_option(str(org.unit("Call Centre")))
    page.get_by_label("Workload or hours").check()
    page.get_by_label("What is happening?").fill(
        "We keep being asked to cover extra shifts and nobody says for how long."
    )
    page.get_by_role("button", name="Preview my report").click()
    with page.expect_response(re.compile(r"/submit$")) as sent:
        page.get_by_role("button", name="Send report").click()
    assert sent.value.status == 429
    assert page.get_by_role("heading", name="Not sent yet: please wait a while").is_visible()
    # The words are not lost: the page holds them again, ready to resend.
    assert page.locator("#kept-text").input_value().startswith("We keep being asked")
