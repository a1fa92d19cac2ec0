"""Declarative rule packs: the public face of the rules engine.

    rule_set = load_rule_set(Path("rules"))      # RulePackError names file, rule and field
    hits = rule_set.evaluate(facts)              # list[RuleHit], never raises on any text
    failures = check_examples(rule_set, Path("rules/tests/benign.jsonl"))

The format is described for rule authors in rules/README.md. The work is split into modules:
loader (YAML -> schema checks -> compiled rules), terms and text (matching), conditions
(all/any/not/words/regex/field), ruleset (evaluation) and examples (the rules test).
"""

from __future__ import annotations

from service.engine.conditions import WhenNegated
from service.engine.errors import RulePackError
from service.engine.examples import check_examples
from service.engine.loader import FIELD_VALUES, MIN_EXAMPLES, load_rule_set
from service.engine.ruleset import (
    HIGH_LEVELS,
    HIGH_WEIGHT,
    STATUSES,
    Example,
    Rule,
    RuleHit,
    RulePack,
    RuleSet,
)

__all__ = [
    "FIELD_VALUES",
    "HIGH_LEVELS",
    "HIGH_WEIGHT",
    "MIN_EXAMPLES",
    "STATUSES",
    "Example",
    "Rule",
    "RuleHit",
    "RulePack",
    "RulePackError",
    "RuleSet",
    "WhenNegated",
    "check_examples",
    "load_rule_set",
]
