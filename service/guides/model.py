"""What the rest of the service sees of the listening guides: immutable, already merged."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from service.vocab import CATEGORIES, LEVELS


class GuideError(Exception):
    """One or more guide files are invalid. Each problem names the file and, where known, the field.

    `problems` holds one line per problem; str() joins them, one per line.
    """

    def __init__(self, problems: list[str] | tuple[str, ...]) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True, slots=True)
class Step:
    """One checklist item. `key` is stable across versions so ticks survive re-wording.

    `level` is None for a base step, or the risk level ("high", "critical", ...) whose extra
    step this is, so the case page can mark it.
    """

    key: str
    text: str
    level: str | None = None


class Section(NamedTuple):
    behaviour: str  # "attending" | "understanding" | "empathising" | "helping"
    label: str  # "Attending", ...
    steps: tuple[Step, ...]


@dataclass(frozen=True, slots=True)
class AvoidSaying:
    say: str
    why: str


@dataclass(frozen=True, slots=True)
class Resource:
    name: str
    detail: str


@dataclass(frozen=True)
class ResolvedGuide:
    """The guide a Trust Leader works through for one case: a category at a risk level."""

    guide_id: str
    version: str  # "bullying@3+common@1": record this on the case
    language: str  # "en", "de", ...: the version is that language's; record it too
    category: str
    level: str
    title: str
    summary: str
    sections: tuple[Section, ...]  # Attending, Understanding, Empathising, Helping
    opening_questions: tuple[str, ...]
    reflective_prompts: tuple[str, ...]
    avoid_saying: tuple[AvoidSaying, ...]
    resources: tuple[Resource, ...]
    escalation_signs: tuple[str, ...]

    def steps(self) -> Iterator[Step]:
        for section in self.sections:
            yield from section.steps

    def step_keys(self) -> frozenset[str]:
        """Every key a Trust Leader may tick on this case; use it to reject unknown keys."""
        return frozenset(step.key for step in self.steps())


@dataclass(frozen=True)
class GuideLibrary:
    """All guides, resolved in advance for every language, category and level."""

    version: str  # content hash of every guide file, changes whenever any content does
    guide_versions: Mapping[str, str]  # category -> "bullying@3+common@1", in English
    versions_by_language: Mapping[str, Mapping[str, str]]  # language -> category -> version
    _resolved: Mapping[tuple[str, str, str], ResolvedGuide]

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(category for category in CATEGORIES if category in self.guide_versions)

    @property
    def languages(self) -> tuple[str, ...]:
        """English first, then the translations shipped."""
        return tuple(self.versions_by_language)

    def language_for(self, report_language: str | None, leader_languages: Sequence[str]) -> str:
        """Which language a leader gets a case's guide in: the report's, if the leader speaks it
        and a guide exists in it; else the first of the leader's languages with a guide; else
        English (also when there is no leader yet)."""
        if report_language in leader_languages and report_language in self.versions_by_language:
            return report_language
        return next((lang for lang in leader_languages if lang in self.versions_by_language), "en")

    def for_case(self, category: str, level: str, language: str = "en") -> ResolvedGuide:
        """The guide for a case. Raises ValueError for a category or level outside the vocab,
        or a language no guide is shipped in."""
        if category not in CATEGORIES:
            raise ValueError(f"unknown concern category {category!r}")
        if level not in LEVELS:
            raise ValueError(f"unknown risk level {level!r}")
        if language not in self.versions_by_language:
            raise ValueError(f"no guides in language {language!r}")
        return self._resolved[(language, category, level)]
