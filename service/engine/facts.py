"""What the risk engine sees of a report: the scrubbed text and the structured fields.

Rules, the classifier and `defuse score` all take a ReportFacts, so a rule author can try
the exact input production scores.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class ReportFacts:
    text: str
    category: str
    duration: str | None = None  # days | weeks | months | years
    raised_before: bool | None = None
    raised_with: tuple[str, ...] = ()
    involved: tuple[str, ...] = ()
    desired_outcome: str | None = None  # be_heard | conversation | mediation | formal_action
    urgency: str | None = None  # normal | urgent
    language: str = "en"
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> ReportFacts:
        """Build facts from an API payload or a corpus line; unknown keys are ignored."""

        def as_tuple(value: Any) -> tuple[str, ...]:
            if value is None:
                return ()
            if isinstance(value, (list, tuple, set, frozenset)):
                return tuple(str(v) for v in value)
            return (str(value),)  # a lone string, or a stray number or bool in a corpus line

        raised_before = data.get("raised_before")
        return cls(
            text=str(data.get("text") or ""),
            category=str(data.get("category") or "other").lower(),
            duration=data.get("duration") or None,
            raised_before=None if raised_before is None else bool(raised_before),
            raised_with=as_tuple(data.get("raised_with")),
            involved=as_tuple(data.get("involved")),
            desired_outcome=data.get("desired_outcome") or None,
            urgency=data.get("urgency") or None,
            language=str(data.get("language") or "en"),
        )
