"""Browser tests run against Defuse the way production runs, driven in Debian's Chromium.

Fixtures
--------
``production_site`` (session)
    gunicorn started with gunicorn.conf.py, ``DEFUSE_ENV=production``, fresh keys and
    ``DEFUSE_TRUSTED_PROXIES=1``, behind Debian's nginx, which terminates TLS with a self-signed
    certificate made for the session and sets X-Forwarded-For/-Proto/-Host. Both run as the
    test user on free loopback ports (tests/browser/production.py). Single sign-on is on
    (passwords too): the site's ``DEFUSE_OIDC_ISSUER`` is the real OpenID provider of
    tests/oidc, served by the same nginx at ``site.provider_url`` (https) with the site's
    callback ``site.callback_url`` registered; its directory is tests.oidc.provider.ACCOUNTS.
    The site uses the suite's database (a SQLite file by default, DEFUSE_TEST_DATABASE_URL in
    CI) and Redis (the ``redis_url`` fixture). No RQ worker runs: routing jobs wait in the
    queue, so a test puts its cases with a Trust Leader itself (tests.cases.support.assign).
    It is a ``ProductionSite``:

    - ``site.url``: ``https://localhost:PORT``, what the browser opens;
      ``site.internal_url``: gunicorn over plain HTTP, as compose's health check reaches it;
    - ``site.sign_in_with_organisation(page, login)``: "Sign in with your organisation", then
      the provider's own login and consent pages;
    - ``site.create_staff(role="trust_leader", *, email=None, password=None, **profile)``:
      a ``StaffAccount(id, email, password, role)`` made by service.people.create_user;
      ``profile`` takes its other arguments (org_unit_id, categories, languages, ...);
    - ``with site.app_context():`` an app on the site's database and keys, for any other set-up
      through the service's own code (tests.factories.seed_org, tests.cases.support.submit,
      rollups), which the site then reads;
    - ``site.ssl_context()``: a client context trusting the site's certificate (for plain
      Python clients); ``site.environment()``: the variables gunicorn runs with;
    - ``site.reset()``, ``site.logs()``, ``site.server_errors()``.

``site`` (function)
    The production site for one test: afterwards its database and rate-limit counters are
    emptied, and the test fails if any answer was a 5xx. Use this one in tests.

``browser`` (session), ``open_page`` (function), ``page`` (function)
    Chromium via Playwright (never its own browser download). ``open_page()`` opens a page in a
    new browser context (its own cookies: another person) that ignores the test certificate;
    ``page`` is the first such page. After the test, every request any of them sent to the site
    or the provider is checked to have carried no Referer naming the site: the site's
    no-referrer policy really is in force, so nothing passes because of a Referer (and the
    provider learns nothing from one). The provider's pages keep their own policy, so the
    request that brings the browser back to the site's callback may name the provider.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.browser.production import HOST, ProductionSite
from tests.conftest import DATABASE_URL
from tests.oidc import provider as oidc

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # localhost is nginx's 127.0.0.1, never ::1 where nothing listens.
    f"--host-resolver-rules=MAP {HOST} 127.0.0.1",
]
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def production_site(
    database_template: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ProductionSite]:
    folder = tmp_path_factory.mktemp("production-site")
    if DATABASE_URL:
        database_url = DATABASE_URL  # migrated by database_template; emptied after each test
    else:
        shutil.copy(database_template, folder / "defuse.db")
        database_url = f"sqlite:///{folder / 'defuse.db'}"
    site = ProductionSite(Path(folder), database_url, redis_url)
    provider_folder = tmp_path_factory.mktemp("oidc-behind-nginx")
    with contextlib.contextmanager(oidc.start)(
        provider_folder, redirect_uris=[site.callback_url], issuer=site.provider_url
    ) as provider:
        try:
            site.start(provider)
            yield site
        finally:
            site.stop()


@pytest.fixture
def site(production_site: ProductionSite) -> Iterator[ProductionSite]:
    seen = len(production_site.server_errors())
    yield production_site
    production_site.reset()
    errors = production_site.server_errors()[seen:]
    assert not errors, f"the site answered {errors}\n{production_site.logs()}"


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def open_page(browser, site: ProductionSite) -> Iterator[Callable[[], object]]:  # type: ignore[no-untyped-def]
    contexts = []
    sent = []
    watched = (site.url + "/", site.provider_url + "/")

    def open_page():  # type: ignore[no-untyped-def]
        context = browser.new_context(viewport=PHONE, ignore_https_errors=True)
        context.on(
            "requestfinished",
            lambda request: request.url.startswith(watched) and sent.append(request),
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield open_page
    try:
        # A Referer naming the site's pages; one naming the provider's is its own policy.
        with_referer = [
            r.url for r in sent if r.all_headers().get("referer", "").startswith(site.url + "/")
        ]
        assert not with_referer, f"Chromium sent a Referer from the site to {with_referer}"
    finally:
        for context in contexts:
            context.close()


@pytest.fixture
def page(open_page):  # type: ignore[no-untyped-def]
    return open_page()
