"""Browser tests run against Defuse the way production runs, driven in Debian's Chromium.

Fixtures
--------
``production_site`` (session)
    gunicorn started with gunicorn.conf.py, ``DEFUSE_ENV=production``, fresh keys and
    ``DEFUSE_TRUSTED_PROXIES=1``, behind Debian's nginx, which terminates TLS with a self-signed
    certificate made for the session and sets X-Forwarded-For/-Proto/-Host. Both run as the
    test user on free loopback ports (tests/browser/production.py). The site uses the suite's
    database (a SQLite file by default, DEFUSE_TEST_DATABASE_URL in CI) and Redis (the
    ``redis_url`` fixture). No RQ worker runs: routing jobs wait in the queue, so a test puts
    its cases with a Trust Leader itself (tests.cases.support.assign). It is a
    ``ProductionSite``:

    - ``site.url``: ``https://localhost:PORT``, what the browser opens;
      ``site.internal_url``: gunicorn over plain HTTP, as compose's health check reaches it;
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
    is checked to have carried no Referer: the site's no-referrer policy really is in force,
    so nothing passes because of a Referer.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.browser.production import HOST, ProductionSite
from tests.conftest import DATABASE_URL

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
    try:
        site.start()
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

    def open_page():  # type: ignore[no-untyped-def]
        context = browser.new_context(viewport=PHONE, ignore_https_errors=True)
        context.on(
            "requestfinished",
            lambda request: request.url.startswith(site.url) and sent.append(request),
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield open_page
    try:
        with_referer = [r.url for r in sent if "referer" in r.all_headers()]
        assert not with_referer, f"Chromium sent a Referer to {with_referer}"
    finally:
        for context in contexts:
            context.close()


@pytest.fixture
def page(open_page):  # type: ignore[no-untyped-def]
    return open_page()
