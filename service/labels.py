"""What a person reads for each code of the closed vocabularies (service/vocab.py).

Defined once, in English and marked with N_ for the catalogue; pages translate them with
`label(kind, code)` (a template global), the JSON API keeps the codes.
"""

from __future__ import annotations

from flask_babel import gettext

from service.i18n import N_

CATEGORIES = {
    "harassment": N_("Harassment (including sexual harassment)"),
    "bullying": N_("Bullying or intimidation"),
    "discrimination": N_("Discrimination or unfair treatment"),
    "retaliation": N_("Being punished for speaking up"),
    "workload": N_("Workload or hours"),
    "interpersonal": N_("Difficult relationship with a colleague"),
    "management": N_("How I am being managed"),
    "pay": N_("Pay or benefits"),
    "safety": N_("Safety, threats or violence"),
    "other": N_("Something else"),
}
# How the staff pages, the HR dashboard and "You said, we did" name a category (CATEGORIES above
# words them from the reporter's side).
CATEGORY_NAMES = {
    "harassment": N_("Harassment"),
    "bullying": N_("Bullying"),
    "discrimination": N_("Discrimination"),
    "retaliation": N_("Retaliation"),
    "workload": N_("Workload"),
    "interpersonal": N_("Interpersonal conflict"),
    "management": N_("Management"),
    "pay": N_("Pay and benefits"),
    "safety": N_("Safety"),
    "other": N_("Other"),
}
DURATIONS = {
    "days": N_("A few days"),
    "weeks": N_("Some weeks"),
    "months": N_("Months"),
    "years": N_("A year or more"),
}
OUTCOMES = {
    "be_heard": N_("Just to be heard"),
    "conversation": N_("A conversation about it"),
    "mediation": N_("Help to resolve it together (mediation)"),
    "formal_action": N_("Formal action"),
}
URGENCIES = {
    "normal": N_("It can wait a few days"),
    "urgent": N_("It is urgent"),
}
PEOPLE = {  # INVOLVED_ROLES and RAISED_WITH share most codes
    "my manager": N_("My manager"),
    "senior manager": N_("Senior manager"),
    "a peer": N_("A peer"),
    "someone I manage": N_("Someone I manage"),
    "a group of colleagues": N_("A group of colleagues"),
    "hr": N_("HR"),
    "a client or customer": N_("A client or customer"),
    "a contractor": N_("A contractor"),
    "union rep": N_("Union rep"),
    "colleague": N_("Colleague"),
    "other": N_("Other"),
}
ROLES = {
    "trust_leader": N_("Trust Leader"),
    "lead": N_("Lead"),
    "hr_analyst": N_("HR analyst"),
    "admin": N_("Admin"),
}
LEVELS = {
    "low": N_("Low"),
    "moderate": N_("Moderate"),
    "high": N_("High"),
    "critical": N_("Critical"),
}

_KINDS = {
    "category": CATEGORIES,
    "topic": CATEGORY_NAMES,
    "duration": DURATIONS,
    "outcome": OUTCOMES,
    "urgency": URGENCIES,
    "person": PEOPLE,
    "role": ROLES,
    "level": LEVELS,
}


def label(kind: str, code: str) -> str:
    """The translated label of a code, or the code itself if it has none."""
    english = _KINDS[kind].get(code)
    return gettext(english) if english else code
