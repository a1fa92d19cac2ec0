"""A fixed 'now' for the modules that decide deadlines, so a test can stand exactly on one."""

from __future__ import annotations

from datetime import datetime

import pytest

# On the hour, as the deadlines are (they count from the opening hour).
NOW = datetime(2026, 6, 15, 12, 0, 0)


def freeze(monkeypatch: pytest.MonkeyPatch, moment: datetime, *modules: object) -> None:
    for module in modules:
        monkeypatch.setattr(module, "utcnow", lambda: moment)
