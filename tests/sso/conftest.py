"""Single sign-on fixtures: one real OpenID provider for the session, and apps that use it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from service.config import Settings
from tests.conftest import make_app
from tests.oidc.provider import BASE_URL, CLIENT_ID, CLIENT_SECRET, ROLE_MAP, OpenIdProvider, start


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenIdProvider]:
    yield from start(tmp_path_factory.mktemp("oidc"))


@pytest.fixture
def provider(oidc_provider: OpenIdProvider) -> Iterator[OpenIdProvider]:
    oidc_provider.reset()
    yield oidc_provider
    oidc_provider.reset()


def sso_settings(settings: Settings, issuer: str, **changes: object) -> Settings:
    return settings.replace(
        base_url=BASE_URL,
        oidc_issuer=issuer,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=CLIENT_SECRET,
        oidc_scopes="openid email profile groups",
        oidc_role_claim="groups",
        oidc_role_map=ROLE_MAP,
        **changes,
    )


@pytest.fixture
def sso_app(settings: Settings, provider: OpenIdProvider) -> Iterator[Flask]:
    app = make_app(sso_settings(settings, provider.issuer))
    with app.app_context():
        yield app
