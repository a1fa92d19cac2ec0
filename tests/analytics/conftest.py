from __future__ import annotations

import pytest

from tests.analytics.helpers import token_for


@pytest.fixture
def hr(org):  # type: ignore[no-untyped-def]
    return token_for(org.staff["hr"])
