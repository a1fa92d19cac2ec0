"""Abuse limits per real client: behind DEFUSE_TRUSTED_PROXIES proxies the client is the
address the proxy saw, without any the forwarding headers change nothing, and each action has
one budget whether it comes through the HTML form or the JSON API."""

from __future__ import annotations

import re

import pytest

from service.config import ConfigError, Settings
from service.extensions import limiter
from tests.conftest import make_app
from tests.factories import PASSWORD, report_payload, seed_org

PROXY = {"REMOTE_ADDR": "127.0.0.1"}  # every request reaches the app from the proxy
BUDGET = 3
UNKNOWN_RECEIPT = "AAAA-BBBB-CCCC-DDDD-EEEE"


def _limited_app(settings: Settings, trusted_proxies: int):  # type: ignore[no-untyped-def]
    return make_app(
        settings.replace(
            rate_limits_enabled=True,
            rate_limit_reports=f"{BUDGET} per hour",
            rate_limit_receipts=f"{BUDGET} per hour",
            rate_limit_login=f"{BUDGET} per hour",
            trusted_proxies=trusted_proxies,
        )
    )


@pytest.fixture
def behind_one_proxy(settings):  # type: ignore[no-untyped-def]
    app = _limited_app(settings, trusted_proxies=1)
    with app.app_context():
        limiter.reset()
        yield app, seed_org()


@pytest.fixture
def without_proxy(settings):  # type: ignore[no-untyped-def]
    app = _limited_app(settings, trusted_proxies=0)
    with app.app_context():
        limiter.reset()
        yield app, seed_org()


def _report(client, org, forwarded_for: str | None = None) -> int:  # type: ignore[no-untyped-def]
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return client.post(
        "/api/v1/reports", json=report_payload(org), environ_base=PROXY, headers=headers
    ).status_code


def _token(client, path: str = "/") -> str:  # type: ignore[no-untyped-def]
    page = client.get(path, environ_base=PROXY).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match
    return match.group(1)


def _form_report(client, org) -> int:  # type: ignore[no-untyped-def]
    data = {
        "csrf_token": _token(client),
        "org_unit": str(org.unit("Call Centre")),
        "category": "workload",
        "text": "We keep being asked to cover extra shifts and nobody says for how long.",
        "urgency": "normal",
        "language": "en",
    }
    return client.post("/submit", data=data, environ_base=PROXY).status_code


def test_behind_one_trusted_proxy_each_client_has_its_own_budget(behind_one_proxy):
    app, org = behind_one_proxy
    client = app.test_client()
    clients = [f"198.51.100.{n}" for n in range(1, 13)]
    # The proxy appends the address it saw; whatever a client wrote before it is not believed.
    assert [_report(client, org, f"203.0.113.7, {address}") for address in clients] == [201] * 12
    one = clients[0]
    assert [_report(client, org, one) for _ in range(BUDGET)] == [201] * (BUDGET - 1) + [429]
    assert _report(client, org, clients[1]) == 201  # the others are not held back by it


def test_behind_a_proxy_a_client_cannot_pick_a_new_bucket_by_prefixing_addresses(
    behind_one_proxy,
):
    app, org = behind_one_proxy
    client = app.test_client()
    answers = [_report(client, org, f"192.0.2.{n}, 198.51.100.1") for n in range(BUDGET + 1)]
    assert answers == [201] * BUDGET + [429]


def test_without_trusted_proxies_a_spoofed_forwarded_for_does_not_change_the_bucket(
    without_proxy,
):
    app, org = without_proxy
    client = app.test_client()
    answers = [_report(client, org, f"198.51.100.{n}") for n in range(1, BUDGET + 2)]
    assert answers == [201] * BUDGET + [429]


def test_the_form_and_the_api_share_one_report_budget(without_proxy):
    app, org = without_proxy
    client = app.test_client()
    assert _form_report(client, org) == 303
    assert _report(client, org) == 201
    assert _form_report(client, org) == 303
    assert _report(client, org) == 429
    assert _form_report(client, org) == 429


def test_the_form_and_the_api_share_one_budget_of_wrong_receipts(without_proxy):
    app, org = without_proxy
    client = app.test_client()

    def by_form() -> int:
        data = {"csrf_token": _token(client, "/follow-up"), "receipt": UNKNOWN_RECEIPT}
        return client.post("/follow-up", data=data, environ_base=PROXY).status_code

    def by_api() -> int:
        return client.get(
            "/api/v1/reports/status", headers={"X-Receipt": UNKNOWN_RECEIPT}, environ_base=PROXY
        ).status_code

    assert [by_form(), by_api(), by_form(), by_api(), by_form()] == [404, 404, 404, 429, 429]
    # Asking for the form that takes the code is not a look-up.
    assert client.get("/follow-up", environ_base=PROXY).status_code == 200


def test_sign_in_budget_follows_the_forwarded_client(behind_one_proxy):
    app, _ = behind_one_proxy
    client = app.test_client()

    def attempt(address: str, email: str) -> int:
        data = {"csrf_token": _token(client, "/login"), "email": email, "password": "wrong!"}
        return client.post(
            "/login", data=data, environ_base=PROXY, headers={"X-Forwarded-For": address}
        ).status_code

    emails = ["leader@demo.defuse", "leader2@demo.defuse", "leader3@demo.defuse", "hr@demo.defuse"]
    # One client trying several accounts is held back by its own budget...
    assert [attempt("198.51.100.1", e) for e in emails] == [401] * BUDGET + [429]
    # ...while a colleague behind the same proxy can still sign in.
    data = {"csrf_token": _token(client, "/login"), "email": "lead@demo.defuse"}
    signed_in = client.post(
        "/login",
        data={**data, "password": PASSWORD},
        environ_base=PROXY,
        headers={"X-Forwarded-For": "198.51.100.2"},
    )
    assert signed_in.status_code == 302


def test_the_limiter_stores_no_forwarded_address(behind_one_proxy):
    app, org = behind_one_proxy
    _report(app.test_client(), org, "198.51.100.77")
    keys = " ".join(str(k) for k in getattr(limiter._storage, "storage", {}))
    assert keys and "198.51.100.77" not in keys and "127.0.0.1" not in keys


@pytest.mark.parametrize("raw", ["-1", "6", "two"])
def test_trusted_proxies_setting_is_checked(raw):
    with pytest.raises(ConfigError, match="DEFUSE_TRUSTED_PROXIES"):
        Settings.from_env({"DEFUSE_TRUSTED_PROXIES": raw})


def test_trusted_proxies_default_to_none():
    assert Settings.from_env({}).trusted_proxies == 0
    assert Settings.from_env({"DEFUSE_TRUSTED_PROXIES": "2"}).trusted_proxies == 2
