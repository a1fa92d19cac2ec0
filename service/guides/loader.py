"""Load `guides/*.yaml`, check them against the schema, and resolve every category x level.

Merging rules (one place, so the case page and the tests agree):
- A level includes the extra steps of every level below it (critical gets high's and moderate's).
- Within a section, extra steps come first, highest level first (at critical, "check immediate
  safety" must lead), then the guide's own steps, then the steps shared from _common.yaml.
- Within a level, the shared extras come before the category's own extras.
- Lists: the guide's items, then the shared ones; escalation signs put the shared ones first,
  because those are the immediate-safety signs that override everything else.

Languages: English is `guides/*.yaml`; a translation is `guides/<lang>/<same stem>.yaml` for
every English file. It mirrors its English file (same id, category, levels, step keys in the same
order, same number of list items) so ticks mean the same step whatever the language, and has its
own `version`. Documents are named by their path without the suffix: "bullying", "de/bullying".
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from marshmallow import Schema, ValidationError

from service.guides.model import (
    AvoidSaying,
    GuideError,
    GuideLibrary,
    ResolvedGuide,
    Resource,
    Section,
    Step,
)
from service.guides.schema import (
    BEHAVIOUR_LABELS_BY_LANGUAGE,
    BEHAVIOURS,
    EXTRA_LEVELS,
    CommonSchema,
    GuideSchema,
)
from service.guides.yamlfile import describe, field_errors, read_yaml
from service.vocab import CATEGORIES, LANGUAGES, LEVELS, level_rank

COMMON = "_common"
SUFFIX = ".yaml"
ENGLISH = "en"
# The shipped guides, for callers that don't configure a directory.
GUIDES_DIR = Path(__file__).resolve().parents[2] / "guides"


@dataclass
class GuideFiles:
    """What was read from a directory: the validated documents and every problem found."""

    directory: Path
    # "bullying" or "de/bullying" -> data
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)  # translations found, e.g. ["de", "fr"]

    def shown_as(self, name: str) -> str:
        return str(self.directory / f"{name}{SUFFIX}")

    def in_language(self, language: str) -> dict[str, dict[str, Any]]:
        """Stem -> data for one language's files."""
        if language == ENGLISH:
            return {name: data for name, data in self.documents.items() if "/" not in name}
        prefix = f"{language}/"
        return {
            name.removeprefix(prefix): data
            for name, data in self.documents.items()
            if name.startswith(prefix)
        }


def load_guides(directory: Path) -> GuideLibrary:
    """Load and resolve every guide. Raises GuideError listing each problem by file and field."""
    files = read_guide_files(directory)
    if files.problems:
        raise GuideError(files.problems)
    return _build_library(files)


def read_guide_files(directory: Path) -> GuideFiles:
    """Read and validate every file without raising, so a checker can report all problems."""
    files = GuideFiles(Path(directory))
    if not files.directory.is_dir():
        files.problems.append(f"{files.directory}: not a directory")
        return files

    found = _read_folder(files.directory, files, prefix="")
    for category in CATEGORIES:
        if category not in found:
            files.problems.append(
                f"{files.directory}: no guide for category '{category}' "
                f"(expected {files.shown_as(category)})"
            )
    files.problems.extend(_duplicate_id_problems(files))
    files.problems.extend(_duplicate_key_problems(files))
    for folder in sorted(path for path in files.directory.iterdir() if path.is_dir()):
        _read_translation(folder, found, files)
    return files


def _read_folder(folder: Path, files: GuideFiles, prefix: str) -> set[str]:
    found: set[str] = set()
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix in (".yaml", ".yml"):
            found.add(path.stem)
            _read_one(path, files, prefix)
    return found


def _read_translation(folder: Path, english: set[str], files: GuideFiles) -> None:
    language, shown_as, prefix = folder.name, str(folder), f"{folder.name}/"
    if language.startswith((".", "_")):
        return  # caches and the like, never guides
    if language == ENGLISH or language not in LANGUAGES:
        files.problems.append(
            f"{shown_as}: unknown language folder; a translation folder is named after its "
            f"language, one of: {', '.join(lang for lang in LANGUAGES if lang != ENGLISH)} "
            f"(English is {files.directory}/*{SUFFIX} itself)"
        )
        return
    if language not in BEHAVIOUR_LABELS_BY_LANGUAGE:
        files.problems.append(
            f"{shown_as}: no behaviour names for '{language}'; add them to "
            "BEHAVIOUR_LABELS_BY_LANGUAGE in service/guides/schema.py"
        )
    files.languages.append(language)
    found = _read_folder(folder, files, prefix)
    for stem in sorted(english - found):
        files.problems.append(
            f"{shown_as}: no translation of {files.shown_as(stem)} "
            f"(expected {files.shown_as(prefix + stem)})"
        )
    for stem in sorted(found - english):
        if prefix + stem in files.documents:
            files.problems.append(
                f"{files.shown_as(prefix + stem)}: has no English file "
                f"{files.shown_as(stem)} to mirror"
            )
    for stem in sorted(found & english):
        name = prefix + stem
        if name in files.documents and stem in files.documents:
            files.problems.extend(
                _mirror_problems(
                    files.shown_as(name),
                    files.shown_as(stem),
                    files.documents[stem],
                    files.documents[name],
                )
            )


def _keys_by_section(data: Mapping[str, Any]) -> dict[str, list[str]]:
    """Field path of each step list -> its keys in order ("by_level.high.helping" -> [...])."""
    sections: dict[str, list[str]] = {}
    for behaviour in BEHAVIOURS:
        steps = data.get("behaviours", {}).get(behaviour, [])
        if steps:
            sections[f"behaviours.{behaviour}"] = [step["key"] for step in steps]
    for level in EXTRA_LEVELS:
        for behaviour in BEHAVIOURS:
            steps = data.get("by_level", {}).get(level, {}).get(behaviour, [])
            if steps:
                sections[f"by_level.{level}.{behaviour}"] = [step["key"] for step in steps]
    return sections


LISTS = ("opening_questions", "reflective_prompts", "avoid_saying", "resources", "escalation_signs")


def _mirror_problems(
    shown_as: str, english_as: str, english: Mapping[str, Any], translated: Mapping[str, Any]
) -> Iterator[str]:
    """How a translated file differs in structure from the English file it translates."""
    for name in ("id", "category"):
        if english.get(name) != translated.get(name):
            yield describe(shown_as, name, f"must be '{english.get(name)}' as in {english_as}")
    ours, theirs = _keys_by_section(english), _keys_by_section(translated)
    for section in [*ours, *(section for section in theirs if section not in ours)]:
        want, have = ours.get(section, []), theirs.get(section, [])
        for key in want:
            if key not in have:
                yield describe(shown_as, section, f"missing key '{key}' (it is in {english_as})")
        for key in have:
            if key not in want:
                yield describe(shown_as, section, f"extra key '{key}' (not in {english_as})")
        if want != have and sorted(want) == sorted(have):
            yield describe(shown_as, section, f"keys must be in the order of {english_as}")
    for name in LISTS:
        want_count, have_count = len(english.get(name, [])), len(translated.get(name, []))
        if want_count != have_count:
            yield describe(shown_as, name, f"has {have_count} items; {english_as} has {want_count}")


def _read_one(path: Path, files: GuideFiles, prefix: str = "") -> None:
    stem, shown_as = path.stem, str(path)
    if path.suffix != SUFFIX:
        files.problems.append(f"{shown_as}: use the {SUFFIX} extension")
        return
    if stem.startswith("_") and stem != COMMON:
        files.problems.append(f"{shown_as}: unknown file; only {COMMON}{SUFFIX} may start with '_'")
        return
    if not stem.startswith("_") and stem not in CATEGORIES:
        files.problems.append(
            f"{shown_as}: unknown category '{stem}'; a guide file is named after its category, "
            f"one of: {', '.join(CATEGORIES)}"
        )
        return

    raw, problems = read_yaml(path, shown_as)
    if problems:
        files.problems.extend(problems)
        return
    if not isinstance(raw, dict):
        files.problems.append(f"{shown_as}: must be a mapping of fields at the top level")
        return

    schema: Schema = CommonSchema() if stem == COMMON else GuideSchema()
    try:
        data = schema.load(raw)
    except ValidationError as exc:
        files.problems.extend(
            describe(shown_as, where, message) for where, message in field_errors(exc.messages)
        )
        return
    if stem != COMMON and data["category"] != stem:
        files.problems.append(
            describe(shown_as, "category", f"'{data['category']}' does not match the file name")
        )
        return
    files.documents[prefix + stem] = data


def _step_keys_with_paths(data: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(field path, key) for every step a document defines, base and per-level."""
    for behaviour in BEHAVIOURS:
        for index, step in enumerate(data.get("behaviours", {}).get(behaviour, [])):
            yield f"behaviours.{behaviour}[{index}].key", step["key"]
    for level in EXTRA_LEVELS:
        extras = data.get("by_level", {}).get(level, {})
        for behaviour in BEHAVIOURS:
            for index, step in enumerate(extras.get(behaviour, [])):
                yield f"by_level.{level}.{behaviour}[{index}].key", step["key"]


def _duplicate_key_problems(files: GuideFiles) -> Iterator[str]:
    """Keys must be unique across everything a guide can show at its highest level."""
    shared: dict[str, str] = {}
    if COMMON in files.documents:
        for where, key in _step_keys_with_paths(files.documents[COMMON]):
            if key in shared:
                yield describe(
                    files.shown_as(COMMON), where, f"duplicate key '{key}' (also at {shared[key]})"
                )
            else:
                shared[key] = where
    for stem, data in files.in_language(ENGLISH).items():
        if stem == COMMON:
            continue
        seen = {key: f"{COMMON}{SUFFIX} {where}" for key, where in shared.items()}
        for where, key in _step_keys_with_paths(data):
            if key in seen:
                yield describe(
                    files.shown_as(stem), where, f"duplicate key '{key}' (also at {seen[key]})"
                )
            else:
                seen[key] = where


def _duplicate_id_problems(files: GuideFiles) -> Iterator[str]:
    owners: dict[str, str] = {}
    for stem, data in files.in_language(ENGLISH).items():
        if stem == COMMON:
            continue
        if data["id"] in owners:
            yield describe(
                files.shown_as(stem),
                "id",
                f"'{data['id']}' is already used by {files.shown_as(owners[data['id']])}",
            )
        else:
            owners[data["id"]] = stem


def content_hash(documents: Mapping[str, Any]) -> str:
    """SHA-256 of validated content: comments and re-wrapping don't change it, wording does."""
    canonical = json.dumps(documents, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _build_library(files: GuideFiles) -> GuideLibrary:
    resolved: dict[tuple[str, str, str], ResolvedGuide] = {}
    versions: dict[str, dict[str, str]] = {}
    for language in (ENGLISH, *files.languages):
        documents = files.in_language(language)
        common = documents.get(COMMON, {})
        versions[language] = {}
        for category in CATEGORIES:
            guide = documents[category]
            version = versions[language][category] = _version_label(guide, common)
            for level in LEVELS:
                resolved[(language, category, level)] = _resolve(
                    guide, common, level, version, language
                )
    return GuideLibrary(
        version=content_hash(files.documents)[:16],
        guide_versions=versions[ENGLISH],
        versions_by_language=versions,
        _resolved=resolved,
    )


def _version_label(guide: Mapping[str, Any], common: Mapping[str, Any]) -> str:
    # The shared file's version is part of what the Trust Leader saw, so it is part of the label.
    label = f"{guide['id']}@{guide['version']}"
    return f"{label}+common@{common['version']}" if common else label


def _steps(items: list[dict[str, str]], level: str | None = None) -> tuple[Step, ...]:
    return tuple(Step(key=item["key"], text=item["text"], level=level) for item in items)


def _resolve(
    guide: Mapping[str, Any], common: Mapping[str, Any], level: str, version: str, language: str
) -> ResolvedGuide:
    labels = BEHAVIOUR_LABELS_BY_LANGUAGE[language]
    levels_in_force = [lvl for lvl in EXTRA_LEVELS if level_rank(lvl) <= level_rank(level)]
    sections = []
    for behaviour in BEHAVIOURS:
        steps: list[Step] = []
        for lvl in reversed(levels_in_force):
            for source in (common, guide):
                extras = source.get("by_level", {}).get(lvl, {})
                steps.extend(_steps(extras.get(behaviour, []), level=lvl))
        steps.extend(_steps(guide["behaviours"][behaviour]))
        steps.extend(_steps(common.get("behaviours", {}).get(behaviour, [])))
        sections.append(Section(behaviour, labels[behaviour], tuple(steps)))

    def joined(name: str) -> list[Any]:
        return [*guide[name], *common.get(name, [])]

    return ResolvedGuide(
        guide_id=guide["id"],
        version=version,
        language=language,
        category=guide["category"],
        level=level,
        title=guide["title"],
        summary=guide["summary"],
        sections=tuple(sections),
        opening_questions=tuple(joined("opening_questions")),
        reflective_prompts=tuple(joined("reflective_prompts")),
        avoid_saying=tuple(AvoidSaying(**item) for item in joined("avoid_saying")),
        resources=tuple(Resource(**item) for item in joined("resources")),
        escalation_signs=(*common.get("escalation_signs", []), *guide["escalation_signs"]),
    )
