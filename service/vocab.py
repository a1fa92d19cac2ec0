"""Closed vocabularies shared by the form, the API, the risk engine and routing.

One place for each list, so that a new concern category or outcome is added once.
"""

from __future__ import annotations

# Staff roles. Reporters have none: they hold a receipt code.
STAFF_ROLES: tuple[str, ...] = ("trust_leader", "lead", "hr_analyst", "admin")

CATEGORIES: tuple[str, ...] = (
    "harassment",
    "bullying",
    "discrimination",
    "retaliation",
    "workload",
    "interpersonal",
    "management",
    "pay",
    "safety",
    "other",
)

# The report's structured answers besides category and language, in the form's order.
ANSWER_FIELDS: tuple[str, ...] = (
    "duration",
    "raised_before",
    "raised_with",
    "involved",
    "desired_outcome",
    "urgency",
)

DURATIONS: tuple[str, ...] = ("days", "weeks", "months", "years")

DESIRED_OUTCOMES: tuple[str, ...] = ("be_heard", "conversation", "mediation", "formal_action")

URGENCIES: tuple[str, ...] = ("normal", "urgent")

# Who is involved, by role relative to the reporter. Roles, never names.
INVOLVED_ROLES: tuple[str, ...] = (
    "my manager",
    "senior manager",
    "a peer",
    "someone I manage",
    "a group of colleagues",
    "hr",
    "a client or customer",
    "a contractor",
    "other",
)

# Who the concern was raised with before (when raised_before is true).
RAISED_WITH: tuple[str, ...] = (
    "my manager",
    "senior manager",
    "hr",
    "union rep",
    "colleague",
    "other",
)

LANGUAGES: tuple[str, ...] = ("en", "de", "fr", "es", "nl", "pl", "it", "pt")
# How staff pages and notifications name them.
LANGUAGE_NAMES: dict[str, str] = {
    "en": "English",
    "de": "German",
    "fr": "French",
    "es": "Spanish",
    "nl": "Dutch",
    "pl": "Polish",
    "it": "Italian",
    "pt": "Portuguese",
}

# Risk levels, lowest first; the order is used for sorting and comparison.
LEVELS: tuple[str, ...] = ("low", "moderate", "high", "critical")


def level_rank(level: str) -> int:
    """Position of a risk level, so levels can be compared: rank('high') > rank('low')."""
    return LEVELS.index(level)
