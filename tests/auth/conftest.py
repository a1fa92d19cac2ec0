"""Fixtures of the sign-in tests."""

from __future__ import annotations

import pytest

from service.extensions import limiter
from tests.conftest import make_app
from tests.factories import seed_org


@pytest.fixture
def limited_app(settings):  # type: ignore[no-untyped-def]
    """The demo organisation on an app with the production rate limits switched on."""
    app = make_app(settings.replace(rate_limits_enabled=True))
    with app.app_context():
        limiter.reset()
        seed_org()
        yield app
