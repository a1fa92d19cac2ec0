"""HTTPS in production: forms post without a Referer (the app's own no-referrer policy), a
foreign Origin is refused, and the health probes answer over plain HTTP while every other page
is sent to HTTPS. tests/browser/test_production_site.py does the same through nginx and
gunicorn in a real browser."""

from __future__ import annotations

import pytest

from service.config import Settings
from tests.conftest import make_app
from tests.factories import PASSWORD, seed_org

SITE = "https://defuse.example"


@pytest.fixture
def production_app(settings: Settings):  # type: ignore[no-untyped-def]
    app = make_app(
        settings.replace(
            env="production",
            secret_key="s" * 40,
            hash_key="h" * 40,
            rate_limits_enabled=False,
            # Production refuses to send staff notice the moment a report arrives.
            routing_delay_minutes=(1.0, 10.0),
            digest_minutes=15.0,
            page_jitter_minutes=(1.0, 3.0),
        )
    )
    with app.app_context():
        seed_org()
        yield app


def _login_token(client, base_url: str = SITE) -> str:  # type: ignore[no-untyped-def]
    page = client.get("/login", base_url=base_url).get_data(as_text=True)
    return page.split('name="csrf_token" value="')[1].split('"')[0]


def _sign_in(client, token: str, base_url: str = SITE, **headers: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/login",
        base_url=base_url,
        data={"csrf_token": token, "email": "leader@demo.defuse", "password": PASSWORD},
        headers=headers,
    )


def test_sign_in_over_https_needs_no_referer(production_app):
    client = production_app.test_client()
    response = _sign_in(client, _login_token(client))  # the test client sends no Referer
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert response.headers["Location"] == "/cases"


@pytest.mark.parametrize("origin", [SITE, "null"])
def test_sign_in_with_our_own_or_an_opaque_origin_is_accepted(production_app, origin):
    client = production_app.test_client()
    assert _sign_in(client, _login_token(client), Origin=origin).status_code == 302


@pytest.mark.parametrize(
    "origin",
    ["https://evil.example", "http://defuse.example", "https://defuse.example:8443"],
)
def test_a_post_from_another_origin_is_refused_even_with_a_good_token(production_app, origin):
    client = production_app.test_client()
    response = _sign_in(client, _login_token(client), Origin=origin)
    assert response.status_code == 400
    assert "sent from elsewhere" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("fetch_site", "status"),
    [("same-origin", 302), ("none", 302), ("same-site", 400), ("cross-site", 400)],
)
def test_an_opaque_origin_is_judged_by_sec_fetch_site(production_app, fetch_site, status):
    # What Chromium sends under no-referrer: Origin null, and where the post came from.
    client = production_app.test_client()
    headers = {"Origin": "null", "Sec-Fetch-Site": fetch_site}
    assert _sign_in(client, _login_token(client), **headers).status_code == status


def test_a_post_without_the_token_is_refused_whatever_its_origin(production_app):
    client = production_app.test_client()
    _login_token(client)  # a session exists, but the form does not carry its token
    response = client.post(
        "/login",
        base_url=SITE,
        data={"email": "leader@demo.defuse", "password": PASSWORD},
        headers={"Origin": SITE},
    )
    assert response.status_code == 400


def test_the_api_is_not_subject_to_the_origin_check(production_app):
    # The JSON API takes no cookies and no CSRF token; scripts may send any Origin.
    client = production_app.test_client()
    response = client.post(
        "/api/v1/reports", base_url=SITE, json={}, headers={"Origin": "https://elsewhere.example"}
    )
    assert response.status_code == 422


def test_origin_is_compared_with_the_address_the_client_used_behind_a_proxy(settings):
    proxied = settings.replace(
        env="production",
        secret_key="s" * 40,
        hash_key="h" * 40,
        trusted_proxies=1,
        routing_delay_minutes=(1.0, 10.0),
        digest_minutes=15.0,
        page_jitter_minutes=(1.0, 3.0),
    )
    app = make_app(proxied)
    with app.app_context():
        seed_org()
        client = app.test_client()
        forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "defuse.example"}
        # The proxy talks plain HTTP to an internal address; the browser used the public one.
        internal = "http://10.0.0.5:8000"
        page = client.get("/login", base_url=internal, headers=forwarded)
        assert page.status_code == 200
        token = page.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
        response = _sign_in(client, token, base_url=internal, Origin=SITE, **forwarded)
        assert response.status_code == 302


def test_without_a_trusted_proxy_forwarded_host_does_not_make_an_origin_ours(production_app):
    client = production_app.test_client()
    token = _login_token(client, base_url="https://10.0.0.5")
    response = _sign_in(
        client,
        token,
        base_url="https://10.0.0.5",
        Origin="https://evil.example",
        **{"X-Forwarded-Host": "evil.example"},
    )
    assert response.status_code == 400


@pytest.mark.parametrize("probe", ["/healthz", "/readyz"])
def test_health_probes_answer_over_plain_http_in_production(production_app, probe):
    response = production_app.test_client().get(probe, base_url="http://127.0.0.1:8000")
    assert response.status_code == 200
    assert response.get_json()["status"] in ("ok", "ready")


@pytest.mark.parametrize("path", ["/", "/login", "/follow-up", "/api/v1/openapi.json"])
def test_everything_else_is_sent_to_https_in_production(production_app, path):
    response = production_app.test_client().get(path, base_url="http://defuse.example")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("https://defuse.example/")
