"""Fixtures for the rules engine tests."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import pytest

from service.engine.rules import RuleSet, load_rule_set

from .helpers import RULES_DIR, one_rule_set


@pytest.fixture(scope="session")
def shipped_rules() -> RuleSet:
    return load_rule_set(RULES_DIR)


@pytest.fixture
def rule_with(tmp_path: Path) -> Callable[..., RuleSet]:
    """Build a one-rule set (rule test-001) from a condition written in YAML."""
    counter = itertools.count()

    def build(condition: str, weight: float = 1.0, status: str = "stable") -> RuleSet:
        return one_rule_set(tmp_path / f"pack-{next(counter)}", condition, weight, status)

    return build
