"""The one error a rule pack can raise, naming the file, the rule and the field at fault."""

from __future__ import annotations


class RulePackError(Exception):
    """A rule pack could not be read or is invalid.

    str() reads like ``rules/legal.yaml: rule legal-001: field 'condition.any[0].words': must be
    a non-empty list`` so a rule author can go straight to the line to fix. Messages are built
    from rule files only, never from report text.
    """

    def __init__(
        self,
        file: str,
        message: str,
        *,
        rule_id: str | None = None,
        field: str | None = None,
    ) -> None:
        self.file = file
        self.rule_id = rule_id
        self.field = field
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        parts = [self.file]
        if self.rule_id is not None:
            parts.append(f"rule {self.rule_id}")
        if self.field is not None:
            parts.append(f"field '{self.field}'")
        parts.append(self.message)
        return ": ".join(parts)

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only arguments need help to survive pickling (e.g. in RQ job failures).
        return (_rebuild, (self.file, self.message, self.rule_id, self.field))


def _rebuild(file: str, message: str, rule_id: str | None, field: str | None) -> RulePackError:
    return RulePackError(file, message, rule_id=rule_id, field=field)
