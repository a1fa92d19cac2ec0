"""Fixtures the case tests share."""

from __future__ import annotations

import pytest


@pytest.fixture
def leader(org):  # type: ignore[no-untyped-def]
    """The demo organisation's Trust Leader, the assignee of most cases here."""
    return org.staff["leader"]
